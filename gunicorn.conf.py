"""gunicorn settings for the API (environment: API_HOST, API_PORT, WEB_CONCURRENCY)."""

import os

bind = f"{os.environ.get('API_HOST', '127.0.0.1')}:{os.environ.get('API_PORT', '8000')}"
# Sync workers: each request is short and blocking on PostgreSQL; they stay
# balanced across processes where gthread piles keep-alive connections on one.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 30  # a request stuck longer than this is killed and its worker replaced
graceful_timeout = 20
keepalive = 2
max_requests = 10000  # recycle workers now and then: bounds any slow leak
max_requests_jitter = 1000
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
