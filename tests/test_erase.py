"""`crosstalk erase --crm-ref REF` / `--customer NAME`: a customer's data is gone from
every table Crosstalk keeps, read back from the database; other customers' stays."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli import main
from bot.demo.org import ORG_TOML
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from tests.test_outcomes_api import post

TABLES = (
    "flags",
    "flag_flaggers",
    "flag_topics",
    "broadcasts",
    "interpretations",
    "outcomes",
    "ratings",
    "routing_feedback",
    "outbox",
    "processed_events",
    "listening_labels",
    "suggestions",
)


def rows_mentioning(server: Server, needle: str) -> dict[str, int]:
    """Rows of each table whose text holds `needle` anywhere (every column, cast to text)."""
    found: dict[str, int] = {}
    with server.runtime.engine.connect() as conn:
        for table in TABLES:
            columns = [c[1] for c in conn.execute(text(f"PRAGMA table_info({table})"))]
            hits = 0
            for row in conn.execute(text(f"SELECT {', '.join(columns)} FROM {table}")):
                hits += any(needle in str(v) for v in row)
            found[table] = hits
    return {t: n for t, n in found.items() if n}


async def flag(server: Server, text_: str) -> str:
    ts = server.slack.add_message("C0CUSTOMERS", text_, user="U0SAM")
    reaction = sr.event_reaction_added(
        "T0001", "U0ANN", "mega", "C0CUSTOMERS", ts, "U0SAM", server.now_ts()
    )
    assert (await server.send(reaction)).status == 200
    await server.settle()
    return ts


async def test_erase_by_crm_ref_removes_the_customer_everywhere(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/erase.db"
    config = Path(str(tmp_path)) / "crosstalk.toml"
    config.write_text(ORG_TOML, encoding="utf-8")
    monkeypatch.setenv("CROSSTALK_DATABASE_URL", url)
    monkeypatch.setenv("CROSSTALK_CONFIG", str(config))
    async with Server(url, run_worker=False) as server:
        gone = await flag(server, "Globex here: refund the invoice, you charged me twice")
        kept = await flag(server, "Initech: the export to CSV is broken")
        status, _, _ = await post(
            server,
            {"source": {"platform": "slack", "channel": "C0CUSTOMERS", "ts": gone},
             "kind": "retained", "amount": 900},
        )  # fmt: skip
        assert status == 201
        with server.runtime.engine.begin() as conn:
            conn.execute(text("UPDATE outcomes SET crm_ref = 'CRM-GLOBEX'"))
        await server.settle()
        assert rows_mentioning(server, "Globex") and rows_mentioning(server, gone)
        assert rows_mentioning(server, "Globex")["listening_labels"] == 1  # billing's positive

        assert main(["erase", "--crm-ref", "CRM-GLOBEX"], clock=server.runtime.clock) == 0
        assert "erased 'CRM-GLOBEX': 1 flags" in capsys.readouterr().out
        assert rows_mentioning(server, "Globex") == {}
        assert rows_mentioning(server, gone) == {}
        assert rows_mentioning(server, "Initech") and rows_mentioning(server, kept)

        assert main(["erase", "--customer", "Nobody"], clock=server.runtime.clock) == 0
        assert "nothing is kept about 'Nobody'" in capsys.readouterr().out
