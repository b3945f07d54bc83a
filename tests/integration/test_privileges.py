"""The app's PostgreSQL role and Redis user may read and write data, nothing more."""

from __future__ import annotations

import pytest
import redis
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
