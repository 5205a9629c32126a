"""The Slack stand-in's HTTP side: ``/api/{method}`` arguments read as Slack reads them
(query string, form or JSON body; the token as a header or a field), every call recorded,
faults and delays applied; the upload URLs and the ``response_url`` hooks."""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web

from bot.demo.standins.slack.web_faults import FaultsMixin
from bot.demo.standins.slack.web_model import JSON_ARGS, ApiError, Call, JSONDict, form_value


class HttpMixin(FaultsMixin):
    def build_app(self) -> web.Application:
        """The routes: Web API methods, upload URLs and response_url hooks."""
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_post("/hooks/{name:.+}", self._handle_hook)
        return app

    async def _parse(self, request: web.Request) -> tuple[JSONDict, str | None]:
        args: JSONDict = dict(request.query)
        token: str | None = None
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                raw = await request.read()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError as exc:
                        raise ApiError("invalid_json") from exc
                    if not isinstance(body, dict):
                        raise ApiError("invalid_json")
                    args.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, item in form.items():
                    args[key] = form_value(item)
        form_token = args.pop("token", None)
        if token is None and isinstance(form_token, str):
            token = form_token
        return args, token

    @staticmethod
    def _decode_json_args(args: JSONDict) -> None:
        """Decode JSON-string fields (``blocks``, ``view``...) in place."""
        for key in JSON_ARGS:
            value = args.get(key)
            if isinstance(value, str):
                try:
                    args[key] = json.loads(value)
                except ValueError:
                    if key in ("blocks", "attachments"):
                        raise ApiError(f"invalid_{key}_format") from None

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        call = Call(method=method, args={}, at=time.time())
        self.calls.append(call)
        try:
            call.args, call.token = await self._parse(request)
            self._decode_json_args(call.args)
        except ApiError as exc:
            call.error = exc.error
            return web.json_response(exc.body())

        handler = self._handlers.get(method)
        if handler is None:
            call.error = "unknown_method"
            return web.json_response({"ok": False, "error": "unknown_method", "req_method": method})
        if call.token != self.token and not (
            method in self.app_token_methods and call.token in self.app_tokens
        ):
            call.error = "invalid_auth"
            return web.json_response({"ok": False, "error": "invalid_auth"})

        wait = self._delays.get(method, self._delays.get("*", 0.0))
        if wait:
            await asyncio.sleep(wait)

        fault = self._take_fault(method)
        if fault is not None and not fault.after_effect:
            return self._record_fault(call, fault)
        try:
            body = handler(call.args)
        except ApiError as exc:
            body = exc.body()
        if fault is not None:
            return self._record_fault(call, fault)
        if not body.get("ok"):
            call.error = str(body.get("error"))
        return web.json_response(body)

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file = self.files.get(request.match_info["file_id"])
        if file is None:
            return web.Response(status=404, text="file not found", content_type="text/plain")
        if request.content_type == "multipart/form-data":
            form = await request.post()
            parts = [form_value(v) for v in form.values()]
            binary = [p for p in parts if isinstance(p, bytes)]
            data = binary[0] if binary else (str(parts[0]).encode() if parts else b"")
        else:
            data = await request.read()
        file.content = data
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _handle_hook(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return web.Response(status=400, text="invalid_payload", content_type="text/plain")
        self.responses[request.match_info["name"]].append(body)
        return web.Response(text="ok", content_type="text/plain")
