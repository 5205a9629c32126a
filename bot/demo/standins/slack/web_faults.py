"""Failure injection for the Slack stand-in: the next calls of a method answered 429 with
Retry-After, a 5xx, a Slack error, or a lost response (applied, then failed); and slow
answers."""

from __future__ import annotations

from aiohttp import web

from bot.demo.standins.slack.web_model import Call, Fault, reason
from bot.demo.standins.slack.web_state import SlackState


class FaultsMixin(SlackState):
    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int = 1,
        times: int = 1,
        after_effect: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        - ``status=429``: HTTP 429 with ``Retry-After: retry_after`` and
          ``{"ok": false, "error": "ratelimited"}``
        - ``status=500`` (any other non-200): that status with a text/plain body
        - ``error="channel_not_found"`` (no status): HTTP 200 with that Slack error
        - ``after_effect=True``: the call is applied first, then the failure is answered
          (a lost response).
        With neither ``status`` nor ``error``, HTTP 500.
        """
        if status is None:
            status = 200 if error is not None else 500
        self._faults.setdefault(method, []).append(
            Fault(status, error, retry_after, times, after_effect)
        )

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()

    def delay(self, method: str, seconds: float) -> None:
        """Answer ``method`` (``"*"`` for every method) only after ``seconds``; 0 removes it."""
        if seconds <= 0:
            self._delays.pop(method, None)
        else:
            self._delays[method] = seconds

    def _take_fault(self, method: str) -> Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault

    @staticmethod
    def _fault_response(fault: Fault) -> web.Response:
        if fault.status == 429:
            return web.json_response(
                {"ok": False, "error": fault.error or "ratelimited"},
                status=429,
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault.status != 200 and fault.error is None:
            return web.Response(
                status=fault.status,
                text=f"{fault.status} {reason(fault.status)}",
                content_type="text/plain",
            )
        return web.json_response(
            {"ok": False, "error": fault.error or "internal_error"}, status=fault.status
        )

    def _record_fault(self, call: Call, fault: Fault) -> web.Response:
        call.status = fault.status
        call.error = fault.error or ("ratelimited" if fault.status == 429 else "http_error")
        return self._fault_response(fault)
