"""GET /metrics scraped over HTTP: request latency per route (never per raw path), platform
calls, errors and 429s per method under a failing Slack stand-in, the queues' ages, lags
and dead rows, the scheduler's runs, the listening model, and prometheus-client's process
metrics — each app in a registry of its own."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import collectors, observability
from bot.core.clock import FakeClock
from bot.demo.standins import slack_requests as sr
from bot.demo.standins.harness import Server
from bot.demo.standins.serving import START
from bot.scheduler import JOBS

CUSTOMERS = "C0CUSTOMERS"
REFUND = "Please refund the invoice, you charged me twice."  # billing

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(server: Server) -> Samples:
    assert server.http is not None
    async with server.http.get(server.url + "/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def named(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


async def flag(server: Server) -> None:
    ts = server.slack.add_message(CUSTOMERS, REFUND, user="U0SAM")
    request = sr.event_reaction_added(
        "T0001", "U0ANN", "mega", CUSTOMERS, ts, "U0SAM", server.now_ts()
    )
    assert (await server.send(request)).status == 200


async def test_requests_calls_and_queues(db_url: str) -> None:
    clock = FakeClock(START)
    async with Server(db_url, clock=clock, run_worker=False) as server:
        worker = server.runtime.worker
        server.slack.fail_next("chat.postMessage", status=429, retry_after=30, times=10_000)
        await flag(server)
        await worker.run_inbox()
        await worker.run_outbox()
        clock.advance(timedelta(minutes=2))
        failing = await scrape(server)
        server.slack.clear_faults()
        await server.settle()
        assert server.http is not None
        async with server.http.get(server.url + "/no/such/page/42") as resp:
            assert resp.status == 404
        done = await scrape(server)

    # While rate limited: the errors and 429s by method, and the outbox's oldest row.
    slack_post = {"platform": "slack", "method": "chat.postMessage"}
    limited = value(failing, "crosstalk_platform_api_rate_limited_total", **slack_post)
    assert limited is not None and limited >= 1
    assert value(failing, "crosstalk_platform_api_errors_total", **slack_post) == limited
    assert value(failing, "crosstalk_platform_failing_since_seconds", platform="slack") == (
        START.timestamp()
    )
    assert value(failing, "crosstalk_queue_oldest_pending_seconds", queue="outbox") == 120
    assert value(failing, "crosstalk_outbox_rows", status="pending") >= 1  # type: ignore[operator]

    # Once through: every call counted, nothing failing, the delivery lag measured.
    calls = value(done, "crosstalk_platform_api_calls_total", **slack_post)
    assert calls is not None and calls >= limited + 2  # refused, then the card and the notice
    assert value(done, "crosstalk_platform_api_errors_total", **slack_post) == limited
    assert value(done, "crosstalk_platform_failing_since_seconds", platform="slack") == 0
    assert value(done, "crosstalk_queue_oldest_pending_seconds", queue="outbox") == 0
    assert value(done, "crosstalk_queue_dead_rows", queue="outbox") == 0
    assert value(done, "crosstalk_queue_lag_seconds", queue="outbox", quantile="1") == 120
    assert value(done, "crosstalk_queue_lag_seconds", queue="inbox", quantile="0.5") == 0
    assert value(done, "crosstalk_flags") == 1  # the row counts stay

    # Latency by route template: the Slack endpoint, and one series for every unknown path.
    routes = {
        dict(labels)["route"]
        for labels in named(done, "crosstalk_http_request_duration_seconds_count")
    }
    assert {"/slack/events", "/metrics", "unmatched"} <= routes
    assert not any("42" in r for r in routes)
    events = value(
        done,
        "crosstalk_http_request_duration_seconds_count",
        route="/slack/events",
        method="POST",
        status="2xx",
    )
    assert events == 1

    # What prometheus-client gives for free.
    assert value(done, "process_resident_memory_bytes") is not None
    assert named(done, "python_info")
    assert value(done, "crosstalk_scheduler_running") == 0


async def test_two_apps_in_one_process_keep_their_own_series(tmp_path: object) -> None:
    async with (
        Server(f"sqlite:///{tmp_path}/a.db") as a,
        Server(f"sqlite:///{tmp_path}/b.db") as b,
    ):
        await flag(a)
        await a.settle()
        first, second = await scrape(a), await scrape(b)
    assert value(first, "crosstalk_flags") == 1 and value(second, "crosstalk_flags") == 0
    post = {"platform": "slack", "method": "chat.postMessage"}
    assert value(first, "crosstalk_platform_api_calls_total", **post)
    assert value(second, "crosstalk_platform_api_calls_total", **post) is None


async def test_scheduler_runs_and_the_listening_model(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collectors, "_LISTENING", {})
    async with Server(db_url, run_scheduler=True) as server:
        for _ in range(200):  # the scheduler runs every job once at start
            samples = await scrape(server)
            runs = named(samples, "crosstalk_scheduler_last_run_seconds")
            if len(runs) == len(JOBS):
                break
            await asyncio.sleep(0.05)
        observability.set_listening_model("Acme", "2026-11-16.3", {"threshold": "0.72"})
        observability.set_listening_model("Other org", "9")
        samples = await scrape(server)
    assert value(samples, "crosstalk_scheduler_running") == 1
    jobs = {dict(labels)["job"]: v for labels, v in runs.items()}
    assert set(jobs) == {job.name for job in JOBS} >= {"weekly_digests", "sla_nudges"}
    assert all(v == START.timestamp() for v in jobs.values())
    assert named(samples, "crosstalk_scheduler_job_failing") == {}
    (model,) = named(samples, "crosstalk_listening_model_info").items()
    assert dict(model[0]) == {"org": "Acme", "version": "2026-11-16.3", "threshold": "0.72"}
    assert model[1] == 1
