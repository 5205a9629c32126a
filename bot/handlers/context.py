"""What every handler needs to know about the org it works for."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.core.gateway import ChatGateway, GatewayError
from bot.core.refs import Platform
from config.schema import CrosstalkConfig, TeamConfig
from store.orgs import OrgIds

if TYPE_CHECKING:
    from bot.inbox import ThreadIndex


class Webhook(Protocol):
    """The signed CRM webhook (bot.handlers.webhook.CrmWebhook)."""

    async def post(self, body: bytes, *, delivery: str, event: str, now: datetime) -> int: ...


@dataclass(frozen=True)
class OrgContext:
    config: CrosstalkConfig
    ids: OrgIds
    wake_outbox: Callable[[], None] = field(default=lambda: None)  # any thread may call it
    threads: ThreadIndex | None = None  # the threads of our cards (bot.inbox)

    @property
    def org_id(self) -> int:
        return self.ids.org_id

    def team_by_id(self, team_id: int | None) -> TeamConfig | None:
        key = self.ids.team_key(team_id)
        return self.config.team(key) if key else None


class Gateways:
    """The outbound gateway of each platform that is switched on."""

    def __init__(self, gateways: Mapping[Platform, ChatGateway] | None = None) -> None:
        self._by_platform: dict[Platform, ChatGateway] = dict(gateways or {})
        # The signed CRM webhook; None when it is off (no URL, or no secret to sign with).
        self.webhook: Webhook | None = None

    def add(self, gateway: ChatGateway) -> None:
        self._by_platform[gateway.platform] = gateway

    def get(self, platform: Platform | str) -> ChatGateway:
        gateway = self._by_platform.get(Platform(platform))
        if gateway is None:
            raise GatewayError(f"{platform} is not configured", retryable=False)
        return gateway

    def has(self, platform: Platform | str) -> bool:
        return Platform(platform) in self._by_platform
