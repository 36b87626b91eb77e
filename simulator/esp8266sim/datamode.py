"""The module's two data modes: counting a CIPSEND payload, and passthrough (CIPMODE=1, `AT+CIPSEND` alone).

A send takes exactly the announced bytes after the prompt [notes 4.1]; CIPSENDEX also ends at the two characters
`\\0` (`\\\\0` is a literal backslash-zero) [doc, both dialects]. Then `Recv N bytes`, and `SEND OK` once the link took them;
bytes typed while the send goes out get the dialect's busy line and are dropped [4.3] (those written with the payload
before its Recv line). In passthrough every byte goes to link 0 in packets cut at 20 ms of silence or 2048 bytes; a
lone `+++` between two silences ends it [doc].
"""
from __future__ import annotations

import asyncio
from typing import Optional

from .links import Link
from .moduleapi import ModuleApi
from .netstack import NetStack

__all__ = ["DataMode", "PASSTHROUGH_GUARD", "MAX_SEND"]

MAX_SEND = 2048                 # the most one CIPSEND takes on an ESP8266, both dialects
PASSTHROUGH_GUARD = 0.02        # silence before and after `+++`, and the packet gap in passthrough mode


class DataMode:
    def __init__(self, module: ModuleApi, net: NetStack) -> None:
        self.module = module
        self.net = net
        self.reset()

    def reset(self) -> None:
        self._payload: Optional[bytearray] = None
        self._length = 0
        self._link: Optional[Link] = None
        self._ex = False
        self._segment: Optional[int] = None     # CIPSENDBUF: the segment id the payload becomes
        self._number = 0                        # which send this is (the fault plan counts them)
        self.sending = False
        self._pt_buf = bytearray()
        self._pt_last = 0.0
        self._pt_timer: Optional[asyncio.TimerHandle] = None
        self._plus_timer: Optional[asyncio.TimerHandle] = None

    @property
    def active(self) -> bool:
        """Whether input bytes are data rather than command lines."""
        return self._payload is not None or self.sending or self.net.passthrough is not None

    @property
    def payload_left(self) -> int:
        """Bytes of a CIPSEND's payload still to come (0 outside one)."""
        return self._length - len(self._payload) if self._payload is not None else 0

    # --- CIPSEND / CIPSENDEX ----------------------------------------------------------------------------------------

    def expect(self, link: Link, length: int, ex: bool = False, segment: Optional[int] = None,
               head: bytes = b"") -> None:
        """The prompt (after `head`) went out: the next `length` bytes are the payload for `link`. A `segment`
        (1.x CIPSENDBUF) goes to the link's send buffer: the host may type commands while it goes out."""
        self._number = self.module.faults.on_send()
        self._payload = bytearray()
        self._length = length
        self._link = link
        self._ex = ex
        self._segment = segment
        self.module.emit(head + self.module.profile.send_prompt)

    def feed(self, data: bytes) -> int:
        """Take input bytes as data; returns how many were used (the rest are command lines again)."""
        module = self.module
        if self._payload is not None:
            take = min(self._length - len(self._payload), len(data))
            if self._ex:
                return self._feed_ex(data[:take])
            self._payload += data[:take]
            self._progress()
            return take
        if self.sending:
            module.log_input(data)
            # 1.x answers each LF (the open 0.9.x reader's at_statIpSended); 2.x any bytes ("\r\n or other
            # character", esp-at #89)
            for _ in range(data.count(b"\n") if module.profile.busy_sending_on_lf else 1):
                module.emit(module.profile.busy_sending)
            return len(data)
        self._passthrough_data(data)
        return len(data)

    def _feed_ex(self, data: bytes) -> int:
        """CIPSENDEX: the characters `\\0` end the payload early; `\\\\0` sends a literal `\\0` (both documents)."""
        payload = self._payload
        assert payload is not None
        for used, byte in enumerate(data, 1):
            if byte == 0x30 and payload.endswith(b"\\"):
                del payload[-1]
                if not payload.endswith(b"\\"):
                    self._length = len(payload)
                    self._progress()
                    return used
            payload.append(byte)
        self._progress()
        return len(data)

    def _progress(self) -> None:
        module = self.module
        payload = self._payload
        assert payload is not None
        if module.faults.resets_during(self._number, len(payload), self._length):
            self._payload = None
            module.log_input(bytes(payload))
            module.reset()
            return
        if len(payload) < self._length:
            return
        data = bytes(payload)
        link = self._link
        self._payload = None
        self._link = None
        module.log_input(data)
        recv = b"\r\nRecv %d bytes\r\n" % len(data)
        if self._segment is not None:
            module.emit(recv)
            module.spawn(self._transmit_segment(link, data, self._segment))
            return
        # The UART's task answers the rest of the bytes it holds (busy) before the send's task prints Recv: bytes
        # written with the payload get their busy line first (esp-at #89's capture; 0.9.x's recv and proc tasks).
        self.sending = True
        number = self._number

        def start() -> None:
            module.emit(recv)
            module.spawn(self._transmit(link, data, number))
        module.loop.call_soon(start)

    async def _transmit_segment(self, link: Link, data: bytes, segment: int) -> None:
        """CIPSENDBUF: `[<id>,]<segment>,SEND OK` once the segment went out (no busy while it does)."""
        module = self.module
        await asyncio.sleep(module.config.latency("send"))
        ok = not link.closed and await link.send(data)
        self.net.send_buffer(link.id).done(segment, ok)
        if ok:
            prefix = b"%d," % link.id if module.state["mux"] else b""
            module.emit(prefix + b"%d,SEND OK\r\n" % segment)

    async def _transmit(self, link: Link, data: bytes, number: int) -> None:
        module = self.module
        try:
            fail = module.faults.send_fails(number)
            await asyncio.sleep(module.config.latency("send"))
            if fail or link.closed or not await link.send(data):
                module.emit(module.profile.send_fail)
                if self.net.links.get(link.id) is link:
                    link.abort()
                    self.net.closed(link)
                return
            # handed to the TCP stack: the peer cannot have answered yet, so SEND OK comes before its reply
            module.emit(b"\r\nSEND OK\r\n")
            after = module.faults.after_send(number)
            if after.remote_close:
                link.abort()
                self.net.closed(link)
            if after.wifi_lost:
                module.lose_wifi()
        finally:
            self.sending = False

    # --- passthrough ------------------------------------------------------------------------------------------------

    def start_passthrough(self, link: Link, prompt: bool = True) -> None:
        """Every byte from the host goes to `link` from now on (the prompt: after `AT+CIPSEND`; none when the
        module enters passthrough by itself at power-up, AT+SAVETRANSLINK)."""
        self.net.passthrough = link
        self._pt_last = self.module.loop.time()
        if prompt:
            self.module.emit(b"\r\nOK\r\n\r\n>")

    def _passthrough_data(self, data: bytes) -> None:
        now = self.module.loop.time()
        quiet_before = now - self._pt_last >= PASSTHROUGH_GUARD
        self._pt_last = now
        if self._plus_timer is not None:            # more bytes: the `+++` was data after all
            self._plus_timer.cancel()
            self._plus_timer = None
            self._pt_buf += b"+++"
        if data == b"+++" and quiet_before and not self._pt_buf:
            self._plus_timer = self.module.loop.call_later(PASSTHROUGH_GUARD, self._leave_passthrough)
            return
        self._pt_buf += data
        self.module.log_input(data)
        if self._pt_timer is not None:
            self._pt_timer.cancel()
        if len(self._pt_buf) >= MAX_SEND:
            self._flush_passthrough()
        else:
            self._pt_timer = self.module.loop.call_later(PASSTHROUGH_GUARD, self._flush_passthrough)

    def _flush_passthrough(self) -> None:
        self._pt_timer = None
        link, data = self.net.passthrough, bytes(self._pt_buf)
        self._pt_buf.clear()
        if link is not None and data and not link.closed:
            self.module.spawn(link.send(data))

    def _leave_passthrough(self) -> None:
        self._plus_timer = None
        self._flush_passthrough()
        self.net.passthrough = None
        if self.module.state["sysmsg"] & 1:
            self.module.emit(self.module.profile.quit_passthrough)
