"""Bearer API-key authentication for /api/v1."""

from __future__ import annotations

import uuid

from flask import g, request

from infra.errors import RateLimited, Unauthenticated
from web.resources import resources

PUBLIC_ENDPOINTS = frozenset({"api.docs.openapi_json", "api.docs.docs_page", "api.docs.docs_asset"})


def require_api_key() -> None:
    """before_request hook: set g.tenant_id, or answer 401 (no valid key) or 429
    (too many failed authentications from this address, or too many requests
    with this key). The API's description is public."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    res = resources()
    address = request.remote_addr or "unknown"
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    # Before any lookup: an address over the failed-auth limit is refused
    # unless it brings a key this process already holds as valid.
    retry_after = res.auth_throttle.retry_after(address)
    if retry_after is not None and not res.keys.holds(token):
        raise RateLimited("too many failed authentications from this address", retry_after=retry_after)
    principal = res.keys.verify(token) if token else None
    if principal is None:
        retry_after = res.auth_throttle.failed(address)
        if retry_after is not None:
            raise RateLimited("too many failed authentications from this address", retry_after=retry_after)
        if not token:
            raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
        raise Unauthenticated("the API key is not valid")
    retry_after = res.rate_limiter.retry_after(principal.key_id)
    if retry_after is not None:
        raise RateLimited("too many requests with this API key", retry_after=retry_after)
    g.tenant_id = principal.tenant_id
    g.key_id = principal.key_id


def tenant_id() -> uuid.UUID:
    return g.tenant_id


def key_id() -> str:
    """The id of the API key the request came with."""
    return str(g.key_id)
