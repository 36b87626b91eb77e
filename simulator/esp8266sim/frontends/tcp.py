"""`socket://HOST:PORT`: the fake module's serial line on a TCP port, one client at a time like one cable (a second
is turned away while the first is connected). A TCP client has no baud rate, so it never reads a rate mismatch.
"""
from __future__ import annotations

import asyncio
from typing import List

from .hostline import HostLine

__all__ = ["serve_tcp"]


async def serve_tcp(line: HostLine, host: str, port: int) -> str:
    """Listen on the simulator's loop; returns the `socket://` URL."""
    current: List[asyncio.StreamWriter] = []

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if current:
            writer.close()              # the cable is taken
            return
        current.append(writer)
        line.connect_host(writer.write)
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    break
                line.from_host(data)
        except (OSError, ConnectionError):
            pass
        except asyncio.CancelledError:  # shutting down: asyncio would print it as a traceback
            pass
        finally:
            line.connect_host(None)
            current.remove(writer)
            writer.close()

    server = await asyncio.start_server(client, host, port)

    def close() -> None:
        server.close()
        for writer in current:
            writer.close()
    line.add_closer(close)
    bound = server.sockets[0].getsockname()
    return f"socket://{bound[0]}:{bound[1]}"
