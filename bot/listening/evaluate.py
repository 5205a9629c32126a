"""`crosstalk listen evaluate --train T.csv --test S.csv [--json]` (SPEC "Listening",
stable): train exactly as the server learns from feedback (the train file stands for the
org's labels; the teams it names exist for this run), score the test file, and report the
suggestions' precision, recall and F1 at the model's own threshold, routing top-1/top-2
over test rows with a team, and the scoring latency. A figure that cannot be computed is
null (None)."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.listening.model import Example, Listener

COLUMNS = ("text", "flag", "team")
USAGE = "usage: crosstalk listen evaluate --train T.csv --test S.csv [--json]"


class BadFile(ValueError):
    """A CSV that cannot be evaluated; the message is the one line the user sees."""


@dataclass(frozen=True)
class Row:
    text: str
    flag: bool | None
    team: str | None


def read_rows(path: str) -> list[Row]:
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise BadFile(
                    f"{path}: missing column(s) {', '.join(missing)} (needs text, flag, team)"
                )
            return [_row(path, reader.line_num, r) for r in reader]
    except OSError as exc:
        raise BadFile(f"{path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BadFile(f"{path}: not a readable CSV ({exc})") from exc


def _row(path: str, line: int, raw: dict[str, str | None]) -> Row:
    flag_text = (raw.get("flag") or "").strip()
    if flag_text not in ("0", "1", ""):
        raise BadFile(f"{path} line {line}: flag must be 1 or 0, not {flag_text!r}")
    team = (raw.get("team") or "").strip() or None
    flag = None if flag_text == "" else flag_text == "1"
    return Row(raw.get("text") or "", flag, team)


def examples(rows: Sequence[Row]) -> list[Example]:
    return [Example(r.text, r.flag, r.team) for r in rows]


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def evaluate(train: Sequence[Row], test: Sequence[Row], *, seed: int = 0) -> dict[str, Any]:
    teams = sorted({r.team for r in train if r.team})
    listener = Listener.train(examples(train), keywords={}, teams=teams, seed=seed)
    tp = fp = fn = 0
    n_team = hit1 = hit2 = 0
    latencies: list[float] = []
    for row in test:
        start = time.perf_counter()
        score = listener.score(row.text)
        latencies.append((time.perf_counter() - start) * 1000.0)
        said = listener.suggests(score)
        if row.flag is not None:
            tp += said and row.flag
            fp += said and not row.flag
            fn += (not said) and row.flag
        if row.team:
            n_team += 1
            ranked = [team for team, _ in score.teams]
            hit1 += ranked[:1] == [row.team]
            hit2 += row.team in ranked[:2]
    learned_flags = listener.stats.negatives > 0
    precision = _ratio(tp, tp + fp) if learned_flags else None
    recall = _ratio(tp, tp + fn) if learned_flags else None
    f1 = (
        round(2 * precision * recall / (precision + recall), 4)
        if precision is not None and recall is not None and precision + recall > 0
        else None
    )
    routes = len(teams) >= 2
    p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
    return {
        "train": len(train),
        "test": len(test),
        "suggest": {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "threshold": round(listener.threshold, 4),
        },
        "routing": {
            "n": n_team,
            "top1": _ratio(hit1, n_team) if routes else None,
            "top2": _ratio(hit2, n_team) if routes else None,
        },
        "latency_ms": {
            "p50": None if p50 is None else round(p50, 3),
            "p99": None if p99 is None else round(p99, 3),
        },
    }


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def text_report(report: dict[str, Any]) -> str:
    s, r, lat = report["suggest"], report["routing"], report["latency_ms"]
    return "\n".join(
        (
            f"trained on {report['train']} rows, tested on {report['test']}",
            f"suggestions at threshold {s['threshold']:.3f}: precision {_figure(s['precision'])}, "
            f"recall {_figure(s['recall'])}, F1 {_figure(s['f1'])}",
            f"routing over {r['n']} rows with a team: top-1 {_figure(r['top1'])}, "
            f"top-2 {_figure(r['top2'])}",
            f"scoring latency: p50 {_figure(lat['p50'])} ms, p99 {_figure(lat['p99'])} ms",
        )
    )


def evaluate_command(*, train: str, test: str, as_json: bool, out: TextIO, err: TextIO) -> int:
    try:
        train_rows, test_rows = read_rows(train), read_rows(test)
    except BadFile as exc:
        print(f"crosstalk listen evaluate: {exc}", file=err)
        return 2
    report = evaluate(train_rows, test_rows)
    print(json.dumps(report) if as_json else text_report(report), file=out)
    return 0
