"""Pages of a list: `?page=1&limit=20&sort=-created_at`, as every list of the API reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Page:
    number: int
    limit: int
    sort: str  # a column name, "-" prefixed for descending


def paginate(session: Session, model: type[Any], where: list[Any], page: Page) -> tuple[list[Any], int]:
    """One page of `model`'s rows matching `where`, and how many match in all."""
    column = getattr(model, page.sort.lstrip("-"))
    order = column.desc() if page.sort.startswith("-") else column.asc()
    # The id breaks ties so pages never overlap or skip rows.
    rows: Iterable[Any] = session.scalars(
        select(model).where(*where).order_by(order, model.id).limit(page.limit).offset((page.number - 1) * page.limit)
    )
    total = session.scalar(select(func.count()).select_from(model).where(*where))
    return list(rows), int(total or 0)


@dataclass(frozen=True)
class Keyset:
    """A page that starts after a row (cursor pagination): `after` is the
    previous page's last (sort value, id), None for the first page."""

    sort: str  # a column name, "-" prefixed for descending
    first: int
    after: tuple[Any, Any] | None = None


def keyset_paginate(session: Session, model: type[Any], where: list[Any], page: Keyset) -> tuple[list[Any], bool]:
    """Up to `page.first` rows of `model` after the cursor, and whether more follow.
    The id breaks ties, in the sort's direction, so the (value, id) pairs are
    strictly ordered and no row is skipped or repeated between pages."""
    column = getattr(model, page.sort.lstrip("-"))
    descending = page.sort.startswith("-")
    conditions = list(where)
    if page.after is not None:
        after = tuple_(column, model.id)
        conditions.append(after < tuple_(*page.after) if descending else after > tuple_(*page.after))
    order = (column.desc(), model.id.desc()) if descending else (column.asc(), model.id.asc())
    rows: list[Any] = list(session.scalars(select(model).where(*conditions).order_by(*order).limit(page.first + 1)))
    return rows[: page.first], len(rows) > page.first
