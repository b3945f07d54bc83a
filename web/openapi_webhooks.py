"""The webhook parts of the OpenAPI document: the /webhooks routes, and the
events Orderly POSTs to endpoints (OpenAPI 3.1's top-level `webhooks`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from web.openapi_parts import json_content, problems, ref
from web.query_params import DeliveriesQuery, WebhooksQuery, openapi_parameters
from web.schemas import (
    CreateWebhook,
    DeliveriesPage,
    DeliveryOut,
    JobFinishedEvent,
    OrderStatusChangedEvent,
    RotateSecret,
    UpdateWebhook,
    WebhookOut,
    WebhooksPage,
    WebhookWithSecretOut,
)

MODELS: tuple[type[BaseModel], ...] = (
    CreateWebhook,
    UpdateWebhook,
    RotateSecret,
    WebhookOut,
    WebhookWithSecretOut,
    WebhooksPage,
    DeliveryOut,
    DeliveriesPage,
    JobFinishedEvent,
    OrderStatusChangedEvent,
)

_ENDPOINT_ID = {"name": "endpoint_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
_DELIVERY_ID = {"name": "delivery_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
_ENDPOINT_LINKS = {
    name: {"operationId": operation, "parameters": {"endpoint_id": "$response.body#/id"}}
    for name, operation in (
        ("GetWebhook", "getWebhook"),
        ("UpdateWebhook", "updateWebhook"),
        ("DeleteWebhook", "deleteWebhook"),
        ("RotateWebhookSecret", "rotateWebhookSecret"),
        ("ListWebhookDeliveries", "listWebhookDeliveries"),
    )
}


def _body(model: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": json_content(ref(model))}


def paths() -> dict[str, Any]:
    one = "/api/v1/webhooks/{endpoint_id}"
    return {
        "/api/v1/webhooks": {
            "post": {
                "operationId": "createWebhook",
                "summary": "Register an endpoint; its signing secret is in this answer only",
                "requestBody": _body("CreateWebhook"),
                "responses": {
                    "201": {
                        "description": "The endpoint, with its secret",
                        "headers": {"Location": {"$ref": "#/components/headers/Location"}},
                        "content": json_content(ref("WebhookWithSecretOut")),
                        "links": _ENDPOINT_LINKS,
                    },
                    **problems("400", "409", "413", "415", "422", "503"),
                },
            },
            "get": {
                "operationId": "listWebhooks",
                "summary": "The tenant's endpoints",
                "parameters": openapi_parameters(WebhooksQuery),
                "responses": {
                    "200": {"description": "A page", "content": json_content(ref("WebhooksPage"))},
                    **problems("400"),
                },
            },
        },
        one: {
            "get": {
                "operationId": "getWebhook",
                "summary": "One endpoint (never its secret)",
                "parameters": [_ENDPOINT_ID],
                "responses": {
                    "200": {"description": "The endpoint", "content": json_content(ref("WebhookOut"))},
                    **problems("404"),
                },
            },
            "patch": {
                "operationId": "updateWebhook",
                "summary": "Change its URL, events or description; enable (after it was disabled) or pause it",
                "parameters": [_ENDPOINT_ID],
                "requestBody": _body("UpdateWebhook"),
                "responses": {
                    "200": {"description": "The endpoint", "content": json_content(ref("WebhookOut"))},
                    **problems("400", "404", "413", "415", "422"),
                },
            },
            "delete": {
                "operationId": "deleteWebhook",
                "summary": "Delete the endpoint; its pending deliveries fail",
                "parameters": [_ENDPOINT_ID],
                "responses": {"204": {"description": "Deleted"}, **problems("404")},
            },
        },
        f"{one}/secret-rotations": {
            "post": {
                "operationId": "rotateWebhookSecret",
                "summary": "A new secret (in this answer only); the old one also signs for overlap_hours (24)",
                "parameters": [_ENDPOINT_ID],
                "requestBody": _body("RotateSecret", required=False),
                "responses": {
                    "200": {
                        "description": "The endpoint, with its new secret",
                        "content": json_content(ref("WebhookWithSecretOut")),
                    },
                    **problems("400", "404", "413", "415", "422", "503"),
                },
            },
        },
        f"{one}/deliveries": {
            "get": {
                "operationId": "listWebhookDeliveries",
                "summary": "The endpoint's deliveries, with their attempts and last answer",
                "parameters": [_ENDPOINT_ID, *openapi_parameters(DeliveriesQuery)],
                "responses": {
                    "200": {
                        "description": "A page",
                        "content": json_content(ref("DeliveriesPage")),
                        "links": {
                            "ResendWebhookDelivery": {
                                "operationId": "resendWebhookDelivery",
                                "parameters": {
                                    "endpoint_id": "$request.path.endpoint_id",
                                    "delivery_id": "$response.body#/data/0/id",
                                },
                            }
                        },
                    },
                    **problems("400", "404"),
                },
            },
        },
        f"{one}/deliveries/{{delivery_id}}/resend": {
            "post": {
                "operationId": "resendWebhookDelivery",
                "summary": "Send a delivery's event again now (a new delivery, the same event id)",
                "parameters": [_ENDPOINT_ID, _DELIVERY_ID],
                "responses": {
                    "202": {"description": "The new delivery, pending", "content": json_content(ref("DeliveryOut"))},
                    **problems("404", "409"),
                },
            },
        },
    }


_SIGNATURE = {
    "name": "Orderly-Signature",
    "in": "header",
    "required": True,
    "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.' + the raw body, keyed with the endpoint's "
    "secret>; a second v1 while a rotated secret overlaps. Check it (orderly_client.verify_signature) and the "
    "timestamp's age before trusting the body.",
    "schema": {"type": "string"},
}


def _event(operation: str, model: str, summary: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation,
            "summary": summary,
            "description": "At least once: deduplicate on the event id. Answer 2xx within 5 s; anything else "
            "(a redirect included) is retried with backoff for 72 h.",
            "security": [],
            "parameters": [
                _SIGNATURE,
                {"name": "Orderly-Event-Id", "in": "header", "required": True, "schema": {"type": "string"}},
                {"name": "Orderly-Event-Type", "in": "header", "required": True, "schema": {"type": "string"}},
                {"name": "Orderly-Delivery-Id", "in": "header", "required": True, "schema": {"type": "string"}},
            ],
            "requestBody": _body(model),
            "responses": {"2XX": {"description": "Received: not sent again"}},
        }
    }


def events() -> dict[str, Any]:
    return {
        "job.finished": _event("jobFinished", "JobFinishedEvent", "A job succeeded, failed or was cancelled"),
        "order.status_changed": _event(
            "orderStatusChanged", "OrderStatusChangedEvent", "A command changed an order's status"
        ),
    }
