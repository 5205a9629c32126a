"""The Teams side of the server: a botbuilder CloudAdapter per server (no module globals),
mounted at POST /api/messages beside Slack. Every botbuilder import stays in this folder.

A request is checked in this order: size and JSON shape (400/413/415), the token (401, or
503 when the signing keys cannot be fetched), the tenant (an unclaimed one is answered 200
and nothing is stored), then the turn.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import BotFrameworkAuthentication, ServiceClientCredentialsFactory

from bot.adapters.teams import auth, translate
from bot.adapters.teams.connector import Connector
from bot.adapters.teams.gateway import TeamsGateway
from bot.adapters.teams.turn import Turns
from bot.core.events import BAD_INPUT
from bot.core.refs import Platform
from bot.health import ApiCalls
from bot.runtime import Runtime

log = logging.getLogger("crosstalk.teams")
MAX_BODY = 1_000_000


def _refuse(status: int, error: str) -> web.Response:
    return web.json_response({"error": error}, status=status)


def messages_handler(
    runtime: Runtime, adapter: CloudAdapter, authn: BotFrameworkAuthentication, turns: Turns
) -> Any:
    claimed = set(runtime.config.org.teams_tenant_ids)

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _refuse(413, "body too large")
        if request.content_type != "application/json":
            return _refuse(415, "expected application/json")
        try:
            body = await request.json()
        except (ValueError, RecursionError):
            return _refuse(400, "malformed JSON")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return _refuse(400, "not an activity")
        try:
            activity = Activity().deserialize(body)
        except Exception:  # msrest raises several types for a field of the wrong shape
            return _refuse(400, "not an activity")
        try:
            result = await auth.authenticate(authn, activity, request.headers.get("Authorization"))
        except auth.Unauthorized as exc:
            log.info("teams: refused an unauthenticated request: %s", exc)
            return _refuse(401, "unauthorized")
        except auth.KeysUnavailable as exc:
            log.warning("teams: %s", exc)
            return _refuse(503, "token keys unavailable")
        try:
            tenant = translate.tenant_of(body)
        except BAD_INPUT:
            return _refuse(400, "not an activity")
        if tenant not in claimed:
            log.info("teams: ignored an activity from unclaimed tenant %s", tenant)
            return web.json_response({}) if body["type"] == "invoke" else web.Response(status=200)

        async def logic(context: TurnContext) -> None:
            answer = await turns.handle(body)
            if body["type"] == "invoke":
                response = InvokeResponse(status=200, body=answer if answer is not None else {})
                await context.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=response)
                )

        invoke = await adapter.process_activity(result, activity, logic)
        if isinstance(invoke, InvokeResponse):
            return web.json_response(invoke.body, status=invoke.status)
        return web.Response(status=200)

    return handle


def build_gateway(
    runtime: Runtime, factory: ServiceClientCredentialsFactory | None = None
) -> TeamsGateway:
    """The outbound side alone (also for commands that post without serving)."""
    settings = runtime.settings
    connector = Connector(
        app_id=settings.microsoft_app_id,
        factory=factory or auth.credentials_factory(settings),
        graph_url=settings.teams_graph_url,
        tenant_id=settings.microsoft_app_tenant_id,
        calls=ApiCalls(Platform.TEAMS.value, runtime.clock),
    )
    return TeamsGateway(
        connector=connector,
        db=runtime.db,
        org_id=runtime.org.org_id,
        clock=runtime.clock,
        peers=runtime.gateways,
    )


def mount(
    web_app: web.Application,
    runtime: Runtime,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> TeamsGateway:
    """`credentials_factory` replaces the one built from the settings (tests give one that
    hands out a fixed token instead of asking Entra ID)."""
    factory = credentials_factory or auth.credentials_factory(runtime.settings)
    authn = auth.authentication(runtime.settings, factory)
    adapter = CloudAdapter(authn)
    gateway = build_gateway(runtime, factory)
    runtime.gateways.add(gateway)
    turns = Turns(runtime, gateway)
    web_app.router.add_post("/api/messages", messages_handler(runtime, adapter, authn, turns))

    async def close(_: web.Application) -> None:
        await turns.close()
        await gateway.connector.close()

    web_app.on_cleanup.append(close)
    if not runtime.config.org.teams_tenant_ids:
        log.warning("teams: org.teams_tenant_ids is empty: every Teams activity is ignored")
    return gateway
