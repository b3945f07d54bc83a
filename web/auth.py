"""Bearer API-key authentication for /api/v1."""

from __future__ import annotations

import uuid

from flask import g, request

from services import apikeys
from services.errors import Unauthenticated
from web.resources import resources


def require_api_key() -> None:
    """before_request hook: set g.tenant_id or answer 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    with resources().session_factory() as session:
        tenant_id = apikeys.authenticate(session, token.strip())
    if tenant_id is None:
        raise Unauthenticated("the API key is not valid")
    g.tenant_id = tenant_id


def tenant_id() -> uuid.UUID:
    return g.tenant_id
