"""The Celery app, configured from celeryconfig.py."""

from __future__ import annotations

from celery import Celery

import config

# Now, not lazily: `celery -A workers flower` reads FLOWER_BASIC_AUTH and
# FLOWER_ADDRESS from the environment right after importing this module.
config.load_env_file()

app = Celery("orderly")
app.config_from_object("celeryconfig")
