"""HTTP calls to the Bot Connector REST API and Microsoft Graph, with tokens from the
Bot Framework SDK's credentials factory.

The SDK's own ConnectorClient sends through `requests` in a thread pool and retries a
POST on its own after a 5xx (a second copy of a card, with no marker check). Here every
call is made once, on aiohttp; the outbox retries durably, and says when a failed call
may still have taken effect (`ambiguous`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from botframework.connector.auth import AuthenticationConstants, ServiceClientCredentialsFactory

from bot.core.clock import SystemClock
from bot.core.gateway import GatewayError
from bot.core.refs import Platform
from bot.health import FAILED, OK, REFUSED, ApiCalls

log = logging.getLogger("crosstalk.teams")
CONNECTOR_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
CONNECTOR_LOGIN = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL
GRAPH_SCOPE = "https://graph.microsoft.com"
RETRYABLE = {412, 429, 500, 502, 503, 504}
TIMEOUT = aiohttp.ClientTimeout(total=15)


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except (TypeError, ValueError):
        return None


def _reason(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("code") or error.get("message") or error)
        if error:
            return str(error)
    return ""


class Connector:
    """One client per server: tokens are kept by their credentials object (MSAL caches
    them), and one aiohttp session is reused until `close()`."""

    def __init__(
        self,
        *,
        app_id: str,
        factory: ServiceClientCredentialsFactory,
        graph_url: str,
        tenant_id: str = "",
        calls: ApiCalls | None = None,
    ) -> None:
        self.app_id = app_id
        # Every call's outcome, for /healthz and /metrics.
        self.calls = calls or ApiCalls(Platform.TEAMS.value, SystemClock())
        self.graph_url = graph_url if graph_url.endswith("/") else graph_url + "/"
        self._factory = factory
        self._tenant_id = tenant_id
        self._credentials: dict[str, Any] = {}
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def token(self, scope: str) -> str | None:
        """A bearer token for `scope`; None in the emulator's mode (no app id)."""
        if not self.app_id:
            return None
        creds = self._credentials.get(scope)
        if creds is None:
            login = CONNECTOR_LOGIN
            if scope == GRAPH_SCOPE and self._tenant_id:
                login = f"https://login.microsoftonline.com/{self._tenant_id}"
            creds = await self._factory.create_credentials(self.app_id, scope, login, True)
            self._credentials[scope] = creds
        try:
            # MSAL is synchronous and may go to the network: keep it off the event loop.
            token = await asyncio.to_thread(creds.get_access_token)
        except Exception as exc:  # MSAL and requests raise many types; all mean "no token"
            self.calls.record("token", FAILED, type(exc).__name__)
            raise GatewayError(f"teams: no access token ({exc})", retryable=True) from exc
        return str(token) if token else None

    async def call(
        self,
        method: str,
        url: str,
        *,
        body: dict[str, Any] | None = None,
        scope: str = CONNECTOR_SCOPE,
        what: str = "teams",
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        name = what.removeprefix("teams").strip() or "call"
        token = await self.token(scope)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # A read never changes anything, so its failure is never ambiguous.
        changes = method != "GET"
        try:
            async with self._http().request(method, url, json=body, headers=headers) as resp:
                text = await resp.text()
                data: Any = None
                if text:
                    try:
                        data = await resp.json(content_type=None)
                    except ValueError:
                        data = None
                if resp.status < 300:
                    self.calls.record(name, OK)
                    return data if isinstance(data, dict) else {}
                self._record(name, resp.status)
                raise self._error(what, resp.status, resp.headers, data, changes)
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.calls.record(name, FAILED, type(exc).__name__)
            raise GatewayError(
                f"{what}: unreachable ({exc!r})", retryable=True, ambiguous=changes
            ) from exc

    def _record(self, name: str, status: int) -> None:
        """A refusal of this request (404, 403 on one chat) says Teams works; 401, 429 and
        5xx say it does not."""
        failed = status in (401, 429) or status >= 500
        self.calls.record(
            name, FAILED if failed else REFUSED, f"HTTP {status}", rate_limited=status == 429
        )

    @staticmethod
    def _error(what: str, status: int, headers: Any, data: Any, changes: bool) -> GatewayError:
        reason = _reason(data)
        message = f"{what}: HTTP {status}" + (f" {reason}" if reason else "")
        if status in RETRYABLE:
            # 429 and 412 are refusals (nothing happened); a 5xx may have posted anyway.
            return GatewayError(
                message,
                retryable=True,
                retry_after=_retry_after(headers),
                ambiguous=changes and status >= 500,
            )
        if status == 413:
            message += " (the message is too large for Teams)"
        return GatewayError(message, retryable=False)
