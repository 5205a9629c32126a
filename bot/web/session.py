"""The dashboard's session cookie: who signed in (org and user) and until when, signed
with HMAC-SHA256, so no table is read to check it and any replica sharing the key accepts it.

The key is `CROSSTALK_SESSION_SECRET`. Without it a random key is made per process (and a
WARNING logged): sessions then end at a restart and are not accepted by another replica.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.refs import Platform, UserRef

log = logging.getLogger("crosstalk.web")
COOKIE = "crosstalk_session"
SESSION_TTL = timedelta(hours=12)


@dataclass(frozen=True)
class WebSession:
    org_id: int
    user: UserRef
    expires: datetime


def session_key(secret: str | None) -> bytes:
    """The signing key: the configured secret, or a random one for this process only."""
    if secret:
        return hashlib.sha256(b"crosstalk-dashboard-session:" + secret.encode()).digest()
    log.warning(
        "CROSSTALK_SESSION_SECRET is not set: dashboard sessions are signed with a random "
        "key of this process (they end at a restart and do not cross replicas)"
    )
    return secrets.token_bytes(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def seal(key: bytes, *, org_id: int, user: UserRef, now: datetime) -> tuple[str, WebSession]:
    """The cookie value for a session starting now, and the session it names."""
    expires = now + SESSION_TTL
    claims = {"o": org_id, "p": user.platform.value, "u": user.id, "e": int(expires.timestamp())}
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{body}.{_mac(key, body)}", WebSession(org_id, user, expires)


def unseal(key: bytes, value: str | None, *, now: datetime) -> WebSession | None:
    """The session a cookie names, or None (absent, forged, malformed or expired)."""
    if not value or len(value) > 1024 or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    if not hmac.compare_digest(mac.encode(), _mac(key, body).encode()):
        return None
    try:
        claims = json.loads(_unb64(body))
        org_id, platform, user_id, expires_at = claims["o"], claims["p"], claims["u"], claims["e"]
        expires = datetime.fromtimestamp(int(expires_at), UTC)
        user = UserRef(Platform(platform), str(user_id))
    except (ValueError, KeyError, TypeError, OverflowError):
        return None
    if not isinstance(org_id, int) or expires <= now:
        return None
    return WebSession(org_id, user, expires)
