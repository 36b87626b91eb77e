"""Ending the tasks a loop still holds when it stops: each is cancelled and given its step on that loop, not left
pending to be destroyed with it ("Task was destroyed but it is pending!", or a coroutine "never awaited", reported
in whatever test or command runs when it is collected). Simulator's thread and the virtual clock's close use it."""
from __future__ import annotations

import asyncio
from typing import Callable

PASSES = 10     # a pass runs the callbacks still due, which may start tasks of their own; bounded all the same


def end_leftover_tasks(loop: asyncio.AbstractEventLoop, run_a_pass: Callable[[], None]) -> None:
    """Cancels the loop's unfinished tasks and runs `run_a_pass` (one turn of the stopped loop), again while tasks
    are left, at most PASSES times: a task that outlives its cancellation must not hold up the close."""
    for _ in range(PASSES):
        leftover = [task for task in asyncio.all_tasks(loop) if not task.done()]
        if not leftover:
            return
        for task in leftover:
            task.cancel()
        run_a_pass()
