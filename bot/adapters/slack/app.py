"""The Slack side of the server: one Bolt AsyncApp built per server (no module globals),
mounted at POST /slack/events. Listeners only translate and hand over to handlers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.logger.messages import (
    warning_client_prioritized_and_token_skipped,
    warning_token_skipped,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import forms, translate
from bot.adapters.slack.gateway import SlackGateway
from bot.adapters.slack.home import register_home
from bot.adapters.slack.listening import on_message as on_watched
from bot.adapters.slack.listening import register_listening
from bot.adapters.slack.roi import register_roi
from bot.core.events import BAD_INPUT, CardAction, Command, FlagRequest, RatingGiven
from bot.core.refs import Platform, UserRef
from bot.handlers import flag, interpret, outcomes
from bot.handlers.help import help_text
from bot.health import ApiCalls
from bot.runtime import Runtime

log = logging.getLogger("crosstalk.slack")
MAX_BODY = 1_000_000
AUTH_TEST_TIMEOUT = 1.0  # s
AUTH_TEST_RETRY = 30.0  # s between auth.test attempts while it fails
MAX_SKEW = timedelta(minutes=5)  # how far a request's signing time may be from now


def make_client(runtime: Runtime) -> AsyncWebClient:
    token = runtime.settings.slack_bot_token
    assert token is not None
    return AsyncWebClient(token=token.get_secret_value(), base_url=runtime.settings.slack_api_base)


class _DeliberateChoices(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself, and warns at construction that it goes unused
    when a client and an `authorize` are given: both are given on purpose (one client
    with the token for the gateway and Bolt, `authorize` that survives an outage)."""

    EXPECTED = frozenset({warning_client_prioritized_and_token_skipped(), warning_token_skipped()})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.EXPECTED


def build_bolt(runtime: Runtime, client: AsyncWebClient) -> AsyncApp:
    settings = runtime.settings
    secret = settings.slack_signing_secret
    claimed = set(runtime.config.org.slack_team_ids)

    async def known_workspace(body: dict[str, Any], next: Any) -> BoltResponse | None:
        named = translate.workspaces(body)
        if not claimed.intersection(named) and body.get("type") != "url_verification":
            log.info("ignored a request from unclaimed workspace %s", ", ".join(named) or "?")
            return BoltResponse(status=200, body="")
        await next()
        return None

    bolt_logger = logging.getLogger("crosstalk.bolt")
    if not any(isinstance(f, _DeliberateChoices) for f in bolt_logger.filters):
        bolt_logger.addFilter(_DeliberateChoices())
    app = AsyncApp(
        client=client,
        authorize=_authorize(client),
        # Without a signing secret only Socket Mode is served (no HTTP endpoint is mounted).
        signing_secret=secret.get_secret_value() if secret else "",
        # Off: events_handler's _signed checks the raw bytes (on the runtime's clock) before
        # Bolt sees a request; Socket Mode requests carry no signature.
        request_verification_enabled=False,
        process_before_response=True,
        before_authorize=known_workspace,
        logger=bolt_logger,
    )
    app.error(_on_error)
    register_home(app, runtime)  # before _register's catch-all event listener
    _register(app, runtime)
    register_roi(app, runtime)
    register_listening(app, runtime)
    return app


def _authorize(client: AsyncWebClient) -> Any:
    """Bolt asks who the app is before every listener. Answered from `auth.test` once, and
    without it while Slack's API is down: an event must be stored through an outage, not
    dropped by an authorization that needs the API it waits for."""
    known: list[AuthorizeResult] = []
    next_try = [0.0]  # loop time: while auth.test fails, it is asked again at most this often

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        if known:
            return known[0]
        token = client.token or ""
        without = AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)
        loop = asyncio.get_running_loop()
        if loop.time() < next_try[0]:
            return without
        try:
            # Within the ack's 3 s: a hanging API must not hold every request.
            response = await asyncio.wait_for(client.auth_test(), AUTH_TEST_TIMEOUT)
        except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            next_try[0] = loop.time() + AUTH_TEST_RETRY
            log.warning("Slack auth.test failed (%r): events are still stored", exc)
            return without
        known.append(
            AuthorizeResult.from_auth_test_response(
                auth_test_response=response, bot_token=token, user_token=None
            )
        )
        return known[0]

    return authorize


