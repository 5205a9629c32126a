"""A local stand-in for Slack Socket Mode: `apps.connections.open` on a FakeSlack, and the
websocket it points to, where a test pushes envelopes and reads the bot's acks."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from bot.demo.standins.slack_api import FakeSlack


class FakeSocketMode:
    """Call `install(slack)` before `slack.start()`; then `await send_event(body)`."""

    def __init__(self, app_token: str = "xapp-1-A0001-test") -> None:
        self.app_token = app_token
        self.slack: FakeSlack | None = None
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.connected = asyncio.Event()
        self.opens = 0

    def install(self, slack: FakeSlack) -> None:
        self.slack = slack
        slack.app_tokens.add(self.app_token)
        slack._handlers["apps.connections.open"] = self._open
        slack.app.router.add_get("/socket/link", self._link)

    def _open(self, args: dict[str, Any]) -> dict[str, Any]:
        assert self.slack is not None
        self.opens += 1
        return {
            "ok": True,
            "url": f"ws://127.0.0.1:{self.slack.port}/socket/link?ticket={uuid.uuid4()}",
        }

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "A0001"},
                "debug_info": {"host": "fake", "approximate_connection_time": 18060},
            }
        )
        self.connected.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                data = json.loads(msg.data)
                if "envelope_id" in data:
                    self.acks[data["envelope_id"]] = data
        return ws

    async def send(
        self, envelope_type: str, payload: dict[str, Any], *, retry_attempt: int = 0
    ) -> str:
        """Push one envelope to the connected bot; returns its envelope id."""
        await asyncio.wait_for(self.connected.wait(), 5)
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
        }
        if envelope_type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = "timeout" if retry_attempt else ""
        await self.sockets[-1].send_str(json.dumps(envelope))
        return envelope_id

    async def wait_ack(self, envelope_id: str, within: float = 5.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while envelope_id not in self.acks:
            if loop.time() > deadline:
                raise TimeoutError(f"no ack for envelope {envelope_id}")
            await asyncio.sleep(0.01)
        return self.acks[envelope_id]
