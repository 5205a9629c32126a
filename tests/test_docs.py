"""The docs a user reads match the code: docs/metrics.md is the metric definitions (a copy
of the project's METRICS.md, compared whole where that file is at hand) and documents the
keys `crosstalk roi --json` really prints; the README links nothing outside the repository;
every `crosstalk …` command and flag the README and docs/deploy.md show exists."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from bot.cli import _parser, main
from bot.core.clock import FakeClock
from bot.demo.org import ORG_TOML
from bot.demo.standins.serving import START

ROOT = Path(__file__).resolve().parent.parent
METRICS = ROOT / "docs" / "metrics.md"
SOURCE = Path(os.environ.get("CROSSTALK_METRICS_SOURCE", ROOT.parent / "shared" / "METRICS.md"))
DOCS = [ROOT / "README.md", ROOT / "docs" / "deploy.md"]


def _documented_json() -> dict[str, Any]:
    block = METRICS.read_text(encoding="utf-8").split("```json\n", 1)[1].split("```", 1)[0]
    parsed: dict[str, Any] = json.loads(block)
    return parsed


def _paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value (a list's items are described by its first)."""
    if isinstance(value, dict):
        out = set()
        for key, inner in value.items():
            out.add(prefix + key)
            out |= _paths(inner, f"{prefix}{key}.")
        return out
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return _paths(value[0], prefix.rstrip(".") + "[].")
    return set()


def _printed(value: Any, path: str) -> bool | None:
    """Whether `path` is in `value`; None when a null or empty value on the way (no data
    for that figure) leaves it undecided."""
    for part in path.split("."):
        if part.endswith("[]"):
            value = value.get(part[:-2]) if isinstance(value, dict) else None
            if not value:
                return None
            value = value[0]
            continue
        if value is None or value == {}:
            return None
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return True


@pytest.mark.skipif(not SOURCE.exists(), reason=f"no {SOURCE} to compare with")
def test_metrics_doc_is_the_definitions() -> None:
    assert METRICS.read_text(encoding="utf-8") == SOURCE.read_text(encoding="utf-8")


def test_metrics_doc_names_the_keys_roi_json_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "crosstalk.toml"
    config.write_text(ORG_TOML)
    monkeypatch.setenv("CROSSTALK_CONFIG", str(config))
    monkeypatch.setenv("CROSSTALK_DATABASE_URL", f"sqlite:///{tmp_path}/roi.db")
    assert main(["roi", "--json"], clock=FakeClock(START)) == 0
    printed = json.loads(capsys.readouterr().out)
    documented = _documented_json()
    assert set(documented) <= set(printed)
    unknown = {p for p in _paths(documented) if _printed(printed, p) is False}
    assert unknown == set()


def test_the_readme_stays_inside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme and "docs/metrics.md" in readme
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), target
    assert "Python 3.11" in readme[:600]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {opt for action in parser._actions for opt in action.option_strings}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_documented_commands_and_flags_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    commands = _subparsers(_parser())
    # as a command is written: in backticks, after a bin/ path, or at a line's start
    uses = re.findall(
        r"(?m)(?:^|(?<=[`/]))crosstalk ([a-z][a-z-]*(?: [a-z][a-z-]*)?)((?: [^`\n|]*)?)", text
    )
    assert uses
    for words, rest in uses:
        name, _, second = words.partition(" ")
        assert name in commands, f"{doc.name}: crosstalk {name}"
        parser = commands[name]
        inner = _subparsers(parser)
        if inner and second:
            assert second in inner, f"{doc.name}: crosstalk {words}"
            parser = inner[second]
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
            assert flag in _flags(parser), f"{doc.name}: crosstalk {words} … {flag}"
