"""The listening figures (METRICS "Listening") with known data made through the real
handlers: suggestion precision, suggested share, time to flag and routing corrections, in
`crosstalk roi --json`, the /roi answer in Slack and the org digest — and `null` (or "—")
where there is nothing to divide by; and what /metrics shows of listening."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from bot.cli import main
from bot.core.clock import FakeClock
from bot.core.events import FlagRequest
from bot.core.refs import ChannelRef, MessageRef, Platform, UserRef, WorkspaceRef
from bot.demo.org import ORG_TOML
from bot.demo.standins import slack_requests as rq
from bot.demo.standins.harness import Server
from bot.handlers.digest.plan import MANAGERS, build
from bot.handlers.flag import flag_message
from store import suggestions as counters
from store.models_listening import Suggestion
from tests.fakes.core_loop import CUSTOMERS, T, at, card, click, customer_says, flag_by_reaction
from tests.test_metrics import named, scrape, value

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # after the week of T (2026-W47)
SLACK = Platform.SLACK
NULLS = {
    "suggestions": 0,
    "answered": 0,
    "unanswered": 0,
    "precision": None,
    "suggested_share": None,
    "time_to_flag": {"p50": None, "p90": None},
    "routing_corrections": None,
}


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    config = tmp_path / "crosstalk.toml"
    config.write_text(ORG_TOML, encoding="utf-8")
    monkeypatch.setenv("CROSSTALK_DATABASE_URL", db_url)
    monkeypatch.setenv("CROSSTALK_CONFIG", str(config))
    return db_url


def roi_json(clock: FakeClock, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert main(["roi", "--json", *args], clock=clock) == 0
    return json.loads(capsys.readouterr().out)


def suggestions(server: Server, states: list[str], at_: datetime) -> None:
    """Suggestions as the listening pipeline keeps them, one per state given."""

    def add(session: Session) -> None:
        for i, state in enumerate(states):
            answered = at_ + timedelta(minutes=5) if state != "open" else None
            session.add(
                Suggestion(org_id=server.runtime.org.org_id, platform="slack",
                           channel_id="C0SHARED", message_id=f"{T - 900 + i:.6f}",
                           text=f"customer words {i}", score=0.9, triage_channel="C0TRIAGE",
                           state=state, answered_at=answered, created_at=at_)
            )  # fmt: skip

    server.runtime.db.transaction(add)


async def flag_from_a_suggestion(server: Server, text: str, said: float, pressed: float) -> None:
    """**Flag** on a suggestion: a normal flag by the presser, `via = "suggestion"`."""
    message_ts = customer_says(server.slack, text, said)
    request = FlagRequest(
        workspace=WorkspaceRef(SLACK, "T0001"),
        message=MessageRef(ChannelRef(SLACK, CUSTOMERS), message_ts),
        flagger=UserRef(SLACK, "U0CAL"),
        at=at(pressed),
        via="suggestion",
        text=text,
        author=UserRef(SLACK, "U0SAM"),
        teams=("success",),
    )
    rt = server.runtime
    made = await flag_message(event=request, db=rt.db, org=rt.org, gateways=rt.gateways,
                              clock=rt.clock)  # fmt: skip
    assert made is not None and made.created
    await server.settle()


async def a_week_of_listening(server: Server) -> None:
    """Four flags, their messages said 540 s, 600 s, 1800 s and 7200 s before; one came
    from a suggestion (of three: one flagged, one not a flag, one unanswered); one broadcast
    of the four was sent back with "Not for us"."""
    await flag_by_reaction(server, "Please refund the invoice", said_at=T - 600, flagged_at=T - 60)
    await flag_by_reaction(server, "Our lawyer asks about the DPA", said_at=T - 2000,
                           flagged_at=T - 200)  # fmt: skip
    await flag_by_reaction(server, "Is the roadmap feature coming?", said_at=T - 7500,
                           flagged_at=T - 300)  # fmt: skip
    await flag_from_a_suggestion(server, "We are thinking about other options", T - 1000, T - 400)
    suggestions(server, ["flagged", "dismissed", "open"], at(T - 900))
    billing = card(server.slack, "C0BILLING")
    await server.send(click(server, billing, "U0BOB", "ct_not_for_us", T + 600))
    await server.settle()


async def test_the_figures_in_roi_json_for_the_org_and_a_team(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock(MONDAY)
    async with Server(cli_env, clock=clock) as server:
        assert roi_json(clock, capsys)["listening"] == NULLS  # nothing yet: nothing invented
        await a_week_of_listening(server)
        report = roi_json(clock, capsys)
        assert report["flags"] == 4
        # time to flag: 540, 600, 1800, 7200 -> p50 (600 + 1800) / 2; p90 1800 + 0.7 * 5400
        assert report["listening"] == {
            "suggestions": 3,
            "answered": 2,
            "unanswered": 1,
            "precision": 0.5,
            "suggested_share": 0.25,
            "time_to_flag": {"p50": 1200.0, "p90": 5580.0},
            "routing_corrections": 0.25,
        }
        # Billing's own broadcast came back; no flag is on its figures any more.
        team = roi_json(clock, capsys, "--team", "billing")["listening"]
        assert team["routing_corrections"] == 1.0 and team["suggested_share"] is None
        assert team["time_to_flag"] == {"p50": None, "p90": None}
        assert team["suggestions"] == 3  # suggestions are the org's
        success = roi_json(clock, capsys, "--team", "success")["listening"]
        assert success["suggested_share"] == 1.0 and success["routing_corrections"] == 0.0
        assert success["time_to_flag"] == {"p50": 600.0, "p90": 600.0}

        assert main(["roi"], clock=clock) == 0
        text = capsys.readouterr().out
        assert "Listening\n  Suggestions 3 · precision 50% (2 answered, 1 unanswered)\n" in text
        assert "  Flags from suggestions 25% · time to flag p50 20m / p90 1h 33m\n" in text
        assert "  Routing corrections (Not for us) 25%\n" in text


async def test_unanswered_suggestions_give_no_precision(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock(MONDAY)
    async with Server(cli_env, clock=clock) as server:
        suggestions(server, ["open", "open"], at(T))
        figures = roi_json(clock, capsys)["listening"]
        assert figures == {**NULLS, "suggestions": 2, "unanswered": 2}
        assert main(["roi"], clock=clock) == 0
        out = capsys.readouterr().out
        assert "Suggestions 2 · precision — (0 answered, 2 unanswered)" in out
        assert "Flags from suggestions — · time to flag p50 — / p90 —" in out


async def test_slack_roi_and_the_org_digest_show_them(db_url: str) -> None:
    clock = FakeClock(MONDAY)
    async with Server(db_url, clock=clock) as server:
        await a_week_of_listening(server)
        hook = server.slack.response_url("mgr")
        request = rq.slash_command("T0001", "U0MGR", "C0GENERAL", "/roi", "30d", hook,
                                   rq.new_trigger_id())  # fmt: skip
        assert (await server.send(request)).status == 200
        (answer,) = await server.slack.wait_for_response("mgr")
        shown = json.dumps(answer["blocks"], ensure_ascii=False)
        assert "Listening" in shown and "Suggestions 3 · precision 50%" in shown
        assert "Routing corrections (Not for us) 25%" in shown

        rt = server.runtime
        digest = rt.db.transaction(
            lambda s: build(s, rt.org, scope=MANAGERS, week="2026-W47", now=clock.now())
        )
        assert digest.card is not None
        facts = dict(digest.card.facts)
        assert facts["Listening"] == (
            "3 suggestions: 1 flagged, 1 not a flag, 1 unanswered (precision 50%)\n"
            "1 of 4 flags from suggestions · time to flag p50 20m / p90 1h 33m\n"
            "Routing corrections: 1 of 4 broadcasts (25%)",
        )


async def test_metrics_show_the_counters_and_the_labels(db_url: str) -> None:
    async with Server(db_url) as server:
        samples = await scrape(server)
        assert value(samples, "crosstalk_listening_scored_total") == 0
        assert value(samples, "crosstalk_listening_labels", source="manual") == 0
        await flag_by_reaction(server, "You charged me twice and the export is broken.")
        org_id = server.runtime.org.org_id
        for day, scored, suggested in ((at(T).date(), 40, 2), (at(T + 86400).date(), 10, 1)):
            server.runtime.db.transaction(
                lambda s, d=day, n=scored, k=suggested: counters.count(
                    session=s, org_id=org_id, day=d, scored=n, suggested=k
                )
            )
        samples = await scrape(server)
        assert value(samples, "crosstalk_listening_scored_total") == 50
        assert value(samples, "crosstalk_listening_suggested_total") == 3
        by_source = {
            dict(k)["source"]: v for k, v in named(samples, "crosstalk_listening_labels").items()
        }
        assert by_source == {
            "manual": 3,  # billing, product, engineering
            "suggestion": 0,
            "not_a_flag": 0,
            "not_for_us": 0,
            "answered": 0,
        }
