"""`crosstalk listen status`: for each org in the database, the model it scores with now
(version, labels, cross-validated precision and recall, threshold, when it was trained) and
its labels by source."""

from __future__ import annotations

import json
from typing import Any, TextIO

from sqlmodel import Session, col, select

from store import labels, listening_models
from store.db import Database
from store.models import Org


def org_status(session: Session, *, org_id: int, name: str) -> dict[str, Any]:
    row = listening_models.latest(session, org_id=org_id)
    model: dict[str, Any] | None = None
    if row is not None:
        stats = row.summary.get("stats", {})
        model = {
            "version": row.version,
            "labels": row.labels,
            "precision": row.precision,
            "recall": row.recall,
            "threshold": row.threshold,
            "routing_top1": stats.get("routing_top1"),
            "routing_top2": stats.get("routing_top2"),
            "trained_at": row.created_at.isoformat(),
        }
    return {
        "org": name,
        "model": model,
        "labels": labels.count(session, org_id=org_id),
        "labels_by_source": labels.by_source(session, org_id=org_id),
    }


def statuses(session: Session) -> list[dict[str, Any]]:
    orgs = session.exec(select(Org).order_by(col(Org.name))).all()
    return [org_status(session, org_id=o.id, name=o.name) for o in orgs if o.id is not None]


def _figure(value: float | None) -> str:
    return "n/a (no negative labels)" if value is None else f"{value:.3f}"


def text_status(entry: dict[str, Any]) -> str:
    lines = [f"{entry['org']}:"]
    model = entry["model"]
    if model is None:
        lines.append("  model: cold start (sentiment and routing keywords; nothing trained yet)")
    else:
        lines += [
            f"  model: version {model['version']}, trained {model['trained_at']} "
            f"on {model['labels']} labels",
            f"  suggestions: threshold {model['threshold']:.3f}, cross-validated precision "
            f"{_figure(model['precision'])}, recall {_figure(model['recall'])}",
        ]
        if model["routing_top1"] is not None:
            lines.append(
                f"  routing: cross-validated top-1 {model['routing_top1']:.3f}, "
                f"top-2 {model['routing_top2']:.3f}"
            )
    by_source = ", ".join(f"{k} {v}" for k, v in sorted(entry["labels_by_source"].items()))
    lines.append(f"  labels: {entry['labels']}" + (f" ({by_source})" if by_source else ""))
    return "\n".join(lines)


def status_command(*, db: Database, as_json: bool, out: TextIO) -> int:
    found = db.transaction(statuses)
    if as_json:
        print(json.dumps(found, indent=2), file=out)
    elif not found:
        print("no org in the database yet (crosstalk serve creates it)", file=out)
    else:
        print("\n".join(text_status(entry) for entry in found), file=out)
    return 0
