"""One `with` block per use case: rolls back unless committed, then runs after-commit hooks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self._after_commit = []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() rolls back whatever was not committed and detaches the objects
        # with their loaded state, so a use case can return what it read.
        self.session.close()

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` once the transaction has committed (publish, invalidate...)."""
        self._after_commit.append(hook)

    def commit(self) -> None:
        self.session.commit()
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            # The data is committed: a failing side effect must not turn the
            # use case into an error. It is logged; the relay and the cache TTL
            # are the safety nets.
            try:
                hook()
            except Exception:
                log.exception("after-commit hook %r failed", hook)
