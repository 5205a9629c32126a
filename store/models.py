"""Tables. Every instant is a timezone-aware UTC datetime; durations are stored in seconds
(wall-clock and business hours) beside the instants, so reports are plain SQL aggregates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UtcDateTime


def _ts(nullable: bool = True, index: bool = False) -> datetime | None:
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable, index=index)  # type: ignore[no-any-return]


class Org(SQLModel, table=True):
    __tablename__ = "orgs"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class Team(SQLModel, table=True):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("org_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id", index=True)
    key: str
    name: str
    slack_channel: str | None = None
    teams_channel: str | None = None
    sla_seconds: float
    timezone: str
    business_hours: str
    active: bool = True


class Member(SQLModel, table=True):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("team_id", "platform", "user_id", "source"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id", index=True)
    team_id: int = Field(foreign_key="teams.id", index=True)
    platform: str
    user_id: str = Field(index=True)
    source: str = "config"  # config | usergroup


class Flag(SQLModel, table=True):
    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("org_id", "platform", "channel_id", "message_id"),
        Index("ix_flags_org_flagged", "org_id", "flagged_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id")
    platform: str
    workspace_id: str
    channel_id: str
    message_id: str
    thread_id: str | None = None
    permalink: str | None = None
    author_id: str | None = None
    excerpt: str = ""
    customer: str | None = None
    crm_ref: str | None = Field(default=None, index=True)
    note: str | None = None
    sentiment: str = "neutral"
    sentiment_score: float = 0.0
    flagger_id: str
    flagger_team_id: int | None = Field(default=None, foreign_key="teams.id")
    flagged_at: datetime = Field(sa_type=UtcDateTime)
    message_at: datetime | None = _ts()  # the flagged message's own time (time to flag)
    via: str
    is_public: bool = True
    origin_shared: bool = False
    status: str = "open"  # open | acknowledged | resolved | dismissed
    resolved_at: datetime | None = _ts()
    resolved_by: str | None = None
    ttr_seconds: float | None = None
    ttr_business_seconds: float | None = None


class FlagFlagger(SQLModel, table=True):
    """Everyone who flagged the same message: the first one and those after."""

    __tablename__ = "flag_flaggers"
    __table_args__ = (UniqueConstraint("flag_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    flag_id: int = Field(foreign_key="flags.id", index=True)
    user_id: str
    via: str
    at: datetime = Field(sa_type=UtcDateTime)


class FlagTopic(SQLModel, table=True):
    __tablename__ = "flag_topics"
    __table_args__ = (UniqueConstraint("flag_id", "topic"), Index("ix_flag_topics_topic", "topic"))
    id: int | None = Field(default=None, primary_key=True)
    flag_id: int = Field(foreign_key="flags.id", index=True)
    topic: str


class Broadcast(SQLModel, table=True):
    """One flag shown to one team, with that team's response times."""

    __tablename__ = "broadcasts"
    __table_args__ = (
        UniqueConstraint("flag_id", "team_id"),
        Index("ix_broadcasts_message", "platform", "channel_id", "message_id"),
        Index("ix_broadcasts_org_created", "org_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id")
    flag_id: int = Field(foreign_key="flags.id", index=True)
    team_id: int = Field(foreign_key="teams.id", index=True)
    platform: str
    channel_id: str
    message_id: str | None = None
    created_at: datetime = Field(sa_type=UtcDateTime)
    posted_at: datetime | None = _ts()
    status: str = "active"  # active | not_for_us
    acknowledged_at: datetime | None = _ts()
    acknowledged_by: str | None = None
    first_response_at: datetime | None = _ts()
    first_response_by: str | None = None
    cross_first_response_at: datetime | None = _ts()
    cross_first_response_by: str | None = None
    not_for_us_at: datetime | None = _ts()
    not_for_us_by: str | None = None
    tta_seconds: float | None = None
    tta_business_seconds: float | None = None
    ttfr_seconds: float | None = None
    ttfr_business_seconds: float | None = None
    cross_ttfr_seconds: float | None = None
    cross_ttfr_business_seconds: float | None = None


class Interpretation(SQLModel, table=True):
    __tablename__ = "interpretations"
    __table_args__ = (
        UniqueConstraint("platform", "channel_id", "message_id"),
        Index("ix_interpretations_org_created", "org_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id")
    flag_id: int = Field(foreign_key="flags.id", index=True)
    broadcast_id: int | None = Field(default=None, foreign_key="broadcasts.id", index=True)
    platform: str
    channel_id: str
    message_id: str
    author_id: str
    author_team_id: int | None = Field(default=None, foreign_key="teams.id")
    cross_team: bool = False
    source: str = "reply"  # reply | form
    text: str = ""
    impact: str | None = None
    action: str | None = None
    owner_id: str | None = None
    created_at: datetime = Field(sa_type=UtcDateTime)
    edited_at: datetime | None = _ts()
    deleted_at: datetime | None = _ts()


class RoutingFeedback(SQLModel, table=True):
    __tablename__ = "routing_feedback"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id", index=True)
    flag_id: int = Field(foreign_key="flags.id", index=True)
    team_id: int = Field(foreign_key="teams.id")
    user_id: str
    verdict: str = "not_for_us"
    at: datetime = Field(sa_type=UtcDateTime)


class Outcome(SQLModel, table=True):
    __tablename__ = "outcomes"
    __table_args__ = (
        Index("ix_outcomes_org_created", "org_id", "created_at"),
        # A CRM's Idempotency-Key, or a form's own id: a repeat records nothing new.
        UniqueConstraint("org_id", "idempotency_key", name="uq_outcomes_idempotency"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id")
    flag_id: int = Field(foreign_key="flags.id", index=True)
    kind: str
    amount: float = 0.0
    currency: str = "USD"
    crm_ref: str | None = None
    note: str | None = None
    recorded_by: str | None = None
    source: str = "button"  # button | api
    created_at: datetime = Field(sa_type=UtcDateTime)
    idempotency_key: str | None = None


class Rating(SQLModel, table=True):
    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("flag_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id", index=True)
    flag_id: int = Field(foreign_key="flags.id", index=True)
    user_id: str
    score: int
    at: datetime = Field(sa_type=UtcDateTime)


class InboxEvent(SQLModel, table=True):
    """Every inbound platform event, stored before it is acknowledged: the de-duplication
    key (Slack `event_id`, Teams activity id) is unique, so a redelivery is a no-op."""

    __tablename__ = "processed_events"
    __table_args__ = (Index("ix_inbox_due", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    org_id: int = Field(foreign_key="orgs.id")
    kind: str
    payload: str
    status: str = "pending"  # pending | done | dead
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    lease_owner: str | None = None
    lease_until: datetime | None = _ts()
    last_error: str | None = None
    received_at: datetime = Field(sa_type=UtcDateTime)
    done_at: datetime | None = _ts()


class OutboxMessage(SQLModel, table=True):
    """A side effect to perform on a platform (or a webhook), at most once per dedupe key."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    org_id: int = Field(foreign_key="orgs.id", index=True)
    kind: str
    platform: str
    subject_id: int | None = None
    target: str = "{}"
    status: str = "pending"  # pending | done | dead | skipped
    attempts: int = 0
    ambiguous: bool = False
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    lease_owner: str | None = None
    lease_until: datetime | None = _ts()
    last_error: str | None = None
    result_id: str | None = None
    created_at: datetime = Field(sa_type=UtcDateTime)
    done_at: datetime | None = _ts()


class ConversationRef(SQLModel, table=True):
    """Where the bot can post proactively in Teams: a stored ConversationReference (JSON),
    captured when the bot is added to a team or from any activity in a channel."""

    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("org_id", "platform", "channel_id"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id", index=True)
    platform: str = "teams"
    tenant_id: str
    team_id: str | None = None
    channel_id: str
    service_url: str
    reference: str
    updated_at: datetime = Field(sa_type=UtcDateTime)


# The feature tables live in their own modules; importing this one registers them all.
from store import models_dashboard, models_listening  # noqa: E402, F401
