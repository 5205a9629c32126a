"""The records and argument rules of the Slack Web API stand-in: calls, scheduled failures,
uploaded files, Slack's error answers, and the parsing every method shares (timestamps,
cursors, limits, Block Kit checks)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]
Handler = Callable[[JSONDict], JSONDict]

# Arguments that clients send as JSON strings inside form bodies.
JSON_ARGS = ("blocks", "attachments", "metadata", "view", "files", "unfurls", "user_auth_blocks")
MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3_000


@dataclass
class Call:
    """One request to ``/api/{method}``, in arrival order.

    ``args`` holds every argument (query string, form and JSON body merged; JSON-encoded
    fields such as ``blocks``/``view``/``metadata``/``files`` decoded) without the token.
    ``at`` is the wall-clock arrival time (``time.time()``): a benchmark times the
    server with it; tests never read it.
    ``status`` and ``error`` describe the answer given (``error`` is None when ``ok``).
    """

    method: str
    args: dict[str, Any]
    at: float
    token: str | None = None
    status: int = 200
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass
class Fault:
    """A scheduled failure for the next ``remaining`` calls of one method."""

    status: int
    error: str | None
    retry_after: int
    remaining: int
    after_effect: bool


@dataclass
class FakeFile:
    """A file uploaded through files.getUploadURLExternal / upload URL / completeUploadExternal."""

    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None
    title: str | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    created: int = 0

    @property
    def uploaded(self) -> bool:
        return self.content is not None


class ApiError(Exception):
    def __init__(self, error: str, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages
        self.extra = extra

    def body(self) -> JSONDict:
        out: JSONDict = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            out["response_metadata"] = {"messages": self.messages}
        return out


def ts_key(ts: str) -> tuple[int, int]:
    """Sort key for Slack timestamps ("1763800000.000100"); raises ValueError if malformed."""
    whole, _, frac = str(ts).partition(".")
    return int(whole or 0), int((frac + "000000")[:6])


def form_value(item: str | bytes | bytearray | web.FileField) -> str | bytes:
    if isinstance(item, str):
        return item
    if isinstance(item, web.FileField):
        return item.file.read()
    return bytes(item)


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def is_true(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def str_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def encode_cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
    except ValueError as exc:
        raise ApiError("invalid_cursor") from exc
    prefix, _, ts = raw.partition(":")
    if prefix != "next_ts" or not ts:
        raise ApiError("invalid_cursor")
    return ts


def limit_of(args: JSONDict, default: int, maximum: int = 1000) -> int:
    try:
        value = int(args.get("limit") or default)
    except (TypeError, ValueError) as exc:
        raise ApiError("invalid_limit") from exc
    if value <= 0:
        value = default
    return min(value, maximum)


def check_blocks(blocks: Any, maximum: int) -> list[JSONDict]:
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise ApiError("invalid_blocks_format")
    if len(blocks) > maximum:
        raise ApiError(
            "invalid_blocks",
            [f"[ERROR] no more than {maximum} items allowed [json-pointer:/blocks]"],
        )
    problems: list[str] = []
    for i, block in enumerate(blocks):
        if "type" not in block:
            problems.append(f"[ERROR] missing required field: type [json-pointer:/blocks/{i}]")
            continue
        text = block.get("text")
        too_long = isinstance(text, dict) and len(str(text.get("text", ""))) > MAX_SECTION_TEXT
        if block["type"] == "section" and too_long:
            problems.append(
                f"[ERROR] must be less than {MAX_SECTION_TEXT + 1} characters "
                f"[json-pointer:/blocks/{i}/text/text]"
            )
    if problems:
        raise ApiError("invalid_blocks", problems)
    return blocks
