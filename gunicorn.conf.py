"""gunicorn settings for the API (environment: API_HOST, API_PORT, WEB_CONCURRENCY, WEB_THREADS)."""

import os

bind = f"{os.environ.get('API_HOST', '127.0.0.1')}:{os.environ.get('API_PORT', '8000')}"
# Threaded workers: a request waiting on PostgreSQL or Redis leaves its
# process free for the others (a sync worker sits idle through every wait).
# One process per core. The benchmark's floors run under these same settings
# (docs/performance.md).
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 30  # a request stuck longer than this is killed and its worker replaced
graceful_timeout = 20
# No keep-alive: gunicorn 27.0.1's gthread worker now and then answers a valid
# request on a kept-alive connection with 400 "bare LF as line terminator"
# (seen twice in about 90,000 requests of the test suite). Every answer
# closes its connection, as the sync workers did.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "0"))
# Recycle workers now and then: bounds any slow leak (0 turns it off, as the
# benchmark does so that a leak shows).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = 1000
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
