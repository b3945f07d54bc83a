"""Small builders shared by the OpenAPI document's modules (web/openapi.py,
web/openapi_webhooks.py)."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def problems(*statuses: str) -> dict[str, Any]:
    # Every answer may also be 401, 414 or 431 (a URL or headers too long for
    # gunicorn), 429 or 500.
    return {
        status: {"$ref": f"#/components/responses/Problem{status}"}
        for status in sorted({*statuses, "401", "414", "431", "429", "500"})
    }
