"""Pages of a list: `?page=1&limit=20&sort=-created_at`, as every list of the API reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
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
