"""Signing inbound Slack requests as Slack does (``v0`` HMAC-SHA256 over the timestamp and
the raw body), on a clock: a request built without a ``timestamp`` is signed at the time
of ``serving.request_clock`` — the test server's clock while one runs (``Server`` sets
it), the system clock otherwise (a benchmark against a real ``crosstalk serve``)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode

from bot.demo.standins.serving import request_time

DEFAULT_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DEFAULT_VERIFICATION_TOKEN = "Jhj5dZrVaK7ZwHHjRyZWjbDl"
DEFAULT_API_APP_ID = "A0001"
DEFAULT_BOT_USER_ID = "UBOT"

JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

JSONDict = dict[str, Any]


def now() -> float:
    """Now on the clock requests are dated on (``serving.request_clock``), as epoch seconds."""
    return request_time().timestamp()


class SignedRequest(NamedTuple):
    body: bytes
    headers: dict[str, str]

    def payload(self) -> JSONDict:
        """The JSON object carried by the body (event envelope, ``payload=`` or form fields)."""
        text = self.body.decode()
        if text.startswith("{"):
            parsed: JSONDict = json.loads(text)
            return parsed
        fields = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
        if set(fields) == {"payload"}:
            inner: JSONDict = json.loads(fields["payload"])
            return inner
        return dict(fields)


def sign(
    secret: str,
    body: bytes,
    timestamp: int | None = None,
    *,
    content_type: str | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> dict[str, str]:
    """Headers that make ``body`` a valid Slack request.

    ``X-Slack-Signature = "v0=" + hex(HMAC-SHA256(secret, "v0:{ts}:{body}"))``. Content-Type
    is JSON when the body is a JSON object, form-encoded otherwise, unless given.
    """
    ts = int(now()) if timestamp is None else int(timestamp)
    base = b"v0:" + str(ts).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if content_type is None:
        content_type = JSON_CONTENT_TYPE if body.lstrip().startswith(b"{") else FORM_CONTENT_TYPE
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": f"v0={digest}",
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
    elif retry_reason is not None:
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


def signed_json(
    data: JSONDict,
    secret: str,
    timestamp: int | None,
    retry_num: int | None,
    retry_reason: str | None,
) -> SignedRequest:
    body = json.dumps(data).encode()
    return SignedRequest(
        body,
        sign(
            secret,
            body,
            timestamp,
            content_type=JSON_CONTENT_TYPE,
            retry_num=retry_num,
            retry_reason=retry_reason,
        ),
    )


def signed_form(
    fields: dict[str, str],
    secret: str,
    timestamp: int | None,
    retry_num: int | None,
    retry_reason: str | None,
) -> SignedRequest:
    body = urlencode(fields).encode()
    return SignedRequest(
        body,
        sign(
            secret,
            body,
            timestamp,
            content_type=FORM_CONTENT_TYPE,
            retry_num=retry_num,
            retry_reason=retry_reason,
        ),
    )


def signed_payload(
    payload: JSONDict,
    secret: str,
    timestamp: int | None,
    retry_num: int | None,
    retry_reason: str | None,
) -> SignedRequest:
    return signed_form({"payload": json.dumps(payload)}, secret, timestamp, retry_num, retry_reason)
