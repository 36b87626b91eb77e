"""An asyncio event loop on virtual time: its clock jumps to the next timer whenever nothing is runnable, so a fake
module's seconds of join, connect and reply latency, and a week of idle field, cost no wall time.

    loop = VirtualLoop()
    loop.run_until(3600.0)      # runs every callback and timer due up to t = 3600 s, then stops with time() == 3600

Real sockets on loopback stay real (a fake link's connection to a server on this same loop): before the clock
jumps, the loop makes sure nothing real is on its way. A connect still in progress (a writer is registered) or a
TCP socket with bytes not yet taken by its peer (SIOCOUTQ) is waited for in real time, which counts as no virtual
time at all, so a run is the same for a seed however loaded the machine is. Work handed to an executor runs at
once, in the loop's thread (a real wait that costs no virtual time either). Whatever runs on the loop must not
wait on other threads; nothing here sleeps.
"""
from __future__ import annotations

import array
import asyncio
import fcntl
import heapq
import select
import selectors
import socket
import termios
from typing import Optional

from .leftover_tasks import end_leftover_tasks

__all__ = ["VirtualLoop"]

REAL_WAIT = 0.05            # seconds a real wait for loopback I/O in flight may take before it is looked at again
REAL_WAIT_LIMIT = 10.0      # ... and in all, before the loop says the I/O is stuck
_SIOCOUTQ = getattr(termios, "TIOCOUTQ", 0x5411)


class _VirtualSelector(selectors.DefaultSelector):
    """The loop's selector: asks the kernel without waiting; when nothing is ready, moves the clock instead."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: Optional["VirtualLoop"] = None
        self._ends: dict = {}       # fd -> (its address, its peer's) of each TCP socket registered (peer None: listening)
        self._left: dict = {}       # the ends of a connected TCP socket no longer registered -> its fd: closed, or paused

    def register(self, fileobj, events, data=None):
        key = super().register(fileobj, events, data)
        ends = self._ends[key.fd] = _tcp_ends(key.fd)
        if self._left.get(ends) == key.fd:
            del self._left[ends]        # the same socket back: its reading was paused, it was not closed
        return key

    def unregister(self, fileobj):
        key = super().unregister(fileobj)
        ends = self._ends.pop(key.fd, None)
        if ends is not None and ends[1] is not None:
            self._left[ends] = key.fd   # if it is closing, its FIN is on its way to a peer that may be ours
        return key

    def select(self, timeout=None):
        events = super().select(0)
        if events or timeout == 0:
            return events
        loop = self.loop
        waited = 0.0
        while self._in_flight():
            events = super().select(REAL_WAIT)
            if events:
                return events
            waited += REAL_WAIT
            if waited >= REAL_WAIT_LIMIT:
                raise RuntimeError("loopback I/O in flight for 10 s of real time: a peer is stuck")
        events = super().select(0)      # what arrived while the looks above found it had
        if events:
            return events
        wake = None if timeout is None else loop._now + timeout
        if loop._target is not None and (wake is None or wake > loop._target):
            loop._now = max(loop._now, loop._target)
            loop._reached = True
            loop.stop()
            return []
        if wake is None:
            raise RuntimeError("the virtual loop has nothing to wait for and no time to run to")
        loop._now = max(loop._now, wake)
        return []

    def _in_flight(self) -> bool:
        """Whether loopback I/O between sockets of this loop is on its way: a connect, bytes not yet taken by the
        peer, or the end of a connection closed here that its peer on this loop has not yet seen. (The kernel
        hands loopback segments on in its own time, later on a loaded machine: a clock that jumped meanwhile
        made the peer hear a close or an answer at another virtual time from one run to the next.)"""
        for key in list(self.get_map().values()):
            if key.events & selectors.EVENT_WRITE:
                return True         # a connect in progress, or a transport with a full send buffer
            ends = self._ends.get(key.fd)
            if ends is not None and ends[1] is not None:
                try:
                    if _outq(key.fd):
                        return True
                except OSError:
                    continue
        for ends, fd in list(self._left.items()):
            if _tcp_ends(fd) == ends:
                continue                # still open (asyncio closes a socket a turn after it stops reading it)
            peer = next((f for f, e in self._ends.items() if e == (ends[1], ends[0])), None)
            if peer is not None and not select.select([peer], [], [], 0)[0]:
                return True         # the peer has not heard the close yet
            del self._left[ends]
        return False


def _tcp_ends(fd: int):
    """(address, peer address) of the TCP socket `fd` (peer None when it is not connected), None for anything
    else; asked without taking the socket over."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        return None                 # not a socket (a pipe to a program), or closed
    try:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
            return None
        try:
            return sock.getsockname(), sock.getpeername()
        except OSError:
            return sock.getsockname(), None
    finally:
        sock.detach()


def _outq(fd: int) -> int:
    buf = array.array("i", [0])
    fcntl.ioctl(fd, _SIOCOUTQ, buf, True)
    return buf[0]


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self, start: float = 0.0) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self._now = float(start)
        self._target: Optional[float] = None
        self._reached = False

    def time(self) -> float:
        return self._now

    def run_until(self, t: float) -> None:
        """Runs callbacks, I/O and timers up to virtual time `t` (a timer due at `t` runs), until nothing more is
        runnable at `t`; then returns with time() == t."""
        if t < self._now:
            raise ValueError(f"cannot run back to {t} from {self._now}")
        self._target = t
        asyncio.set_event_loop(self)
        try:
            while True:
                self._reached = False
                self.run_forever()
                # a timer due within the clock's resolution of t runs in the last round: what it woke runs too
                if self._reached and not self._ready:
                    break
        finally:
            self._target = None

    def close(self) -> None:
        """Ends the tasks still pending (a server's handler waiting for a next request, a link's reader) at the
        current time, those their ends start included (a few passes), then closes: a task left pending is
        destroyed with the loop, logged as "Task was destroyed but it is pending!" in whatever test runs then."""
        if not self.is_closed() and not self.is_running():
            end_leftover_tasks(self, lambda: self.run_until(self._now))
        super().close()

    def next_timer(self) -> Optional[float]:
        """When the earliest pending timer is due (None: no timer)."""
        scheduled = self._scheduled
        while scheduled and scheduled[0]._cancelled:
            heapq.heappop(scheduled)
        return scheduled[0]._when if scheduled else None

    def run_in_executor(self, executor, func, *args):
        """At once, in this thread: the wait is real and costs no virtual time."""
        future = self.create_future()
        try:
            future.set_result(func(*args))
        except BaseException as exc:    # noqa: BLE001 -- handed to whoever awaits it, as an executor would
            future.set_exception(exc)
        return future
