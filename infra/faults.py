"""Named fault points, for the fault-injection tests only.

The code calls `fault_point("name")` at the few places where a crash or a delay
decides whether a command is lost or applied twice. A point does nothing unless
a test arms it:

- in another process, through the environment (read once, at import):
  ORDERLY_TESTING=1 ORDERLY_FAULTS="accept.after_commit=exit,apply.before_commit=sleep:2"
  `exit` ends the process at once (os._exit: no finally block, no cleanup, like
  a kill), `sleep:S` pauses S seconds;
- in the test's own process, with `armed(name, action)`.

The points: accept.after_commit (API, job committed, message not yet
published), apply.before_commit (worker, the change is written but not
committed), apply.after_commit (worker, committed, its message not yet
acked), read.before_fill (API, order read from PostgreSQL, not yet put in
the cache), relay.round (relay, at the start of each round), stream.before_ack
(stream publisher, events produced, Kafka's acks not awaited), stream.after_send
(acknowledged by Kafka, not yet deleted from the outbox).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

Action = Callable[[], None]


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _parse(spec: str) -> dict[str, Action]:
    actions: dict[str, Action] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, action = item.partition("=")
        kind, _, argument = action.partition(":")
        if kind == "exit":
            actions[name] = lambda: os._exit(70)
        elif kind == "sleep":
            # time.sleep looked up at each call: under gevent (the API) it is
            # then the patched one, and only the request at the point pauses.
            actions[name] = functools.partial(_sleep, float(argument))
        else:
            raise ValueError(f"ORDERLY_FAULTS: unknown action {action!r} for {name!r}")
    return actions


# Armed from the environment only in test mode, so a stray variable in
# production cannot crash anything.
_armed: dict[str, Action] = (
    _parse(os.environ.get("ORDERLY_FAULTS", "")) if os.environ.get("ORDERLY_TESTING") == "1" else {}
)
if _armed:
    log.warning("fault points armed: %s", ", ".join(sorted(_armed)))


def fault_point(name: str) -> None:
    action = _armed.get(name)
    if action is not None:
        action()


@contextmanager
def armed(name: str, action: Action) -> Iterator[None]:
    """Run `action` whenever this process passes the point `name`, inside the block."""
    _armed[name] = action
    try:
        yield
    finally:
        del _armed[name]
