"""The TOML config file (SPEC "Config file"), validated into typed models.

Unknown keys are errors: a typo in a config file should be reported, not ignored. Values
with a meaning beyond their text (business hours, SLAs, timezones, people) are checked at
load with an error naming the key, and offered parsed (`OrgConfig.hours`,
`TeamConfig.sla_seconds`, `RoiConfig.manager_refs`, ...), so no handler parses them again.
The text fields stay as they are for whoever shows or stores them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from bot.core.refs import UserRef
from bot.core.timecalc import BusinessHours
from config import names, values
from config.legal import LegalConfig
from config.listening import ListeningConfig

Sentiment = Literal["positive", "neutral", "negative"]
_KEY = r"^[a-z0-9][a-z0-9_-]{0,39}$"
_DIGEST_AT = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)\s+([01]\d|2[0-3]):([0-5]\d)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("key", mode="after", check_fields=False)
    @classmethod
    def _key(cls, value: str) -> str:
        if not re.match(_KEY, value):
            raise ValueError(
                f"{value!r} is not a usable key: lowercase letters, digits, - and _ (max 40)"
            )
        return value


def _check_timezone(value: str) -> str:
    values.zone(value)
    return value


def _check_hours(value: str) -> str:
    values.business_hours(value)
    return value


def _check_person(value: str) -> str:
    names.person(value)
    return value


def _check_slack_channel(value: str | None) -> str | None:
    if value is not None:
        names.slack_channel(value)
    return value


def _check_usergroup(value: str | None) -> str | None:
    if value is not None:
        names.slack_usergroup(value)
    return value


def _check_any_channel(value: str) -> str:
    parsed = names.any_channel(value)
    return value if isinstance(parsed, names.Name) else parsed


def _teams_channel(value: str | None) -> str | None:
    return None if value is None else names.teams_channel(value)


# A person named in the config: a Slack user id, or a Teams user's Entra object id; or a
# Slack user's @name or e-mail, resolved to their id at start (config/names.py).
Person = Annotated[str, AfterValidator(_check_person)]
# A Slack channel id, or a #name resolved at start.
SlackChannel = Annotated[str | None, AfterValidator(_check_slack_channel)]
# A Teams channel id; the channel's link is accepted and reduced to the id it holds.
TeamsChannel = Annotated[str | None, AfterValidator(_teams_channel)]
DEFAULT_HOURS = "Mon-Fri 09:00-17:30"
DEFAULT_TIMEZONE = "UTC"


class OrgConfig(_Strict):
    name: str = Field(min_length=1)
    timezone: str = DEFAULT_TIMEZONE
    slack_team_ids: list[str] = []
    teams_tenant_ids: list[str] = []
    business_hours: str = DEFAULT_HOURS

    _tz = field_validator("timezone")(_check_timezone)
    _bh = field_validator("business_hours")(_check_hours)

    @property
    def hours(self) -> BusinessHours:
        return values.business_hours(self.business_hours)

    @property
    def zone(self) -> ZoneInfo:
        return values.zone(self.timezone)


class FlaggingConfig(_Strict):
    reaction: str = "mega"
    ack_reactions: list[str] = ["eyes", "white_check_mark"]

    @field_validator("reaction")
    @classmethod
    def _strip_colons(cls, value: str) -> str:
        value = value.strip(":")
        if not value:
            raise ValueError("must name an emoji, like mega")
        return value


class RoutingConfig(_Strict):
    default_teams: list[str] = []


class BroadcastConfig(_Strict):
    mirror: Literal["origin", "all", "none"] = "origin"
    redact_pii: bool = True


class TeamConfig(_Strict):
    """A stakeholder team. Its `hours` and `zone` fall back to the org's: CrosstalkConfig
    hands each team its org's when the file is loaded (a TeamConfig made on its own falls
    back to OrgConfig's defaults)."""

    key: str
    name: str = Field(min_length=1)
    slack_channel: SlackChannel = None
    teams_channel: TeamsChannel = None
    members: list[Person] = []
    slack_usergroup: Annotated[str | None, AfterValidator(_check_usergroup)] = None
    sla: str = "4h"
    timezone: str | None = None
    business_hours: str | None = None
    digest: str = "mon 09:00"
    _org: OrgConfig | None = PrivateAttr(default=None)

    @field_validator("sla")
    @classmethod
    def _sla(cls, value: str) -> str:
        values.duration(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return None if value is None else _check_timezone(value)

    @field_validator("business_hours")
    @classmethod
    def _bh(cls, value: str | None) -> str | None:
        return None if value is None else _check_hours(value)

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str) -> str:
        value = value.strip().lower()
        if not _DIGEST_AT.match(value):
            raise ValueError(f"{value!r} is not a weekly time; use a form like 'mon 09:00'")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> TeamConfig:
        if not self.slack_channel and not self.teams_channel:
            raise ValueError("a team needs a slack_channel or a teams_channel")
        return self

    @property
    def sla_delta(self) -> timedelta:
        return values.duration(self.sla)

    @property
    def sla_seconds(self) -> int:
        """The first-response target, in business seconds."""
        return int(values.duration(self.sla).total_seconds())

    @property
    def hours(self) -> BusinessHours:
        """The team's business hours, or else its org's: the clock its SLA runs on."""
        if self.business_hours is not None:
            return values.business_hours(self.business_hours)
        return values.business_hours(self._org.business_hours if self._org else DEFAULT_HOURS)

    @property
    def zone(self) -> ZoneInfo:
        """The team's timezone, or else its org's."""
        if self.timezone is not None:
            return values.zone(self.timezone)
        return values.zone(self._org.timezone if self._org else DEFAULT_TIMEZONE)

    @property
    def member_refs(self) -> tuple[UserRef, ...]:
        return tuple(values.person(m) for m in self.members)


