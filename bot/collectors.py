"""The collectors behind GET /metrics (bot/observability.py): what the database says at
scrape time, and what only this process knows."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.handlers.context import Gateways
from bot.health import api_calls
from store.metrics import Lags, QueueAges, Snapshot

LAG_WINDOW = timedelta(minutes=15)
QUANTILES = (0.5, 0.9, 0.99, 1.0)


@dataclass(frozen=True)
class ListeningModel:
    version: str
    labels: Mapping[str, str]


# The listening model is loaded per process for an org: the process's fact, kept here for
# each app's collector to report its own org's entry (see set_listening_model).
_LISTENING: dict[str, ListeningModel] = {}


def set_listening_model(org: str, version: str, labels: Mapping[str, str] | None = None) -> None:
    """Say which listening model `org` now scores with (called by the listening feature
    when it loads or trains one): `crosstalk_listening_model_info{org, version, ...} 1`."""
    _LISTENING[org] = ListeningModel(version, dict(labels or {}))


def _quantile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


class StoreCollector(Collector):
    """The last scrape's figures from the database (read by `refresh`, off the loop)."""

    def __init__(self) -> None:
        self.latest = Snapshot()
        self.ages = QueueAges()
        self.lags = Lags()

    def collect(self) -> Iterator[Metric]:
        for name, by_status in self.latest.queues.items():
            family = GaugeMetricFamily(
                f"crosstalk_{name}_rows", f"{name} rows by status", labels=["status"]
            )
            for status, count in sorted(by_status.items()):
                family.add_metric([status], count)
            yield family
        for label, total in self.latest.totals.items():
            family = GaugeMetricFamily(f"crosstalk_{label}", f"{label} stored")
            family.add_metric([], total)
            yield family
        oldest = GaugeMetricFamily(
            "crosstalk_queue_oldest_pending_seconds",
            "age of the oldest pending row (0 when none is pending)",
            labels=["queue"],
        )
        dead = GaugeMetricFamily("crosstalk_queue_dead_rows", "dead rows", labels=["queue"])
        ages = self.ages
        for queue, age, n in (
            ("outbox", ages.outbox_oldest_pending, ages.outbox_dead),
            ("inbox", ages.inbox_oldest_pending, ages.inbox_dead),
        ):
            oldest.add_metric([queue], age or 0.0)
            dead.add_metric([queue], n)
        yield oldest
        yield dead
        lag = GaugeMetricFamily(
            "crosstalk_queue_lag_seconds",
            f"stored to done, rows done in the last {LAG_WINDOW.total_seconds():.0f}s "
            "(outbox: delivery lag; inbox: handling lag)",
            labels=["queue", "quantile"],
        )
        done = GaugeMetricFamily(
            "crosstalk_queue_done_recent_rows",
            "rows done in the lag window (the lag's sample size)",
            labels=["queue"],
        )
        for queue, values in (("outbox", self.lags.outbox), ("inbox", self.lags.inbox)):
            done.add_metric([queue], len(values))
            if values:
                for q in QUANTILES:
                    lag.add_metric([queue, f"{q:g}"], _quantile(values, q))
        yield lag
        yield done


class ProcessFacts(Collector):
    """What only this process knows: API calls per platform and method, the scheduler's
    runs, the listening model."""

    def __init__(
        self,
        org: str,
        gateways: Gateways,
        scheduler: Callable[[], dict[str, Any] | None],
    ) -> None:
        self.org = org
        self.gateways = gateways
        self.scheduler = scheduler

    def collect(self) -> Iterator[Metric]:
        labels = ["platform", "method"]
        calls = CounterMetricFamily(
            "crosstalk_platform_api_calls", "platform API calls", labels=labels
        )
        errors = CounterMetricFamily(
            "crosstalk_platform_api_errors", "platform API calls that failed", labels=labels
        )
        limited = CounterMetricFamily(
            "crosstalk_platform_api_rate_limited", "platform API calls answered 429", labels=labels
        )
        failing = GaugeMetricFamily(
            "crosstalk_platform_failing_since_seconds",
            "when the platform's calls started failing (epoch; 0 while they work)",
            labels=["platform"],
        )
        for recorder in api_calls(self.gateways):
            for method, n in sorted(recorder.methods.items()):
                calls.add_metric([recorder.platform, method], n.calls)
                errors.add_metric([recorder.platform, method], n.errors)
                limited.add_metric([recorder.platform, method], n.rate_limited)
            failure = recorder.failing
            since = failure.since.timestamp() if failure is not None else 0.0
            failing.add_metric([recorder.platform], since)
        yield from (calls, errors, limited, failing)
        yield from self._scheduler()
        model = _LISTENING.get(self.org)
        if model is not None:
            keys = sorted(k for k in model.labels if k not in ("org", "version"))
            info = GaugeMetricFamily(
                "crosstalk_listening_model_info",
                "the listening model this process scores with",
                labels=["org", "version", *keys],
            )
            info.add_metric([self.org, model.version, *(model.labels[k] for k in keys)], 1)
            yield info

    def _scheduler(self) -> Iterator[Metric]:
        status = self.scheduler()
        running = GaugeMetricFamily("crosstalk_scheduler_running", "1 when the scheduler runs")
        running.add_metric([], 1 if status and status.get("running") else 0)
        yield running
        if not status:
            return
        last = GaugeMetricFamily(
            "crosstalk_scheduler_last_run_seconds",
            "when each job last finished without error (epoch)",
            labels=["job"],
        )
        for job, at in sorted(status.get("last_run", {}).items()):
            last.add_metric([job], datetime.fromisoformat(at).timestamp())
        failing = GaugeMetricFamily(
            "crosstalk_scheduler_job_failing", "1 when the job's last run failed", labels=["job"]
        )
        for job in sorted(status.get("errors", {})):
            failing.add_metric([job], 1)
        yield last
        yield failing
