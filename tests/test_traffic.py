"""The worker's steps wait for a pause in inbound requests, but never past `patience`."""

from __future__ import annotations

import asyncio

from bot.traffic import Traffic


async def test_a_step_goes_at_once_when_no_request_was_seen() -> None:
    traffic = Traffic(quiet=0.05, patience=5.0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await traffic.turn()
    assert loop.time() - start < 0.04


async def test_a_step_waits_for_the_request_in_flight_and_a_quiet_moment() -> None:
    traffic = Traffic(quiet=0.02, patience=5.0)
    loop = asyncio.get_running_loop()
    with traffic.request():
        step = asyncio.ensure_future(traffic.turn())
        await asyncio.sleep(0.05)
        assert not step.done()
        ended = loop.time()
    await asyncio.wait_for(step, 1.0)
    assert loop.time() - ended >= 0.02


async def test_a_step_goes_after_patience_while_requests_keep_coming() -> None:
    traffic = Traffic(quiet=0.01, patience=0.1)
    loop = asyncio.get_running_loop()
    await traffic.turn()  # the last step was now
    start = loop.time()
    with traffic.request():
        await asyncio.wait_for(traffic.turn(), 1.0)
        assert 0.09 <= loop.time() - start < 0.5
        second = asyncio.ensure_future(traffic.turn())
        await asyncio.sleep(0.05)
        assert not second.done()  # one step per `patience`, however many are waiting
        await asyncio.wait_for(second, 1.0)
