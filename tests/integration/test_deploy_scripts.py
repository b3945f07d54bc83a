"""docker-compose's set-up scripts, run against real servers on this machine
(no Docker engine here): the PostgreSQL init script on a scratch cluster, the
RabbitMQ set-up on the local broker in a scratch vhost."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import kombu
import psycopg
import pytest
import requests

from tests.integration.stack import ROOT, free_port

INIT_SCRIPT = ROOT / "deploy" / "postgres-init" / "10-app-role.sh"


def as_postgres(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # From "/": the postgres user may not enter the checkout (a mode-700 home).
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], env=env, capture_output=True, text=True,
                          timeout=120, check=True, cwd="/")  # fmt: skip


def pg_bin(name: str) -> str:
    return shutil.which(name) or f"/usr/lib/postgresql/15/bin/{name}"


@pytest.fixture
def scratch_cluster() -> Iterator[tuple[str, int]]:
    """A throwaway PostgreSQL, as the postgres image starts one: local trust for the superuser."""
    folder = tempfile.mkdtemp(prefix="orderly-pg-init-")
    os.chmod(folder, 0o777)
    data, port = Path(folder) / "data", free_port()
    as_postgres(pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256")
    as_postgres(pg_bin("pg_ctl"), "-D", str(data), "-w", "-l", str(Path(folder) / "log"), "-o",
                f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder}", "start")  # fmt: skip
    try:
        yield folder, port
    finally:
        as_postgres(pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_the_compose_init_script_creates_an_owner_and_an_app_role_neither_superuser(scratch_cluster):
    folder, port = scratch_cluster
    owner_pw, app_pw = secrets.token_hex(16), secrets.token_hex(16)
    env = {"PATH": os.environ["PATH"], "PGHOST": folder, "PGPORT": str(port), "POSTGRES_USER": "postgres",
           "OWNER_DB_PASSWORD": owner_pw, "APP_DB_PASSWORD": app_pw}  # fmt: skip
    # The script runs from the scratch folder: as in the image, where it is
    # mounted readable; the checkout may be in a folder postgres cannot enter.
    script = Path(folder) / INIT_SCRIPT.name
    shutil.copy(INIT_SCRIPT, script)
    os.chmod(script, 0o644)
    as_postgres("sh", str(script), env=env)
    query = as_postgres(
        "psql", "-At", "-h", folder, "-p", str(port), "-d", "orderly", "-c",
        "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname LIKE 'orderly%' "
        "ORDER BY 1; SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'orderly'",
    ).stdout.split()  # fmt: skip
    assert query == ["orderly|f|f|f", "orderly_owner|f|f|f", "orderly_owner"]
    # The passwords work over TCP (scram), and the app's role may not create tables.
    with psycopg.connect(host="127.0.0.1", port=port, dbname="orderly", user="orderly_owner", password=owner_pw) as c:
        c.execute("CREATE TABLE probe (id int)")
    app = psycopg.connect(host="127.0.0.1", port=port, dbname="orderly", user="orderly", password=app_pw)
    with app, pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute("CREATE TABLE intruder (id int)")


def test_the_compose_rabbitmq_setup_makes_a_tagless_user_with_rights_on_its_vhost(settings):
    admin = urlsplit(os.environ["RABBITMQ_ADMIN_URL"])
    api = f"http://127.0.0.1:{admin.port}/api"
    vhost, user, password = f"probe-{secrets.token_hex(4)}", f"probe-{secrets.token_hex(4)}", secrets.token_hex(16)
    env = {"PATH": os.environ["PATH"], "RABBITMQ_API": api, "RABBITMQ_ADMIN_USER": admin.username,
           "RABBITMQ_ADMIN_PASSWORD": admin.password, "RABBITMQ_VHOST": vhost, "RABBITMQ_USER": user,
           "RABBITMQ_PASSWORD": password}  # fmt: skip
    login = (admin.username, admin.password)
    try:
        subprocess.run([sys.executable, str(ROOT / "deploy" / "rabbitmq_setup.py")], env=env, check=True,
                       capture_output=True, timeout=120)  # fmt: skip
        assert requests.get(f"{api}/users/{user}", auth=login, timeout=10).json()["tags"] in ([], "")
        policy = requests.get(f"{api}/policies/{quote(vhost, safe='')}/commands-limit", auth=login, timeout=10)
        assert policy.json()["definition"]["overflow"] == "reject-publish"
        assert requests.get(f"{api}/overview", auth=(user, password), timeout=10).status_code == 401
        broker = urlsplit(settings.broker_url)
        with kombu.Connection(f"amqp://{user}:{password}@{broker.hostname}:{broker.port}/{quote(vhost, safe='')}",
                              connect_timeout=5) as connection:  # fmt: skip
            connection.connect()
    finally:
        requests.delete(f"{api}/vhosts/{quote(vhost, safe='')}", auth=login, timeout=10)
        requests.delete(f"{api}/users/{user}", auth=login, timeout=10)
