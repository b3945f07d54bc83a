"""The OpenAPI document covers every route and matches what the views answer."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest

import config
from models import Job, Order, OrderEvent
from orders.views import event_view, job_view, order_view
from web import create_app
from web.openapi import document
from web.schemas import EventOut, JobOut, OrderOut

NOW = datetime(2026, 11, 27, tzinfo=UTC)
OFFLINE = config.Settings(
    database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
    redis_url="redis://127.0.0.1:1/0",
    broker_url="amqp://nobody@127.0.0.1:1//",
)


def test_every_route_of_the_app_is_in_the_document():
    app = create_app(OFFLINE)
    documented = {
        (path, method.upper())
        for path, item in document()["paths"].items()
        for method in item
        if method != "parameters"
    }
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == documented


def test_every_operation_documents_its_problems_and_links_resolve():
    spec = document()
    operation_ids = {
        op["operationId"] for item in spec["paths"].values() for m, op in item.items() if m != "parameters"
    }
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for answer in operation["responses"].values():
                for link in answer.get("links", {}).values():
                    assert link["operationId"] in operation_ids
            if operation.get("security") != []:
                assert {"401", "429", "500"} <= set(operation["responses"]), operation["operationId"]


@pytest.mark.parametrize(
    ("view", "model"),
    [
        (
            order_view(
                Order(
                    id=uuid.uuid4(), tenant_id=uuid.uuid4(), status="paid", version=2, currency="USD",
                    items=[{"sku": "A-1", "quantity": 1, "unit_price_cents": 5}], total_cents=5,
                    customer_ref=None, created_at=NOW, updated_at=NOW,
                )
            ),
            OrderOut,
        ),
        (
            job_view(
                Job(
                    id=uuid.uuid4(), command="pay", order_id=uuid.uuid4(), status="failed", attempts=1,
                    error={"code": "invalid_transition", "detail": "no"}, created_at=NOW, started_at=NOW,
                    finished_at=NOW,
                )
            ),
            JobOut,
        ),
        (
            event_view(
                OrderEvent(
                    order_id=uuid.uuid4(), version=1, command="create", from_status=None, to_status="pending",
                    job_id=uuid.uuid4(), created_at=NOW,
                )
            ),
            EventOut,
        ),
    ],
    ids=["order", "job", "event"],
)  # fmt: skip
def test_the_views_answer_exactly_what_the_document_describes(view, model):
    assert set(view) == set(model.model_fields)
    model.model_validate(view)


def test_the_served_app_never_runs_in_debug_mode(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")  # not even when the environment asks for it
    app = create_app(OFFLINE)
    assert app.debug is False

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert b"secret detail" not in response.data and b"Traceback" not in response.data
