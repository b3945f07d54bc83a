"""One-shot set-up of RabbitMQ for docker-compose.yml (the local stack does
the same in scripts/services.sh): the app's user, its vhost and rights, the
command queue's length limit. Run in the app image against the management API
as the operators' administrator (RABBITMQ_DEFAULT_USER of the broker image).

Passwords come from the environment only, never from a command line.
Idempotent: every call is a PUT of the wanted state.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import quote

API = os.environ.get("RABBITMQ_API", "http://rabbitmq:15672/api")
VHOST = os.environ.get("RABBITMQ_VHOST", "orderly")
USER = os.environ.get("RABBITMQ_USER", "orderly")
COMMAND_QUEUE_LIMIT = {"max-length": int(os.environ.get("COMMAND_QUEUE_MAX_LENGTH", "100000")),
                       "overflow": "reject-publish"}  # fmt: skip


def call(method: str, path: str, body: object | None = None) -> None:
    login = f"{os.environ['RABBITMQ_ADMIN_USER']}:{os.environ['RABBITMQ_ADMIN_PASSWORD']}"
    request = urllib.request.Request(
        f"{API}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Basic " + base64.b64encode(login.encode()).decode(),
                 "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10):
        pass


def main() -> None:
    vhost = quote(VHOST, safe="")
    for _ in range(30):  # the management API starts a little after the broker
        try:
            call("PUT", f"/vhosts/{vhost}")
            break
        except urllib.error.HTTPError as error:  # it answers, and refuses: say why, do not wait
            raise SystemExit(f"RabbitMQ's management API refused the set-up: {error.code} {error.reason}") from None
        except (urllib.error.URLError, ConnectionError) as error:
            print(f"waiting for the management API: {error}", file=sys.stderr)
            time.sleep(2)
    else:
        raise SystemExit("RabbitMQ's management API never answered")
    # The app's user: no tags (no management API), rights in its vhost only.
    user = quote(USER, safe="")
    call("PUT", f"/users/{user}", {"password": os.environ["RABBITMQ_PASSWORD"], "tags": ""})
    call("PUT", f"/permissions/{vhost}/{user}", {"configure": ".*", "write": ".*", "read": ".*"})
    call("PUT", f"/policies/{vhost}/commands-limit",
         {"pattern": r"^orderly\.commands$", "apply-to": "queues", "definition": COMMAND_QUEUE_LIMIT})  # fmt: skip
    print(f"RabbitMQ is set up: user {USER}, vhost {VHOST}, commands-limit policy")


if __name__ == "__main__":
    main()
