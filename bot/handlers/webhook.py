"""The outbound CRM webhook (SPEC "Business outcomes and CRM"): a signed JSON POST on each
new flag and each outcome.

Every delivery is an outbox row enqueued in the transaction that made the flag or the
outcome, so it survives a crash and is retried with back-off until the receiver takes it;
the row's unique dedupe key is also the `X-Crosstalk-Delivery` header, so a receiver can
drop the repeat of a delivery whose answer we never saw. The body is composed from the
database at send time. Nothing is ever sent unsigned: without a secret the webhook is off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx
from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.gateway import GatewayError
from bot.handlers.context import Gateways, OrgContext
from bot.handlers.redact import redact
from store import broadcasts, flags
from store import outcomes as outcome_rows
from store.db import Database
from store.models import Flag, OutboxMessage, Outcome
from store.queue import enqueue_outbox

log = logging.getLogger("crosstalk.webhook")
KIND = "crm_webhook"
EVENTS = {"flag": "flag.created", "outcome": "outcome.recorded"}
SIGNATURE_HEADER = "X-Crosstalk-Signature"
TIMESTAMP_HEADER = "X-Crosstalk-Timestamp"
DELIVERY_HEADER = "X-Crosstalk-Delivery"
EVENT_HEADER = "X-Crosstalk-Event"
RETRYABLE_STATUS = {408, 425, 429}
MAX_RETRY_AFTER = 3600.0  # a receiver cannot park a delivery for longer than an hour
TIMEOUT = 10.0  # seconds for the whole exchange (connecting: at most 5)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`: the timestamp is signed
    too, so a receiver that checks its age can refuse a replayed request."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            at = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        seconds = (at - now).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


@dataclass(frozen=True)
class CrmWebhook:
    """Where to POST and what to sign with; neither ever appears in a log line."""

    url: str = field(repr=False)
    secret: bytes = field(repr=False)
    timeout: float = TIMEOUT

    async def post(self, body: bytes, *, delivery: str, event: str, now: datetime) -> int:
        """POST one signed delivery; the HTTP status, or a GatewayError saying whether
        trying again can help (server errors, 429, timeouts) or not (any other 4xx)."""
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Crosstalk-Webhook/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            DELIVERY_HEADER: delivery,
            EVENT_HEADER: event,
        }
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0))
        try:
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
                response = await client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise GatewayError(
                f"CRM webhook timed out ({type(exc).__name__})", retryable=True, ambiguous=True
            ) from exc
        except httpx.HTTPError as exc:
            # The message of a connection error names no URL; the URL may carry a secret.
            reason = str(exc).replace(self.url, "<url>")[:200]
            raise GatewayError(
                f"CRM webhook unreachable ({type(exc).__name__}: {reason})", retryable=True
            ) from exc
        status = response.status_code
        if 200 <= status < 300:
            return status
        detail = response.text[:200]
        if status >= 500 or status in RETRYABLE_STATUS:
            wait = retry_after(response.headers.get("Retry-After"), now)
            raise GatewayError(
                f"CRM webhook HTTP {status}: {detail}", retryable=True, retry_after=wait
            )
        raise GatewayError(f"CRM webhook HTTP {status}: {detail}", retryable=False)


def make_webhook(url: str | None, secret: str | None) -> CrmWebhook | None:
    """The webhook when it can be sent signed; said once at startup when it cannot."""
    if not url:
        return None
    if not secret:
        log.warning(
            "[api] crm_webhook_url is set but CROSSTALK_CRM_WEBHOOK_SECRET is not: "
            "the CRM webhook is off (it is never sent unsigned)"
        )
        return None
    return CrmWebhook(url=url, secret=secret.encode())


def enqueue_webhook(
    session: Session,
    *,
    org: OrgContext,
    gateways: Gateways,
    event: Literal["flag", "outcome"],
    subject_id: int,
    now: datetime,
) -> bool:
    """Queue the delivery in the caller's transaction; False when the webhook is off."""
    if gateways.webhook is None:
        return False
    return enqueue_outbox(
        session,
        org_id=org.org_id,
        dedupe_key=f"webhook:{event}:{subject_id}",
        kind=KIND,
        platform="webhook",
        subject_id=subject_id,
        now=now,
        target=json.dumps({"event": EVENTS[event]}),
    )


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """An outcome as the CRM sees it (and as POST /api/outcomes answers)."""
    return {
        "id": outcome.id,
        "flag_id": outcome.flag_id,
        "kind": outcome.kind,
        "amount": outcome.amount,
        "currency": outcome.currency,
        "crm_ref": outcome.crm_ref,
        "note": outcome.note,
        "source": outcome.source,
        "created_at": iso(outcome.created_at),
    }


def flag_json(session: Session, org: OrgContext, flag: Flag) -> dict[str, Any]:
    teams = broadcasts.active_team_keys(session=session, flag_id=flag.id or 0)
    excerpt = redact(flag.excerpt) if org.config.broadcast.redact_pii else flag.excerpt
    return {
        "id": flag.id,
        "platform": flag.platform,
        "permalink": flag.permalink,
        "excerpt": excerpt,
        "customer": flag.customer,
        "crm_ref": flag.crm_ref,
        "sentiment": flag.sentiment,
        "sentiment_score": flag.sentiment_score,
        "topics": list(flags.topics(session=session, flag_id=flag.id or 0)),
        "teams": list(teams),
        "status": flag.status,
        "flagged_at": iso(flag.flagged_at),
    }


def _payload(session: Session, org: OrgContext, row: OutboxMessage) -> dict[str, Any] | None:
    event = json.loads(row.target).get("event")
    body: dict[str, Any] = {
        "event": event,
        "delivery_id": row.dedupe_key,
        "org": org.config.org.name,
    }
    if event == EVENTS["outcome"]:
        outcome = outcome_rows.get(session=session, outcome_id=row.subject_id or 0)
        if outcome is None:
            return None
        body["outcome"] = outcome_json(outcome)
        flag = flags.get(session=session, flag_id=outcome.flag_id)
    else:
        flag = flags.get(session=session, flag_id=row.subject_id or 0)
    if flag is None:
        return None
    body["flag"] = flag_json(session, org, flag)
    return body


async def deliver(
    row: OutboxMessage, db: Database, org: OrgContext, gws: Gateways, clock: Clock
) -> str:
    """The outbox deliverer of kind `crm_webhook`."""
    if gws.webhook is None:
        # Queued by a process that had the secret: keep it for one that has it again.
        raise GatewayError(
            "the CRM webhook is off here: CROSSTALK_CRM_WEBHOOK_SECRET is not set",
            retryable=True,
        )
    payload = await db.run(lambda s: _payload(s, org, row), read_only=True)
    if payload is None:
        raise GatewayError(f"{row.dedupe_key}: its flag or outcome is gone", retryable=False)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    status = await gws.webhook.post(
        body, delivery=row.dedupe_key, event=payload["event"], now=clock.now()
    )
    log.info("CRM webhook %s delivered (HTTP %d)", row.dedupe_key, status)
    return f"HTTP {status}"
