"""One task event per message, sent when it ends, instead of Celery's three.

A Celery worker sends task-received when a message arrives, task-started
when a pool process takes it and task-succeeded (or -failed, -retried, ...)
when it ends. Flower's CPU, and part of RabbitMQ's and the worker's, goes
on those events. Celery's event state merges every field an event carries
(celery/events/state.py), so the final event alone, carrying the fields of
the other two (name, args, received, started), fills the same rows of
Flower's task pages.

What an operator no longer sees: a message while it waits in the worker's
prefetch or while its batch runs; it appears in Flower when it ends. The
worker's heartbeats still report how many tasks are active. Events stay
governed by WORKER_SEND_TASK_EVENTS and `celery control enable_events` /
`disable_events`, as before (the dispatcher drops task events while off).
"""

from __future__ import annotations

from time import time
from typing import Any

from celery.worker.request import Request

# Sent on arrival and on start: their fields travel with the final event.
MERGED_INTO_THE_LAST = frozenset({"task-received", "task-started"})


class OneEventRequest(Request):
    """A task request whose only event is its last one (tasks with `send_events=False`,
    so that Celery's strategy sends no task-received of its own)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received_at = time()  # built by the strategy as the message arrives

    def send_event(self, type: str, **fields: Any) -> None:
        eventer = self._eventer
        if type in MERGED_INTO_THE_LAST or not (eventer and eventer.enabled):
            return
        eventer.send(
            type,
            uuid=self.id,
            name=self.name,
            args=self.argsrepr,
            kwargs=self.kwargsrepr,
            retries=self.request_dict.get("retries", 0),
            received=self.received_at,
            started=self.time_start,
            **fields,
        )
