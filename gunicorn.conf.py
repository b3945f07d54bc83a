"""gunicorn settings for the API, from config.py (API_HOST, API_PORT,
WEB_CONCURRENCY, WEB_CONNECTIONS, GUNICORN_KEEPALIVE, GUNICORN_MAX_REQUESTS)."""

# Module-level names are gunicorn settings here ("config" is one): imports are private.
import config as _config
from telemetry import multiproc as _multiproc

_settings = _config.current()

# Metrics of all the API's processes in files (before prometheus_client loads).
_multiproc.prepare("api")

bind = f"{_settings.api_host}:{_settings.api_port}"
# gevent workers: each connection is a greenlet, so a request waiting on
# PostgreSQL, Redis or a slow client leaves its process free for the others.
# psycopg 3 (>= 3.1.14), redis-py and kombu cooperate with gevent's
# monkey-patching. Chosen over gthread in issue 8: less CPU per request, no
# thread per stalled client, and the model later work builds on (requests
# that wait on a job). One process per core. docs/performance.md.
worker_class = "gevent"
workers = _settings.web_concurrency
# Connections one process serves at once; past this it stops accepting and
# new clients wait in the listen backlog.
worker_connections = _settings.web_connections
# Keep-alive, and with it the header-read deadline: gevent workers read every
# request line and header block (the first on a connection too) under a
# timeout of `keepalive` seconds and drop a connection that has not sent them
# by then. With keepalive 0 they would wait forever on a stalled client.
keepalive = _settings.gunicorn_keepalive
timeout = 30  # a worker whose event loop is stuck this long is killed and replaced
graceful_timeout = 20
# Recycle workers now and then: bounds any slow leak (0 turns it off, as the
# benchmark does so that a leak shows).
max_requests = _settings.gunicorn_max_requests
max_requests_jitter = 1000
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
# Nothing a client could put a secret in: no Basic-auth user name (gunicorn's
# default %(u)s logs it, and `curl -u KEY:` puts an API key there), no query
# string (a key pasted as ?api_key=...), no Referer. The path, method, status,
# size, time taken (ms), user agent and the request id (X-Request-ID) stay.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}o)s'
# LOG_FORMAT=json: gunicorn's lines as JSON objects too (web/gunicorn_logging.py).
logger_class = "web.gunicorn_logging.OrderlyLogger"


def when_ready(server: object) -> None:
    """The master serves the metrics of every worker process on its own
    loopback port (API_METRICS_PORT, 9101; telemetry/metrics.py)."""
    from telemetry import metrics

    metrics.serve("api")


def child_exit(server: object, worker: object) -> None:
    from telemetry import metrics

    metrics.process_died(worker.pid)  # type: ignore[attr-defined]


def post_worker_init(worker: object) -> None:
    """In each worker, after gevent's monkey-patching: gunicorn's own error
    answers (a request it cannot parse) as problem+json (web/server_errors.py)."""
    from web import server_errors

    server_errors.install()
