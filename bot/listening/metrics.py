"""What /metrics shows of listening, read from the database at scrape time (so every
replica reports the same): messages scored and suggested, and the org's labels by source.

`ListeningMetrics.read(session)` runs inside the scrape's database read (off the event
loop); `collect()` then only formats what was read."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlmodel import Session

from store.labels import SOURCES
from store.reports_listening import ListeningCounts, counts


class ListeningMetrics(Collector):
    def __init__(self, org_id: int) -> None:
        self.org_id = org_id
        self.latest: ListeningCounts | None = None

    def read(self, session: Session) -> None:
        self.latest = counts(session=session, org_id=self.org_id)

    def collect(self) -> Iterator[Metric]:
        latest = self.latest
        if latest is None:
            return
        scored = CounterMetricFamily(
            "crosstalk_listening_scored", "messages in watched channels scored"
        )
        scored.add_metric([], latest.scored)
        suggested = CounterMetricFamily(
            "crosstalk_listening_suggested", "messages suggested to the triage channel"
        )
        suggested.add_metric([], latest.suggested)
        labels = GaugeMetricFamily(
            "crosstalk_listening_labels", "feedback labels kept, by source", labels=["source"]
        )
        for source in sorted({*SOURCES, *latest.labels}):
            labels.add_metric([source], latest.labels.get(source, 0))
        yield from (scored, suggested, labels)