async def _on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
    """A payload of the wrong shape gets a clear answer, never a 500: 200 for an event
    (Slack would resend it, and it will never be right), 400 for the rest. A Slack API
    refusal after the ack (a modal that cannot open) is logged; the ack stands. Anything
    else is a real failure, 500, so Slack resends what was not stored."""
    if isinstance(error, BAD_INPUT):  # Malformed is a ValueError
        log.warning("ignored a malformed %s request: %s", body.get("type") or "Slack", error)
        status = 200 if body.get("type") == "event_callback" else 400
        return BoltResponse(status=status, body="" if status == 200 else "malformed request")
    if isinstance(error, SlackApiError):
        log.warning("Slack refused a call for a request: %s", error.response.get("error"))
        return BoltResponse(status=200, body="")
    log.error("a Slack request failed: %r", error, exc_info=error)
    return BoltResponse(status=500, body="")


def _register(app: AsyncApp, runtime: Runtime) -> None:
    org = runtime.org

    @app.event("message")
    async def on_message(body: dict[str, Any]) -> None:
        if await on_watched(runtime, body):  # a watched channel's message, to be scored
            return
        event = translate.message_event(body)
        if event is not None:
            await runtime.submit(translate.event_key(body), event)

    @app.event("reaction_added")
    async def on_reaction(body: dict[str, Any]) -> None:
        event = translate.reaction_event(body)
        wanted = {org.config.flagging.reaction, *org.config.flagging.ack_reactions}
        if event is not None and event.emoji in wanted:
            await runtime.submit(translate.event_key(body), event)

    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], client: AsyncWebClient) -> None:
        event = translate.mention_event(body)
        if isinstance(event, FlagRequest):
            await runtime.submit(translate.event_key(body), event)
        elif isinstance(event, Command) and event.name == "flag-help":
            try:
                await client.chat_postEphemeral(
                    channel=event.channel.id,
                    user=event.user.id,
                    text="To flag a customer message, say `@Crosstalk flag` in its thread, react "
                    f"with :{org.config.flagging.reaction}:, or use the “Flag for stakeholders” "
                    "shortcut.",
                )
            except SlackApiError as exc:  # a hint is best effort: a 500 would make Slack resend
                log.warning("could not post the flag hint: %s", exc.response.get("error"))
        elif isinstance(event, Command):  # `@Crosstalk help`, or a word it does not know
            try:
                await client.chat_postEphemeral(
                    channel=event.channel.id,
                    user=event.user.id,
                    text=help_text(Platform.SLACK, reaction=org.config.flagging.reaction),
                )
            except SlackApiError as exc:  # best effort, as the flag hint
                log.warning("could not post the help: %s", exc.response.get("error"))

    @app.event(re.compile(".*"))
    async def on_other_event() -> None:
        """Events we subscribe to but do not act on are acknowledged, not retried."""

    _register_forms(app, runtime)
    _register_buttons(app, runtime)


