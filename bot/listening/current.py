"""The model an org scores with now, cached per process: each call checks the newest
stored version with one index lookup and loads the blob only when it changed, so every
replica picks up a model another one trained. With none stored: the cold model.

Called from handlers, which run on the database's threads (never the event loop): the
lookup is a query, a reload parses the blob."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from bot.listening.model import Listener, ModelStats
from bot.listening.serial import UnknownFormat
from store import listening_models
from store.models import Org

log = logging.getLogger("crosstalk.listening")

Keywords = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class _Entry:
    stamp: tuple[int, int] | None  # (version, row id); None: the cold model
    keywords: Keywords
    listener: Listener


_CACHE: dict[tuple[str, int], _Entry] = {}
_LOCK = threading.Lock()


def _frozen(keywords: Mapping[str, Sequence[str]]) -> Keywords:
    return tuple((team, tuple(words)) for team, words in keywords.items())


def current(session: Session, org_id: int, keywords: Mapping[str, Sequence[str]]) -> Listener:
    """The org's newest model (cold from `keywords`, each team's routing keywords, when
    none is stored or the stored one cannot be read)."""
    key = (session.get_bind().engine.url.render_as_string(hide_password=True), org_id)
    stamp = listening_models.latest_stamp(session, org_id=org_id)
    frozen = _frozen(keywords)
    with _LOCK:
        entry = _CACHE.get(key)
    if entry is not None and entry.stamp == stamp and (stamp or entry.keywords == frozen):
        return entry.listener
    listener = Listener.cold(keywords)
    if stamp is not None:
        data = listening_models.blob(session, org_id=org_id, version=stamp[0])
        try:
            listener = Listener.loads(data) if data is not None else listener
        except UnknownFormat as exc:  # an older layout: cold until the trainer replaces it
            log.warning("listening model %d of org %d unreadable: %s", stamp[0], org_id, exc)
    with _LOCK:
        _CACHE[key] = _Entry(stamp, frozen, listener)
    _announce(session, org_id, listener.stats)
    return listener


def _announce(session: Session, org_id: int, stats: ModelStats) -> None:
    """Tell /metrics which model this process now scores with."""
    from bot.observability import set_listening_model

    org = session.get(Org, org_id)
    if org is not None:
        set_listening_model(org.name, str(stats.version), metric_labels(stats))


def metric_labels(stats: ModelStats) -> dict[str, str]:
    """The model's figures as /metrics labels (`crosstalk_listening_model_info`); an empty
    string where a figure cannot be computed."""

    def figure(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    return {
        "labels": str(stats.labels),
        "precision": figure(stats.precision),
        "recall": figure(stats.recall),
        "threshold": figure(stats.threshold),
    }


def forget() -> None:
    """Empty the cache (a test that rebuilds its database under the same URL)."""
    with _LOCK:
        _CACHE.clear()
