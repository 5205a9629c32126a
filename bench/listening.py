"""Quality, speed and footprint of the listening model (issue 12), on `../shared/data`.

    .venv/bin/python -m bench.listening [--data ../shared/data] [--seeds 3]
                                        [--budgets 50,200,1000,all] [--quick]

Every figure is the mean over seeds (± the spread) of a model trained by `Listener.train`
(the code the server learns with) and scored at its own threshold, beside VADER alone
(compound <= -0.05), and VADER with a threshold picked by the model's own rule on the same
labels, on the same test rows in the same run (tests: up to 1,500 rows of each file's half):

- suggestions (flag precision / recall) after 50, 200, 1000 and all labels:
  * `mix`: labels drawn from the pooled halves of all three files; tested on the other half
    of each file (banking77 is all flags: recall only) and of all of them;
  * `sentiment-mix`: the same with the two sentiment files only;
  * `in-file`: labels and test rows from the same sentiment file;
  * `cross-file`: labels from one sentiment file, tested on the other (nobody tuned there);
- routing on banking77's 8 teams: top-1 / top-2 after 20 flags per team, and after all
  the training rows (8,000 of 10,003; 2,000 held out), and the share learned routing takes
  (confident) with its accuracy;
- scoring latency p50 / p99 (wall, and CPU time, which a busy host does not inflate);
- RSS of a fresh process with a model loaded; the MB listening adds to an install (numpy).

One line per figure, then one JSON line with all of them.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.handlers.sentiment import analyze
from bot.listening.learn import choose_threshold
from bot.listening.model import Example, Listener

FILES = {
    "banking77": "routing-banking77-train.csv",
    "amazon": "sentiment-amazon-snippets.csv",
    "tweets": "sentiment-tweets.csv",
}
Row = tuple[str, bool, str | None]
RESULTS: dict[str, Any] = {}
TEST_ROWS = 1500


def load(data: Path) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for name, file in FILES.items():
        with (data / file).open(newline="", encoding="utf-8") as handle:
            out[name] = [
                (r["text"], r["flag"] == "1", r["team"] or None) for r in csv.DictReader(handle)
            ]
    return out


def halves(rows: Sequence[Row], seed: int) -> tuple[list[Row], list[Row]]:
    """Labels from one half, tests from (up to TEST_ROWS of) the other."""
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    cut = len(shuffled) // 2
    return shuffled[:cut], shuffled[cut:][:TEST_ROWS]


def pr(said: Sequence[bool], truth: Sequence[bool]) -> tuple[float | None, float | None]:
    tp = sum(s and t for s, t in zip(said, truth, strict=True))
    n_said, n_true = sum(said), sum(truth)
    precision = tp / n_said if n_said and n_true < len(truth) else None
    return precision, (tp / n_true if n_true else None)


def report(name: str, values: Sequence[float | None]) -> None:
    known = [v for v in values if v is not None]
    if not known:
        print(f"{name}: n/a")
        RESULTS[name] = None
        return
    mean = statistics.fmean(known)
    spread = (max(known) - min(known)) / 2
    print(f"{name}: {mean:.3f} ± {spread:.3f} (n={len(known)})", flush=True)
    RESULTS[name] = round(mean, 4)


def train(rows: Sequence[Row], seed: int, teams: Sequence[str] = ()) -> Listener:
    examples = [Example(t, f, team) for t, f, team in rows]
    return Listener.train(examples, keywords={}, teams=teams, seed=seed)


def flags(data: dict[str, list[Row]], seeds: int, budgets: Sequence[str]) -> None:
    splits = {s: {n: halves(rows, s) for n, rows in data.items()} for s in range(seeds)}
    # VADER alone, on the same test halves
    for test_name in (*data, "all"):
        ps: list[float | None] = []
        rs: list[float | None] = []
        for s in range(seeds):
            test = _test_rows(splits[s], test_name)
            p, r = pr([analyze(t).score <= -0.05 for t, _, _ in test], [f for _, f, _ in test])
            ps.append(p)
            rs.append(r)
        report(f"vader test={test_name} precision", ps)
        report(f"vader test={test_name} recall", rs)
    scenarios: list[tuple[str, Sequence[str], Sequence[str]]] = [
        ("mix", tuple(data), (*data, "all")),
        ("sentiment-mix", ("amazon", "tweets"), ("amazon", "tweets")),
        ("in-file amazon", ("amazon",), ("amazon",)),
        ("in-file tweets", ("tweets",), ("tweets",)),
        ("cross-file amazon->tweets", ("amazon",), ("tweets",)),
        ("cross-file tweets->amazon", ("tweets",), ("amazon",)),
    ]
    for budget in budgets:
        for label, sources, tests in scenarios:
            got: dict[str, list[float | None]] = {}
            for s in range(seeds):
                pool = [row for n in sources for row in splits[s][n][0]]
                random.Random(1000 + s).shuffle(pool)
                chosen = pool if budget == "all" else pool[: int(budget)]
                model = train([(t, f, None) for t, f, _ in chosen], s)
                got.setdefault("cv precision", []).append(model.stats.precision)
                got.setdefault("threshold", []).append(model.threshold)
                # VADER alone with its threshold chosen by the same rule on the same labels
                negativity = np.array([-analyze(t).score for t, _, _ in chosen])
                truth = np.array([1.0 if f else 0.0 for _, f, _ in chosen])
                vader_cut = (
                    choose_threshold(negativity, truth) if 0 < truth.sum() < len(truth) else 0.05
                )
                for test_name in tests:
                    test = _test_rows(splits[s], test_name)
                    said = [model.suggests(model.score(t)) for t, _, _ in test]
                    p, r = pr(said, [f for _, f, _ in test])
                    got.setdefault(f"test={test_name} precision", []).append(p)
                    got.setdefault(f"test={test_name} recall", []).append(r)
                    said = [-analyze(t).score >= vader_cut for t, _, _ in test]
                    p, r = pr(said, [f for _, f, _ in test])
                    got.setdefault(f"test={test_name} vader-own-threshold precision", []).append(p)
                    got.setdefault(f"test={test_name} vader-own-threshold recall", []).append(r)
            for key, values in got.items():
                report(f"flag {label} labels={budget} {key}", values)


def _test_rows(split: dict[str, tuple[list[Row], list[Row]]], name: str) -> list[Row]:
    if name == "all":
        return [row for _, test in split.values() for row in test]
    return split[name][1]


def routing(rows: Sequence[Row], seeds: int, quick: bool) -> Listener:
    teams = sorted({team for _, _, team in rows if team})
    model: Listener | None = None
    for per_team in ("20", "all"):
        got: dict[str, list[float | None]] = {}
        for s in range(1 if quick and per_team == "all" else seeds):
            shuffled = list(rows)
            random.Random(s).shuffle(shuffled)
            test, pool = shuffled[:2000], shuffled[2000:]
            if per_team == "all":
                chosen = pool
            else:
                chosen = [r for team in teams for r in [x for x in pool if x[2] == team][:20]]
            model = train(chosen, s, teams)
            hit1 = hit2 = routed = routed_ok = 0
            for text, _, team in test:
                score = model.score(text)
                ranked = [t for t, _ in score.teams]
                hit1 += ranked[:1] == [team]
                hit2 += team in ranked[:2]
                chosen_teams = model.routed_teams(score)
                routed += bool(chosen_teams)
                routed_ok += team in chosen_teams
            got.setdefault("top1", []).append(hit1 / len(test))
            got.setdefault("top2", []).append(hit2 / len(test))
            got.setdefault("learned routing share", []).append(routed / len(test))
            got.setdefault("learned routing accuracy", []).append(
                routed_ok / routed if routed else None
            )
            got.setdefault("cv top1", []).append(model.stats.routing_top1)
        n = len(chosen)
        for key, values in got.items():
            report(f"routing banking77 8 teams per_team={per_team} (n={n}) {key}", values)
    assert model is not None
    return model


def latency(model: Listener, texts: Sequence[str]) -> None:
    wall: list[float] = []
    cpu: list[float] = []
    for text in texts:
        w, c = time.perf_counter(), time.thread_time()
        model.score(text)
        cpu.append((time.thread_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    for name, values in (("wall", wall), ("cpu", cpu)):
        ordered = sorted(values)
        for q in (0.5, 0.99):
            value = ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
            print(f"scoring latency {name} p{round(q * 100)}: {value:.3f} ms")
            RESULTS[f"latency_ms {name} p{round(q * 100)}"] = round(value, 4)


RSS_CHILD = """
import sys, resource
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1]) / 1024
before = rss()
from bot.listening.model import Listener
model = Listener.loads(open(sys.argv[1], 'rb').read())
for text in ['my card was charged twice and nobody answers', 'thanks, all good'] * 50:
    model.score(text)
