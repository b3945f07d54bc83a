"""The files of the docs page that /api/v1/docs/<asset> serves (web/docs.py),
named here so that the OpenAPI document can list them without importing the
views that serve it."""

from __future__ import annotations

# Swagger UI's files come from a pinned Python package (swagger-ui-bundle-v2)
# and are served by the API itself: the page works offline and loads no
# third-party script. Only these files are served from its folder.
SWAGGER_UI_FILES = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}
INIT_SCRIPT_NAME = "orderly-docs.js"
ASSETS = (*SWAGGER_UI_FILES, INIT_SCRIPT_NAME)
