"""FakeSlack and the signed request builders, driven by the real slack_sdk client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk import signature
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.demo.standins import slack_requests as sr
from bot.demo.standins.serving import request_time
from bot.demo.standins.slack_api import FakeSlack

TOKEN = "xoxb-test"


class RequestTime(signature.Clock):
    """slack_sdk's verifier checks the signing time against this: the clock requests are
    dated on (the test's calendar, see tests/conftest.py), not the wall clock."""

    def now(self) -> float:
        return request_time().timestamp()


def verifier(secret: str) -> signature.SignatureVerifier:
    return signature.SignatureVerifier(secret, clock=RequestTime())


class Verification(AsyncRequestVerification):
    """Bolt's own signature check, with slack_sdk's verifier on the test's clock."""

    @property
    def verifier(self) -> signature.SignatureVerifier:
        return verifier(self._signing_secret)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN, team_id="T0001", bot_user_id="UBOT", bot_id="BBOT") as fake:
        fake.add_channel("C0BILLING", name="billing", members=["UBOT", "U0ANN"])
        fake.add_user("U0ANN", name="ann", real_name="Ann Lee", tz="Europe/London")
        yield fake


@pytest.fixture
async def client(slack: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    web = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    yield web


async def test_api_url_and_auth(slack: FakeSlack, client: AsyncWebClient) -> None:
    assert slack.api_url.startswith("http://127.0.0.1:") and slack.api_url.endswith("/api/")
    auth = await client.auth_test()
    assert auth["user_id"] == "UBOT" and auth["bot_id"] == "BBOT" and auth["team_id"] == "T0001"

    with pytest.raises(SlackApiError) as bad:
        await AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert bad.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as unknown:
        await client.api_call("nope.nothing")
    assert unknown.value.response["error"] == "unknown_method"
    # A token in the form body is accepted too.
    async with aiohttp.ClientSession() as session:
        resp = await session.post(f"{slack.api_url}auth.test", data={"token": TOKEN})
        assert (await resp.json())["ok"] is True
    assert [c.method for c in slack.calls][:2] == ["auth.test", "auth.test"]


async def test_post_update_reply_history_replies_permalink(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.set_now(1763800000.0)
    seeded = slack.add_message("C0BILLING", "refund please", user="U0ANN")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Flagged*"}}]
    posted = await client.chat_postMessage(
        channel="C0BILLING",
        text="Flagged",
        blocks=blocks,
        metadata={"event_type": "flag", "event_payload": {"id": 7}},
    )
    assert posted["ok"] and posted["channel"] == "C0BILLING"
    ts = posted["ts"]
    assert ts > seeded and ts.startswith("1763800000.")
    assert posted["message"]["blocks"] == blocks and posted["message"]["bot_id"] == "BBOT"

    updated = await client.chat_update(channel="C0BILLING", ts=ts, text="Flagged (2 teams)")
    assert updated["message"]["text"] == "Flagged (2 teams)"
    with pytest.raises(SlackApiError) as missing:
        await client.chat_update(channel="C0BILLING", ts="1.000000", text="x")
    assert missing.value.response["error"] == "message_not_found"

    r1 = await client.chat_postMessage(channel="C0BILLING", text="reply 1", thread_ts=ts)
    r2 = await client.chat_postMessage(channel="C0BILLING", text="reply 2", thread_ts=ts)
    assert r1["message"]["thread_ts"] == ts

    history = await client.conversations_history(channel="C0BILLING")
    assert [m["ts"] for m in history["messages"]] == [ts, seeded]  # newest first, no replies
    assert history["messages"][0]["reply_count"] == 2
    assert "metadata" in history["messages"][0]  # our own app's metadata comes back
    older = await client.conversations_history(channel="C0BILLING", latest=ts, limit=5)
    assert [m["ts"] for m in older["messages"]] == [seeded]
    paged = await client.conversations_history(channel="C0BILLING", limit=1)
    assert paged["has_more"] and paged["response_metadata"]["next_cursor"]

    replies = await client.conversations_replies(channel="C0BILLING", ts=ts)
    assert [m["text"] for m in replies["messages"]] == ["Flagged (2 teams)", "reply 1", "reply 2"]
    later = await client.conversations_replies(channel="C0BILLING", ts=ts, oldest=r1["ts"])
    assert [m["ts"] for m in later["messages"]] == [ts, r2["ts"]]
    with pytest.raises(SlackApiError) as nothread:
        await client.conversations_replies(channel="C0BILLING", ts="2.000000")
    assert nothread.value.response["error"] == "thread_not_found"

    link = await client.chat_getPermalink(channel="C0BILLING", message_ts=ts)
    assert link["permalink"] == f"https://acme.slack.com/archives/C0BILLING/p{ts.replace('.', '')}"
    reply_link = await client.chat_getPermalink(channel="C0BILLING", message_ts=r1["ts"])
    assert reply_link["permalink"].endswith(f"?thread_ts={ts}&cid=C0BILLING")

    assert [m["text"] for m in slack.posted("C0BILLING", thread_ts=ts)] == ["reply 1", "reply 2"]
    assert len(slack.messages("C0BILLING")) == 4
    assert slack.calls_to("chat.postMessage")[0].args["blocks"] == blocks

    await client.chat_delete(channel="C0BILLING", ts=r2["ts"])
    assert len(slack.messages("C0BILLING")) == 3


async def test_lookups(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.add_usergroup("S0ENG", users=["U0ANN", "U0BOB"])
    info = await client.conversations_info(channel="C0BILLING")
    assert info["channel"]["name"] == "billing" and info["channel"]["is_ext_shared"] is False
    with pytest.raises(SlackApiError) as nochan:
        await client.conversations_info(channel="C0NOPE")
    assert nochan.value.response["error"] == "channel_not_found"
    user = await client.users_info(user="U0ANN")
    assert (
        user["user"]["profile"]["real_name"] == "Ann Lee" and user["user"]["tz"] == "Europe/London"
    )
    members = await client.conversations_members(channel="C0BILLING")
    assert members["members"] == ["UBOT", "U0ANN"]
    group = await client.usergroups_users_list(usergroup="S0ENG")
    assert group["users"] == ["U0ANN", "U0BOB"]
    dm1 = await client.conversations_open(users="U0ANN")
    dm2 = await client.conversations_open(users=["U0ANN"])
    assert dm1["channel"]["id"].startswith("D") and dm1["channel"]["id"] == dm2["channel"]["id"]
    eph = await client.chat_postEphemeral(channel="C0BILLING", user="U0ANN", text="only you")
    assert eph["message_ts"] and slack.ephemeral[0]["text"] == "only you"
    ts = slack.add_message("C0BILLING", "refund please", user="U0ANN")
    await client.reactions_add(channel="C0BILLING", name="eyes", timestamp=ts)
    message = slack.get_message("C0BILLING", ts)
    assert message is not None and message["reactions"][0]["name"] == "eyes"


async def test_views(slack: FakeSlack, client: AsyncWebClient) -> None:
    view = {
        "type": "modal",
        "callback_id": "flag",
        "title": {"type": "plain_text", "text": "Flag"},
        "blocks": [],
        "private_metadata": "C0BILLING|1.2",
    }
    opened = await client.views_open(trigger_id="123.456.abc", view=view)
    view_id = opened["view"]["id"]
    assert view_id.startswith("V") and opened["view"]["callback_id"] == "flag"
    updated = await client.views_update(view_id=view_id, view={**view, "callback_id": "flag2"})
    assert slack.views[view_id]["callback_id"] == "flag2" == updated["view"]["callback_id"]
    with pytest.raises(SlackApiError) as notrigger:
        await client.api_call("views.open", json={"view": view})
    assert notrigger.value.response["error"] == "invalid_arguments"


async def test_files_upload_v2(slack: FakeSlack, client: AsyncWebClient) -> None:
    parent = slack.add_message("C0BILLING", "report?", user="U0ANN")
    result = await client.files_upload_v2(
        channel="C0BILLING",
        filename="report.csv",
        content="a,b\n1,2\n",
        title="Weekly report",
        initial_comment="Here it is",
        thread_ts=parent,
    )
    file_id = result["file"]["id"]
    stored = slack.files[file_id]
    assert stored.content == b"a,b\n1,2\n" and stored.title == "Weekly report"
    assert stored.channels == ["C0BILLING"] and stored.thread_ts == parent
    thread = slack.messages("C0BILLING")
    assert thread[-1]["files"][0]["id"] == file_id and thread[-1]["text"] == "Here it is"


async def test_faults(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=3)
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel="C0BILLING", text="hi")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "3"
    assert limited.value.response["error"] == "ratelimited"
    assert (await client.chat_postMessage(channel="C0BILLING", text="hi"))["ok"]

    slack.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0BILLING", text="hi")
    assert err.value.response.status_code == 200
    assert err.value.response["error"] == "channel_not_found"

    slack.fail_next("chat.postMessage", status=500, after_effect=True)
    with pytest.raises(SlackApiError) as lost:
        await client.chat_postMessage(channel="C0BILLING", text="lost answer")
    assert lost.value.response.status_code == 500
    assert [m["text"] for m in slack.posted("C0BILLING")] == ["hi", "lost answer"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200, 200, 500]


async def test_response_url(slack: FakeSlack) -> None:
    url = slack.response_url("cmd1")
    async with aiohttp.ClientSession() as session:
        resp = await session.post(url, json={"text": "done", "response_type": "ephemeral"})
        assert resp.status == 200 and await resp.text() == "ok"
    assert slack.responses["cmd1"] == [{"text": "done", "response_type": "ephemeral"}]


def test_sign_matches_slack_sdk_verifier() -> None:
    secret = "s3cret"
    body, headers = sr.event_message("T0001", "C0BILLING", "U0ANN", "refund", "1763800000.000100")
    assert verifier(sr.DEFAULT_SIGNING_SECRET).is_valid_request(body, headers)
    assert not verifier(secret).is_valid_request(body, headers)
    raw = b"token=x&text=hello"
    signed = sr.sign(secret, raw, timestamp=None)
    assert signed["X-Slack-Request-Timestamp"] == str(int(request_time().timestamp()))
    assert verifier(secret).is_valid(
        raw, signed["X-Slack-Request-Timestamp"], signed["X-Slack-Signature"]
    )
    assert signed["Content-Type"] == "application/x-www-form-urlencoded"

    envelope = json.loads(body)
    assert envelope["type"] == "event_callback" and envelope["event_id"].startswith("Ev")
    assert envelope["authorizations"][0]["user_id"] == "UBOT"
    assert envelope["event"]["channel_type"] == "channel"

    retried = sr.event_app_mention(
        "T0001", "C0BILLING", "U0ANN", "<@UBOT> flag", "1.2", retry_num=1
    )
    assert retried.headers["X-Slack-Retry-Num"] == "1"
    assert retried.payload()["event"]["blocks"][0]["elements"][0]["elements"][0] == {
        "type": "user",
        "user_id": "UBOT",
    }

    shortcut = sr.message_shortcut(
        "T0001", "U0ANN", "C0BILLING", "1.2", "refund", "U0BOB", "flag", "t.1", "http://x", "3.4"
    )
    assert shortcut.payload()["type"] == "message_action"
    command = sr.slash_command("T0001", "U0ANN", "C0BILLING", "/flag", "hi", "http://x", "t.1")
    assert parse_qs(command.body.decode())["command"] == ["/flag"]
    assert verifier(sr.DEFAULT_SIGNING_SECRET).is_valid_request(command.body, command.headers)


def _bolt_request(body: bytes, headers: dict[str, str]) -> AsyncBoltRequest:
    bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
    return AsyncBoltRequest(body=body.decode(), headers=bolt_headers)


async def test_signed_requests_are_accepted_by_bolt(slack: FakeSlack) -> None:
    app = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=slack.api_url),
        signing_secret=sr.DEFAULT_SIGNING_SECRET,
        request_verification_enabled=False,  # Bolt's own, but on the test's clock:
        process_before_response=True,
    )
    app.use(Verification(sr.DEFAULT_SIGNING_SECRET))
    seen: list[str] = []

    @app.event("message")
    async def on_message(event: dict[str, object]) -> None:
        seen.append(f"message:{event.get('subtype')}")

    @app.event("app_mention")
    async def on_mention() -> None:
        seen.append("app_mention")

    @app.event("reaction_added")
    async def on_reaction() -> None:
        seen.append("reaction_added")

    @app.shortcut("flag")
    @app.action("broadcast")
    @app.view("flag_modal")
    @app.command("/flag")
    async def on_interaction(ack: AsyncAck, body: dict[str, object], respond: AsyncRespond) -> None:
        await ack()
        seen.append(str(body.get("type") or body.get("command")))
        if respond.response_url:
            await respond("ok")

    ts = slack.add_message("C0BILLING", "refund please", user="U0ANN")
    hook = slack.response_url("r")
    requests = [
        sr.event_message("T0001", "C0BILLING", "U0ANN", "refund please", ts),
        sr.event_message_changed("T0001", "C0BILLING", "U0ANN", ts, "new", "old"),
        sr.event_message_deleted("T0001", "C0BILLING", "U0ANN", ts, "old"),
        sr.event_app_mention("T0001", "C0BILLING", "U0ANN", "<@UBOT> flag", "1.000002"),
        sr.event_reaction_added("T0001", "U0ANN", "eyes", "C0BILLING", ts, "U0ANN", "1.000003"),
        sr.message_shortcut(
            "T0001", "U0ANN", "C0BILLING", ts, "refund", "U0ANN", "flag", "1.2.3", hook, "1.4"
        ),
        sr.block_action("T0001", "U0ANN", "C0BILLING", ts, "broadcast", "v", "1.2.3", hook, "1.5"),
        sr.view_submission("T0001", "U0ANN", "flag_modal", "meta", {}, response_urls=[]),
        sr.slash_command("T0001", "U0ANN", "C0BILLING", "/flag", "hi", hook, "1.2.3"),
    ]
    for body, headers in requests:
        resp = await app.async_dispatch(_bolt_request(body, headers))
        assert resp.status == 200, body
    assert seen == [
        "message:None",
        "message:message_changed",
        "message:message_deleted",
        "app_mention",
        "reaction_added",
        "message_action",
        "block_actions",
        "view_submission",
        "/flag",
    ]
    assert len(slack.responses["r"]) == 3  # view_submission has no response_url

    body, headers = sr.event_message("T0001", "C0BILLING", "U0ANN", "x", ts, secret="wrong")
    resp = await app.async_dispatch(_bolt_request(body, headers))
    assert resp.status == 401


async def test_clock_and_lifecycle() -> None:
    slack = FakeSlack()
    await slack.start()
    try:
        slack.set_now(1763800000.0)
        assert [slack.next_ts() for _ in range(3)] == [
            "1763800000.000000",
            "1763800000.000001",
            "1763800000.000002",
        ]
        assert slack.response_url("x") == f"{slack.base_url}hooks/x"
    finally:
        await slack.stop()