print(before, rss())
"""


def rss(model: Listener) -> None:
    path = Path("/tmp") / f"crosstalk-bench-model-{time.time_ns()}.npz"
    path.write_bytes(model.dumps())
    try:
        out = subprocess.run(
            [sys.executable, "-c", RSS_CHILD, str(path)], capture_output=True, text=True, check=True
        ).stdout.split()
    finally:
        path.unlink()
    before, after = float(out[0]), float(out[1])
    print(f"model blob: {len(model.dumps()) / 1e6:.2f} MB")
    print(f"RSS of a process with the model loaded: {after:.1f} MB (python alone {before:.1f} MB)")
    RESULTS["blob_mb"] = round(len(model.dumps()) / 1e6, 3)
    RESULTS["rss_mb"] = round(after, 1)
    RESULTS["rss_python_mb"] = round(before, 1)


def install_mb() -> None:
    import numpy

    site = Path(numpy.__file__).parent.parent
    dirs = [site / "numpy", site / "numpy.libs", *site.glob("numpy-*.dist-info")]
    total = sum(f.stat().st_size for d in dirs if d.exists() for f in d.rglob("*") if f.is_file())
    print(f"install size listening adds (numpy {numpy.__version__}): {total / 1e6:.1f} MB")
    RESULTS["install_mb"] = round(total / 1e6, 1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", default=str(Path(__file__).parents[2] / "shared" / "data"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budgets", default="50,200,1000,all")
    parser.add_argument("--quick", action="store_true", help="one seed for the largest fits")
    parser.add_argument("--only", choices=("flags", "routing"), help="one part only")
    args = parser.parse_args(argv)
    data = load(Path(args.data))
    if args.only != "routing":
        flags(data, args.seeds, args.budgets.split(","))
    if args.only != "flags":
        model = routing(data["banking77"], args.seeds, args.quick)
        texts = [t for rows in data.values() for t, _, _ in rows[:700]]
        latency(model, texts)
        rss(model)
    install_mb()
    print(json.dumps(RESULTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
