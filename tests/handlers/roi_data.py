"""Rows for /roi tests, inserted directly so every figure can be worked out by hand: a flag,
its broadcasts with their stored response times, replies, outcomes and ratings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.core.clock import FakeClock
from bot.handlers.context import OrgContext
from bot.handlers.roi.report import RoiReport, roi_report
from config.load import parse_config
from store.db import make_engine, session_scope, upgrade
from store.models import Broadcast, Flag, FlagTopic, Interpretation, Outcome, Rating
from store.orgs import sync_org


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def team_toml(key: str, members: Sequence[str], sla: str = "1h", hours: str | None = None) -> str:
    extra = f'\nbusiness_hours = "{hours}"' if hours else ""
    quoted = ", ".join(f'"{m}"' for m in members)
    return (
        f'[[teams]]\nkey = "{key}"\nname = "{key.title()}"\nslack_channel = "C{key.upper()}"\n'
        f'members = [{quoted}]\nsla = "{sla}"{extra}\n'
    )


def org_toml(teams: Iterable[str], extra: str = "", tz: str = "UTC", hours: str = "24/7") -> str:
    head = (
        f'[org]\nname = "Acme"\ntimezone = "{tz}"\nslack_team_ids = ["T0001"]\n'
        f'business_hours = "{hours}"\n'
    )
    return head + "\n".join(teams) + "\n" + extra


class Data:
    def __init__(self, db_url: str, toml: str) -> None:
        self.engine = make_engine(db_url)
        upgrade(self.engine)
        self.config = parse_config(toml)
        with session_scope(self.engine) as session:
            self.ids = sync_org(session, self.config)
        self.org = OrgContext(config=self.config, ids=self.ids)
        self.members = {m: t.key for t in self.config.teams for m in t.members}
        self._seq = 0
        self.flaggers: dict[int, str] = {}
        self.session = Session(self.engine)  # one transaction, committed before a report

    def close(self) -> None:
        self.session.close()
        self.engine.dispose()

    def _next(self) -> str:
        self._seq += 1
        return str(self._seq)

    def team_id(self, person: str) -> int | None:
        key = self.members.get(person)
        return None if key is None else self.ids.team_ids[key]

    def flag(
        self,
        at: datetime,
        flagger: str,
        *,
        public: bool = True,
        sentiment: str = "neutral",
        crm: str | None = None,
        topics: Sequence[str] = (),
        resolved_after: float | None = None,
        status: str = "open",
    ) -> int:
        session = self.session
        flag = Flag(
            org_id=self.ids.org_id,
            platform="slack",
            workspace_id="T0001",
            channel_id="CCUSTOMERS",
            message_id=self._next(),
            flagger_id=flagger,
            flagger_team_id=self.team_id(flagger),
            flagged_at=at,
            via="reaction",
            is_public=public,
            sentiment=sentiment,
            crm_ref=crm,
            status=status,
        )
        if resolved_after is not None:
            flag.status = "resolved"
            flag.resolved_at = at + timedelta(seconds=resolved_after)
            flag.ttr_seconds = flag.ttr_business_seconds = resolved_after
        session.add(flag)
        session.flush()
        assert flag.id is not None
        for topic in topics:
            session.add(FlagTopic(flag_id=flag.id, topic=topic))
        self.flaggers[flag.id] = flagger
        return flag.id

    def broadcast(
        self,
        flag_id: int,
        team: str,
        posted: datetime | None,
        *,
        ttfr: float | None = None,
        ttfr_business: float | None = None,
        cross: float | None = None,
        cross_business: float | None = None,
        tta: float | None = None,
        status: str = "active",
    ) -> int:
        """Business times default to the wall-clock ones (a 24/7 schedule); the instants
        are set to match the times, as bot.handlers.timing keeps them."""

        def after(seconds: float | None) -> datetime | None:
            return (
                None if posted is None or seconds is None else posted + timedelta(seconds=seconds)
            )

        session = self.session
        b = Broadcast(
            org_id=self.ids.org_id,
            flag_id=flag_id,
            team_id=self.ids.team_ids[team],
            platform="slack",
            channel_id=f"C{team.upper()}",
            message_id=None if posted is None else self._next(),
            created_at=posted or utc(2000, 1, 1),
            posted_at=posted,
            status=status,
            tta_seconds=tta,
            tta_business_seconds=tta,
            ttfr_seconds=ttfr,
            ttfr_business_seconds=ttfr if ttfr_business is None else ttfr_business,
            cross_ttfr_seconds=cross,
            cross_ttfr_business_seconds=cross if cross_business is None else cross_business,
            acknowledged_at=after(tta),
            first_response_at=after(ttfr),
            cross_first_response_at=after(cross),
        )
        session.add(b)
        session.flush()
        assert b.id is not None
        return b.id

    def reply(
        self,
        flag_id: int,
        broadcast_id: int,
        author: str,
        at: datetime,
        *,
        deleted: bool = False,
    ) -> None:
        """Cross-team when the author's team is not the flagger's (or the author has none)."""
        team = self.team_id(author)
        flagger_team = self.team_id(self.flaggers[flag_id])
        session = self.session
        session.add(
            Interpretation(
                org_id=self.ids.org_id,
                flag_id=flag_id,
                broadcast_id=broadcast_id,
                platform="slack",
                channel_id="CREPLY",
                message_id=self._next(),
                author_id=author,
                author_team_id=team,
                cross_team=team is None or team != flagger_team,
                created_at=at,
                deleted_at=at if deleted else None,
            )
        )

    def outcome(
        self, flag_id: int, kind: str, amount: float, at: datetime, currency: str = "USD"
    ) -> None:
        session = self.session
        session.add(
            Outcome(
                org_id=self.ids.org_id,
                flag_id=flag_id,
                kind=kind,
                amount=amount,
                currency=currency,
                created_at=at,
            )
        )

    def rating(self, flag_id: int, score: int, at: datetime) -> None:
        session = self.session
        session.add(
            Rating(org_id=self.ids.org_id, flag_id=flag_id, user_id="URATER", score=score, at=at)
        )

    def report(
        self, now: datetime, period: str | None = None, team: str | None = None
    ) -> RoiReport:
        self.session.commit()
        return roi_report(
            engine=self.engine, org=self.org, clock=FakeClock(now), period=period, team=team
        )

    def json(self, now: datetime, period: str | None = None, team: str | None = None) -> Any:
        return self.report(now, period, team).to_json()
