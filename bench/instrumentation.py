"""What metrics and logs add to one command, timed alone (not a test).

`python -m bench.instrumentation`: the metric updates and log lines one
command causes in the API (accept: a counter, an HTTP counter and
histogram, the access line) and in the worker (finished counter, latency
histogram, cache invalidation counter, the outcome line), in prometheus-
client's multiprocess mode as shipped, timed over many repetitions, median
of 5 rounds. Compare with the CPU per command `make bench` prints (about
6 ms of one core): the ratio is what instrumentation costs the throughput.
"""

from __future__ import annotations

import io
import logging
import os
import statistics
import tempfile
import time

from telemetry import multiproc

os.environ.setdefault("METRICS_DIR", tempfile.mkdtemp(prefix="orderly-instrumentation-"))
multiproc.prepare("bench")

from telemetry import logs, metrics  # noqa: E402

ROUNDS, REPEATS = 5, 20_000


def _logger(json_format: bool) -> logging.Logger:
    os.environ["LOG_FORMAT"] = "json" if json_format else "text"
    logs.json_logs.cache_clear()
    logger = logging.getLogger(f"bench.{json_format}")
    logger.propagate = False
    handler = logging.StreamHandler(io.StringIO())
    logs.install(handler)
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    return logger


def api_side(logger: logging.Logger) -> None:
    metrics.JOBS_ACCEPTED.labels("pay").inc()
    metrics.HTTP_REQUESTS.labels("POST", "/api/v1/orders/<uuid:order_id>/commands", "202").inc()
    metrics.HTTP_LATENCY.labels("POST", "/api/v1/orders/<uuid:order_id>/commands").observe(0.004)
    logger.info("request", extra={"remote": "127.0.0.1", "method": "POST", "path": "/api/v1/orders/x/commands",
                                  "status": 202, "bytes": 300, "duration_ms": 4, "user_agent": "wrk",
                                  "request_id": "0123456789abcdef0123456789abcdef"})  # fmt: skip


def worker_side(logger: logging.Logger) -> None:
    metrics.JOBS_FINISHED.labels("pay", "succeeded", "").inc()
    metrics.JOB_LATENCY.labels("pay").observe(0.012)
    metrics.CACHE_INVALIDATIONS.labels("ok").inc()
    with logs.log_context(request_id="0123456789abcdef0123456789abcdef", job_id="6f1c2b7e-0000-4000-8000-000000000000"):
        logger.info("job %s: %s", "6f1c2b7e-0000-4000-8000-000000000000", "succeeded")


def microseconds(step: object, logger: logging.Logger) -> float:
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(REPEATS):
            step(logger)  # type: ignore[operator]
        rounds.append((time.perf_counter() - started) / REPEATS * 1e6)
    return statistics.median(rounds)


def main() -> None:
    for json_format in (False, True):
        logger = _logger(json_format)
        api, worker = microseconds(api_side, logger), microseconds(worker_side, logger)
        name = "json" if json_format else "text"
        print(f"LOG_FORMAT={name}: API {api:.1f} us, worker {worker:.1f} us per command "
              f"(= {(api + worker) / 6000 * 100:.2f} % of 6 ms of CPU per command)")  # fmt: skip


if __name__ == "__main__":
    main()
