"""Tables of the managers' dashboard: one-time sign-in links (only a hash of each token)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from store.types import UtcDateTime


class LoginLink(SQLModel, table=True):
    """A one-time link to the dashboard: single use (``used_at``), valid until ``expires_at``."""

    __tablename__ = "login_links"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id", index=True)
    token_hash: str = Field(unique=True)
    user_platform: str
    user_id: str
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
