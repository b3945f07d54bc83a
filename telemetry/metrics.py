"""Prometheus metrics of the API, the workers and the relay (prometheus-client).

The API (gunicorn) and the worker (Celery prefork) run several processes, so
their metrics live in prometheus-client's multiprocess mode: every process
writes its values to files under PROMETHEUS_MULTIPROC_DIR, and one exporter
per component sums them up (`serve`). The variable must be set before
prometheus_client is first imported (telemetry/multiproc.py): gunicorn.conf.py
sets it for the API, workers/celery_app.py for a worker, each to a folder of
its own. The relay is one process and uses the default registry;
it also sets the gauges computed from PostgreSQL (queue depth, oldest queued
job, pending invalidations), so that they come from one process only.

Each exporter listens on its own port, on 127.0.0.1 unless METRICS_HOST says
otherwise (docs/operations.md): API 9101, worker 9102, relay 9103.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess, start_http_server

import config

# --------------------------------------------------------------------- API
HTTP_REQUESTS = Counter(
    "orderly_http_requests", "HTTP requests answered, by route template and status", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "orderly_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
JOBS_ACCEPTED = Counter("orderly_jobs_accepted", "Commands accepted (202), by command", ["command"])
CACHE_READS = Counter("orderly_cache_reads", "Order reads from the cache: hit, miss or error", ["result"])
JOB_WAITS = Counter(
    "orderly_job_waits",
    "Requests that waited on a job (?wait=, Prefer: wait): finished in time, deadline, or refused (per-key bound)",
    ["outcome"],
)
JOB_WAITS_IN_PROGRESS = Gauge(
    "orderly_job_waits_in_progress", "Requests waiting on a job right now", multiprocess_mode="livesum"
)

# ------------------------------------------------------------------ worker
JOBS_FINISHED = Counter(
    "orderly_jobs_finished",
    "Jobs a worker finished, by command, outcome (succeeded, failed, skipped) and error code",
    ["command", "status", "code"],
)
JOBS_CANCELLED = Counter(
    "orderly_jobs_cancelled", "Queued jobs cancelled by their client (POST /jobs/{id}/cancel)", ["command"]
)
WEBHOOK_DELIVERIES = Counter(
    "orderly_webhook_deliveries",
    "Webhook delivery attempts, by outcome (delivered, retrying, gave_up, refused by the SSRF rules)",
    ["outcome"],
)
WEBHOOK_SECONDS = Histogram(
    "orderly_webhook_delivery_seconds",
    "Time from connecting to an endpoint to its answer (or the failure)",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "orderly_webhook_endpoints_disabled", "Endpoints disabled after failing for WEBHOOK_DISABLE_AFTER_HOURS"
)
JOB_LATENCY = Histogram(
    "orderly_job_queued_to_finished_seconds",
    "From the job's acceptance (created_at) to the worker's commit",
    ["command"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
JOBS_PER_TRANSACTION = Histogram(
    "orderly_jobs_per_transaction",
    "Jobs a worker applied in one transaction (the unfinished ones of one message)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
BATCHES_SPLIT = Counter(
    "orderly_batches_split", "Batches that failed unexpectedly and were applied again one job at a time"
)
LOCK_CONFLICTS = Counter(
    "orderly_optimistic_lock_conflicts", "Compare-and-set misses on an order's version (each is retried or fails)"
)
CACHE_INVALIDATIONS = Counter(
    "orderly_cache_invalidations",
    "Cache entries replaced by a tombstone after a commit (ok), or left to the relay (pending)",
    ["result"],
)

# ---------------------------------------------------------- stream publisher
STREAM_PUBLISHED = Counter("orderly_stream_published", "Events Kafka acknowledged (and left the outbox)")
STREAM_ERRORS = Counter("orderly_stream_errors", "Events Kafka refused or did not acknowledge in time (sent again)")
STREAM_BACKLOG = Gauge(
    "orderly_stream_outbox_events", "Events waiting in the outbox for Kafka", multiprocess_mode="max"
)
STREAM_OLDEST_AGE = Gauge(
    "orderly_stream_lag_seconds", "Age of the oldest event not yet in Kafka (0 when none)", multiprocess_mode="max"
)

# ---------------------------------------------------------- every component
REDIS_GUARD_TRIPS = Counter(
    "orderly_redis_guard_trips", "Redis failures that made a process skip Redis for a few seconds", ["purpose"]
)
REDIS_GUARD_OPEN_UNTIL = Gauge(
    "orderly_redis_guard_open_until_seconds",
    "Unix time until which a process skips Redis after a failure (open while > time())",
    ["purpose"],
    multiprocess_mode="max",
)

# ------------------------------------------------------------------- relay
RELAY_REPUBLISHED = Counter("orderly_relay_republished", "Jobs the relay published again (lost messages)")
QUEUED_JOBS = Gauge("orderly_queued_jobs", "Jobs accepted and not yet finished (queued)")
OLDEST_QUEUED_AGE = Gauge("orderly_oldest_queued_job_age_seconds", "Age of the oldest queued job (0 when none)")
PENDING_INVALIDATIONS = Gauge(
    "orderly_pending_cache_invalidations", "Cache invalidations that failed and wait for the relay"
)

# Series that exist before their first event (at 0), so that dashboards and
# rate() see them from the start.
for _result in ("hit", "miss"):
    CACHE_READS.labels(_result)
for _result in ("ok", "pending"):
    CACHE_INVALIDATIONS.labels(_result)
for _result in ("finished", "deadline", "refused"):
    JOB_WAITS.labels(_result)


def serve(component: str) -> int | None:
    """Start the component's exporter (a thread); returns its port, or None
    when <COMPONENT>_METRICS_PORT is 0 (off)."""
    settings = config.current()
    port = int(getattr(settings, f"{component}_metrics_port"))
    if port == 0:
        return None
    host = settings.metrics_host
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        start_http_server(port, addr=host, registry=registry)
    else:
        start_http_server(port, addr=host)
    return port


def route_label(rule: str | None) -> str:
    """The route template (bounded), never the raw path (unbounded)."""
    return rule or "unmatched"


def process_died(pid: int) -> None:
    """A child of the API or the worker exited: drop its live-gauge files."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.mark_process_dead(pid)
