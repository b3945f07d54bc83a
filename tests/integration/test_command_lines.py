"""No password on any command line: every program the services script and the
stack start, short-lived ones included, traced with strace (execve), and
their arguments searched for every secret of the local stack. Any local user
can read a running program's arguments in /proc/<pid>/cmdline."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.integration import stack
from tests.integration.stack import ROOT

STATE = ROOT / ".local"
EXECVE = re.compile(r'execve\("([^"]*)", \[(.*)\], ')


def secrets_of_the_stack() -> set[str]:
    """Every generated password, and the passwords inside the env files' URLs."""
    found = {path.read_text().strip() for path in (STATE / "secrets").iterdir()}
    for env_file in ("orderly.env", "admin.env", "flower.env"):
        text = (STATE / env_file).read_text()
        found |= set(re.findall(r"://[^:/@\s]+:([^@\s]+)@", text))
        found |= set(re.findall(r"^FLOWER_BASIC_AUTH=[^:]+:(.+)$", text, re.M))
    return {secret for secret in found if len(secret) >= 12}


def traced(command: list[str], trace: Path, **popen: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["strace", "-f", "-qq", "-e", "trace=execve", "-s", "65536", "-o", str(trace), *command], **popen
    )  # type: ignore[call-overload]


def programs_and_arguments(trace: Path) -> list[tuple[str, str]]:
    return [(m[1], m[2]) for m in EXECVE.finditer(trace.read_text(errors="replace"))]


@pytest.fixture(scope="module")
def secrets() -> set[str]:
    found = secrets_of_the_stack()
    assert len(found) >= 6, "the stack's secrets were not found"
    return found


def test_the_services_script_passes_no_password_as_an_argument(tmp_path, secrets):
    trace = tmp_path / "services.trace"
    # On a running stack, `start` still sets up users, roles and ACLs again.
    assert traced([str(ROOT / "scripts" / "services.sh"), "start"], trace, cwd=ROOT).wait(300) == 0
    execs = programs_and_arguments(trace)
    seen = {Path(program).name for program, _ in execs}
    assert {"psql", "redis-cli", "rabbitmqctl"} <= seen, seen  # the trace saw the set-up
    leaks = [(program, args[:200]) for program, args in execs if any(secret in args for secret in secrets)]
    assert leaks == []


def test_the_stack_as_make_run_starts_it_passes_no_password_as_an_argument(tmp_path, secrets):
    """The Procfile's four processes under supervisord, as `make run` starts
    them (scripts/run.sh), with the test servers' URLs (ORDERLY_TESTING)."""
    trace = tmp_path / "stack.trace"
    supervised = stack.start_supervised(tmp_path, wrap=["strace", "-f", "-qq", "-e", "trace=execve", "-s", "65536",
                                                        "-o", str(trace)])  # fmt: skip
    stack.stop_supervised(supervised)
    execs = programs_and_arguments(trace)
    arguments = " ".join(args for _, args in execs)
    for program in ("gunicorn", "celery", "workers.relay", "workers.stream_publisher", "flower"):
        assert program in arguments, program  # the trace saw every process start
    leaks = [(program, args[:200]) for program, args in execs if any(secret in args for secret in secrets)]
    assert leaks == []
