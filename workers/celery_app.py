"""The Celery app, configured from celeryconfig.py."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from telemetry import multiproc

# A worker runs several processes (prefork): its metrics go to files, which
# must be decided before prometheus_client is first imported.
if Path(sys.argv[0]).name == "celery" and "worker" in sys.argv[1:]:
    multiproc.prepare("worker")

from celery import Celery
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    celeryd_init,
    worker_process_shutdown,
    worker_ready,
)

import config
from telemetry import logs

# Now, not lazily: `celery -A workers flower` reads FLOWER_ADDRESS from the
# environment right after importing this module (its login: flowerconfig.py).
config.load_env_file()

app = Celery("orderly")
app.config_from_object("celeryconfig")

# workers/tasks.py logs each job's outcome with the job id; Celery's own
# "Task ... succeeded" line would say it again for every job. Its warnings and
# errors (failures, retries) still show; "Task ... received" lines stay too.
logging.getLogger("celery.app.trace").setLevel(logging.WARNING)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _orderly_log_lines(logger: logging.Logger, **_: object) -> None:
    """The worker's lines in Orderly's format (LOG_FORMAT), with the request
    id and job id of the job being applied (telemetry/logs.py)."""
    for handler in logger.handlers:
        logs.install(handler)


@worker_ready.connect
def _serve_metrics(**_: object) -> None:
    """The worker's main process serves the metrics of all its pool
    processes (WORKER_METRICS_PORT, 9102; telemetry/metrics.py)."""
    from telemetry import metrics

    metrics.serve("worker")


@worker_process_shutdown.connect
def _drop_live_gauges(pid: int | None = None, **_: object) -> None:
    from telemetry import metrics

    metrics.process_died(pid or os.getpid())


@celeryd_init.connect
def _publish_without_confirms(conf: object, **_: object) -> None:
    """A worker publishes only monitoring events and task retries: no
    publisher confirms for those (a confirm stalls the worker's main loop,
    which also feeds the pool). A retry lost on its way is not a lost command:
    its job is still queued in PostgreSQL, and the relay republishes it. The
    API and the relay, which publish the commands, keep confirms."""
    options = dict(app.conf.broker_transport_options)
    options["confirm_publish"] = False
    app.conf.broker_transport_options = options
