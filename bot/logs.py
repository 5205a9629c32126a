"""Logging, configured once for every command (`configure`, called by the CLI).

One readable line per meaningful event at INFO — a flag created, a card posted, a retry,
a row given up — naming ids, never a message's text or a secret. With
`CROSSTALK_LOG_FORMAT=json` each record is one JSON object per line (ts, level, logger,
message, and the record's extra fields) for log shippers. Third-party libraries speak at
WARNING: a line per request, per migration step or per job run is noise to an operator.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_LOGGERS = (
    "aiohttp.access",
    "alembic",
    "apscheduler",
    "slack_bolt",
    "botbuilder",
    "msal",
    "httpx",  # a line per webhook request at INFO
)
# What every LogRecord has: anything else on a record came as `extra=` and is a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _Ours(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure` installs (and replaces when called again)."""


def configure(
    env: Mapping[str, str],
    *,
    level: int = logging.INFO,
    stream: TextIO | None = None,
    force: bool = False,
) -> logging.Handler | None:
    """One handler on the root logger, on `stream` (stderr by default), in the format
    `env["CROSSTALK_LOG_FORMAT"]` names (`text`, the default, or `json`). Like
    `logging.basicConfig`, it adds none where someone else configured logging already
    (a test runner capturing logs) unless `force`; the levels are set either way."""
    fmt = env.get("CROSSTALK_LOG_FORMAT", "text").strip().lower() or "text"
    if fmt not in ("text", "json"):
        raise ValueError(f"CROSSTALK_LOG_FORMAT must be text or json, not {fmt!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Ours)]:
        root.removeHandler(old)
    handler: _Ours | None = None
    if force or not root.handlers:
        handler = _Ours(stream or sys.stderr)
        handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return handler
