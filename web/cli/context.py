"""What the operator CLI's commands share: the CLI's own clients (built on
first use, so a command opens only what it needs), and one-line errors."""

from __future__ import annotations

from functools import cache
from typing import Any

import click
import psycopg.errors
import sqlalchemy.exc
from flask.cli import AppGroup

import config
from infra.bootstrap import Clients, Role, build
from orders.unit_of_work import OrdersUnitOfWork

# The name the CLI goes by in its hints (the checkout's wrapper script).
PROGRAM = "./orderly"


@cache
def clients() -> Clients:
    return build(config.current(), Role.CLI)


def orders_uow() -> OrdersUnitOfWork:
    return OrdersUnitOfWork(clients().session_factory)


class UsageProblem(click.ClickException):
    """A usage error in one line, with the command to ask for help."""

    exit_code = 2

    def __init__(self, error: click.UsageError) -> None:
        words = error.ctx.command_path.split()[1:] if error.ctx else []
        super().__init__(f"{error.format_message()} (see {' '.join([PROGRAM, *words, '--help'])})")


class CommandGroup(AppGroup):
    """A group whose commands' usage errors (a bad argument, a missing one, an
    unknown command) are one line on stderr and exit 2; lookup errors
    (ClickException) and an unreachable or empty database are one line and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageProblem:
            raise
        except click.UsageError as error:
            raise UsageProblem(error) from None
        except sqlalchemy.exc.OperationalError as error:
            raise click.ClickException(f"PostgreSQL is unavailable: {_first_line(error.orig)}") from None
        except sqlalchemy.exc.ProgrammingError as error:
            if isinstance(error.orig, psycopg.errors.UndefinedTable):
                raise click.ClickException(f"the database has no schema yet: run {PROGRAM} db upgrade") from None
            raise


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
