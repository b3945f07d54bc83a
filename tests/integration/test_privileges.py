"""The app's PostgreSQL role, Redis user and RabbitMQ user may read and write
data, nothing more; no default or administrator login is left open."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import kombu
import pytest
import redis
import requests
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError


def test_the_app_role_is_not_privileged(session_factory):
    with session_factory() as session:
        role = session.execute(
            text(
                "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls "
                "FROM pg_roles WHERE rolname = current_user"
            )
        ).one()
        owner = session.scalar(text("SELECT tableowner FROM pg_tables WHERE tablename = 'orders'"))
    assert role.rolname == "orderly"
    assert not (role.rolsuper or role.rolcreatedb or role.rolcreaterole or role.rolbypassrls)
    assert owner != role.rolname  # the schema belongs to the migrations' role


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE intruder (id int)",
        "DROP TABLE orders",
        "ALTER TABLE orders ADD COLUMN intruder int",
        "TRUNCATE order_events",
        "CREATE ROLE intruder",
    ],
)
def test_the_app_role_cannot_change_the_schema(session_factory, statement):
    with session_factory() as session, pytest.raises(ProgrammingError, match=r"permission denied|must be owner"):
        session.execute(text(statement))


def test_the_app_role_reads_and_writes_rows(api, session_factory):
    order_id = api.create_order()  # the API and the worker wrote it as the app role
    with session_factory() as session:
        assert session.scalar(text("SELECT count(*) FROM orders WHERE id = :id"), {"id": order_id}) == 1


@pytest.mark.parametrize(
    "command",
    [
        ("FLUSHALL",),
        ("CONFIG", "SET", "save", "60 1"),
        ("KEYS", "*"),
        ("SET", "not-ours", "1"),
        ("CLIENT", "PAUSE", "1"),
    ],
)
def test_the_app_redis_user_is_limited_to_its_keys_and_commands(settings, command):
    client = redis.Redis.from_url(settings.redis_url)
    assert client.connection_pool.connection_kwargs["username"] == "orderly"
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.execute_command(*command)


def test_redis_has_no_default_user(settings):
    anonymous = redis.Redis(
        host="127.0.0.1", port=redis.Redis.from_url(settings.redis_url).connection_pool.connection_kwargs["port"]
    )
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.ping()


def management_api() -> str:
    return f"http://127.0.0.1:{os.environ.get('ORDERLY_RABBIT_MGMT_PORT', '55673')}/api"


def test_rabbitmq_has_no_guest_user(settings):
    # The management API answers 401 to guest/guest (deleted, not just limited to loopback) ...
    assert requests.get(f"{management_api()}/overview", auth=("guest", "guest"), timeout=10).status_code == 401
    # ... and so does the broker itself.
    broker = urlsplit(settings.broker_url)
    guest = kombu.Connection(f"amqp://guest:guest@{broker.hostname}:{broker.port}/", connect_timeout=5)
    with pytest.raises(Exception, match=r"(?i)access.refused|auth|login"):
        guest.connect()
    # The operators' administrator exists (the probe would pass against a dead API otherwise).
    admin = urlsplit(os.environ["RABBITMQ_ADMIN_URL"])
    overview = requests.get(f"{management_api()}/whoami", auth=(admin.username, admin.password), timeout=10)
    assert overview.json()["tags"] == ["administrator"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users"),
        ("PUT", "/users/intruder"),
        ("PUT", "/permissions/orderly/orderly"),
        ("DELETE", "/queues/orderly/orderly.commands/contents"),
        ("GET", "/queues"),
    ],
)
def test_the_app_broker_user_cannot_use_the_management_api(settings, method, path):
    """No tags: the app's user is refused by the management API (401), so it
    can neither grant itself rights nor purge the queue there."""
    app = urlsplit(settings.broker_url)
    response = requests.request(
        method, f"{management_api()}{path}", auth=(app.username, app.password), json={}, timeout=10
    )
    assert response.status_code == 401, (path, response.status_code)
