"""`crosstalk listen evaluate --train T.csv --test S.csv [--json]` (SPEC "Listening",
stable): the JSON keys exactly, null where a figure cannot be computed, a one-line error
for a CSV without the needed columns; run as `main(argv)` and once as a command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.clock import FakeClock
from tests.listening import synthetic

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("listen")
    return (
        synthetic.write_csv(folder / "train.csv", 160, seed=11),
        synthetic.write_csv(folder / "test.csv", 80, seed=12),
    )


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv, clock=FakeClock(START))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_has_the_stable_keys(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    train, test = files
    code, out, _ = run(
        ["listen", "evaluate", "--train", str(train), "--test", str(test), "--json"], capsys
    )
    assert code == 0
    report = json.loads(out)
    assert list(report) == ["train", "test", "suggest", "routing", "latency_ms"]
    assert (report["train"], report["test"]) == (160, 80)
    assert list(report["suggest"]) == ["precision", "recall", "f1", "threshold"]
    assert list(report["routing"]) == ["n", "top1", "top2"]
    assert list(report["latency_ms"]) == ["p50", "p99"]
    suggest, routing = report["suggest"], report["routing"]
    assert suggest["precision"] >= 0.8 and suggest["recall"] >= 0.8 and suggest["f1"] >= 0.8
    assert 0 < suggest["threshold"] < 1
    flagged = sum(flag for _, flag, _ in synthetic.rows(80, seed=12))
    assert routing["n"] == flagged and routing["top1"] >= 0.9 and routing["top2"] >= routing["top1"]
    assert report["latency_ms"]["p50"] > 0


def test_text_report(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    train, test = files
    code, out, _ = run(["listen", "evaluate", "--train", str(train), "--test", str(test)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "trained on 160 rows, tested on 80"
    assert lines[1].startswith("suggestions at threshold ") and "precision 1.000" in lines[1]
    assert lines[2].startswith("routing over ") and "top-1 " in lines[2]
    assert lines[3].startswith("scoring latency: p50 ")


def test_what_cannot_be_computed_is_null(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    only_flags = tmp_path / "flags.csv"
    only_flags.write_text(
        "text,flag,team\n"
        + "".join(f"my package never arrived {i},1,\n" for i in range(10))
        + "".join(f"the app crashes again {i},1,\n" for i in range(10))
    )
    test = synthetic.write_csv(tmp_path / "test.csv", 40, seed=3)
    code, out, _ = run(
        ["listen", "evaluate", "--train", str(only_flags), "--test", str(test), "--json"], capsys
    )
    assert code == 0
    report = json.loads(out)
    suggest = report["suggest"]
    assert (suggest["precision"], suggest["recall"], suggest["f1"]) == (None, None, None)
    assert suggest["threshold"] == 0.5  # the cold start's: VADER's negative line
    assert report["routing"]["top1"] is None and report["routing"]["top2"] is None
    assert report["routing"]["n"] == sum(flag for _, flag, _ in synthetic.rows(40, seed=3))


@pytest.mark.parametrize(
    ("header", "missing"), [("text,team", "flag"), ("message,label", "text, flag, team")]
)
def test_a_csv_without_the_columns_is_one_line_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], header: str, missing: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{header}\nhello,world\n")
    good = synthetic.write_csv(tmp_path / "good.csv", 20)
    code, out, err = run(["listen", "evaluate", "--train", str(good), "--test", str(bad)], capsys)
    assert code == 2 and out == ""
    assert err == (
        f"crosstalk listen evaluate: {bad}: missing column(s) {missing} (needs text, flag, team)\n"
    )


def test_a_bad_flag_or_a_missing_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,flag,team\nhello,1,\nbye,yes,\n")
    good = synthetic.write_csv(tmp_path / "good.csv", 20)
    code, _, err = run(["listen", "evaluate", "--train", str(bad), "--test", str(good)], capsys)
    assert code == 2
    assert err == f"crosstalk listen evaluate: {bad} line 3: flag must be 1 or 0, not 'yes'\n"
    gone = tmp_path / "gone.csv"
    code, _, err = run(["listen", "evaluate", "--train", str(good), "--test", str(gone)], capsys)
    assert code == 2 and err.count("\n") == 1 and str(gone) in err


def test_a_wrong_argument_gets_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["listen", "evaluate", "--train", "x.csv"], clock=FakeClock(START))
    assert exit_.value.code == 2
    assert "--test" in capsys.readouterr().err


def test_as_a_command(files: tuple[Path, Path], tmp_path: Path) -> None:
    train, test = files
    env = {**os.environ, "CROSSTALK_CLOCK_START": START.isoformat()}
    env["CROSSTALK_DATABASE_URL"] = f"sqlite:///{tmp_path}/unused.db"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "listen",
            "evaluate",
            "--train",
            str(train),
            "--test",
            str(test),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["train"] == 160 and report["suggest"]["precision"] is not None
