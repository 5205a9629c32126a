"""What the demo's server recorded, read back once the story is over: plain frozen rows
built from the store and from the Slack stand-in, so the printing (`bot.demo.report`)
never touches a database or a fake, and every figure shown is the server's, not what the
script meant to happen."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.refs import Platform, UserRef
from config.schema import CrosstalkConfig
from store.models import Broadcast, Flag, FlagFlagger, Interpretation, OutboxMessage, Team
from store.orgs import teams_of

if TYPE_CHECKING:
    from bot.demo.standins.slack_api import FakeSlack


@dataclass(frozen=True)
class TeamRow:
    key: str
    name: str
    channel: str
    sla_seconds: float
    members: tuple[str, ...]
    timezone: str
    hours: str


@dataclass(frozen=True)
class InterpRow:
    author: str
    team: str | None
    also_in: tuple[str, ...]  # the author's other teams
    cross_team: bool
    source: str  # reply | form
    text: str
    after_seconds: float | None  # since the card was posted (or the flag, if no card)
    impact: str | None
    action: str | None
    owner: str | None
    edited: bool


@dataclass(frozen=True)
class BroadcastRow:
    team_key: str
    team: str
    status: str  # active | not_for_us
    posted_at: datetime | None
    tta: float | None
    acknowledged_by: str | None
    ttfr: float | None
    ttfr_business: float | None
    cross_ttfr: float | None
    not_for_us_by: str | None
    not_for_us_after: float | None
    interpretations: tuple[InterpRow, ...]


@dataclass(frozen=True)
class FlagRow:
    id: int
    flagged_at: datetime
    channel: str
    author: str
    excerpt: str
    sentiment: str
    score: float
    customer: str | None
    note: str | None
    flaggers: tuple[tuple[str, str, datetime], ...]  # name, via, at; the first one first
    status: str
    ttr: float | None
    notice: str  # where the "who was notified" reply went: a thread, or a DM
    mirrored: int  # interpretations copied to the same place
    broadcasts: tuple[BroadcastRow, ...]
    other_interpretations: tuple[InterpRow, ...]  # on no card, e.g. the flagger's own form


@dataclass(frozen=True)
class Uncounted:
    """A reply in a card thread that is not a response (an app, the flagger)."""

    flag_id: int
    author: str
    team: str
    reason: str


@dataclass(frozen=True)
class Snapshot:
    org: str
    timezone: str
    business_hours: str
    managers: tuple[str, ...]
    listening: tuple[str, ...]
    teams: tuple[TeamRow, ...]
    flags: tuple[FlagRow, ...]
    uncounted: tuple[Uncounted, ...]
    cards_posted: int
    api_calls: tuple[tuple[str, int], ...]  # (method, calls), most called first
    started: datetime
    ended: datetime
    database: str


def _secs(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


class _Reader:
    def __init__(
        self, session: Session, slack: FakeSlack, org_id: int, names: Mapping[str, str]
    ) -> None:
        self.session = session
        self.slack = slack
        self.org_id = org_id
        self.names = names  # people the Slack stand-in does not know (Teams users)
        rows = session.exec(select(Team).where(Team.org_id == org_id).order_by(col(Team.id)))
        self.teams = {t.id or 0: t for t in rows}

    def user(self, user_id: str | None) -> str:
        info: dict[str, Any] = self.slack.users.get(user_id or "", {})
        return str(info.get("real_name") or self.names.get(user_id or "") or user_id or "someone")

    def person(self, user: UserRef) -> str:
        """A name, with the platform when it is not Slack (the same person may be in both)."""
        name = self.user(user.id)
        return name if user.platform == Platform.SLACK else f"{name} (in Teams)"

    def channel(self, channel_id: str) -> str:
        info = self.slack.channels.get(channel_id)
        return f"#{info['name']}" if info and not info.get("is_im") else channel_id

    def interp(self, i: Interpretation, since: datetime | None) -> InterpRow:
        others = teams_of(self.session, self.org_id, i.platform, i.author_id)
        return InterpRow(
            author=self.user(i.author_id),
            team=self.teams[i.author_team_id].name if i.author_team_id else None,
            also_in=tuple(self.teams[t].name for t in others if t != i.author_team_id),
            cross_team=i.cross_team,
            source=i.source,
            text=i.text,
            after_seconds=_secs(since, i.created_at),
            impact=i.impact,
            action=i.action,
            owner=self.user(i.owner_id) if i.owner_id else None,
            edited=i.edited_at is not None,
        )

    def notice(self, flag: Flag, interpretation_ids: list[int]) -> tuple[str, int]:
        notice = self.session.exec(
            select(OutboxMessage).where(
                OutboxMessage.kind == "notice", OutboxMessage.subject_id == flag.id
            )
        ).first()
        mirrored = self.session.exec(
            select(OutboxMessage.id).where(
                OutboxMessage.kind == "mirror",
                OutboxMessage.status == "done",
                col(OutboxMessage.subject_id).in_(interpretation_ids),
            )
        ).all()
        if notice is None or notice.status != "done" or not notice.result_id:
            return "nowhere (not posted)", len(mirrored)
        channel = notice.result_id.partition("|")[0]
        if self.slack.channels.get(channel, {}).get("is_im"):
            return f"a DM to {self.user(flag.flagger_id)}", len(mirrored)
        return f"the {self.channel(channel)} thread", len(mirrored)

    def broadcast(self, b: Broadcast, interps: Sequence[Interpretation]) -> BroadcastRow:
        team = self.teams[b.team_id]
        return BroadcastRow(
            team_key=team.key,
            team=team.name,
            status=b.status,
            posted_at=b.posted_at,
            tta=b.tta_seconds,
            acknowledged_by=self.user(b.acknowledged_by) if b.acknowledged_by else None,
            ttfr=b.ttfr_seconds,
            ttfr_business=b.ttfr_business_seconds,
            cross_ttfr=b.cross_ttfr_seconds,
            not_for_us_by=self.user(b.not_for_us_by) if b.not_for_us_by else None,
            not_for_us_after=_secs(b.posted_at, b.not_for_us_at),
            interpretations=tuple(
                self.interp(i, b.posted_at) for i in interps if i.broadcast_id == b.id
            ),
        )

    def flag(self, flag: Flag) -> FlagRow:
        s = self.session
        interps = s.exec(
            select(Interpretation)
            .where(Interpretation.flag_id == flag.id, col(Interpretation.deleted_at).is_(None))
            .order_by(col(Interpretation.created_at), col(Interpretation.id))
        ).all()
        broadcasts = s.exec(
            select(Broadcast).where(Broadcast.flag_id == flag.id).order_by(col(Broadcast.id))
        ).all()
        flaggers = s.exec(
            select(FlagFlagger).where(FlagFlagger.flag_id == flag.id).order_by(col(FlagFlagger.id))
        ).all()
        notice, mirrored = self.notice(flag, [i.id for i in interps if i.id is not None])
        return FlagRow(
            id=flag.id or 0,
            flagged_at=flag.flagged_at,
            channel=self.channel(flag.channel_id),
            author=self.user(flag.author_id),
            excerpt=flag.excerpt,
            sentiment=flag.sentiment,
            score=flag.sentiment_score,
            customer=flag.customer,
            note=flag.note,
            flaggers=tuple((self.user(f.user_id), f.via, f.at) for f in flaggers),
            status=flag.status,
            ttr=flag.ttr_seconds,
            notice=notice,
            mirrored=mirrored,
            broadcasts=tuple(self.broadcast(b, interps) for b in broadcasts),
            other_interpretations=tuple(
                self.interp(i, flag.flagged_at) for i in interps if i.broadcast_id is None
            ),
        )

    def uncounted(self, flag_ids: set[int]) -> list[Uncounted]:
        """Replies in card threads that did not become interpretations, and why."""
        s = self.session
        counted = set(s.exec(select(Interpretation.channel_id, Interpretation.message_id)).all())
        out: list[Uncounted] = []
        for b in s.exec(select(Broadcast).order_by(col(Broadcast.id))):
            if not b.message_id or b.flag_id not in flag_ids:
                continue
            flaggers = set(
                s.exec(select(FlagFlagger.user_id).where(FlagFlagger.flag_id == b.flag_id))
            )
            for m in self.slack.messages(b.channel_id):
                if m.get("thread_ts") != b.message_id or m["ts"] == b.message_id:
                    continue
                if m.get("bot_id") == self.slack.bot_id or (b.channel_id, m["ts"]) in counted:
                    continue
                user = str(m.get("user") or m.get("bot_id") or "")
                if m.get("bot_id"):
                    reason = "an app, not a person"
                elif user in flaggers:
                    reason = "the flagger adding context"
                else:
                    reason = "not recorded"
                team = self.teams[b.team_id].name
                out.append(Uncounted(b.flag_id, self.user(user), team, reason))
        return out


def collect(
    *,
    engine: Engine,
    org_id: int,
    config: CrosstalkConfig,
    slack: FakeSlack,
    started: datetime,
    ended: datetime,
    database: str,
    listening: Sequence[str],
    names: Mapping[str, str] | None = None,
) -> Snapshot:
    """What the server recorded of the flags raised from `started` on (the story's; the
    weeks before it are summed up elsewhere)."""
    with Session(engine) as session:
        read = _Reader(session, slack, org_id, names or {})
        rows = session.exec(
            select(Flag)
            .where(Flag.org_id == org_id, col(Flag.flagged_at) >= started)
            .order_by(col(Flag.id))
        )
        flags = [read.flag(f) for f in rows]
        uncounted = read.uncounted({f.id for f in flags})
        sla = {t.key: t.sla_seconds for t in read.teams.values()}
    team_channels = {t.slack_channel for t in config.teams if t.slack_channel}
    cards = [
        m
        for c in team_channels
        for m in slack.posted(c)
        if m.get("thread_ts") in (None, m["ts"]) and float(m["ts"]) >= started.timestamp()
    ]
    return Snapshot(
        org=config.org.name,
        timezone=config.org.timezone,
        business_hours=config.org.business_hours,
        managers=tuple(read.person(u) for u in config.roi.manager_refs),
        listening=tuple(read.channel(c) for c in listening),
        teams=tuple(
            TeamRow(
                key=t.key,
                name=t.name,
                channel=read.channel(t.slack_channel) if t.slack_channel else "-",
                sla_seconds=sla[t.key],
                members=tuple(read.person(m) for m in t.member_refs),
                timezone=t.timezone or config.org.timezone,
                hours=t.business_hours or config.org.business_hours,
            )
            for t in config.teams
        ),
        flags=tuple(flags),
        uncounted=tuple(uncounted),
        cards_posted=len(cards),
        api_calls=tuple(Counter(c.method for c in slack.calls).most_common()),
        started=started,
        ended=ended,
        database=database,
    )
