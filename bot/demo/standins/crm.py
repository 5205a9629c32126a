"""A CRM webhook receiver on 127.0.0.1, written the way a careful receiver would be: it
checks the HMAC signature and the timestamp's age, and de-duplicates on the delivery id.
It can be told to fail the next requests (500, 429 with Retry-After, any status) or to
answer slowly, and it records everything that reached it.

    async with FakeCrm(secret) as crm:
        ...  # point [api] crm_webhook_url at crm.url
        assert crm.accepted["webhook:flag:1"]["event"] == "flag.created"
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.core.clock import Clock
from bot.demo.standins.serving import Standin, start_clock

JSONDict = dict[str, Any]


@dataclass
class Received:
    """One request as it arrived, and what the receiver answered."""

    delivery: str | None
    event: str | None
    timestamp: str | None
    signature: str | None
    body: bytes
    status: int
    at: datetime  # on the receiver's clock

    def json(self) -> JSONDict:
        data: JSONDict = json.loads(self.body)
        return data


@dataclass
class _Fault:
    status: int
    retry_after: str | None


class FakeCrm(Standin):
    """Checks a timestamp's age on :attr:`clock` (frozen at serving.START unless given one):
    give it the clock the server signs on."""

    def __init__(
        self,
        secret: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_age: float = 300.0,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(host=host, port=port)
        self.secret = secret.encode()
        self.max_age = max_age
        self.clock: Clock = clock or start_clock()
        #: Every request, in arrival order, with the status it got.
        self.received: list[Received] = []
        #: The first accepted body of each delivery id.
        self.accepted: dict[str, JSONDict] = {}
        #: How many times each delivery id was accepted as new (a correct sender: 1 each).
        self.deliveries: Counter[str] = Counter()
        #: Requests for a delivery id that had already been accepted.
        self.duplicates: Counter[str] = Counter()
        self._faults: list[_Fault] = []
        self._delay = 0.0

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hooks/crosstalk", self._handle)
        return app

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hooks/crosstalk"

    def fail_next(
        self, count: int = 1, *, status: int = 500, retry_after: str | None = None
    ) -> None:
        """Answer the next `count` correctly signed requests with `status` (not accepted)."""
        self._faults.extend(_Fault(status, retry_after) for _ in range(count))

    def answer_after(self, seconds: float) -> None:
        """Hold every answer this long (a slow or hung receiver)."""
        self._delay = seconds

    def verify(self, timestamp: str | None, signature: str | None, body: bytes) -> bool:
        if not timestamp or not signature or not timestamp.isdigit():
            return False
        if abs(self.clock.now().timestamp() - int(timestamp)) > self.max_age:
            return False
        mac = hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256)
        return hmac.compare_digest("sha256=" + mac.hexdigest(), signature)

    async def wait_for(self, count: int, *, within: float = 5.0) -> list[Received]:
        deadline = asyncio.get_running_loop().time() + within
        while len(self.received) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{len(self.received)}/{count} webhook requests")
            await asyncio.sleep(0.01)
        return self.received

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = request.headers
        record = Received(
            delivery=headers.get("X-Crosstalk-Delivery"),
            event=headers.get("X-Crosstalk-Event"),
            timestamp=headers.get("X-Crosstalk-Timestamp"),
            signature=headers.get("X-Crosstalk-Signature"),
            body=body,
            status=0,
            at=self.clock.now(),
        )
        self.received.append(record)
        if self._delay:
            await asyncio.sleep(self._delay)
        response = self._answer(record)
        record.status = response.status
        return response

    def _answer(self, record: Received) -> web.Response:
        if not self.verify(record.timestamp, record.signature, record.body):
            return web.json_response({"error": "bad signature"}, status=401)
        if not record.delivery:
            return web.json_response({"error": "no delivery id"}, status=400)
        if self._faults:
            fault = self._faults.pop(0)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            return web.json_response({"error": "try later"}, status=fault.status, headers=headers)
        if record.delivery in self.accepted:
            self.duplicates[record.delivery] += 1
            return web.json_response({"ok": True, "duplicate": True})
        self.accepted[record.delivery] = record.json()
        self.deliveries[record.delivery] += 1
        return web.json_response({"ok": True}, status=202)
