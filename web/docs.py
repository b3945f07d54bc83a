"""The API's own description: /api/v1/openapi.json and an interactive page at
/api/v1/docs. Both are public (they describe, they reveal no data)."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, Response, jsonify

from web import openapi

bp = Blueprint("docs", __name__)

# Swagger UI from its CDN, pinned; the page only needs to reach it from the
# reader's browser, never from the server.
_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Orderly API</title>
  <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14/swagger-ui-bundle.js"></script>
  <script>SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui"});</script>
</body>
</html>
"""


@cache
def _document() -> dict[str, Any]:
    return openapi.document()


@bp.get("/openapi.json")
def openapi_json() -> Response:
    response = jsonify(_document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs")
def docs_page() -> Response:
    response = Response(_PAGE, mimetype="text/html")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
