"""What a job's message is, and the name of the task that applies it.

The API, the relay and the operator CLI publish these; the worker
(workers/tasks.py) consumes them. Publishing needs no import of the
worker: the task is named here, and its messages are built from
celeryconfig.py alone (infra/batch_sender.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import NamedTuple

# The one task every job message runs (the command is its shadow name), and
# the queue its messages go to (declared in celeryconfig.py).
APPLY_TASK = "orderly.apply_order_command"
COMMANDS_QUEUE = "orderly.commands"


class JobMessage(NamedTuple):
    """What a job's message carries: its id (the worker reads the rest from the
    job row), which is also the Celery task id, and its command, which names
    the task in logs and in Flower. A republished message has the same task
    id; nothing in Celery depends on task ids being unique without a result
    backend, and applying twice is prevented by the job row."""

    id: uuid.UUID
    command: str

    @property
    def task_label(self) -> str:
        """The name logs and Flower show for the task (Celery's `shadow`):
        the command, e.g. orderly.pay; the task run is always APPLY_TASK."""
        return f"orderly.{self.command}"


# Hands the message for a committed job to the broker (or to a publisher).
Enqueue = Callable[[JobMessage], None]
