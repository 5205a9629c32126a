"""`@Crosstalk roi [period] [team]` in Teams: the same report as /roi and `crosstalk roi`,
for managers only; anyone else gets a refusal, bad arguments the usage line."""

from __future__ import annotations

from bot.core.cards import Content
from bot.core.events import Command
from bot.handlers.roi import command as roi_command
from bot.runtime import Runtime


async def answer_roi(runtime: Runtime, command: Command) -> Content:
    return await roi_command.answer(
        engine=runtime.engine,
        org=runtime.org,
        clock=runtime.clock,
        user=command.user,
        args=command.args,
    )
