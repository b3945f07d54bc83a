"""The API's own description: /api/v1/openapi.json and an interactive page at
/api/v1/docs. Both are public (they describe, they reveal no data)."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, Response, jsonify, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from infra.errors import NotFound
from web import openapi
from web.docs_assets import INIT_SCRIPT_NAME, SWAGGER_UI_FILES

bp = Blueprint("docs", __name__)

# Our start-up script is a file (docs_assets.INIT_SCRIPT_NAME), not inline, so
# the page's CSP can forbid inline scripts. The validator badge would call
# validator.swagger.io: off.
_INIT_SCRIPT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#swagger-ui", validatorUrl: null});
});
"""
_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Orderly API</title>
  <link rel="stylesheet" href="/api/v1/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/v1/docs/swagger-ui-bundle.js"></script>
  <script src="/api/v1/docs/orderly-docs.js"></script>
</body>
</html>
"""

# Swagger UI sets inline styles and uses data: images (its icons); nothing else
# is allowed, and the page cannot be framed.
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_ASSET_MAX_AGE = 86400


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
    response.headers["Content-Security-Policy"] = _PAGE_POLICY
    return response


@bp.get("/docs/<asset>")
def docs_asset(asset: str) -> Response:
    if asset == INIT_SCRIPT_NAME:
        response = Response(_INIT_SCRIPT, mimetype="text/javascript")
    elif asset in SWAGGER_UI_FILES:
        response = send_from_directory(swagger_ui_path, asset, mimetype=SWAGGER_UI_FILES[asset], max_age=_ASSET_MAX_AGE)
    else:
        raise NotFound(f"no docs asset {asset!r}")
    response.headers["Cache-Control"] = f"public, max-age={_ASSET_MAX_AGE}"
    return response
