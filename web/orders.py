"""/api/v1/orders: accept order commands (202) and read orders."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, jsonify, request

from models import Command, OrderStatus
from services import orders, queries
from services.errors import Overloaded
from web import request_ids
from web.auth import tenant_id
from web.requests import etag_matches, expected_version, idempotency, json_body, page_params
from web.resources import Resources, resources
from web.responses import accepted, page_of
from web.schemas import CreateOrder, OrderCommand

bp = Blueprint("orders", __name__, url_prefix="/orders")

SORTABLE = ("created_at", "updated_at", "total_cents", "status")
LISTED_STATUSES = tuple(s.value for s in OrderStatus if s is not OrderStatus.DELETED)


def _accepting(res: Resources) -> Resources:
    """Refuse new commands (503) while the broker does not take them: checked
    before anything is committed, so a refused command leaves nothing behind."""
    reason = res.publisher.refusal()
    if reason is not None:
        raise Overloaded(f"{reason}: try again later", retry_after=5)
    return res


@bp.post("")
def create_order() -> Response:
    body, raw = json_body(request, CreateOrder)
    res = _accepting(resources())
    job = orders.submit_create(
        res.autocommit_uow(),
        tenant_id(),
        body.model_dump(mode="json"),
        res.publisher,
        idempotency(request, raw),
        backlog=res.backlog,
        request_id=request_ids.current(),
    )
    return accepted(job)


@bp.post("/<uuid:order_id>/commands")
def command_order(order_id: uuid.UUID) -> Response:
    body, raw = json_body(request, OrderCommand)
    return _submit(order_id, Command(body.command), raw)


@bp.delete("/<uuid:order_id>")
def delete_order(order_id: uuid.UUID) -> Response:
    return _submit(order_id, Command.DELETE, None)


def _submit(order_id: uuid.UUID, command: Command, raw: object) -> Response:
    res = _accepting(resources())
    job = orders.submit_command(
        res.autocommit_uow(),
        tenant_id(),
        order_id,
        command,
        res.publisher,
        expected_version=expected_version(request),
        idempotency=idempotency(request, raw),
        backlog=res.backlog,
        request_id=request_ids.current(),
    )
    return accepted(job)


@bp.get("/<uuid:order_id>")
def get_order(order_id: uuid.UUID) -> Response:
    res = resources()
    order = queries.get_order(res.autocommit_session_factory, res.cache, tenant_id(), order_id)
    etag = f'"{order["version"]}"'
    response = Response(status=304) if etag_matches(request, order["version"]) else jsonify(order)
    response.headers["ETag"] = etag
    return response


@bp.get("")
def list_orders() -> Response:
    page, status = page_params(request, SORTABLE, LISTED_STATUSES)
    data, total = queries.list_orders(resources().autocommit_session_factory, tenant_id(), page, status)
    return page_of(data, page, total)


@bp.get("/<uuid:order_id>/events")
def list_events(order_id: uuid.UUID) -> Response:
    data = queries.list_order_events(resources().autocommit_session_factory, tenant_id(), order_id)
    return jsonify({"data": data})
