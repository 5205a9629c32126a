"""What people do with flags, kept as labels for the org's model (SPEC "Listening": "a manual
flag anywhere is a positive example with its final teams; "Not for us" is a negative for
that team; a team that answers a broadcast is a positive for it").

Each writer runs in the handler's own transaction, so a label exists exactly when the
action it stands for was recorded. The text is the flag's excerpt, already kept (and
redacted as configured): labelling keeps nothing new."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from store import labels
from store.models import Broadcast, Flag


def _positive(
    session: Session,
    flag: Flag,
    *,
    ref: str,
    team: str | None,
    source: str,
    at: datetime,
    team_ok: bool = True,
) -> None:
    """One label on the flag's excerpt: the message was worth flagging (for `team`, or
    not for it when `team_ok` is False)."""
    labels.add(
        session,
        org_id=flag.org_id,
        ref=ref,
        text=flag.excerpt,
        flag=True,
        team=team,
        team_ok=team_ok,
        source=source,
        at=at,
    )


def flagged(session: Session, *, flag: Flag, teams: tuple[str, ...], at: datetime) -> None:
    """A new flag: a positive for each team it reaches (a suggestion's flag is one too);
    with no `teams` (they were only the default teams), a positive for flagging alone."""
    assert flag.id is not None
    if not flag.excerpt.strip():  # nothing to learn from (a file, an empty message)
        return
    source = "suggestion" if flag.via == "suggestion" else "manual"
    if not teams:
        _positive(session, flag, ref=labels.flag_only_ref(flag.id), team=None, source=source, at=at)
    for team in teams:
        _positive(
            session, flag, ref=labels.flag_ref(flag.id, team), team=team, source=source, at=at
        )


def not_for_us(
    session: Session, *, flag: Flag, broadcast: Broadcast, team: str, at: datetime
) -> None:
    """The team sent the flag back: it is no longer one of the flag's final teams (its
    positives go) and a negative for it stays; the message was still worth flagging."""
    assert flag.id is not None and broadcast.id is not None
    labels.remove(
        session,
        org_id=flag.org_id,
        refs=(labels.flag_ref(flag.id, team), labels.answered_ref(broadcast.id)),
    )
    if flag.excerpt.strip():
        ref = labels.not_for_us_ref(broadcast.id)
        _positive(session, flag, ref=ref, team=team, team_ok=False, source="not_for_us", at=at)


def answered(
    session: Session, *, flag: Flag, broadcast: Broadcast, team: str, at: datetime
) -> None:
    """A member of the team answered its broadcast: a positive for the team (once)."""
    assert broadcast.id is not None
    if broadcast.status == "not_for_us" or not flag.excerpt.strip():
        return
    ref = labels.answered_ref(broadcast.id)
    _positive(session, flag, ref=ref, team=team, source="answered", at=at)
