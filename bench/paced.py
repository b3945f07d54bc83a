"""An open-loop load generator: POSTs (or GETs, BENCH_METHOD=GET) at a fixed
rate, whatever the answers do.

Each request has a scheduled send time (start + i / rate) and its latency is
measured from that time, not from when it was actually sent, so a slow answer
cannot hide the requests that should have gone out meanwhile (coordinated
omission, the reason for wrk2). Requests go out over a pool of keep-alive
connections; a new one is opened when all are busy.

python -m bench.paced URL PATH RATE SECONDS  (environment: BENCH_KEY, BENCH_BODY, BENCH_METHOD,
BENCH_PREFER: a Prefer header, e.g. "respond-async, wait=20": the latency is then the client's wait
for the finished job, when the answer is 200)
prints one JSON line: sent, status counts, latency percentiles (ms), lateness.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

MAX_CONNECTIONS = 256


class Connections:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.open = 0

    async def take(self, fresh: bool = False) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.idle and not fresh:
            return self.idle.pop()
        self.open += 1
        return await asyncio.open_connection(self.host, self.port)

    def give_back(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], keep: bool) -> None:
        if keep:
            self.idle.append(connection)
        else:
            connection[1].close()
            self.open -= 1


async def one_request(connections: Connections, request: bytes, fresh: bool = False) -> int:
    """Send the request, read the whole answer; its status code (0 on error).

    A kept-alive connection the server closed meanwhile (its keep-alive
    timeout) fails before any answer: the request is sent again, once, on a
    new connection, as HTTP clients do."""
    reused = bool(connections.idle) and not fresh
    connection = await connections.take(fresh)
    reader, writer = connection
    try:
        writer.write(request)
        status_line = await reader.readline()
        if not status_line and reused:
            connections.give_back(connection, keep=False)
            return await one_request(connections, request, fresh=True)
        status = int(status_line.split()[1])
        length, keep = 0, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                keep = False
        await reader.readexactly(length)
    except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
        connections.give_back(connection, keep=False)
        return 0
    connections.give_back(connection, keep=keep)
    return status


async def run(url: str, path: str, rate: float, seconds: float) -> dict[str, object]:
    parts = urlsplit(url)
    connections = Connections(parts.hostname or "127.0.0.1", parts.port or 80)
    head = f"Host: {parts.netloc}\r\n"
    if os.environ.get("BENCH_KEY"):
        head += f"Authorization: Bearer {os.environ['BENCH_KEY']}\r\n"
    if os.environ.get("BENCH_PREFER"):
        head += f"Prefer: {os.environ['BENCH_PREFER']}\r\n"
    if os.environ.get("BENCH_METHOD", "POST") == "GET":
        request = f"GET {path} HTTP/1.1\r\n{head}\r\n".encode()
    else:
        body = os.environ.get("BENCH_BODY", "{}").encode()
        request = (
            f"POST {path} HTTP/1.1\r\n{head}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lateness: list[float] = []
    in_flight: set[asyncio.Task[None]] = set()

    async def send(scheduled: float) -> None:
        status = await one_request(connections, request)
        latencies.append(time.monotonic() - scheduled)
        statuses[status] += 1

    start = time.monotonic() + 0.1
    total = int(rate * seconds)
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        lateness.append(max(0.0, time.monotonic() - scheduled))
        if len(in_flight) >= MAX_CONNECTIONS:  # bounded: the API is far behind
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(send(scheduled))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.wait(in_flight, timeout=60)
    ordered = sorted(latencies)

    def percentile(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if ordered else 0.0

    return {
        "sent": total,
        "answered": len(latencies),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "accept_p50_ms": percentile(0.50),
        "accept_p95_ms": percentile(0.95),
        "accept_p99_ms": percentile(0.99),
        "accept_max_ms": round(1000 * ordered[-1], 2) if ordered else 0.0,
        "send_late_p99_ms": round(1000 * sorted(lateness)[int(0.99 * len(lateness))], 2) if lateness else 0.0,
        "connections": connections.open,
    }


if __name__ == "__main__":
    url, path, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    print(json.dumps(asyncio.run(run(url, path, rate, seconds))))
