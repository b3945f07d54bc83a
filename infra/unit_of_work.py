"""One transaction idiom for every use case.

A use case takes a unit of work, runs its statements inside `with uow:`,
and commits at its own top level with `uow.commit()`; leaving the block
rolls back whatever was not committed. Nothing below the use case commits:
the statements live in store objects (a domain's `*_sql.py` files) that the
unit of work binds to its session, so a test can hand the same use case a
fake unit of work holding in-memory stores (tests/unit/fakes.py).

A unit of work can be entered again after it was left: each `with` is a
new transaction (the apply loop retries that way).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker


class UnitOfWork:
    """The bare transaction: `session` only. Domains subclass it to bind their stores (`bind`)."""

    session: Session

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.bind(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() rolls back whatever was not committed and detaches the objects
        # with their loaded state, so a use case can return what it read.
        self.session.close()

    def bind(self, session: Session) -> None:
        """Bind the domain's stores to this transaction's session."""

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
