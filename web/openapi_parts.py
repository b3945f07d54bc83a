"""Small builders shared by the OpenAPI document's modules (web/openapi.py,
web/openapi_webhooks.py)."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def problems(*statuses: str) -> dict[str, Any]:
    # Every answer may also be 401, 414 (a URL too long for gunicorn), 429 or 500.
    return {
        status: {"$ref": f"#/components/responses/Problem{status}"}
        for status in sorted({*statuses, "401", "414", "429", "500"})
    }


def sort_param(columns: tuple[str, ...]) -> dict[str, Any]:
    return {
        "name": "sort",
        "in": "query",
        "description": "A column, `-` first for descending",
        "schema": {"type": "string", "enum": [*columns, *(f"-{c}" for c in columns)], "default": "-created_at"},
    }


def status_filter(statuses: list[str]) -> dict[str, Any]:
    return {"name": "status", "in": "query", "schema": {"type": "string", "enum": statuses}}
