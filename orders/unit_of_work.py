"""A transaction over orders and jobs: every store of the domain, bound to one session.

Use cases reach their statements through it (`uow.accept`, `uow.apply`,
...), each store the `*_sql.py` file beside its use case; tests hand them
a fake of the same shape (tests/unit/fakes.py).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from infra.unit_of_work import UnitOfWork
from orders.accept_sql import AcceptSql
from orders.apply_sql import ApplySql
from orders.cancel_sql import CancelSql
from orders.operations import OperationsSql
from orders.queries_sql import QueriesSql
from orders.relay_sql import RelaySql


class OrdersUnitOfWork(UnitOfWork):
    accept: AcceptSql
    apply: ApplySql
    cancel: CancelSql
    queries: QueriesSql
    relay: RelaySql
    operations: OperationsSql

    def bind(self, session: Session) -> None:
        self.accept = AcceptSql(session)
        self.apply = ApplySql(session)
        self.cancel = CancelSql(session)
        self.queries = QueriesSql(session)
        self.relay = RelaySql(session)
        self.operations = OperationsSql(session)