def _register_forms(app: AsyncApp, runtime: Runtime) -> None:
    org = runtime.org

    @app.shortcut("flag_for_stakeholders")
    async def on_shortcut(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        text = str((body.get("message") or {}).get("text", ""))
        plain, channel = translate.plain_text(text), str(body["channel"]["id"])
        # With a session the org's model prefills what no rule matches (learned routing).
        routing = await runtime.query(lambda s: flag.routing_for(plain, channel, org, s))
        view = forms.flag_modal(
            org.config, list(routing.teams), translate.shortcut_target(body), text
        )
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(forms.FLAG_FORM)
    async def on_flag_form(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        event = translate.flag_form(body, runtime.clock.now())
        await runtime.submit(f"slack:view:{body['view']['id']}", event)

    @app.view(forms.INTERPRET_FORM)
    async def on_interpret_form(ack: AsyncAck, body: dict[str, Any]) -> None:
        event = translate.interpret_form(body, runtime.clock.now())
        if not event.text:
            await ack(
                response_action="errors",
                errors={"interpretation": "Say what this means for your team."},
            )
            return
        await ack()
        await runtime.submit(f"slack:view:{body['view']['id']}", event)

    @app.view(forms.OUTCOME_FORM)
    async def on_outcome_form(ack: AsyncAck, body: dict[str, Any]) -> None:
        event = translate.outcome_form(body, runtime.clock.now(), org.config.roi.currency)
        if isinstance(event, dict):
            await ack(response_action="errors", errors=event)
            return
        await ack()
        await runtime.submit(f"slack:view:{body['view']['id']}", event)


def _register_buttons(app: AsyncApp, runtime: Runtime) -> None:
    org = runtime.org

    async def tell(respond: AsyncRespond, message: str | None) -> None:
        if message:
            await respond(text=message, response_type="ephemeral", replace_original=False)

    async def outcome_button(body: dict[str, Any], respond: AsyncRespond, client: Any) -> None:
        user = UserRef(Platform.SLACK, body["user"]["id"])
        broadcast_id = int(body["actions"][0]["value"])
        found = await runtime.query(
            lambda s: outcomes.form_flag(session=s, org=org, broadcast_id=broadcast_id, user=user)
        )
        if isinstance(found, str):
            await tell(respond, found)
            return
        view = forms.outcome_modal(broadcast_id, found.excerpt, org.config.roi.currency)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def interpret_button(body: dict[str, Any], client: Any) -> None:
        broadcast_id = int(body["actions"][0]["value"])
        team = await runtime.query(
            lambda s: interpret.form_team(session=s, org=org, broadcast_id=broadcast_id)
        )
        if team is not None:
            view = forms.interpret_modal(broadcast_id, team.name)
            await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(re.compile(r"^ct_(?!sg_)"))  # suggestion buttons: bot/adapters/slack/listening
    async def on_card_button(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        action = body["actions"][0]
        action_id = str(action.get("action_id", ""))
        numbered = str(action.get("value", "")).isdigit()
        if action_id == "ct_outcome" and numbered:
            await outcome_button(body, respond, client)
            return
        if action_id == "ct_interpret" and numbered:
            await interpret_button(body, client)
            return
        event: CardAction | RatingGiven | None = (
            translate.rating_action(body, runtime.clock.now())
            if action_id.startswith("ct_rate_")
            else translate.card_action(body)
        )
        if event is None:
            return
        answer = await runtime.handle_now(translate.interaction_key(body), event)
        if answer is not None:
            await tell(respond, answer.message)


def _malformed(body: bytes, content_type: str) -> str | None:
    """Why a signed body cannot be a Slack request, or None."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            return translate.envelope_problem(json.loads(text))
        form = parse_qs(text, strict_parsing=True)
        if "payload" in form:
            return translate.envelope_problem(json.loads(form["payload"][0]))
        return None if "command" in form or "type" in form else "neither a command nor a payload"
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "not JSON or form-encoded"


def _signed(secret: bytes, body: bytes, headers: Any, *, now: datetime) -> bool:
    """Slack's v0 signature over the raw bytes, and a timestamp within MAX_SKEW of `now`
    (the runtime's clock, so a test server on its own calendar accepts its own requests).
    slack_sdk's verifier decodes the body as UTF-8 and the timestamp as an int first, and
    raises (a 500) when either is not; it also reads the wall clock."""
    timestamp = str(headers.get("X-Slack-Request-Timestamp", ""))
    signature = str(headers.get("X-Slack-Signature", ""))
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    if abs(now.timestamp() - int(timestamp)) > MAX_SKEW.total_seconds():
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = b"v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))


def events_handler(runtime: Runtime, app: AsyncApp) -> Any:
    secret = runtime.settings.slack_signing_secret
    assert secret is not None
    key = secret.get_secret_value().encode()

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        body = await request.read()
        if not _signed(key, body, request.headers, now=runtime.clock.now()):
            return web.json_response({"error": "invalid signature"}, status=401)
        problem = _malformed(body, request.content_type)
        if problem is not None:
            log.info("refused a malformed Slack request: %s", problem)
            return web.json_response({"error": f"malformed body: {problem}"}, status=400)
        try:  # Bolt reads the envelope (team, user, channel) while it builds the request
            bolt_request = AsyncBoltRequest(
                body=body.decode("utf-8"), query=request.query_string, headers=dict(request.headers)
            )
        except BAD_INPUT:
            return web.json_response({"error": "malformed body"}, status=400)
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    return handle


def _shared_session(client: AsyncWebClient) -> Any:
    """One HTTP session (and its connection pool) for every Web API call while the server
    runs: without it slack_sdk opens a session, and a connection, per call."""

    async def hold(app: web.Application) -> AsyncIterator[None]:
        client.session = aiohttp.ClientSession()
        try:
            yield
        finally:
            session, client.session = client.session, None
            await session.close()

    return hold


def mount(web_app: web.Application, runtime: Runtime) -> AsyncApp:
    client = make_client(runtime)
    web_app.cleanup_ctx.append(_shared_session(client))
    runtime.gateways.add(SlackGateway(client, calls=ApiCalls(Platform.SLACK.value, runtime.clock)))
    bolt = build_bolt(runtime, client)
    if runtime.settings.slack_signing_secret is not None:
        web_app.router.add_post("/slack/events", events_handler(runtime, bolt))
    else:
        log.warning("SLACK_SIGNING_SECRET is not set: POST /slack/events is off")
    app_token = runtime.settings.slack_app_token
    if app_token is not None:
        from bot.adapters.slack.socket import socket_mode

        web_app.cleanup_ctx.append(socket_mode(bolt, app_token.get_secret_value()))
    return bolt
