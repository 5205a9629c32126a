"""Hostile input in real envelopes: signed Slack requests, Teams activities and API bodies
of the right outer shape, with a few fields replaced by garbage or removed. Used by
tests/test_fuzz.py (a seeded, bounded run) and bench/fuzz.py (10,000 cases)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from hypothesis import strategies as st

from bot.demo.standins import slack_requests as sr
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import BotConnector
from bot.demo.standins.harness import Server

JSONDict = dict[str, Any]
SPECIAL = [
    "²",
    "abc",
    "9" * 20,
    "99999999999999999999.000001",
    "95000000000000.000000",
    "",
    "-1",
    "0",
    "{}",
    "[]",
    "{broken",
    "null",
    "ct_rate_9",
    "\x00",
    "🙂" * 50,
    "line\n" * 400,
]
GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(SPECIAL),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@dataclass(frozen=True)
class Case:
    target: str  # "slack" | "teams" | "api"
    encoding: str  # "json" | "payload" | "form"
    data: Any

    def body(self) -> bytes:
        if self.encoding == "payload":
            return urlencode({"payload": json.dumps(self.data)}).encode()
        if self.encoding == "form" and isinstance(self.data, dict):
            return urlencode({str(k): str(v) for k, v in self.data.items()}).encode()
        return json.dumps(self.data).encode()


def _decoded(request: sr.SignedRequest) -> tuple[str, JSONDict]:
    text = request.body.decode()
    if text.startswith("{"):
        return "json", json.loads(text)
    fields = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    if set(fields) == {"payload"}:
        return "payload", json.loads(fields["payload"])
    return "form", dict(fields)


def slack_templates(server: Server) -> list[tuple[str, JSONDict]]:
    """One of each kind of request Slack sends to /slack/events, as the org would see it."""
    ts, url = server.now_ts(), server.slack.response_url("fuzz")
    meta = json.dumps({"channel": "C0CUSTOMERS", "ts": ts, "author": "U0SAM"})
    requests = [
        sr.event_message("T0001", "C0BILLING", "U0BEA", "we will refund", ts, thread_ts=ts),
        sr.event_reaction_added("T0001", "U0ANN", "mega", "C0CUSTOMERS", ts, "U0SAM", ts),
        sr.event_app_mention("T0001", "C0CUSTOMERS", "U0ANN", "<@UBOT> flag", ts, thread_ts=ts),
        sr.message_shortcut(
            "T0001",
            "U0ANN",
            "C0CUSTOMERS",
            ts,
            "refund me",
            "U0SAM",
            "flag_for_stakeholders",
            sr.new_trigger_id(),
            url,
            ts,
        ),
        sr.block_action(
            "T0001", "U0BEA", "C0BILLING", ts, "ct_ack", "1", sr.new_trigger_id(), url, ts
        ),
        sr.block_action(
            "T0001", "U0ANN", "C0CUSTOMERS", ts, "ct_rate_4", "1", sr.new_trigger_id(), url, ts
        ),
        sr.view_submission("T0001", "U0ANN", "ct_flag_form", meta, {}),
        sr.view_submission(
            "T0001", "U0BEA", "ct_interpret_form", json.dumps({"broadcast_id": 1}), {}
        ),
        sr.view_submission(
            "T0001", "U0BEA", "ct_outcome_form", json.dumps({"broadcast_id": 1}), {}
        ),
        sr.slash_command("T0001", "U0MGR", "C0BILLING", "/roi", "30d", url, sr.new_trigger_id()),
    ]
    return [_decoded(r) for r in requests]


def teams_templates(connector: BotConnector) -> list[JSONDict]:
    url = connector.service_url
    mid = ta.message_id()
    return [
        ta.channel_message(url, ta.CUSTOMERS, "refund me", user=ta.PAM, root=mid),
        ta.channel_message(url, ta.CUSTOMERS, "flag", user=ta.PAM, root=mid, mention_bot=True),
        ta.card_invoke(url, ta.PRODUCT, mid, "ct_ack", "1", user=ta.PAM),
        ta.task_invoke(url, ta.PRODUCT, mid, "task/submit", {"ct": "ct_outcome"}, user=ta.PAM),
        ta.flag_action(
            url,
            "composeExtension/submitAction",
            ta.CUSTOMERS,
            mid,
            "refund",
            user=ta.PAM,
            author=ta.PAM,
            data={"teams": "product"},
        ),
    ]


API_TEMPLATE: JSONDict = {"flag_id": 1, "kind": "retained", "amount": 100, "currency": "USD"}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_paths(item, (*prefix, i)))
    return found


def _apply(data: Any, path: tuple[Any, ...], new: Any, delete: bool) -> None:
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = new


@st.composite
def mutated(draw: st.DrawFn, template: Any) -> Any:
    """The template with one to three fields replaced by garbage or removed."""
    data = copy.deepcopy(template)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        _apply(data, path, draw(GARBAGE), delete=draw(st.booleans()))
    return data


def cases(slack: list[tuple[str, JSONDict]], teams: list[JSONDict]) -> st.SearchStrategy[Case]:
    slack_cases = st.sampled_from(slack).flatmap(
        lambda t: mutated(t[1]).map(lambda d, enc=t[0]: Case("slack", enc, d))
    )
    teams_cases = st.sampled_from(teams or [{}]).flatmap(
        lambda t: mutated(t).map(lambda d: Case("teams", "json", d))
    )
    api_cases = mutated(API_TEMPLATE).map(lambda d: Case("api", "json", d))
    return st.one_of(slack_cases, teams_cases, api_cases)


DEEP = ("[" * 20_000 + "]" * 20_000).encode()  # past the JSON parser's depth, under 64 KB


async def send(server: Server, case: Case, token: str = "test-token") -> int:
    """POST the case where it belongs, signed or authorized as the platform would; the
    HTTP status."""
    assert server.http is not None
    body = case.body()
    if case.target == "slack":
        timestamp = int(server.runtime.clock.now().timestamp())
        kind = "application/json" if case.encoding == "json" else None
        headers = sr.sign(sr.DEFAULT_SIGNING_SECRET, body, timestamp, content_type=kind)
        path = "/slack/events"
    elif case.target == "teams":
        headers, path = {"Content-Type": "application/json"}, "/api/messages"
    else:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        path = "/api/outcomes"
    async with server.http.post(server.url + path, data=body, headers=headers) as resp:
        await resp.read()
        return resp.status
