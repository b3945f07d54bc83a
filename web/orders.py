"""/api/v1/orders: accept order commands (202, or the finished job with
`Prefer: wait=N`) and read orders."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from infra.errors import RateLimited
from infra.messaging import Enqueue
from infra.publisher import HeldMessages
from models import FINISHED, Command
from orders import accept, queries
from orders.views import JobFields
from web import request_ids
from web.auth import tenant_id
from web.jobs import read_job
from web.query_params import OrdersQuery, parse
from web.requests import check_if_none_match, expected_version, idempotency, json_body, preferred_wait
from web.resources import Resources, resources
from web.responses import accepted, page_of
from web.schemas import CreateOrder, OrderCommand

bp = Blueprint("orders", __name__, url_prefix="/orders")


@bp.post("")
def create_order() -> Response:
    body, raw = json_body(request, CreateOrder)
    res = resources().accepting()
    return _accept(
        res,
        lambda enqueue: accept.submit_create(
            res.orders_autocommit(),
            tenant_id(),
            body.model_dump(mode="json"),
            enqueue,
            idempotency(request, raw),
            backlog=res.backlog,
            request_id=request_ids.current(),
        ),
    )


@bp.post("/<uuid:order_id>/commands")
def command_order(order_id: uuid.UUID) -> Response:
    body, raw = json_body(request, OrderCommand)
    return _submit(order_id, Command(body.command), raw)


@bp.delete("/<uuid:order_id>")
def delete_order(order_id: uuid.UUID) -> Response:
    return _submit(order_id, Command.DELETE, None)


def _submit(order_id: uuid.UUID, command: Command, raw: object) -> Response:
    res = resources().accepting()
    return _accept(
        res,
        lambda enqueue: accept.submit_command(
            res.orders_autocommit(),
            tenant_id(),
            order_id,
            command,
            enqueue,
            expected_version=expected_version(request),
            idempotency=idempotency(request, raw),
            backlog=res.backlog,
            request_id=request_ids.current(),
        ),
    )


def _accept(res: Resources, submit: Callable[[Enqueue], JobFields]) -> Response:
    """202 with the job `submit(enqueue)` accepted; with `Prefer: wait=N`,
    the finished job (200, Preference-Applied) if it finishes within N
    seconds. The command is accepted either way: past the key's bound on
    waits, it is simply 202. A waiting request holds its job's message until
    it has subscribed to the job's wake-up, so it need not read the job."""
    wait = preferred_wait(request)
    if wait is None:
        return _answer(submit(res.publisher), wait, {})
    held = HeldMessages(res.publisher)
    try:
        job = submit(held)
        finished: dict[str, Any] = {}
        publish = held.release if held.holds(job.id) else None  # else a replay: read it
        with contextlib.suppress(RateLimited):  # past the key's bound: the plain 202
            finished = read_job(res, job.id, wait, publish)
    finally:
        held.release()
    return _answer(job, wait, finished)


def _answer(job: JobFields, wait: int | None, finished: dict[str, Any]) -> Response:
    if finished.get("status") in FINISHED:
        response = jsonify(finished)
        response.headers["Preference-Applied"] = f"wait={wait}"
        response.headers["Location"] = url_for("api.jobs.get_job", job_id=job.id)
    else:
        response = accepted(job)
    response.vary.add("Prefer")
    return response


@bp.get("/<uuid:order_id>")
def get_order(order_id: uuid.UUID) -> Response:
    """The order, its version as the ETag; 304 when If-None-Match names it
    (Werkzeug's conditional response: weak comparison, `*`, lists)."""
    res = resources()
    order = queries.get_order(res.orders_autocommit(), res.cache, tenant_id(), order_id)
    check_if_none_match(request)
    response = jsonify(order)
    response.set_etag(str(order["version"]))
    response.make_conditional(request)
    return response


@bp.get("")
def list_orders() -> Response:
    query = parse(request, OrdersQuery)
    data, total = queries.list_orders(resources().orders_autocommit(), tenant_id(), query.paging, query.status)
    return page_of(data, query.paging, total)


@bp.get("/<uuid:order_id>/events")
def list_events(order_id: uuid.UUID) -> Response:
    data = queries.list_order_events(resources().orders_autocommit(), tenant_id(), order_id)
    return jsonify({"data": data})
