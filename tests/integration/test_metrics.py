"""Prometheus metrics: what a command, a read and a failure move, on each
component's exporter (API, worker, relay), summed over their processes."""

from __future__ import annotations

import time
import uuid

import requests
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str, timeout: float = 30) -> Samples:
    """The exporter's samples; waits for it to start (a worker's, once it is ready)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            text = requests.get(url, timeout=10).text
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def eventually(check, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the metric did not move"
        time.sleep(0.2)


def test_a_command_and_reads_move_the_api_and_worker_metrics(api, running):
    before_api, before_worker = scrape(running.metrics["api"]), scrape(running.metrics["worker"])
    order_id = api.create_order()  # POST, polls until succeeded
    api.order(order_id)  # a miss, which fills the cache
    api.order(order_id)  # a hit
    assert api.get(f"/api/v1/orders/{uuid.uuid4()}").status_code == 404

    after = scrape(running.metrics["api"])

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before_api, name, **labels)

    assert moved("orderly_http_requests_total", method="POST", route="/api/v1/orders", status="202") == 1
    get = {"method": "GET", "route": "/api/v1/orders/<uuid:order_id>"}
    assert value(after, "orderly_http_requests_total", **get, status="404") >= 1
    assert value(after, "orderly_http_request_duration_seconds_count", **get) >= 3
    assert moved("orderly_cache_reads_total", result="hit") >= 1
    assert moved("orderly_cache_reads_total", result="miss") >= 1
    assert value(after, "orderly_jobs_accepted_total", command="create") >= 1
    # Route templates only: an id never becomes a label (unbounded series).
    assert order_id not in requests.get(running.metrics["api"], timeout=10).text

    finished = {"command": "create", "status": "succeeded", "code": ""}

    def worker_counted() -> bool:
        now = scrape(running.metrics["worker"])
        return value(now, "orderly_jobs_finished_total", **finished) > value(
            before_worker, "orderly_jobs_finished_total", **finished
        )

    eventually(worker_counted)
    worker = scrape(running.metrics["worker"])
    assert value(worker, "orderly_job_queued_to_finished_seconds_count", command="create") >= 1
    assert value(worker, "orderly_cache_invalidations_total", result="ok") >= 1


def test_a_failed_job_is_counted_by_its_error_code(api, running):
    order_id = api.create_order()
    label = {"command": "deliver", "status": "failed", "code": "invalid_transition"}
    before = value(scrape(running.metrics["worker"]), "orderly_jobs_finished_total", **label)
    assert api.apply(order_id, "deliver")["status"] == "failed"
    eventually(lambda: value(scrape(running.metrics["worker"]), "orderly_jobs_finished_total", **label) == before + 1)


def test_the_relay_reports_the_backlog_and_its_republishes(running):
    samples = scrape(running.metrics["relay"])
    assert ("orderly_queued_jobs", frozenset()) in samples
    assert value(samples, "orderly_oldest_queued_job_age_seconds") >= 0
    assert ("orderly_relay_republished_total", frozenset()) in samples
    assert ("orderly_pending_cache_invalidations", frozenset()) in samples


def test_waits_are_counted_by_outcome(api, running):
    before = value(scrape(running.metrics["api"]), "orderly_job_waits_total", outcome="finished")
    job = api.submit_create()
    assert api.get(f"/api/v1/jobs/{job['id']}?wait=10").json()["status"] == "succeeded"
    after = scrape(running.metrics["api"])
    assert value(after, "orderly_job_waits_total", outcome="finished") == before + 1
    assert value(after, "orderly_job_waits_in_progress") == 0
