"""The OpenAPI 3.1 document of the API, served at /api/v1/openapi.json.

Body schemas come from the pydantic models that validate requests and describe
answers (web/schemas.py), so they cannot drift from what the code accepts;
the paths below name, for each route, its parameters, headers, statuses and
links. tests/unit/test_openapi.py checks that every route of the app is here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from web import openapi_webhooks
from web.docs_assets import ASSETS
from web.openapi_parts import json_content, problems, ref
from web.query_params import JobsQuery, OrdersQuery, WaitQuery, openapi_parameters
from web.requests import IDEMPOTENCY_KEY_PATTERN, IF_MATCH_PATTERN, IF_NONE_MATCH_PATTERN
from web.schemas import (
    CreateOrder,
    EventsOut,
    JobOut,
    JobsPage,
    OrderCommand,
    OrderOut,
    OrdersPage,
    ProblemOut,
)

_MODELS: tuple[type[BaseModel], ...] = (
    CreateOrder,
    OrderCommand,
    OrderOut,
    OrdersPage,
    JobOut,
    JobsPage,
    EventsOut,
    ProblemOut,
    *openapi_webhooks.MODELS,
)

_PROBLEM_STATUSES = {
    "400": "Malformed JSON or query parameters, or a bad header",
    "401": "No, invalid or revoked API key",
    "404": "No such route, or no such order or job for this tenant",
    "409": "A cancel of a job no longer queued (job_status says what it is); a webhook limit or state",
    "412": "If-Match names a version the order no longer has",
    "413": "Body over 1 MiB",
    "414": "The request line (method, path and query) is longer than 8,190 bytes (gunicorn's limit)",
    "415": "The body is not application/json",
    "431": "More than 100 header fields, or one over 8,190 bytes (gunicorn's limits)",
    "422": "Valid JSON that breaks the schema, or an Idempotency-Key reused with another request",
    "429": "Too many requests with this key, or too many unfinished jobs for the tenant",
    "500": "A bug: logged, never shown",
    "503": "PostgreSQL unavailable or the command queue full: nothing was accepted; webhooks not configured",
}


# An accepted command links to its job, which exists at once; the job links to
# its order, which a create job makes only when a worker has applied it.
_ACCEPTED_LINKS = {
    "GetJob": {"operationId": "getJob", "parameters": {"job_id": "$response.body#/id"}},
    "CancelJob": {"operationId": "cancelJob", "parameters": {"job_id": "$response.body#/id"}},
}
_JOB_LINKS = {"GetOrder": {"operationId": "getOrder", "parameters": {"order_id": "$response.body#/order_id"}}}
_ORDER_LINKS = {
    "CommandOrder": {"operationId": "commandOrder", "parameters": {"order_id": "$response.body#/id"}},
    "DeleteOrder": {"operationId": "deleteOrder", "parameters": {"order_id": "$response.body#/id"}},
    "ListOrderEvents": {"operationId": "listOrderEvents", "parameters": {"order_id": "$response.body#/id"}},
}

_ACCEPTED = {
    "description": "Accepted: poll the job at Location until it has succeeded or failed",
    "headers": {"Location": {"$ref": "#/components/headers/Location"}},
    "content": json_content(ref("JobOut")),
    "links": _ACCEPTED_LINKS,
}


# With `Prefer: respond-async, wait=N`, a command the worker finishes within N
# seconds is answered with the finished job.
_PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "description": "RFC 7240. `respond-async, wait=N` (N up to 20): hold the answer until the job has finished, "
    "then 200 with the finished job and Preference-Applied; 202 as usual if it has not by then. A preference "
    "the server does not understand is ignored (RFC 7240), never refused.",
    "schema": {"type": "string"},
}
_FINISHED = {
    "description": "The job finished within the preferred wait (Prefer: wait=N)",
    "headers": {
        "Location": {"$ref": "#/components/headers/Location"},
        "Preference-Applied": {"description": "wait=N", "schema": {"type": "string"}},
    },
    "content": json_content(ref("JobOut")),
    "links": _JOB_LINKS,
}


# One GraphQL operation per request (web/graphql_api/view.py refuses the rest).
_GRAPHQL_REQUEST = {
    "type": "object",
    "required": ["query"],
    "properties": {
        "query": {"type": "string", "pattern": "\\S"},
        "variables": {"type": ["object", "null"]},
        "operationName": {"type": ["string", "null"]},
    },
}
_GRAPHQL_RESPONSE = {
    "type": "object",
    "properties": {"data": {"type": ["object", "null"]}, "errors": {"type": "array", "items": {"type": "object"}}},
}


def _paths() -> dict[str, Any]:
    order_id = {"$ref": "#/components/parameters/OrderId"}
    command_headers = [
        {"$ref": "#/components/parameters/IdempotencyKey"},
        {"$ref": "#/components/parameters/IfMatch"},
        _PREFER,
    ]
    return {
        "/api/v1/orders": {
            "post": {
                "operationId": "createOrder",
                "summary": "Create an order (asynchronously)",
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}, _PREFER],
                "requestBody": {"required": True, "content": json_content(ref("CreateOrder"))},
                "responses": {"200": _FINISHED, "202": _ACCEPTED, **problems("400", "413", "415", "422", "503")},
            },
            "get": {
                "operationId": "listOrders",
                "summary": "List the tenant's live orders",
                "parameters": openapi_parameters(OrdersQuery),
                "responses": {
                    "200": {"description": "A page", "content": json_content(ref("OrdersPage"))},
                    **problems("400"),
                },
            },
        },
        "/api/v1/orders/{order_id}": {
            "parameters": [order_id],
            "get": {
                "operationId": "getOrder",
                "summary": "One order (served from the cache when it is fresh)",
                "parameters": [{"$ref": "#/components/parameters/IfNoneMatch"}],
                "responses": {
                    "200": {
                        "description": "The order",
                        "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
                        "content": json_content(ref("OrderOut")),
                        "links": _ORDER_LINKS,
                    },
                    "304": {
                        "description": "Not modified: If-None-Match names the current version",
                        "headers": {"ETag": {"$ref": "#/components/headers/ETag"}},
                    },
                    **problems("400", "404"),
                },
            },
            "delete": {
                "operationId": "deleteOrder",
                "summary": "Soft-delete the order (asynchronously)",
                "parameters": command_headers,
                "responses": {"200": _FINISHED, "202": _ACCEPTED, **problems("400", "404", "412", "422", "503")},
            },
        },
        "/api/v1/orders/{order_id}/commands": {
            "parameters": [order_id],
            "post": {
                "operationId": "commandOrder",
                "summary": "Pay, ship, deliver or cancel the order (asynchronously)",
                "parameters": command_headers,
                "requestBody": {"required": True, "content": json_content(ref("OrderCommand"))},
                "responses": {
                    "200": _FINISHED,
                    "202": _ACCEPTED,
                    **problems("400", "404", "412", "413", "415", "422", "503"),
                },
            },
        },
        "/api/v1/orders/{order_id}/events": {
            "parameters": [order_id],
            "get": {
                "operationId": "listOrderEvents",
                "summary": "The commands applied to the order, oldest first",
                "responses": {
                    "200": {"description": "The events", "content": json_content(ref("EventsOut"))},
                    **problems("404"),
                },
            },
        },
        "/api/v1/jobs": {
            "get": {
                "operationId": "listJobs",
                "summary": "List the tenant's jobs",
                "parameters": openapi_parameters(JobsQuery),
                "responses": {
                    "200": {"description": "A page", "content": json_content(ref("JobsPage"))},
                    **problems("400"),
                },
            },
        },
        "/api/v1/graphql": {
            "post": {
                "operationId": "graphql",
                "summary": "One GraphQL operation: orders with their events and jobs, and the commands",
                "description": "The schema, its limits and its error codes: docs/graphql.md. GraphQL errors (a "
                "limit, an unknown order, a refused command) are answered 200 with `errors`, each carrying the REST "
                "problem's code and status in `extensions`. Refused before any GraphQL work: a body that is not one "
                "JSON operation (400), over 64 KiB (413) or not application/json (415).",
                "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {"required": True, "content": json_content(_GRAPHQL_REQUEST)},
                "responses": {
                    "200": {"description": "data and/or errors", "content": json_content(_GRAPHQL_RESPONSE)},
                    **problems("400", "413", "415"),
                },
            },
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1", "content": json_content({"type": "object"})}},
            },
        },
        "/api/v1/docs": {
            "get": {
                "operationId": "getDocs",
                "summary": "This document, readable (Swagger UI)",
                "security": [],
                "responses": {
                    "200": {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}
                },
            },
        },
        "/api/v1/docs/{asset}": {
            "get": {
                "operationId": "getDocsAsset",
                "summary": "A file of the docs page (Swagger UI, served by the API itself)",
                "security": [],
                "parameters": [
                    {
                        "name": "asset",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": [*ASSETS]},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "A stylesheet or a script",
                        "content": {
                            "text/css": {"schema": {"type": "string"}},
                            "text/javascript": {"schema": {"type": "string"}},
                        },
                    },
                    "404": {"$ref": "#/components/responses/Problem404"},
                },
            },
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Liveness: the process answers",
                "security": [],
                "responses": {"200": {"description": "Alive", "content": json_content({"type": "object"})}},
            },
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "Readiness: PostgreSQL, Redis and RabbitMQ answer",
                "security": [],
                "responses": {
                    "200": {"description": "Ready", "content": json_content({"type": "object"})},
                    "503": {"$ref": "#/components/responses/Problem503"},
                },
            },
        },
        "/api/v1/jobs/{job_id}": {
            "get": {
                "operationId": "getJob",
                "summary": "One job: wait on it (?wait=N) or poll it until it has succeeded or failed",
                "parameters": [{"$ref": "#/components/parameters/JobId"}, *openapi_parameters(WaitQuery)],
                "responses": {
                    "200": {
                        "description": "The job; Retry-After while it is unfinished",
                        "headers": {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}},
                        "content": json_content(ref("JobOut")),
                        "links": _JOB_LINKS,
                    },
                    **problems("400", "404"),
                },
            },
        },
        "/api/v1/jobs/{job_id}/cancel": {
            "post": {
                "operationId": "cancelJob",
                "summary": "Cancel a queued job: its command will change nothing",
                "description": "Only a queued job can be cancelled. Repeating the call on a cancelled job answers the "
                "same; a job a worker has claimed or finished answers 409 with its status. No body.",
                "parameters": [{"$ref": "#/components/parameters/JobId"}],
                "responses": {
                    "200": {"description": "The cancelled job", "content": json_content(ref("JobOut"))},
                    **problems("404", "409"),
                },
            },
        },
    }


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in _MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    problem_response = {
        status: {
            "description": description,
            "headers": {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}} if status in ("429", "503") else {},
            "content": {"application/problem+json": {"schema": ref("ProblemOut")}},
        }
        for status, description in _PROBLEM_STATUSES.items()
    }
    uuid_param = {"type": "string", "format": "uuid"}
    return {
        "schemas": schemas,
        "securitySchemes": {
            "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "ok_<key id>_<secret>",
                "description": "An API key from `./orderly apikey create --tenant NAME`",
            }
        },
        "parameters": {
            "OrderId": {"name": "order_id", "in": "path", "required": True, "schema": uuid_param},
            "JobId": {"name": "job_id", "in": "path", "required": True, "schema": uuid_param},
            "IdempotencyKey": {
                "name": "Idempotency-Key",
                "in": "header",
                "description": "Repeat a request safely: the same key and body answer the same job",
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
            },
            "IfMatch": {
                "name": "If-Match",
                "in": "header",
                "description": "Apply only if the order is still at this version (its ETag)",
                "schema": {"type": "string", "pattern": IF_MATCH_PATTERN},
            },
            "IfNoneMatch": {
                "name": "If-None-Match",
                "in": "header",
                "description": "Answer 304 if the order is still at this version (* or ETags)",
                "schema": {"type": "string", "pattern": IF_NONE_MATCH_PATTERN},
            },
        },
        "headers": {
            "Location": {"description": "Where to poll the job", "schema": {"type": "string"}},
            "ETag": {"description": "The order's version, quoted", "schema": {"type": "string"}},
            "RetryAfter": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}},
        },
        "responses": {f"Problem{status}": response for status, response in problem_response.items()},
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Orderly",
            "version": "1",
            "description": "Asynchronous order commands: POST, get 202 and a job, poll the job. See docs/api.md.",
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": {**_paths(), **openapi_webhooks.paths()},
        "webhooks": openapi_webhooks.events(),
        "components": _components(),
    }
