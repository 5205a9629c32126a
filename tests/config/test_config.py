"""Config files: every problem is reported with its key, and the server refuses a bad one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.core.refs import Platform, UserRef
from bot.core.timecalc import BusinessHours
from bot.demo.org import ORG_TOML
from bot.demo.standins.serving import START
from config.load import ConfigError, load_config, parse_config
from config.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "crosstalk.example.toml"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "x.toml")
    return info.value.problems


def test_example_and_sample_configs_are_valid() -> None:
    config = load_config(EXAMPLE)
    assert config.org.name == "Acme"
    assert config.team("billing") is not None
    assert parse_config(ORG_TOML).team_keys == [
        "success",
        "billing",
        "product",
        "engineering",
        "legal",
    ]


def test_every_problem_is_named_by_key() -> None:
    text = """
[org]
name = "Acme"
timezone = "Mars/Base"
[[teams]]
key = "billing"
name = "Billing"
slack_channel = "C1"
sla = "4x"
colour = "red"
[[teams]]
key = "Legal Team"
name = "Legal"
"""
    assert problems(text) == [
        "org.timezone: unknown timezone 'Mars/Base'; use an IANA name like Europe/London",
        "teams[0] (billing).sla: '4x' is not a duration; use forms like 30m, 4h, 1d",
        "teams[0] (billing).colour: unknown key (check the spelling)",
        "teams[1] (Legal Team).key: 'Legal Team' is not a usable key: lowercase letters, digits,"
        " - and _ (max 40)",
    ]
    assert problems('[org]\nname = "A"\n[[teams]]\nkey = "legal"\nname = "Legal"\n') == [
        "teams[0] (legal): a team needs a slack_channel or a teams_channel"
    ]


def test_cross_references_are_checked() -> None:
    text = """
[org]
name = "Acme"
[routing]
default_teams = ["support"]
[[teams]]
key = "billing"
name = "Billing"
slack_channel = "C1"
[[routes]]
keywords = ["refund"]
teams = ["billing", "finance"]
"""
    assert problems(text) == [
        "routing.default_teams[0]: unknown team 'support'",
        "routes[0].teams[1]: unknown team 'finance'",
    ]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('[[routes]]\nteams = ["billing"]', "routes[0]: a route needs keywords, regex, channels"),
        (
            '[[routes]]\nregex = "(unclosed"\nteams = ["billing"]',
            "routes[0].regex: invalid regular",
        ),
        ('[[routes]]\nsentiment = "angry"\nteams = ["billing"]', "routes[0].sentiment[0]: Input"),
        ('[org]\nbusiness_hours = "Mon-Fri 9-17"', "org.business_hours:"),
        ('[roi]\ncurrency = "dollars"', "roi.currency:"),
    ],
)
def test_specific_mistakes(snippet: str, expected: str) -> None:
    base = '[[teams]]\nkey = "billing"\nname = "Billing"\nslack_channel = "C1"\n'
    org = '[org]\nname = "Acme"\n'
    text = (snippet + "\n" + base + ("" if snippet.startswith("[org]") else org)).replace(
        "[org]\nbusiness_hours", '[org]\nname = "Acme"\nbusiness_hours'
    )
    found = problems(text)
    assert any(p.startswith(expected) for p in found), found


def test_values_are_parsed_once_at_load() -> None:
    """Business hours, SLAs, timezones and people come parsed, a team's falling back to
    its org's; a person is on the platform their id names (SPEC's `managers = ["U0MGR"]`
    is a Slack user, an Entra object id a Teams user)."""
    teams_user = "7ace3d42-5b6f-4a9e-c2b3-ae9f80716253"
    config = parse_config(
        ORG_TOML.replace('managers = ["U0MGR"]', f'managers = ["U0MGR", "{teams_user}"]')
    )
    billing, product = config.team("billing"), config.team("product")
    assert billing is not None and product is not None
    assert (billing.sla_seconds, product.sla_seconds) == (4 * 3600, 86400)
    assert billing.hours == config.org.hours == BusinessHours.parse("Mon-Fri 09:00-17:30")
    assert product.hours == BusinessHours.parse("Mon-Fri 09:00-17:00")
    assert (billing.zone, product.zone) == (ZoneInfo("Europe/London"), ZoneInfo("America/New_York"))
    assert config.roi.manager_refs == (
        UserRef(Platform.SLACK, "U0MGR"),
        UserRef(Platform.TEAMS, teams_user),
    )
    assert config.roi.is_manager(UserRef(Platform.TEAMS, teams_user))
    assert not config.roi.is_manager(UserRef(Platform.TEAMS, "U0MGR"))
    assert problems(ORG_TOML.replace('managers = ["U0MGR"]', 'managers = ["U0MGR", "mia"]')) == [
        "roi.managers[1]: 'mia' is neither a Slack user id (U… or W…) nor a Teams user's Entra"
        " object id; a Slack user may also be written @name or name@example.com (a profile's ⋮"
        ' menu → "Copy member ID")'
    ]


def test_toml_syntax_error_gives_the_line() -> None:
    assert problems('[org]\nname = "Acme"\nteams = [\n')[0].startswith("not valid TOML:")
    assert "line" in problems('[org\nname = "x"')[0]


def test_missing_file_and_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err
    good = tmp_path / "good.toml"
    good.write_text(ORG_TOML)
    assert main(["config", "check", str(good)]) == 0
    assert "OK (Acme: 5 teams, 5 routes)" in capsys.readouterr().out


def test_serve_refuses_an_invalid_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[org]\nname = "Acme"\n[[teams]]\nkey = "x"\nname = "X"\nsla = "soon"\n'
        'slack_channel = "C1"\n'
    )
    env = {
        **os.environ,
        "CROSSTALK_CONFIG": str(bad),
        "CROSSTALK_DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
        "CROSSTALK_CLOCK_START": START.isoformat(),  # the test's calendar, not today's
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "teams[0] (x).sla: 'soon' is not a duration" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_secrets_are_not_shown() -> None:
    settings = Settings.model_validate(
        {"SLACK_BOT_TOKEN": "xoxb-secret-123", "SLACK_SIGNING_SECRET": "shh-456"}
    )
    assert "xoxb-secret-123" not in repr(settings) and "shh-456" not in str(settings)
    assert settings.slack_enabled
    assert settings.slack_api_base == "https://slack.com/api/"
