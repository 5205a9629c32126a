"""POST /api/outcomes over real HTTP against the real server: every answer it can give,
and what a recorded outcome changes (the flag resolved for TTR, its CRM ref, the cards)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.core.clock import FakeClock
from bot.demo.org import ORG_TOML
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server, sqlite_url
from store.models import Flag, Org, OutboxMessage, Outcome

CUSTOMERS = "C0CUSTOMERS"
TOKEN = "test-token"
URL = "/api/outcomes"


async def flag_message(server: Server, text: str = "Please refund the invoice") -> Flag:
    ts = server.slack.add_message(CUSTOMERS, text, user="U0SAM")
    reaction = sr.event_reaction_added(
        "T0001", "U0ANN", "mega", CUSTOMERS, ts, "U0SAM", server.now_ts()
    )
    assert (await server.send(reaction)).status == 200
    await server.settle()
    (flag,) = server.query(select(Flag).where(Flag.message_id == ts))
    return flag


async def post(
    server: Server,
    body: Any = None,
    *,
    token: str | None = TOKEN,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, dict[str, str]]:
    assert server.http is not None
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body).encode()
    sent.setdefault("Content-Type", "application/json")
    async with server.http.post(server.url + URL, data=data, headers=sent) as resp:
        text = await resp.text()
        return resp.status, json.loads(text) if text else None, dict(resp.headers)


def outcomes(server: Server) -> list[Outcome]:
    return server.query(select(Outcome).order_by(col(Outcome.id)))


def frozen(server: Server) -> FakeClock:
    """The server's clock: frozen at serving.START until the test moves it."""
    assert isinstance(server.clock, FakeClock)
    return server.clock


async def test_an_outcome_is_recorded_and_resolves_the_flag(db_url: str) -> None:
    server = Server(db_url, run_worker=False)
    clock = frozen(server)
    async with server:
        flag = await flag_message(server)
        clock.advance(timedelta(hours=3))
        status, body, _ = await post(
            server,
            {"flag_id": flag.id, "kind": "retained", "amount": 12000.5, "note": "renewed"},
        )
        assert status == 201
        (row,) = outcomes(server)
        assert body == {
            "id": row.id,
            "flag_id": flag.id,
            "kind": "retained",
            "amount": 12000.5,
            "currency": "USD",  # config roi.currency
            "crm_ref": None,
            "note": "renewed",
            "source": "api",
            "created_at": clock.now().isoformat().replace("+00:00", "Z"),
        }
        assert (row.source, row.recorded_by, row.created_at) == ("api", None, clock.now())
        (after,) = server.query(select(Flag).where(Flag.id == flag.id))
        # METRICS "TTR: resolve (button, or an outcome recorded)".
        assert (after.status, after.resolved_at) == ("resolved", clock.now())
        assert after.ttr_seconds == (clock.now() - after.flagged_at).total_seconds()
        await server.settle()
        (update,) = server.slack.calls_to("chat.update")
        card = json.dumps(update.args["blocks"])
        assert "resolved" in card and "retained 12,000.50 USD" in card

        # A second outcome adds up; the flag keeps its first resolution.
        clock.advance(timedelta(hours=1))
        status, body, _ = await post(
            server, {"flag_id": flag.id, "kind": "cost_saved", "amount": 300, "currency": "eur"}
        )
        assert status == 201 and body["currency"] == "EUR"
        (after,) = server.query(select(Flag).where(Flag.id == flag.id))
        assert after.resolved_at == clock.now() - timedelta(hours=1)
        assert [o.kind for o in outcomes(server)] == ["retained", "cost_saved"]


async def test_every_way_of_naming_the_flag(db_url: str) -> None:
    async with Server(db_url, run_worker=False) as server:
        by_id = await flag_message(server, "refund one")
        by_link = await flag_message(server, "refund two")
        by_ref = await flag_message(server, "refund three")
        by_source = await flag_message(server, "refund four")
        with Session(server.runtime.engine) as s:
            flag = s.get(Flag, by_ref.id)
            assert flag is not None
            flag.crm_ref = "OPP-42"
            s.add(flag)
            s.commit()
        bodies: list[dict[str, Any]] = [
            {"flag_id": by_id.id},
            {"permalink": by_link.permalink},
            {"crm_ref": "OPP-42"},
            {"source": {"platform": "slack", "channel": CUSTOMERS, "ts": by_source.message_id}},
        ]
        for named in bodies:
            status, body, _ = await post(server, {**named, "kind": "other"})
            assert status == 201, body
        got = [(o.flag_id, o.crm_ref) for o in outcomes(server)]
        assert got == [
            (by_id.id, None),
            (by_link.id, None),
            (by_ref.id, "OPP-42"),
            (by_source.id, None),
        ]
        # Named otherwise, an outcome still carries the CRM ref its flag has.
        status, body, _ = await post(server, {"flag_id": by_ref.id, "kind": "upsell"})
        assert (status, body["crm_ref"], body["amount"]) == (201, "OPP-42", 0.0)


