"""Celery settings, read from the environment through config.py.

Chosen for at-least-once delivery of order commands; the consumer is idempotent
(orders/apply.py), so a redelivery is harmless.
"""

from __future__ import annotations

from kombu import Exchange, Queue

import config
from infra.messaging import COMMANDS_QUEUE

_settings = config.current()


broker_url = _settings.broker_url
broker_connection_retry_on_startup = True
broker_connection_max_retries = None  # keep trying: a broker restart must not kill workers
# Seconds; a worker that stops answering (frozen, partitioned) loses its
# connection after about two of these and its unacked messages go to others.
broker_heartbeat = _settings.broker_heartbeat_seconds
# Wait for RabbitMQ to confirm each publish: a message the broker could not take
# raises in the API instead of vanishing.
#
# Socket read/write timeouts (SO_RCVTIMEO/SO_SNDTIMEO) bound every blocking call
# on the broker socket. Without them a connection opened into a network
# partition hangs in the AMQP handshake forever, and with it the worker's main
# loop (found by tests/faults/test_network_faults.py).
broker_transport_options = {"confirm_publish": True, "read_timeout": 10, "write_timeout": 10}

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]  # never pickle: anyone who can publish could run code
task_ignore_result = True  # job state lives in PostgreSQL
result_backend = None

# Ack after the task ran, and give the message back if the pool child dies:
# a crash mid-command leads to a redelivery, never a lost command.
task_acks_late = True
task_reject_on_worker_lost = True
# When the broker connection drops, the unacked messages go back to the queue
# anyway: stop the tasks still running on them rather than finish work whose
# ack cannot be delivered (the redelivery does it again, idempotently).
worker_cancel_long_running_tasks_on_connection_loss = True
# Sixteen reserved messages per process: with one, each process waits a
# round trip to RabbitMQ (ack, next delivery) after every job; and the
# messages that wait here while every process is busy are what the worker
# merges into one transaction (workers/merging.py), so more reserved means
# larger batches under load (docs/performance.md). Reserved messages are
# unacked, so a worker that dies hands them back; a merged batch of up to
# WORKER_MERGE_JOBS jobs takes a fraction of a second, so none waits long.
worker_prefetch_multiplier = _settings.worker_prefetch_multiplier
# Far below RabbitMQ's 30 min consumer_timeout.
task_soft_time_limit = 60
task_time_limit = 90

task_default_queue = COMMANDS_QUEUE
task_queues = (
    Queue(
        COMMANDS_QUEUE, Exchange(COMMANDS_QUEUE, type="direct", durable=True), routing_key=COMMANDS_QUEUE, durable=True
    ),
)
task_default_delivery_mode = "persistent"
task_routes = {"orderly.*": {"queue": COMMANDS_QUEUE, "routing_key": COMMANDS_QUEUE}}
task_create_missing_queues = False

worker_concurrency = _settings.worker_concurrency
# Flower shows tasks live from the worker's events. No "task-sent" event from the
# API: it would double the messages every accepted command publishes.
worker_send_task_events = _settings.worker_send_task_events
include = ["workers.tasks"]
