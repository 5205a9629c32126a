"""Tables of listening: feedback labels, trained models, suggestions and counters.

Only the texts of flags and of suggested messages are kept; a message that was scored and
not suggested leaves nothing but a count in ``listening_counters``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UtcDateTime


class ListeningLabel(SQLModel, table=True):
    """One piece of feedback: ``flag`` True/False (None: team information only), and
    ``team`` with ``team_ok`` False for "not for this team". ``ref`` makes it idempotent."""

    __tablename__ = "listening_labels"
    __table_args__ = (
        UniqueConstraint("org_id", "ref"),
        Index("ix_listening_labels_org_id_id", "org_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id")
    ref: str
    text: str
    flag: bool | None = None
    team: str | None = None
    team_ok: bool = True
    source: str  # manual | suggestion | not_a_flag | not_for_us | answered
    created_at: datetime = Field(sa_type=UtcDateTime)


class ListeningModel(SQLModel, table=True):
    """A trained model, shared by every replica; the newest version is the one in use."""

    __tablename__ = "listening_models"
    __table_args__ = (UniqueConstraint("org_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id", index=True)
    version: int
    labels: int
    created_at: datetime = Field(sa_type=UtcDateTime)
    blob: bytes = Field(sa_type=LargeBinary)
    threshold: float
    precision: float | None = None
    recall: float | None = None
    summary: str = "{}"  # JSON


class Suggestion(SQLModel, table=True):
    """A message from a watched channel that scored above the threshold: at most one each."""

    __tablename__ = "suggestions"
    __table_args__ = (
        UniqueConstraint("org_id", "platform", "channel_id", "message_id"),
        Index("ix_suggestions_org_created", "org_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id")
    platform: str
    channel_id: str
    message_id: str
    thread_id: str | None = None  # the thread root, when the message is a reply
    message_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    author_id: str | None = None
    text: str
    permalink: str | None = None
    score: float
    teams: str = "[]"  # JSON: [[team, confidence], ...]
    state: str = "open"  # open | flagged | dismissed
    triage_channel: str
    card_message_id: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
    flag_id: int | None = Field(default=None, foreign_key="flags.id")
    created_at: datetime = Field(sa_type=UtcDateTime)


class ListeningCounter(SQLModel, table=True):
    """Messages scored and suggested per org and day: all that is kept of the rest."""

    __tablename__ = "listening_counters"
    __table_args__ = (UniqueConstraint("org_id", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id")
    day: date
    scored: int = 0
    suggested: int = 0
