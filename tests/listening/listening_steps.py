"""Steps shared by the listening pipeline tests: the sample org with listening on, messages
said in watched channels (signed Slack events), and readers of what the database keeps."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select as table_rows
from sqlmodel import SQLModel, col, select

from bot.demo.org import ORG_TOML
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from bot.demo.standins.slack_requests import SignedRequest
from store.models_listening import ListeningCounter, ListeningLabel, Suggestion
from tests.fakes.core_loop import CUSTOMERS, SHARED, ts

TRIAGE = "C0TRIAGE"
CUSTOMER = "U0EXT"  # a person of Globex, the customer, in the Slack Connect channel
GLOBEX = "T0GLOBEX"
LISTENING = f"""
[listening]
channels = ["{CUSTOMERS}"]
shared_channels = true
triage_channel = "{TRIAGE}"
"""
CONFIG = ORG_TOML + LISTENING
# Clearly above and clearly below the cold model's threshold (VADER and the rules' keywords).
UPSET = "You charged me twice and the export is broken. This is unacceptable!"  # 3 teams
CALM = "Thanks, see you at the meeting tomorrow, zebra-lantern-7."


def listening_server(db_url: str, config: str = CONFIG, **kwargs: Any) -> Server:
    server = Server(db_url, config_toml=config, **kwargs)
    server.slack.add_channel(TRIAGE, "listening-triage")
    return server


def says(
    server: Server,
    text: str,
    at_: float,
    *,
    channel: str = SHARED,
    user: str = CUSTOMER,
    team: str | None = GLOBEX,
    thread_ts: str | None = None,
    bot_id: str | None = None,
    event_id: str | None = None,
    retry_num: int | None = None,
) -> SignedRequest:
    """`user` (of `team`, another organisation, by default) posts `text`: the message is in
    the channel, and Slack sends its event (`is_ext_shared_channel` for the shared one)."""
    message_ts = ts(at_)
    if server.slack.get_message(channel, message_ts) is None:
        server.slack.add_message(channel, text, user=user, ts=message_ts, thread_ts=thread_ts)
    return sr.event_message(
        "T0001",
        channel,
        user,
        text,
        message_ts,
        thread_ts,
        bot_id,
        event_id=event_id,
        user_team=team,
        event_time=int(at_),
        is_ext_shared_channel=channel == SHARED,
        retry_num=retry_num,
    )


def suggestions(server: Server) -> list[Suggestion]:
    return server.query(select(Suggestion).order_by(col(Suggestion.id)))


def labels(server: Server) -> list[ListeningLabel]:
    return server.query(select(ListeningLabel).order_by(col(ListeningLabel.id)))


def scored(server: Server) -> tuple[int, int]:
    """(scored, suggested) over every day's counters."""
    rows = server.query(select(ListeningCounter))
    return sum(r.scored for r in rows), sum(r.suggested for r in rows)


def every_stored_value(server: Server) -> str:
    """Every row of every table, as one string: what a reader of the database can find."""
    out: list[str] = []
    with server.runtime.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(table_rows(table)).all():
                out.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(out)
