"""A first start from wherever a user clones: a private home folder (root's is
mode 700, which the postgres user cannot enter), and clear refusals for what
the script cannot fix."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import psycopg

from tests.integration.stack import ROOT, free_port

SERVICES = ROOT / "scripts" / "services.sh"


def services(state: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "ORDERLY_STATE_DIR": str(state), **env}
    return subprocess.run([SERVICES, *args], env=environment, capture_output=True, text=True, timeout=300)


def test_postgresql_starts_from_a_checkout_in_a_private_home(tmp_path):
    home = tmp_path / "root-home"
    home.mkdir(mode=0o700)
    state = home / "orderly" / ".local"
    port = str(free_port())
    try:
        started = services(state, "start", "postgres", ORDERLY_PG_PORT=port)
        assert started.returncode == 0, started.stderr
        assert "the postgres user cannot enter" in started.stderr
        link = state / "postgres"
        assert link.is_symlink() and str(link.resolve()).startswith("/var/lib/orderly/")
        password = (state / "secrets" / "postgres-orderly").read_text().strip()
        with psycopg.connect(host="127.0.0.1", port=port, user="orderly", password=password, dbname="orderly") as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("orderly",)
        # A second start finds the running server through the link.
        assert services(state, "start", "postgres", ORDERLY_PG_PORT=port).returncode == 0
    finally:
        outside = (state / "postgres").resolve()
        reset = services(state, "reset", ORDERLY_PG_PORT=port)
    assert reset.returncode == 0, reset.stderr
    assert not outside.exists() and not state.exists()


def test_a_port_taken_by_another_program_is_named(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = str(squatter.getsockname()[1])
        started = services(tmp_path / ".local", "start", "redis", ORDERLY_REDIS_PORT=port)
    assert started.returncode != 0
    assert f"port {port} on 127.0.0.1 is in use by another program" in started.stderr
    assert "ORDERLY_REDIS_PORT" in started.stderr
