"""Closing the fake ends every task on its loop, those that a task's own ending starts included: a task left
pending is destroyed later ("Task was destroyed but it is pending!"), logged in whatever test runs then on that
worker (a collector test that checks its log once failed so)."""
from __future__ import annotations

import asyncio
import inspect

from esp8266sim import SimConfig, Simulator


def test_close_ends_the_tasks_that_ending_tasks_start():
    sim = Simulator(SimConfig(latency_scale=0))
    sim.start()
    started = []

    async def later() -> None:
        await asyncio.sleep(3600)

    async def first() -> None:
        try:
            await asyncio.sleep(3600)
        finally:                                # as a long command's end lets the next line start its own
            started.append(asyncio.get_running_loop().create_task(later()))

    sim.call(lambda: asyncio.get_running_loop().create_task(first()))
    sim.close()
    assert started and started[0].done(), "a task started while closing was left pending"


def test_a_task_started_as_the_loop_stops_is_ended_on_its_loop():
    """A callback that runs after the loop was told to stop (a line that arrived while the fake closed) may start a
    task whose first step comes after the stop: it never ran, and its coroutine was reported "never awaited" where
    it was collected, in another test."""
    sim = Simulator(SimConfig(latency_scale=0))
    sim.start()

    async def late() -> None:
        await asyncio.sleep(3600)
    coro = late()

    def stop_then_spawn() -> None:
        sim.loop.stop()
        sim.module.spawn(coro)
    sim.loop.call_soon_threadsafe(stop_then_spawn)
    sim._thread.join(timeout=10)
    assert not sim._thread.is_alive()
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED, inspect.getcoroutinestate(coro)


def test_a_task_started_during_the_leftover_pass_is_ended_too():
    """The pass that ends the leftover tasks runs the loop, and with it any callback still due (the paced wire's
    next byte, ending a line that starts a command): the task that starts then is ended as well, not left pending."""
    sim = Simulator(SimConfig(latency_scale=0))
    sim.start()

    async def late() -> None:
        await asyncio.sleep(3600)
    first, second = late(), late()

    def stop_then_spawn_twice() -> None:
        sim.loop.stop()
        sim.module.spawn(first)                         # left over: the pass runs for it
        sim.loop.call_soon(sim.module.spawn, second)    # runs in that pass
    sim.loop.call_soon_threadsafe(stop_then_spawn_twice)
    sim._thread.join(timeout=10)
    assert not sim._thread.is_alive()
    states = [inspect.getcoroutinestate(coro) for coro in (first, second)]
    assert states == [inspect.CORO_CLOSED] * 2, states


def test_a_long_command_cancelled_before_it_started_leaves_no_unawaited_coroutine():
    """A long command (AT+CIPSTART) runs as a task; cancelled before its first step (the fake closing as the line
    arrived), the handler's own coroutine must be ended with it, not collected later as "never awaited"."""
    import gc
    import warnings

    sim = Simulator(SimConfig(latency_scale=0))
    sim.start()

    def feed_then_cancel() -> int:
        before = asyncio.all_tasks() - {asyncio.current_task()}
        sim.module.feed(b'AT+CIPSTART="TCP","example.com",80\r\n')
        started = asyncio.all_tasks() - {asyncio.current_task()} - before
        for task in started:
            task.cancel()
        return len(started)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert sim.call(feed_then_cancel) == 1          # the command's task: the case this test is about
        sim.close()
        gc.collect()
    unawaited = [str(w.message) for w in caught if "never awaited" in str(w.message)]
    assert not unawaited, unawaited


def test_closing_the_fake_closes_its_event_loop_started_or_not():
    # An event loop holds three file descriptors (its epoll and its wake-up socket pair) until it is closed; a fake
    # that left its loop unclosed held them until the garbage collector ran, which warned "unclosed event loop" in
    # whatever test ran then.
    sim = Simulator(SimConfig(latency_scale=0))
    sim.start()
    sim.close()
    assert sim.loop.is_closed()
    never_started = Simulator(SimConfig(latency_scale=0))
    never_started.close()
    assert never_started.loop.is_closed()
