"""One-time links need the server's public address, with its scheme."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, create_engine

from bot.core.clock import FakeClock
from bot.core.refs import Platform, UserRef
from bot.web.links import LinksUnavailable, new_link


@pytest.mark.parametrize(
    ("url", "why"), [("", "CROSSTALK_PUBLIC_URL"), ("crosstalk.example.com", "https://")]
)
def test_no_link_without_a_public_address(url: str, why: str) -> None:
    clock = FakeClock(datetime(2026, 11, 16, 9, tzinfo=UTC))
    with Session(create_engine("sqlite://")) as session, pytest.raises(LinksUnavailable) as exc:
        new_link(
            session, org_id=1, user=UserRef(Platform.SLACK, "U0MGR"), clock=clock, public_url=url
        )
    assert why in str(exc.value)
