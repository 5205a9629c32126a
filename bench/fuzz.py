"""Hostile input against the real server: N signed, real-shaped requests with fields
replaced by garbage or removed (tests/fakes/fuzz.py), to every endpoint; prints the counts
by status and one JSON line. The aim: no 5xx, no traceback.

    .venv/bin/python -m bench.fuzz            # 10,000 cases on a SQLite file
    .venv/bin/python -m bench.fuzz -n 2000 --seed 7
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
from collections import Counter

import hypothesis
from hypothesis import HealthCheck, given, settings

from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.harness import Server
from tests.fakes import fuzz


class _Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0  # records with a traceback
        self.errors = 0  # ERROR lines (a row given up on is one, by design: an alarm)
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += bool(record.exc_info)
        self.errors += record.levelno >= logging.ERROR
        if (record.exc_info or record.levelno >= logging.ERROR) and len(self.first) < 5:
            self.first.append(f"{record.name}: {record.getMessage()[:300]}")


async def run(n: int, seed: int) -> dict[str, object]:
    tracebacks = _Tracebacks()
    logging.getLogger().addHandler(tracebacks)
    logging.getLogger().setLevel(logging.WARNING)
    by_target: dict[str, Counter[int]] = {"slack": Counter(), "teams": Counter(), "api": Counter()}
    connector = BotConnector()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(f"sqlite:///{tmp}/fuzz.db", config_toml=ta.MIXED_ORG_TOML, teams=connector)
        async with server:
            loop = asyncio.get_running_loop()
            strategy = fuzz.cases(fuzz.slack_templates(server), fuzz.teams_templates(connector))

            @settings(
                max_examples=n,
                deadline=None,
                database=None,
                derandomize=False,
                suppress_health_check=list(HealthCheck),
            )
            @given(strategy)
            def one(case: fuzz.Case) -> None:
                status = asyncio.run_coroutine_threadsafe(fuzz.send(server, case), loop).result(30)
                by_target[case.target][status] += 1

            await asyncio.to_thread(hypothesis.seed(seed)(one))
            await server.settle(within=60)
    total = sum((c for c in by_target.values()), Counter())
    print(f"{'target':8} " + " ".join(f"{s:>6}" for s in sorted(total)))
    for target, counts in by_target.items():
        print(f"{target:8} " + " ".join(f"{counts.get(s, 0):>6}" for s in sorted(total)))
    five = sum(v for s, v in total.items() if s >= 500)
    print(
        f"cases {sum(total.values())}, 5xx {five}, tracebacks {tracebacks.count}, "
        f"ERROR lines {tracebacks.errors}"
    )
    for line in tracebacks.first:
        print(f"  logged: {line}")
    return {
        "bench": "fuzz",
        "cases": sum(total.values()),
        "status": {str(k): v for k, v in sorted(total.items())},
        "by_target": {t: {str(k): v for k, v in sorted(c.items())} for t, c in by_target.items()},
        "5xx": five,
        "tracebacks": tracebacks.count,
        "error_lines": tracebacks.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000, help="cases (default 10,000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.n, args.seed))))


if __name__ == "__main__":
    main()
