"""One-time sign-in links to the dashboard (neutral: no web framework here).

`new_link` is what `/roi web`, `@Crosstalk dashboard`, the App Home button and
`crosstalk dashboard-link` call. The token is 32 random bytes shown once in the link; the
database keeps only its SHA-256, so a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import quote

from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.refs import UserRef
from store.logins import Consumed, Refusal, add_link, consume_link, peek_link

LINK_TTL = timedelta(minutes=10)
LOGIN_PATH = "/dashboard/login"


class LinksUnavailable(Exception):
    """No `CROSSTALK_PUBLIC_URL`: a link would point nowhere a browser can reach."""


NO_PUBLIC_URL = (
    "dashboard links need the server's public address: set CROSSTALK_PUBLIC_URL "
    "(for example https://crosstalk.example.com) and restart"
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def new_link(session: Session, *, org_id: int, user: UserRef, clock: Clock, public_url: str) -> str:
    """A fresh single-use link for `user`, valid LINK_TTL; raises LinksUnavailable
    without a public URL."""
    base = (public_url or "").strip().rstrip("/")
    if not base:
        raise LinksUnavailable(NO_PUBLIC_URL)
    if not base.lower().startswith(("https://", "http://")):
        raise LinksUnavailable(
            f"CROSSTALK_PUBLIC_URL must be an address such as https://{base}, not {base!r}"
        )
    token = secrets.token_urlsafe(32)
    now = clock.now()
    add_link(
        session=session,
        org_id=org_id,
        token_hash=token_hash(token),
        user_platform=user.platform.value,
        user_id=user.id,
        created_at=now,
        expires_at=now + LINK_TTL,
    )
    return f"{base}{LOGIN_PATH}?token={quote(token)}"


def use_link(session: Session, *, token: str, clock: Clock) -> Consumed | Refusal:
    """Consume a link (once, atomically): who it names, or why it is refused."""
    if not token or len(token) > 200:
        return "unknown"
    return consume_link(session=session, token_hash=token_hash(token), now=clock.now())


def check_link(session: Session, *, token: str, clock: Clock) -> Consumed | Refusal:
    """What `use_link` would answer, leaving the link unused (link previews fetch pages)."""
    if not token or len(token) > 200:
        return "unknown"
    return peek_link(session=session, token_hash=token_hash(token), now=clock.now())
