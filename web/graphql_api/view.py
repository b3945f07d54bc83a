"""POST /api/v1/graphql: strawberry's Flask view behind the API's own rules.

The /api/v1 blueprint has already checked the API key and its rate limit
(web/auth.py) when the view runs. The view itself refuses, as problem+json
before any GraphQL work: another media type than application/json (415), a
body over GRAPHQL_MAX_BODY_BYTES (413), and a JSON list, i.e. several
operations batched in one request (400). GET is not served, so a query
never sits in a URL (logs, proxies) and a mutation is never a GET.
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException as StrawberryHTTPException  # what strawberry's views raise
from flask import Blueprint, Request, Response, request
from strawberry.flask.views import GraphQLView
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from config import Settings
from web.auth import tenant_id
from web.graphql_api.errors import formatted
from web.graphql_api.loaders import OrderLoaders
from web.graphql_api.schema import Context, build_schema
from web.problems import Problem
from web.requests import idempotency_key
from web.resources import resources


class OrderlyGraphQLView(GraphQLView):
    methods = ["POST"]

    def __init__(self, max_body_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_body_bytes = max_body_bytes

    def dispatch_request(self) -> Response:
        _refuse_unless_one_operation(request, self.max_body_bytes)
        try:
            return self.run(request=request)
        except StrawberryHTTPException as exc:
            # Strawberry answers these in text/plain (e.g. an operationName
            # naming no operation, a streaming Accept): a problem document, as
            # everywhere in /api/v1.
            slug = "invalid-graphql-request" if exc.status_code == 400 else "graphql-http-error"
            raise Problem(
                exc.status_code, slug, "Bad Request" if exc.status_code == 400 else "Error", exc.reason
            ) from None

    def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        res, tenant = resources(), tenant_id()
        return Context(
            resources=res,
            tenant_id=tenant,
            loaders=OrderLoaders(res.orders_autocommit, tenant),
            idempotency_key=idempotency_key(request),
        )

    def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        answer: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            answer["errors"] = [formatted(error) for error in result.errors]
        return answer


def _refuse_unless_one_operation(req: Request, max_body_bytes: int) -> None:
    idempotency_key(req)  # a malformed header is refused as REST refuses it, whatever the document
    if req.mimetype != "application/json":
        raise Problem(415, "unsupported-media-type", "Unsupported Media Type", "send the body as application/json")
    too_large = Problem(  # as Werkzeug names it for the REST routes
        413,
        "request-entity-too-large",
        "Request Entity Too Large",
        f"a GraphQL request is at most {max_body_bytes} bytes",
    )
    if req.content_length is not None and req.content_length > max_body_bytes:
        raise too_large
    body = req.get_data(cache=True)
    if len(body) > max_body_bytes:  # chunked: no Content-Length to trust
        raise too_large
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Problem(400, "malformed-json", "Bad Request", f"the body is not valid JSON: {exc}") from None
    if isinstance(document, list):
        raise Problem(
            400, "batched-operations", "Bad Request", "send one operation per request: a JSON object, not a list"
        )
    if not (
        isinstance(document, dict)
        and isinstance(document.get("query"), str)
        and document["query"].strip()
        and isinstance(document.get("variables"), dict | None)
        and isinstance(document.get("operationName"), str | None)
    ):
        raise Problem(
            400,
            "invalid-graphql-request",
            "Bad Request",
            'send {"query": "...", "variables": {...}, "operationName": "..."}: a query that is not blank, '
            "the others optional",
        )


def register(api: Blueprint, settings: Settings) -> None:
    """Add the endpoint to the /api/v1 blueprint (its key check applies)."""
    view = OrderlyGraphQLView.as_view(
        "graphql",
        schema=build_schema(settings),
        graphql_ide=None,  # no in-browser IDE on a production API
        allow_queries_via_get=False,
        max_body_bytes=settings.graphql_max_body_bytes,
    )
    bp = Blueprint("graphql", __name__)
    bp.add_url_rule("/graphql", view_func=view, methods=["POST"])
    api.register_blueprint(bp)
