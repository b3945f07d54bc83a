"""The Celery app, configured from celeryconfig.py."""

from __future__ import annotations

import logging

from celery import Celery

import config

# Now, not lazily: `celery -A workers flower` reads FLOWER_BASIC_AUTH and
# FLOWER_ADDRESS from the environment right after importing this module.
config.load_env_file()

app = Celery("orderly")
app.config_from_object("celeryconfig")

# workers/tasks.py logs each job's outcome with the job id; Celery's own
# "Task ... succeeded" line would say it again for every job. Its warnings and
# errors (failures, retries) still show; "Task ... received" lines stay too.
logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
