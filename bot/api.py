"""The HTTP API for CRMs and workflows (SPEC "Business outcomes and CRM"):
`POST /api/outcomes`, authenticated with a bearer token from config `[api] tokens`.

Every answer is JSON. A refusal names the field at fault, so a CRM integration can be
fixed from its own logs. Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.core.events import OUTCOME_KINDS, OutcomeKind
from bot.core.refs import Platform
from bot.handlers.outcomes import MAX_AMOUNT, FlagLocator, record_from_api
from bot.handlers.webhook import make_webhook, outcome_json
from bot.runtime import Runtime
from store.models import Outcome

log = logging.getLogger("crosstalk.api")
MAX_BODY = 64 * 1024
PLACEHOLDER_TOKEN = "change-me"  # the example config's; a warning if left in place
LOCATORS = ("flag_id", "permalink", "crm_ref", "source")
MESSAGES = {
    "amount": "amount must be a number >= 0",
    "kind": "kind must be one of " + ", ".join(OUTCOME_KINDS),
    "currency": "currency must be a three-letter code such as USD",
    "flag_id": "flag_id must be a positive integer",
}


MAX_KEY = 200


class SourceIn(BaseModel):
    """The flagged message itself: Slack channel id and ts, or Teams conversation and id."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    platform: Platform
    channel: str = Field(min_length=1, max_length=300)
    ts: str = Field(min_length=1, max_length=300)


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    flag_id: StrictInt | None = Field(default=None, gt=0, le=2**63 - 1)  # a 64-bit key
    permalink: str | None = Field(default=None, min_length=1, max_length=2000)
    crm_ref: str | None = Field(default=None, min_length=1, max_length=200)
    source: SourceIn | None = None
    kind: OutcomeKind
    amount: float = 0.0
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    note: str | None = Field(default=None, max_length=4000)

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> object:
        # A JSON number only: not a string, not true/false (which pydantic would take as 1/0).
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("not a number")
        if not (math.isfinite(value) and 0 <= value <= MAX_AMOUNT):
            raise ValueError("out of range")
        return value

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    def locator(self) -> FlagLocator | None:
        """The one way the body names its flag; None when it names none or several."""
        given = [name for name in LOCATORS if getattr(self, name) is not None]
        if len(given) != 1:
            return None
        source = self.source
        return FlagLocator(
            flag_id=self.flag_id,
            permalink=self.permalink,
            crm_ref=self.crm_ref,
            source=(source.platform, source.channel, source.ts) if source else None,
        )


def error_response(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status)


def unauthorized(message: str) -> web.Response:
    response = error_response(401, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="crosstalk"'
    return response


def authorized(header: str, tokens: list[str]) -> bool:
    scheme, _, given = header.strip().partition(" ")
    presented = given.strip().encode("utf-8", "replace")
    if scheme.lower() != "bearer" or not presented:
        return False
    matched = False
    for token in tokens:  # every token is compared, so the time says nothing about which
        if token:
            matched |= hmac.compare_digest(presented, token.encode())
    return matched


async def _read_capped(request: web.Request) -> bytes | None:
    """The body, or None past MAX_BODY (also when it comes chunked, with no length)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    body = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def _invalid(exc: ValidationError) -> web.Response:
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    if not loc:
        return error_response(400, "the body must be a JSON object")
    field = ".".join(loc)
    if first["type"] == "extra_forbidden":
        return error_response(400, f"unknown field {field!r}", field)
    if first["type"] == "missing":
        return error_response(400, f"{field} is required", field)
    message = MESSAGES.get(field) or f"{field}: {first['msg']}"
    return error_response(400, message, field)


def outcomes_handler(runtime: Runtime) -> Any:
    async def post_outcome(request: web.Request) -> web.Response:
        if not authorized(request.headers.get("Authorization", ""), runtime.config.api.tokens):
            log.info("POST /api/outcomes refused from %s: missing or bad token", request.remote)
            return unauthorized("a valid bearer token is required")
        raw = await _read_capped(request)
        if raw is None:
            return error_response(413, f"the body is larger than {MAX_BODY} bytes")
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return error_response(400, "the body is not valid JSON")
        try:
            body = OutcomeIn.model_validate(data)
        except ValidationError as exc:
            return _invalid(exc)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key) <= MAX_KEY and key.isprintable()):
            return error_response(
                400, f"Idempotency-Key must be 1 to {MAX_KEY} printable characters"
            )
        where = body.locator()
        if where is None:
            return error_response(
                400, "name the flag with exactly one of " + ", ".join(LOCATORS), "flag_id"
            )

        def record(session: Session) -> tuple[Outcome, bool] | None:
            return record_from_api(
                session=session,
                org=runtime.org,
                gateways=runtime.gateways,
                clock=runtime.clock,
                where=where,
                kind=body.kind,
                amount=float(body.amount),
                currency=body.currency or runtime.config.roi.currency,
                note=body.note,
                key=key,
            )

        try:
            recorded = await runtime.db.run(record)
        except IntegrityError:  # the same key, recorded by a concurrent request just now
            recorded = await runtime.db.run(record)
        runtime.worker.wake("outbox")  # the cards and the CRM webhook, now committed
        if recorded is None:
            return error_response(404, "no flag of this org is so named", _named(body))
        outcome, created = recorded
        repeat = not created
        if repeat:
            log.info(
                "outcome %s: a repeat of Idempotency-Key %r, not recorded again", outcome.id, key
            )
        else:
            log.info("outcome %s recorded via the API on flag %s", outcome.id, outcome.flag_id)
        return web.json_response(outcome_json(outcome), status=200 if repeat else 201)

    return post_outcome


def _named(body: OutcomeIn) -> str:
    return next(name for name in LOCATORS if getattr(body, name) is not None)


def mount(app: web.Application, runtime: Runtime) -> None:
    """Mount the API and switch the CRM webhook on when it can be signed."""
    api = runtime.config.api
    app.router.add_post("/api/outcomes", outcomes_handler(runtime))
    if not api.tokens:
        log.warning("[api] tokens is empty: POST /api/outcomes refuses every request")
    elif PLACEHOLDER_TOKEN in api.tokens:
        log.warning("[api] tokens still holds the example config's placeholder: replace it")
    secret = runtime.settings.crm_webhook_secret
    runtime.gateways.webhook = make_webhook(
        api.crm_webhook_url, secret.get_secret_value() if secret else None
    )