class RouteConfig(_Strict):
    keywords: list[str] = []
    regex: str | None = None
    channels: list[Annotated[str, AfterValidator(_check_any_channel)]] = []
    sentiment: list[Sentiment] = []
    topics: list[str] = []
    teams: list[str] = []

    @field_validator("sentiment", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _useful(self) -> RouteConfig:
        if not (self.keywords or self.regex or self.channels or self.sentiment or self.topics):
            raise ValueError("a route needs keywords, regex, channels, sentiment or topics")
        if not (self.teams or self.topics):
            raise ValueError("a route needs teams (or topics to tag)")
        return self


class DigestConfig(_Strict):
    managers_channel: SlackChannel = None
    managers_teams_channel: TeamsChannel = None


class RoiConfig(_Strict):
    managers: list[Person] = []
    hourly_rate: float = Field(default=75.0, ge=0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    gross_margin: float = Field(default=1.0, gt=0, le=1)
    monthly_tool_cost: float = Field(default=0.0, ge=0)
    minutes_per_flag: float = Field(default=3.0, ge=0)
    minutes_per_interpretation: float = Field(default=10.0, ge=0)

    @property
    def manager_refs(self) -> tuple[UserRef, ...]:
        """The managers, each on the platform the config names them on."""
        return tuple(values.person(m) for m in self.managers)

    def is_manager(self, user: UserRef) -> bool:
        return any(m.platform == user.platform and m.id == user.id for m in self.manager_refs)


class ApiConfig(_Strict):
    tokens: list[str] = []
    crm_webhook_url: str | None = None

    @field_validator("crm_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        parts = urlsplit(value) if value else None
        if parts is not None and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


Kpi = Literal[
    "flags",
    "answer_rate",
    "resolution_rate",
    "ttfr_p50",
    "sla_attainment",
    "csat",
    "retained_value",
    "value",
    "business_roi",
    "maturity",
]


class ObjectiveConfig(_Strict):
    key: str
    objective: str
    goal: str = ""
    strategies: list[str] = []
    tactics: list[str] = []
    kpi: Kpi
    target: float
    period: Literal["month", "quarter", "year"] = "quarter"
    topics: list[str] = []


class MaturityWeights(_Strict):
    listening: float = 0.15
    engagement: float = 0.20
    silo_breaking: float = 0.20
    openness: float = 0.10
    responsiveness: float = 0.15
    closed_loop: float = 0.20

    @model_validator(mode="after")
    def _sum(self) -> MaturityWeights:
        total = sum(self.model_dump().values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"weights must add up to 1.0 (they add up to {total:g})")
        return self


class MaturityConfig(_Strict):
    weights: MaturityWeights = MaturityWeights()


class RetentionConfig(_Strict):
    """How long what Crosstalk was sent is kept once it is handled: an inbound event's
    payload (the customer's words, as the platform sent them) is deleted after this."""

    inbox_days: int = Field(default=7, ge=1, le=3650)


class CrosstalkConfig(_Strict):
    org: OrgConfig
    flagging: FlaggingConfig = FlaggingConfig()
    routing: RoutingConfig = RoutingConfig()
    broadcast: BroadcastConfig = BroadcastConfig()
    teams: list[TeamConfig] = Field(min_length=1)
    routes: list[RouteConfig] = []
    digest: DigestConfig = DigestConfig()
    roi: RoiConfig = RoiConfig()
    api: ApiConfig = ApiConfig()
    objectives: list[ObjectiveConfig] = []
    maturity: MaturityConfig = MaturityConfig()
    retention: RetentionConfig = RetentionConfig()
    listening: ListeningConfig = ListeningConfig()
    legal: LegalConfig = LegalConfig()

    @model_validator(mode="after")
    def _references(self) -> CrosstalkConfig:
        keys = [t.key for t in self.teams]
        problems: list[str] = []
        seen: set[str] = set()
        for i, key in enumerate(keys):
            if key in seen:
                problems.append(f"teams[{i}].key: duplicate team key {key!r}")
            seen.add(key)
        for i, key in enumerate(self.routing.default_teams):
            if key not in seen:
                problems.append(f"routing.default_teams[{i}]: unknown team {key!r}")
        for r, route in enumerate(self.routes):
            for i, key in enumerate(route.teams):
                if key not in seen:
                    problems.append(f"routes[{r}].teams[{i}]: unknown team {key!r}")
        okeys: set[str] = set()
        for i, obj in enumerate(self.objectives):
            if obj.key in okeys:
                problems.append(f"objectives[{i}].key: duplicate objective key {obj.key!r}")
            okeys.add(obj.key)
        problems.extend(self.listening.problems(self.org))
        if problems:
            raise ValueError("\n".join(problems))
        for team in self.teams:
            team._org = self.org
        return self

    def team(self, key: str) -> TeamConfig | None:
        return next((t for t in self.teams if t.key == key), None)

    @property
    def team_keys(self) -> list[str]:
        return [t.key for t in self.teams]
