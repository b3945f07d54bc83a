"""What a job's message is, and the name of the task that applies it.

The API, the relay and the operator CLI publish these; the worker
(workers/tasks.py) consumes them. Publishing needs no import of the
worker: the task is named here, and its messages are built from
celeryconfig.py alone (infra/batch_sender.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import NamedTuple

# The task a job message runs: it carries the ids of one or more jobs, which
# a worker applies in one transaction (orders/apply.py). The one-job task of
# earlier versions is still consumed (a message queued before an upgrade).
APPLY_JOBS_TASK = "orderly.apply_jobs"
APPLY_TASK = "orderly.apply_order_command"
# The queue job messages go to (declared in celeryconfig.py).
COMMANDS_QUEUE = "orderly.commands"
# The name of a message (or of merged messages) whose jobs have several commands.
MIXED_COMMANDS_LABEL = "orderly.batch"


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
        """The name logs and Flower show for a message of this job alone
        (Celery's `shadow`): the command, e.g. orderly.pay."""
        return f"orderly.{self.command}"


def task_label(jobs: Sequence[JobMessage]) -> str:
    """What Flower and the logs name a message: its command when all its
    jobs share one (orderly.pay), else orderly.batch."""
    commands = {job.command for job in jobs}
    return jobs[0].task_label if len(commands) == 1 else MIXED_COMMANDS_LABEL


def in_messages(jobs: Sequence[JobMessage], per_message: int) -> list[Sequence[JobMessage]]:
    """The jobs in arrival order, `per_message` at most to a message
    (JOBS_PER_MESSAGE): what is waiting goes out together, never held back for more."""
    return [jobs[start : start + per_message] for start in range(0, len(jobs), per_message)]


# Hands the message for a committed job to the broker (or to a publisher).
Enqueue = Callable[[JobMessage], None]
