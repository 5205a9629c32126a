"""Every failed command is one line naming what to fix and a non-zero exit, never a
traceback: the CLI is run as a subprocess (as a person would), in a temporary directory,
on the test's calendar. And the details of what commands say (periods, weeks, --version,
defaults in --help, objectives with their units, one meaning of "answered")."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.core.clock import FakeClock
from bot.demo.org import ORG_TOML
from bot.demo.standins.serving import START
from bot.handlers.roi.view import kpi_text, roi_text

CLOCK_START = START.isoformat()


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def line(self) -> str:
        """The one line a failure says (asserted to be the only one)."""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        assert "Traceback" not in self.err + self.out
        return lines[0]


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    (tmp_path / "crosstalk.toml").write_text(ORG_TOML)
    return tmp_path


def crosstalk(cwd: Path, *args: str, **env: str) -> Ran:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CROSSTALK_CLOCK_START": CLOCK_START,
    }
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    return Ran(run.returncode, run.stdout, run.stderr)


UNREACHABLE = "postgresql://crosstalk:hunter2@127.0.0.1:9/crosstalk"


@pytest.mark.parametrize("command", [["roi"], ["serve"], ["digest"], ["db", "upgrade"]])
def test_an_unreachable_database_is_one_line(cwd: Path, command: list[str]) -> None:
    ran = crosstalk(cwd, *command, CROSSTALK_DATABASE_URL=UNREACHABLE)
    assert ran.code == 2
    assert ran.line.startswith(
        "crosstalk: cannot use the database at postgresql://crosstalk:***@127.0.0.1:9/crosstalk"
    )
    assert ran.line.endswith("check CROSSTALK_DATABASE_URL and that the database server is up")
    assert "hunter2" not in ran.err
    assert "serving" not in ran.out


@pytest.mark.parametrize("url", ["mysql+nodriver://x@y/z", "not a url"])
def test_a_bad_database_url_is_one_line(cwd: Path, url: str) -> None:
    ran = crosstalk(cwd, "roi", CROSSTALK_DATABASE_URL=url)
    assert ran.code == 2
    assert "is not a database URL Crosstalk can use (sqlite:///" in ran.line


def test_a_sqlite_file_in_a_missing_directory(cwd: Path) -> None:
    ran = crosstalk(cwd, "db", "upgrade", CROSSTALK_DATABASE_URL="sqlite:///no/such/dir/x.db")
    assert ran.code == 2
    assert "unable to open database file" in ran.line


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_port_in_use_is_said_before_serving(cwd: Path, taken_port: int) -> None:
    ran = crosstalk(cwd, "serve", "--port", str(taken_port))
    assert ran.code == 2
    assert ran.line == (
        f"crosstalk: port {taken_port} on 127.0.0.1 is already in use: stop what listens "
        "there or use --port"
    )
    assert "serving" not in ran.out


def test_teams_package_into_a_missing_directory_or_onto_one(cwd: Path) -> None:
    args = ("teams-package", "--app-id", "00000000-0000-0000-0000-000000000001")
    args += ("--url", "https://bot.example.com")
    missing = crosstalk(cwd, *args, "--out", "nowhere/app.zip")
    assert missing.code == 2
    assert missing.line == (
        "crosstalk teams-package: --out nowhere/app.zip: the directory nowhere does not exist"
    )
    (cwd / "dist").mkdir()
    onto = crosstalk(cwd, *args, "--out", "dist")
    assert onto.code == 2
    assert onto.line == (
        "crosstalk teams-package: --out dist is a directory: name the file to write, "
        "e.g. dist/crosstalk-teams.zip"
    )


def test_bad_settings_are_one_line(cwd: Path) -> None:
    clock = crosstalk(cwd, "roi", CROSSTALK_CLOCK_START="next tuesday")
    assert clock.code == 2 and clock.line.startswith("crosstalk: CROSSTALK_CLOCK_START: ")
    fmt = crosstalk(cwd, "roi", CROSSTALK_LOG_FORMAT="xml")
    assert fmt.code == 2
    assert fmt.line == "crosstalk: CROSSTALK_LOG_FORMAT must be text or json, not 'xml'"


def test_a_config_file_that_is_not_text(cwd: Path) -> None:
    (cwd / "crosstalk.toml").write_bytes(b"\xff\xfe[org]")
    ran = crosstalk(cwd, "config", "check")
    assert ran.code == 2
    assert (
        ran.err
        == "crosstalk.toml: 1 problem(s)\n  - not UTF-8 text (byte 0): save the file as UTF-8\n"
    )


def test_version_and_serve_help(cwd: Path) -> None:
    version = crosstalk(cwd, "--version")
    assert version.code == 0 and version.out.startswith("crosstalk ")
    assert version.out.split()[1][0].isdigit()
    help_ = crosstalk(cwd, "serve", "--help")
    assert help_.code == 0
    flat = " ".join(help_.out.split())
    assert "(default: 127.0.0.1)" in flat and "(default: 3978)" in flat


# ---------------------------------------------------------------------------- in process


@pytest.fixture
def here(cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(cwd)
    for name in ("CROSSTALK_DATABASE_URL", "CROSSTALK_CONFIG", "CROSSTALK_CLOCK_START"):
        monkeypatch.delenv(name, raising=False)
    return cwd


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    code = main(list(argv), clock=FakeClock(START))
    out, err = capsys.readouterr()
    return Ran(code, out, err)


def test_roi_periods_say_what_is_wrong(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    zero = run_main(capsys, "roi", "--period", "0d")
    assert zero.code == 2
    assert zero.err.startswith("crosstalk roi: '0d' is too short: a period is at least 1 day.")
    empty = run_main(capsys, "roi", "--period", "")
    assert empty.code == 2
    assert empty.err.startswith("crosstalk roi: The period is empty: give one, or leave it out")
    assert "usage: crosstalk roi" in empty.err
    long = run_main(capsys, "roi", "--period", "2000D")
    assert long.code == 2 and "'2000D' is too long: at most 1096 days" in long.err


def test_digest_weeks_echo_the_input_and_refuse_the_future(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = run_main(capsys, "digest", "--week", "2026-w99")
    assert bad.code == 2
    assert bad.err == "crosstalk digest: '2026-w99' is not an ISO week: 2026 has no week 99\n"
    future = run_main(capsys, "digest", "--week", "2026-w52")
    assert future.code == 2
    assert future.err.startswith(
        "crosstalk digest: 2026-w52 has not happened yet (this is 2026-W47)"
    )
    past = run_main(capsys, "digest", "--week", "2026-w46")
    assert past.code == 0 and "a quiet week" in past.out


def test_objectives_read_in_their_units_and_answered_means_one_thing(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run_main(capsys, "roi")
    assert ran.code == 0
    assert "flags · answered across teams —" in ran.out
    assert kpi_text("retained_value", 0.0, "EUR") == "0 EUR"
    assert kpi_text("value", 50000.0, "USD") == "50,000 USD"
    assert kpi_text("answer_rate", 0.875, "USD") == "88%"
    assert kpi_text("ttfr_p50", 5400.0, "USD") == "1h 30m"
    assert kpi_text("maturity", 61.0, "USD") == "61/100"
    assert kpi_text("csat", None, "USD") == "—"


def test_an_objective_line() -> None:
    report: dict[str, Any] = {
        "org": "Acme",
        "period": {"start": "2026-10-17T23:00:00", "end": "2026-11-17T00:00:00"},
        "maturity": {"score": None, "reason": "not enough data yet: 0 flags"},
        "flags": 8,
        "answer_rate": 0.875,
        "resolution_rate": 0.25,
        "ttfr": {"p50": None, "p90": None, "business_p50": None},
        "sla_attainment": None,
        "satisfaction": None,
        "csat": None,
        "sentiment": {"positive": None, "negative": None, "net": None},
        "business": {
            "currency": "USD",
            "revenue": 0,
            "savings": 0,
            "program_cost": 0,
            "roi": None,
            "crm_coverage": None,
        },
        "objectives": [
            {"key": "retention", "kpi": "retained_value", "actual": 0.0, "target": 50000.0},
            {"key": "speed", "kpi": "ttfr_p50", "actual": 3600.0, "target": 7200.0},
        ],
        "network": {"siloed_teams": [], "new_connections": []},
    }
    report["objectives"][0]["on_track"] = False
    report["objectives"][1]["on_track"] = True
    text = roi_text(report)
    assert "  8 flags · answered across teams 88% · resolved 25%" in text
    assert "⚠️ retention: retained value 0 USD of 50,000 USD" in text
    assert "✅ speed: ttfr p50 1h of 2h" in text
