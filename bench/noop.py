"""The Celery floor: publish N no-op tasks (no confirms) from one producer while
the bare worker consumes them; prints {"tasks_per_s": ...} when the queue is empty."""

from __future__ import annotations

import json
import sys
import time

from bench.bare.worker import app, noop

QUEUE = "bare.noop"


def queue_depth() -> int:
    with app.connection_for_write() as conn:
        return int(conn.default_channel.queue_declare(QUEUE, passive=True).message_count)


def main(count: int) -> None:
    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for _ in range(count):
            noop.apply_async(queue=QUEUE, producer=producer)
    published = time.perf_counter() - started
    deadline = time.monotonic() + 300
    while queue_depth() and time.monotonic() < deadline:
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    print(json.dumps({"tasks": count, "tasks_per_s": count / elapsed, "publish_per_s": count / published}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
