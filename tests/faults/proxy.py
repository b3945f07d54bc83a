"""A small TCP fault proxy on 127.0.0.1, run in a thread of the test process.

It sits between the processes under test and a real server and can, on demand:
pass traffic, blackhole it (connections stay open, bytes are held until the
link heals: a network partition), or reset every open connection. No firewall rules, no root tricks.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

PASS, BLACKHOLE = "pass", "blackhole"


class FaultProxy:
    def __init__(self, upstream_port: int, name: str) -> None:
        self.name = name
        self.upstream_port = upstream_port
        self.port = 0
        self.mode = PASS
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"proxy-{name}", daemon=True)

    def start(self) -> FaultProxy:
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self.reset_all()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def blackhole(self) -> None:
        """Keep connections open but deliver nothing, in either direction, until heal()."""
        self.mode = BLACKHOLE

    def heal(self) -> None:
        self.mode = PASS

    def reset_all(self) -> int:
        """Abort every open connection (the peers see a reset); return how many."""
        return int(self._call(self._reset_all()))

    # ------------------------------------------------------------ internals
    def _call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(10)

    async def _reset_all(self) -> int:
        writers = list(self._writers)
        for writer in writers:
            writer.transport.abort()
        self._writers.clear()
        return len(writers)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update((client_writer, server_writer))
        await asyncio.gather(
            self._pipe(client_reader, server_writer, client_writer),
            self._pipe(server_reader, client_writer, server_writer),
        )

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, other: asyncio.StreamWriter
    ) -> None:
        try:
            while data := await reader.read(65536):
                # A partition: TCP would keep the bytes and retry, so hold them
                # until the link heals; the peers' own timeouts decide the rest.
                while self.mode == BLACKHOLE:
                    await asyncio.sleep(0.05)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            for end in (writer, other):
                self._writers.discard(end)
                end.transport.abort()
