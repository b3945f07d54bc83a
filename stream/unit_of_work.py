"""The stream publisher's transaction and its store."""

from __future__ import annotations

from sqlalchemy.orm import Session

from infra.unit_of_work import UnitOfWork
from stream.outbox_sql import StreamSql


class StreamUnitOfWork(UnitOfWork):
    stream: StreamSql

    def bind(self, session: Session) -> None:
        self.stream = StreamSql(session)
