"""Merging the job messages a worker has prefetched into one pool job.

A message carries what the API's publisher had waiting (a few jobs under
load), so a worker draining a backlog would pay a transaction, a pool
round trip and a task event per few jobs. This Celery strategy (the code
that turns each delivered message into a request for the pool) hands a
message to the pool at once while a pool process is free; once all are
busy it holds the messages that arrive, and the first process to finish
gets every one of them (up to WORKER_MERGE_JOBS jobs) as one request: one
transaction for all their jobs (orders/apply.py). At light load nothing
waits, so nothing is merged and no latency is added.

What each message keeps:
- at-least-once: a message is acked only when its merged request ends,
  with the others'; a pool process that dies requeues all of them
  (task_reject_on_worker_lost); a message held here when the connection
  drops is never handed over (its delivery died with the channel: the
  broker delivers it again), nor while the worker shuts down;
- Celery's own handling before it is held: revocation, ETA, rate limits,
  the "received" log line;
- its retry count: a message that is a retry goes alone, with its own count.

What an operator sees in Flower: one task per merged request, named by
the command its jobs share (orderly.pay) or orderly.batch, its id the
first message's, its args every job id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Celery, Task
from celery.utils.imports import symbol_by_name
from celery.utils.saferepr import saferepr
from celery.worker import state
from celery.worker.request import Request, create_request_cls
from celery.worker.strategy import default

import config
from infra.messaging import MIXED_COMMANDS_LABEL

log = logging.getLogger(__name__)


def merging(task: Task, app: Celery, consumer: Any, **options: Any) -> Callable[..., Any]:
    """Celery's default strategy, but handing its requests to a Merger
    (`Task.Strategy` of the apply task)."""
    merger = Merger(task, app, consumer, config.current().worker_merge_jobs)
    return default(task, app, _HandingOverTo(consumer, merger.take), **options)


class _HandingOverTo:
    """The consumer as the default strategy sees it, but for where a request goes."""

    def __init__(self, consumer: Any, on_task_request: Callable[[Request], None]) -> None:
        self._consumer = consumer
        self.on_task_request = on_task_request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._consumer, name)


class Merger:
    """Holds requests while every pool process is busy; hands them over merged."""

    def __init__(self, task: Task, app: Celery, consumer: Any, max_jobs: int) -> None:
        self._hand_over = consumer.on_task_request
        self._pool = consumer.pool
        self._max_jobs = max_jobs
        self._waiting: list[Request] = []
        self._running = 0
        self._options = {
            "app": app,
            "hostname": consumer.hostname,
            "eventer": consumer.event_dispatcher,
            "task": task,
            "connection_errors": consumer.connection_errors,
        }
        pool_request = create_request_cls(
            symbol_by_name(task.Request), task, consumer.pool, consumer.hostname, consumer.event_dispatcher, app=app
        )
        merger = self

        class Merged(pool_request):  # type: ignore[misc, valid-type]
            """A request for one or more messages that tells the merger when it ends."""

            def execute_using_pool(self, pool: Any, **kwargs: Any) -> Any:
                result = super().execute_using_pool(pool, **kwargs)
                merger._running += 1  # only once the pool has taken it
                return result

            def on_success(self, *args: Any, **kwargs: Any) -> Any:
                try:
                    return super().on_success(*args, **kwargs)
                finally:
                    merger._ended(self)

            def on_failure(self, *args: Any, **kwargs: Any) -> Any:
                try:
                    return super().on_failure(*args, **kwargs)
                finally:
                    merger._ended(self)

        self._Merged = Merged

    def take(self, request: Request) -> None:
        """A request the default strategy has reserved: to the pool now, or held."""
        if not _mergeable(request):
            self._dispatch([request])
            return
        self._waiting.append(request)
        if self._running < self._pool.num_processes:
            self._flush()

    def _ended(self, request: Request) -> None:
        if getattr(request, "_merger_counted_out", False):
            return  # on_success of a failure calls on_failure: one end each
        request._merger_counted_out = True
        self._running -= 1
        self._flush()

    def _flush(self) -> None:
        if state.should_stop is not None or state.should_terminate is not None:
            self._forget(self._waiting, "the worker is shutting down")
            self._waiting = []
            return
        live: list[Request] = []
        stale: list[Request] = []
        for request in self._waiting:
            (live if _deliverable(request) else stale).append(request)
        self._forget(stale, "their channel closed")
        self._waiting = live
        if self._waiting:
            self._dispatch(self._next_batch())

    def _next_batch(self) -> list[Request]:
        """The oldest held requests, up to max_jobs jobs (at least one request)."""
        count, jobs = 0, 0
        for request in self._waiting:
            jobs += len(request.args[0])
            if count and jobs > self._max_jobs:
                break
            count += 1
        batch, self._waiting = self._waiting[:count], self._waiting[count:]
        return batch

    def _dispatch(self, requests: list[Request]) -> None:
        merged = self._merge(requests)
        for request in requests:
            state.task_ready(request)  # the merged request stands for them now
        state.task_reserved(merged)
        self._hand_over(merged)

    @staticmethod
    def _forget(requests: list[Request], why: str) -> None:
        """Requests never handed over nor acked: the broker delivers them again."""
        if requests:
            log.warning("%d held job messages not handed over: %s; the broker delivers them again", len(requests), why)
        for request in requests:
            state.task_ready(request)

    def _merge(self, requests: list[Request]) -> Request:
        first = requests[0]
        args, kwargs, embed = first._payload
        headers = dict(first.request_dict)
        if len(requests) > 1:
            job_ids = list(dict.fromkeys(job_id for request in requests for job_id in request.args[0]))
            args = [job_ids]
            names = {request.name for request in requests}
            headers["shadow"] = first.name if len(names) == 1 else MIXED_COMMANDS_LABEL
            headers["argsrepr"] = saferepr(args)

        def ack(logger: logging.Logger, errors: tuple[type[BaseException], ...]) -> None:
            for request in requests:
                request.on_ack(logger, errors)

        def reject(logger: logging.Logger, errors: tuple[type[BaseException], ...], requeue: bool) -> None:
            for request in requests:
                request.on_reject(logger, errors, requeue)

        merged = self._Merged(
            first.message,
            on_ack=ack,
            on_reject=reject,
            body=(args, kwargs, embed),
            headers=headers,
            decoded=True,
            utc=first.utc,
            **self._options,
        )
        # When the first message arrived (workers/task_events.py reports it).
        if hasattr(first, "received_at"):
            merged.received_at = first.received_at
        return merged


def _mergeable(request: Request) -> bool:
    """A first delivery of a message that lists job ids (a retry keeps its count alone)."""
    args = request.args
    return (
        not request.request_dict.get("retries")
        and len(args) == 1
        and isinstance(args[0], list)
        and all(isinstance(job_id, str) for job_id in args[0])
    )


def _deliverable(request: Request) -> bool:
    """Whether the request's message can still be acked: its channel is open."""
    channel = request.message.channel
    if channel is None or not getattr(channel, "is_open", True):
        return False
    return getattr(channel, "connection", True) is not None
