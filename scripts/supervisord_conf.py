"""Write the supervisord configuration `make run` uses, from the Procfile.

The Procfile stays the one list of Orderly's processes (the benchmark and the
tests read it too); supervisord runs them because it restarts one that dies,
backing off when it keeps dying, instead of stopping the whole system as
honcho did. Ctrl-C still stops everything: supervisord puts its children in
process groups of their own, takes the terminal's SIGINT and stops each
program in turn.

Usage: python scripts/supervisord_conf.py PROCFILE STATE_DIR > supervisord.conf
($VENV_BIN and the ports in the Procfile are expanded from the environment.)
"""

from __future__ import annotations

import os
import pwd
import secrets
import sys
from pathlib import Path

# Seconds a program must stay up to count as started. One that dies sooner is
# started again after 1 s, then 2 s, 3 s... (supervisord's backoff), at most
# START_RETRIES times before supervisord gives up on it and says so (FATAL).
# One that dies after running longer is restarted at once, with a line saying so.
START_SECONDS = 5
START_RETRIES = 20
# Longer than each program's own graceful stop (gunicorn's graceful_timeout,
# a Celery task's 90 s hard limit), then the whole process group is killed.
STOP_WAIT_SECONDS = {"worker": 100, "web": 35}


def procfile_programs(procfile: Path) -> dict[str, str]:
    programs = {}
    for line in procfile.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            programs[name.strip()] = os.path.expandvars(command.strip())
    return programs


def supervisord_conf(programs: dict[str, str], root: Path, state: Path) -> str:
    # supervisorctl's socket is owner-only and, besides, asks for a password
    # made for this start (the file is written owner-only by scripts/run.sh).
    password = secrets.token_hex(16)
    sections = [
        f"""[supervisord]
nodaemon=true
user={pwd.getpwuid(os.getuid()).pw_name}
; in the foreground supervisord prints its own lines on stdout as well
logfile=/dev/null
logfile_maxbytes=0
loglevel=info
pidfile={state}/supervisord.pid

[unix_http_server]
file={state}/supervisor.sock
chmod=0700
username=orderly
password={password}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{state}/supervisor.sock
username=orderly
password={password}
"""
    ]
    for name, command in programs.items():
        sections.append(
            f"""[program:{name}]
command={_escape(command)}
directory={root}
autostart=true
autorestart=true
startsecs={START_SECONDS}
startretries={START_RETRIES}
stopsignal=TERM
stopwaitsecs={STOP_WAIT_SECONDS.get(name, 15)}
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
"""
        )
    return "\n".join(sections)


def _escape(value: str) -> str:
    return value.replace("%", "%%")  # supervisord expands %(name)s in values


def main() -> None:
    procfile, state = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    sys.stdout.write(supervisord_conf(procfile_programs(procfile), procfile.parent, state))


if __name__ == "__main__":
    main()
