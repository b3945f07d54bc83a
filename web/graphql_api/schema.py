"""The GraphQL schema: the same use cases as the REST routes, for one tenant.

Reads go through orders/queries.py (the order through its cache), commands
through orders/accept.py and orders/cancel.py, exactly as REST calls them:
another tenant's order or job is simply absent (null), and a command is a
job to follow (`job(id)`) as a 202 is.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from config import Settings
from infra.errors import NotFound
from infra.pagination import Keyset
from models import Command, OrderStatus
from orders import accept, cancel, queries
from orders.accept import Idempotency
from orders.views import job_view
from web import request_ids
from web.graphql_api import limits
from web.graphql_api.errors import BadInput
from web.graphql_api.limits import DEFAULT_PAGE, MAX_PAGE
from web.graphql_api.loaders import OrderLoaders
from web.graphql_api.types import (
    SCALARS,
    CreateOrderInput,
    Job,
    Order,
    OrderCommand,
    OrderConnection,
    OrderEdge,
    OrderFilter,
    OrderSort,
    PageInfo,
)
from web.requests import IDEMPOTENCY_KEY
from web.resources import Resources
from web.schemas import CreateOrder


@dataclass
class Context:
    """What every resolver of one request shares."""

    resources: Resources
    tenant_id: uuid.UUID
    loaders: OrderLoaders
    # The request's Idempotency-Key header: it names the request's first
    # mutation; a second one that relies on it is refused.
    idempotency_key: str | None = None
    header_key_taken: bool = False


def _uuid(value: str) -> uuid.UUID | None:
    """None for an id that is not a UUID: such an order or job does not exist."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _cursor(sort: OrderSort, order: dict[str, Any]) -> str:
    column = sort.value.lstrip("-")
    raw = json.dumps([sort.value, order[column], order["id"]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after(cursor: str | None, sort: OrderSort) -> tuple[Any, Any] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_value, value, order_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if sort_value != sort.value:
            raise BadInput("the cursor belongs to another sort order")
        column = sort.value.lstrip("-")
        if column.endswith("_at"):
            value = datetime.fromisoformat(value)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(value)
        return value, uuid.UUID(order_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadInput("the cursor is not one this API gave out") from exc


@strawberry.type
class Query:
    @strawberry.field(description="One of your orders; null when there is none with this id (or it was deleted)")
    def order(self, info: Info, id: strawberry.ID) -> Order | None:
        context: Context = info.context
        order_id = _uuid(id)
        if order_id is None:
            return None
        res = context.resources
        try:
            view = queries.get_order(res.orders_autocommit(), res.cache, context.tenant_id, order_id)
        except NotFound:
            return None
        context.loaders.register([view["id"]])
        return Order.of(view)

    @strawberry.field(description=f"Your live orders, a page at a time (first: 1 to {MAX_PAGE}; after: endCursor)")
    def orders(
        self,
        info: Info,
        filter: OrderFilter | None = None,
        sort: OrderSort = OrderSort.CREATED_AT_DESC,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> OrderConnection:
        context: Context = info.context
        if not 1 <= first <= MAX_PAGE:
            raise BadInput(f"first must be 1 to {MAX_PAGE}", [{"field": "first", "message": f"got {first}"}])
        status = OrderStatus(filter.status.value) if filter and filter.status else None
        page = Keyset(sort=sort.value, first=first, after=_after(after, sort))
        views, more = queries.order_page(context.resources.orders_autocommit(), context.tenant_id, page, status)
        context.loaders.register([v["id"] for v in views])
        edges = [OrderEdge(cursor=_cursor(sort, v), node=Order.of(v)) for v in views]
        return OrderConnection(
            edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None)
        )

    @strawberry.field(description="One of your jobs; null when there is none with this id")
    def job(self, info: Info, id: strawberry.ID) -> Job | None:
        context: Context = info.context
        job_id = _uuid(id)
        if job_id is None:
            return None
        try:
            return Job.of(queries.get_job(context.resources.orders_autocommit(), context.tenant_id, job_id))
        except NotFound:
            return None


def _idempotency(context: Context, argument: str | None, mutation: str, request: Any) -> Idempotency | None:
    """The key from the argument, else from the header; fingerprinted with the
    mutation and its arguments, so one key names one request."""
    key = argument
    if key is None and context.idempotency_key is not None:
        if context.header_key_taken:
            raise BadInput("the Idempotency-Key header names one mutation: give each of several an idempotencyKey")
        key, context.header_key_taken = context.idempotency_key, True
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise BadInput("idempotencyKey must be 1 to 255 visible ASCII characters (no spaces)")
    return Idempotency.for_request(key, "POST", f"/api/v1/graphql#{mutation}", request)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Accept a new order: the job that will create it")
    def create_order(self, info: Info, input: CreateOrderInput, idempotency_key: str | None = None) -> Job:
        context: Context = info.context
        body = strawberry.asdict(input)
        order = CreateOrder.model_validate(body)  # the REST body's own rules
        res = context.resources.accepting()
        job = accept.submit_create(
            res.orders_autocommit(),
            context.tenant_id,
            order.model_dump(mode="json"),
            res.publisher,
            _idempotency(context, idempotency_key, "createOrder", body),
            backlog=res.backlog,
            request_id=request_ids.current(),
        )
        return Job.of(job_view(job))

    @strawberry.mutation(description="Accept a command on one of your orders; ifMatch: the version it must be at")
    def submit_command(
        self,
        info: Info,
        order_id: strawberry.ID,
        command: OrderCommand,
        if_match: int | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        context: Context = info.context
        if if_match is not None and if_match < 1:
            raise BadInput(
                "ifMatch is an order version: 1 or more", [{"field": "ifMatch", "message": f"got {if_match}"}]
            )
        order = _uuid(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        res = context.resources.accepting()
        job = accept.submit_command(
            res.orders_autocommit(),
            context.tenant_id,
            order,
            Command(command.value),
            res.publisher,
            expected_version=if_match,
            idempotency=_idempotency(
                context, idempotency_key, "submitCommand", {"order_id": str(order), "command": command.value}
            ),
            backlog=res.backlog,
            request_id=request_ids.current(),
        )
        return Job.of(job_view(job))

    @strawberry.mutation(description="Cancel one of your queued jobs (a job already applied cannot be)")
    def cancel_job(self, info: Info, job_id: strawberry.ID) -> Job:
        context: Context = info.context
        job = _uuid(job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        res = context.resources
        cancelled, _ = cancel.cancel_job(res.orders(), context.tenant_id, job, res.finished)
        return Job.of(cancelled)


def build_schema(settings: Settings) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=limits.extensions(settings),
        config=StrawberryConfig(scalar_map=SCALARS),
    )
