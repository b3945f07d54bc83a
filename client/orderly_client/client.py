"""The Orderly API, as a Python object: submit commands, wait on jobs, read orders."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import requests

from orderly_client.errors import GaveUp, JobTimeout, ProblemError
from orderly_client.models import Job, Order, Page, Problem
from orderly_client.retrying import RETRIED_STATUSES, RetryPolicy

MAX_SERVER_WAIT = 20  # the API holds a `?wait=` request at most this long
COMMANDS = ("pay", "ship", "deliver", "cancel")


class Client:
    """One API key's view of Orderly.

    Every command gets an Idempotency-Key (yours, or a new UUID) that its own
    retries reuse: a command whose answer was lost is sent again and the API
    returns the same job instead of applying it twice.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._http = session or requests.Session()
        self._http.headers["Authorization"] = f"Bearer {api_key}"
        self._http.headers["User-Agent"] = "orderly-client/1.0"
        self._sleep = sleep

    # -- commands
    def create_order(
        self,
        currency: str,
        items: list[Mapping[str, Any]],
        customer_ref: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Job:
        """Accept an order for creation; the job's `order_id` is the new order's id."""
        body: dict[str, Any] = {"currency": currency, "items": [dict(item) for item in items]}
        if customer_ref is not None:
            body["customer_ref"] = customer_ref
        return self._command("POST", "/orders", body, idempotency_key=idempotency_key)

    def submit(
        self,
        order_id: str,
        command: str,
        *,
        if_match: int | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Accept `pay`, `ship`, `deliver`, `cancel` or `delete` for an order.
        With `if_match` (a version) the command applies only to that version."""
        if command == "delete":
            return self._command("DELETE", f"/orders/{order_id}", None, if_match, idempotency_key)
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}: one of {', '.join(COMMANDS)}, delete")
        return self._command("POST", f"/orders/{order_id}/commands", {"command": command}, if_match, idempotency_key)

    def cancel_job(self, job: Job | str) -> Job:
        """Withdraw a queued job; ProblemError 409 (problem.extra['job_status'])
        once a worker has claimed or finished it."""
        return Job.from_json(self._request("POST", f"/jobs/{_job_id(job)}/cancel").json())

    # -- jobs
    def job(self, job: Job | str) -> Job:
        return Job.from_json(self._request("GET", f"/jobs/{_job_id(job)}").json())

    def wait(self, job: Job | str, timeout: float = 60.0) -> Job:
        """The job once it has finished (succeeded, failed or cancelled).

        Holds one `?wait=` request at a time (at most 20 s each) instead of
        polling; JobTimeout after `timeout` seconds, with the job as it stood.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            seconds = max(1, min(MAX_SERVER_WAIT, math.ceil(remaining)))
            current = Job.from_json(
                self._request(
                    "GET", f"/jobs/{_job_id(job)}", params={"wait": seconds}, timeout=seconds + self.timeout
                ).json()
            )
            if current.finished:
                return current
            if time.monotonic() >= deadline:
                raise JobTimeout(current, timeout)

    # -- orders
    def order(self, order_id: str) -> Order:
        return Order.from_json(self._request("GET", f"/orders/{order_id}").json())

    def orders(self, *, status: str | None = None, sort: str = "-created_at", page: int = 1, limit: int = 20) -> Page:
        params: dict[str, Any] = {"sort": sort, "page": page, "limit": limit}
        if status is not None:
            params["status"] = status
        body = self._request("GET", "/orders", params=params).json()
        return Page([Order.from_json(o) for o in body["data"]], body["page"], body["limit"], body["total"])

    # -- plumbing
    def _command(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        if_match: int | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        return Job.from_json(self._request(method, path, json=body, headers=headers).json())

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send, retrying what is safe to retry (see retrying.py); ProblemError
        for any other error answer, GaveUp when the attempts run out."""
        kwargs.setdefault("timeout", self.timeout)
        for attempt in range(1, self.retry.max_attempts + 1):
            last_attempt = attempt == self.retry.max_attempts
            try:
                response = self._http.request(method, self.base_url + path, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last_attempt:
                    raise GaveUp(f"{method} {path}: no answer after {attempt} attempts") from exc
                self._sleep(self.retry.delay(attempt, None))
                continue
            if response.status_code < 400:
                return response
            problem = _problem(response)
            if response.status_code not in RETRIED_STATUSES:
                raise ProblemError(problem)
            if last_attempt:
                raise GaveUp(f"{method} {path}: still {response.status_code} after {attempt} attempts", problem)
            self._sleep(self.retry.delay(attempt, response.headers.get("Retry-After")))
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _job_id(job: Job | str) -> str:
    return job.id if isinstance(job, Job) else job


def _problem(response: requests.Response) -> Problem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    known = {"status", "type", "title", "detail"}
    return Problem(
        status=response.status_code,
        type=str(body.get("type", "about:blank")),
        title=str(body.get("title", response.reason or "")),
        detail=str(body.get("detail", response.text[:200])),
        extra={k: v for k, v in body.items() if k not in known},
    )