BAD_AUTH: list[tuple[dict[str, str], str | None]] = [
    ({}, None),
    ({}, "wrong-token"),
    ({}, ""),
    ({"Authorization": f"Basic {TOKEN}"}, None),
    ({"Authorization": TOKEN}, None),
    ({}, TOKEN + "x"),
]


async def test_a_missing_or_bad_token_is_401(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Server(sqlite_url(tmp_path), run_worker=False) as server:
        flag = await flag_message(server)
        for headers, token in BAD_AUTH:
            status, body, answer = await post(
                server, {"flag_id": flag.id, "kind": "other"}, token=token, headers=headers
            )
            assert status == 401 and "token" in body["error"], (headers, token)
            assert answer["WWW-Authenticate"].startswith("Bearer")
        assert outcomes(server) == []
    assert TOKEN not in caplog.text and "wrong-token" not in caplog.text


async def test_no_configured_token_refuses_everything(tmp_path: Path) -> None:
    toml = ORG_TOML.replace('tokens = ["test-token"]', "tokens = []")
    async with Server(sqlite_url(tmp_path), config_toml=toml, run_worker=False) as server:
        flag = await flag_message(server)
        for token in (TOKEN, ""):
            status, _, _ = await post(server, {"flag_id": flag.id, "kind": "other"}, token=token)
            assert status == 401


BAD_FIELDS: list[tuple[dict[str, Any], str, str]] = [
    ({"kind": "other", "amount": -1}, "amount", "amount must be a number >= 0"),
    ({"kind": "other", "amount": "100"}, "amount", "amount must be a number >= 0"),
    ({"kind": "other", "amount": True}, "amount", "amount must be a number >= 0"),
    ({"kind": "other", "amount": None}, "amount", "amount must be a number >= 0"),
    ({"kind": "other", "amount": 1e13}, "amount", "amount must be a number >= 0"),
    ({"kind": "refund"}, "kind", "kind must be one of retained, upsell, new_deal"),
    ({"amount": 5}, "kind", "kind is required"),
    ({"kind": "other", "currency": "dollars"}, "currency", "currency must be a three"),
    ({"kind": "other", "note": 5}, "note", "note"),
    ({"kind": "other", "amout": 5}, "amout", "unknown field 'amout'"),
]


async def test_a_bad_field_is_400_naming_it(tmp_path: Path) -> None:
    async with Server(sqlite_url(tmp_path), run_worker=False) as server:
        flag = await flag_message(server)
        for body, field, error in BAD_FIELDS:
            status, answer, _ = await post(server, {"flag_id": flag.id, **body})
            assert status == 400, body
            assert answer["field"] == field and answer["error"].startswith(error), answer
        assert outcomes(server) == []


async def test_naming_the_flag_badly_is_400(tmp_path: Path) -> None:
    async with Server(sqlite_url(tmp_path), run_worker=False) as server:
        flag = await flag_message(server)
        cases: list[tuple[Any, str | None]] = [
            ({"kind": "other"}, "flag_id"),  # no flag named
            ({"flag_id": flag.id, "crm_ref": "X", "kind": "other"}, "flag_id"),  # two ways
            ({"flag_id": str(flag.id), "kind": "other"}, "flag_id"),
            ({"flag_id": 0, "kind": "other"}, "flag_id"),
            (
                {"source": {"platform": "irc", "channel": "C", "ts": "1"}, "kind": "other"},
                "source.platform",
            ),
            ({"source": {"channel": CUSTOMERS, "ts": "1"}, "kind": "other"}, "source.platform"),
            ([{"flag_id": flag.id, "kind": "other"}], None),  # not an object
        ]
        for body, field in cases:
            status, answer, _ = await post(server, body)
            assert status == 400, (body, answer)
            assert answer.get("field") == field, (body, answer)
        for raw in (b"{not json", b"", b"\xff\xfe", b'{"flag_id": 1, "kind": "other"'):
            status, answer, _ = await post(server, raw=raw)
            assert (status, answer["error"]) == (400, "the body is not valid JSON")
        status, answer, _ = await post(
            server, raw=b'{"flag_id": 1, "kind": "other", "amount": NaN}'
        )
        assert (status, answer["field"]) == (400, "amount")
        assert outcomes(server) == []


async def test_an_unknown_flag_is_404_and_another_orgs_flag_is_unknown(db_url: str) -> None:
    async with Server(db_url, run_worker=False) as server:
        mine = await flag_message(server)
        with Session(server.runtime.engine) as s:
            other_org = Org(name="Globex")
            s.add(other_org)
            s.flush()
            theirs = Flag(
                org_id=other_org.id or 0,
                platform="slack",
                workspace_id="T0GLOBEX",
                channel_id="C0THEIRS",
                message_id="1700000000.000100",
                permalink="https://globex.slack.com/archives/C0THEIRS/p1700000000000100",
                crm_ref="SHARED-REF",
                flagger_id="U0THEM",
                flagged_at=server.clock.now(),
                via="reaction",
            )
            s.add(theirs)
            s.commit()
            s.refresh(theirs)
        cases: list[tuple[dict[str, Any], str]] = [
            ({"flag_id": 999_999}, "flag_id"),
            ({"flag_id": theirs.id}, "flag_id"),
            ({"permalink": theirs.permalink}, "permalink"),
            ({"crm_ref": "SHARED-REF"}, "crm_ref"),
            (
                {"source": {"platform": "slack", "channel": "C0THEIRS", "ts": theirs.message_id}},
                "source",
            ),
            (
                {"source": {"platform": "teams", "channel": CUSTOMERS, "ts": mine.message_id}},
                "source",
            ),
        ]
        for named, field in cases:
            status, answer, _ = await post(server, {**named, "kind": "other"})
            assert (status, answer["field"]) == (404, field), named
        assert outcomes(server) == []
        # The same CRM ref in both orgs: the outcome goes to this org's flag.
        with Session(server.runtime.engine) as s:
            flag = s.get(Flag, mine.id)
            assert flag is not None
            flag.crm_ref = "SHARED-REF"
            s.add(flag)
            s.commit()
        status, answer, _ = await post(server, {"crm_ref": "SHARED-REF", "kind": "other"})
        assert (status, answer["flag_id"]) == (201, mine.id)


async def test_a_huge_body_is_413(tmp_path: Path) -> None:
    async with Server(sqlite_url(tmp_path), run_worker=False) as server:
        flag = await flag_message(server)
        huge = {"flag_id": flag.id, "kind": "other", "note": "x" * 200_000}
        status, answer, _ = await post(server, huge)
        assert status == 413 and "larger than" in answer["error"]

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: read with a cap
            yield b'{"flag_id": %d, "kind": "other", "note": "' % (flag.id or 0)
            for _ in range(100):
                yield b"y" * 1024
            yield b'"}'

        assert server.http is not None
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        async with server.http.post(server.url + URL, data=chunks(), headers=headers) as resp:
            assert resp.status == 413
        # A long note within the limit is a field error, not a size error.
        status, answer, _ = await post(server, {**huge, "note": "z" * 5000})
        assert (status, answer["field"]) == (400, "note")
        assert outcomes(server) == []


async def test_an_outcome_by_api_links_the_flag_and_queues_no_webhook_when_off(
    db_url: str,
) -> None:
    async with Server(db_url, run_worker=False) as server:
        flag = await flag_message(server)
        status, _, _ = await post(server, {"flag_id": flag.id, "kind": "new_deal", "amount": 1})
        assert status == 201
        kinds = {r.kind for r in server.query(select(OutboxMessage))}
        assert "crm_webhook" not in kinds and "card_update" in kinds


async def test_a_repeat_with_the_same_idempotency_key_is_the_first_outcome(db_url: str) -> None:
    async with Server(db_url, run_worker=False) as server:
        flag = await flag_message(server)
        body = {"flag_id": flag.id, "kind": "upsell", "amount": 500}
        key = {"Idempotency-Key": "crm-4711"}
        first, created, _ = await post(server, body, headers=key)
        again, repeated, _ = await post(server, body, headers=key)
        assert (first, again) == (201, 200)
        assert repeated == created
        assert [o.id for o in outcomes(server)] == [created["id"]]
        webhooks = server.query(select(OutboxMessage).where(OutboxMessage.kind == "crm_webhook"))
        assert (
            len([w for w in webhooks if json.loads(w.target).get("event") != "flag.created"]) <= 1
        )

        other, _, _ = await post(server, body, headers={"Idempotency-Key": "crm-4712"})
        assert other == 201 and len(outcomes(server)) == 2
        status, error, _ = await post(server, body, headers={"Idempotency-Key": "k" * 201})
        assert status == 400 and "Idempotency-Key" in error["error"]
        assert len(outcomes(server)) == 2
