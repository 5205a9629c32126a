"""Business outcomes (SPEC "Business outcomes and CRM"): what a flag turned out to be worth.

An outcome arrives from the "Record outcome" form or from POST /api/outcomes; both go
through `record`, so both close the loop alike: the flag counts as resolved at that moment
(METRICS "TTR: resolve (button, or an outcome recorded)") unless it already was, a CRM ref
links the flag when it has none, every card shows the outcome, and the CRM webhook is
queued in the same transaction.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core.clock import Clock
from bot.core.events import OutcomeForm
from bot.core.refs import Platform, UserRef
from bot.handlers.actions import may_close
from bot.handlers.context import Gateways, OrgContext
from bot.handlers.interpret import enqueue_card_updates
from bot.handlers.timing import refresh_flag
from bot.handlers.webhook import enqueue_webhook
from store import broadcasts, flags
from store import outcomes as outcome_rows
from store.models import Flag, Outcome

log = logging.getLogger("crosstalk.outcomes")
MAX_AMOUNT = 1e12
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_amount(text: str | None) -> float | None:
    """A typed amount as a number >= 0 ("" is 0; "12,500.50" is 12500.5); None when it is
    not one. A comma counts only as a thousands separator: "1,5" is refused, not read as 15."""
    value = (text or "").strip().replace(" ", "")
    if not value:
        return 0.0
    if "," in value:
        if not _THOUSANDS.match(value):
            return None
        value = value.replace(",", "")
    try:
        amount = float(value)
    except ValueError:
        return None
    return amount if math.isfinite(amount) and 0 <= amount <= MAX_AMOUNT else None


@dataclass(frozen=True)
class NewOutcome:
    kind: str
    amount: float
    currency: str
    crm_ref: str | None
    note: str | None
    recorded_by: str | None
    source: str  # button | api
    at: datetime
    key: str | None = None  # an Idempotency-Key or a form's id: recorded once


@dataclass(frozen=True)
class FlagLocator:
    """One way of naming a flag from outside (POST /api/outcomes)."""

    flag_id: int | None = None
    permalink: str | None = None
    crm_ref: str | None = None
    source: tuple[Platform, str, str] | None = None  # platform, channel, message id


def find_flag(session: Session, org: OrgContext, where: FlagLocator) -> Flag | None:
    """The org's flag so named; never another org's."""
    if where.flag_id is not None:
        return flags.get(session=session, flag_id=where.flag_id, org_id=org.org_id)
    if where.permalink is not None:
        return flags.latest(session=session, org_id=org.org_id, permalink=where.permalink)
    if where.crm_ref is not None:
        return flags.latest(session=session, org_id=org.org_id, crm_ref=where.crm_ref)
    if where.source is not None:
        platform, channel, message_id = where.source
        # A Teams thread's conversation id carries its root (`…;messageid=…`); flags keep
        # the channel's own id.
        return flags.by_message(
            session=session,
            org_id=org.org_id,
            platform=platform.value,
            channel_id=channel.partition(";messageid=")[0],
            message_id=message_id,
        )
    return None


def record(
    session: Session,
    *,
    org: OrgContext,
    gateways: Gateways,
    flag: Flag,
    new: NewOutcome,
    clock: Clock,
) -> tuple[Outcome, bool]:
    """The outcome, recorded with all it implies, and True; for a repeat of a key already
    recorded, the first outcome, unchanged, nothing done again, and False."""
    assert flag.id is not None
    if new.key is not None:
        earlier = outcome_rows.by_key(session=session, org_id=org.org_id, key=new.key)
        if earlier is not None:
            return earlier, False
    outcome = Outcome(
        org_id=org.org_id,
        flag_id=flag.id,
        kind=new.kind,
        amount=new.amount,
        currency=new.currency,
        crm_ref=new.crm_ref,
        note=new.note,
        recorded_by=new.recorded_by,
        source=new.source,
        created_at=new.at,
        idempotency_key=new.key,
    )
    outcome_rows.add(session=session, outcome=outcome)
    if new.crm_ref and not flag.crm_ref:
        flag.crm_ref = new.crm_ref
    if flag.status != "resolved":
        flag.status = "resolved"
        flag.resolved_at = new.at
        flag.resolved_by = new.recorded_by
        refresh_flag(session, flag, org.config.org)
    session.add(flag)
    session.flush()
    assert outcome.id is not None
    enqueue_card_updates(session, org, flag.id, clock)
    enqueue_webhook(
        session, org=org, gateways=gateways, event="outcome", subject_id=outcome.id, now=clock.now()
    )
    return outcome, True


def may_record(session: Session, flag: Flag, platform: str, user_id: str) -> bool:
    """Recording an outcome resolves the flag: the same people as for Resolve may."""
    return may_close(session, flag, platform, user_id)


def form_flag(*, session: Session, org: OrgContext, broadcast_id: int, user: UserRef) -> Flag | str:
    """The flag whose "Record outcome" form `user` may open, or why not."""
    broadcast = broadcasts.get(session=session, org_id=org.org_id, broadcast_id=broadcast_id)
    if broadcast is None:
        return "This card is no longer known to Crosstalk."
    flag = flags.get(session=session, flag_id=broadcast.flag_id)
    assert flag is not None
    if not may_record(session, flag, user.platform.value, user.id):
        return "Only the flagger or a member of a team it was sent to can record an outcome."
    return flag


def on_form(
    *, event: OutcomeForm, session: Session, org: OrgContext, gateways: Gateways, clock: Clock
) -> int | None:
    """The "Record outcome" form from a broadcast card; the outcome id, or None."""
    broadcast = broadcasts.get(session=session, org_id=org.org_id, broadcast_id=event.broadcast_id)
    if broadcast is None:
        return None
    flag = flags.get(session=session, flag_id=broadcast.flag_id)
    assert flag is not None
    if not may_record(session, flag, event.user.platform.value, event.user.id):
        log.info("outcome form from %s refused on flag %s", event.user.id, flag.id)
        return None
    new = NewOutcome(
        kind=event.kind,
        amount=event.amount,
        currency=event.currency,
        crm_ref=event.crm_ref,
        note=event.note,
        recorded_by=event.user.id,
        source="button",
        at=event.at,
        key=f"form:{event.user.platform.value}:{event.form_id}" if event.form_id else None,
    )
    outcome, _ = record(session, org=org, gateways=gateways, flag=flag, new=new, clock=clock)
    return outcome.id


def record_from_api(
    *,
    session: Session,
    org: OrgContext,
    gateways: Gateways,
    clock: Clock,
    where: FlagLocator,
    kind: str,
    amount: float,
    currency: str,
    note: str | None,
    key: str | None = None,
) -> tuple[Outcome, bool] | None:
    """An outcome a CRM or a workflow reports; None when no flag of this org is so named.
    Named by its CRM ref, the outcome carries that ref; otherwise the flag's, if any. With
    an idempotency `key` already recorded, the outcome recorded then."""
    flag = find_flag(session, org, where)
    if flag is None:
        return None
    new = NewOutcome(
        kind=kind,
        amount=amount,
        currency=currency,
        crm_ref=where.crm_ref or flag.crm_ref,
        note=note,
        recorded_by=None,
        source="api",
        at=clock.now(),
        key=f"api:{key}" if key is not None else None,
    )
    return record(session, org=org, gateways=gateways, flag=flag, new=new, clock=clock)
