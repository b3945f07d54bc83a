"""/api/v1/webhooks: a tenant's endpoints, their secrets and deliveries."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Blueprint, Response, jsonify, request, url_for

from web.auth import tenant_id
from web.problems import problem_response
from web.query_params import DeliveriesQuery, WebhooksQuery, parse
from web.requests import json_body
from web.resources import resources
from web.responses import page_of
from web.schemas import CreateWebhook, RotateSecret, UpdateWebhook
from webhooks import endpoints
from webhooks.secrets import SecretsUnavailable
from webhooks.urls import UrlRefused

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.errorhandler(UrlRefused)
def _url_refused(exc: UrlRefused) -> Response:
    errors = [{"field": "url", "message": str(exc)}]
    return problem_response(422, "validation-error", "Unprocessable Content", "the body is not valid", errors=errors)


@bp.errorhandler(SecretsUnavailable)
def _no_secrets(exc: SecretsUnavailable) -> Response:
    return problem_response(503, "webhooks-unavailable", "Service Unavailable", str(exc))


@bp.post("")
def create_webhook() -> Response:
    body, _ = json_body(request, CreateWebhook)
    res = resources()
    view, secret = endpoints.register(
        res.webhooks(),
        res.webhook_secrets,
        res.webhook_urls,
        tenant_id(),
        body.url,
        list(body.events),
        body.description,
        res.settings.max_webhooks_per_tenant,
    )
    response = jsonify({**view, "secret": secret})
    response.status_code = 201
    response.headers["Location"] = url_for("api.webhooks.get_webhook", endpoint_id=view["id"])
    return response


@bp.get("")
def list_webhooks() -> Response:
    query = parse(request, WebhooksQuery)
    data, total = endpoints.list_endpoints(resources().webhooks_autocommit(), tenant_id(), query.paging)
    return page_of(data, query.paging, total)


@bp.get("/<uuid:endpoint_id>")
def get_webhook(endpoint_id: uuid.UUID) -> Response:
    return jsonify(endpoints.get_endpoint(resources().webhooks_autocommit(), tenant_id(), endpoint_id))


@bp.patch("/<uuid:endpoint_id>")
def update_webhook(endpoint_id: uuid.UUID) -> Response:
    body, _ = json_body(request, UpdateWebhook)
    res = resources()
    changes = endpoints.EndpointChanges(
        url=body.url,
        events=list(body.events) if body.events is not None else None,
        description=body.description,
        enabled=body.enabled,
    )
    return jsonify(endpoints.update_endpoint(res.webhooks(), res.webhook_urls, tenant_id(), endpoint_id, changes))


@bp.delete("/<uuid:endpoint_id>")
def delete_webhook(endpoint_id: uuid.UUID) -> Response:
    endpoints.delete_endpoint(resources().webhooks(), tenant_id(), endpoint_id)
    return Response(status=204)


@bp.post("/<uuid:endpoint_id>/secret-rotations")
def rotate_secret(endpoint_id: uuid.UUID) -> Response:
    """A new secret; the old one signs too for `overlap_hours` (default 24). The body is optional."""
    body = json_body(request, RotateSecret)[0] if request.content_length else RotateSecret.model_validate({})
    res = resources()
    view, secret = endpoints.rotate_secret(
        res.webhooks(), res.webhook_secrets, tenant_id(), endpoint_id, timedelta(hours=body.overlap_hours)
    )
    return jsonify({**view, "secret": secret})


@bp.get("/<uuid:endpoint_id>/deliveries")
def list_deliveries(endpoint_id: uuid.UUID) -> Response:
    query = parse(request, DeliveriesQuery)
    data, total = endpoints.list_deliveries(
        resources().webhooks_autocommit(), tenant_id(), endpoint_id, query.paging, query.status
    )
    return page_of(data, query.paging, total)


@bp.post("/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/resend")
def resend_delivery(endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> Response:
    """Send the delivery's event again, now (a new delivery with the same event id)."""
    delivery = endpoints.resend(resources().webhooks(), tenant_id(), endpoint_id, delivery_id)
    response = jsonify(delivery)
    response.status_code = 202
    return response
