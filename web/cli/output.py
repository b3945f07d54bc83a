"""How operator commands print: an aligned table for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import click

F = TypeVar("F", bound=Callable[..., Any])


def json_option(command: F) -> F:
    """Adds --json to a command: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(command)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, UUID):
        return str(value)
    return value


def emit(rows: Sequence[dict[str, Any]], as_json: bool, columns: Sequence[str] | None = None) -> None:
    """Print rows (dicts with the same keys) as JSON or as a table."""
    plain = [{key: _plain(value) for key, value in row.items()} for row in rows]
    if as_json:
        click.echo(json.dumps(plain, indent=2, ensure_ascii=False, default=str))
        return
    if not plain:
        click.echo("(none)")
        return
    names = list(columns or plain[0].keys())
    cells = [[_cell(row.get(name)) for name in names] for row in plain]
    widths = [max(len(name), *(len(row[i]) for row in cells)) for i, name in enumerate(names)]
    click.echo("  ".join(name.upper().ljust(width) for name, width in zip(names, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def emit_one(record: dict[str, Any], as_json: bool) -> None:
    """One record: JSON, or `field: value` lines."""
    plain = {key: _plain(value) for key, value in record.items()}
    if as_json:
        click.echo(json.dumps(plain, indent=2, ensure_ascii=False, default=str))
        return
    width = max(len(key) for key in plain)
    for key, value in plain.items():
        if isinstance(value, list):
            click.echo(f"{key}:")
            for item in value:
                click.echo(f"  - {_cell(item)}")
        else:
            click.echo(f"{key.ljust(width)}  {_cell(value)}")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(_plain(value))
