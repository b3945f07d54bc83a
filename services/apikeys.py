"""API keys: `ok_<key id>_<secret>`. The key id is public (find and revoke a
leaked key by it); the 256-bit secret is stored only as its SHA-256, which is
enough for a random secret of that size (no password-style stretching needed)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import ApiKey, Tenant
from models.base import utcnow

PREFIX = "ok"
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    tenant_id: uuid.UUID
    plaintext: str


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def get_or_create_tenant(session: Session, name: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.name == name))
    if tenant is None:
        tenant = Tenant(name=name)
        session.add(tenant)
        session.flush()
    return tenant


def create_key(session: Session, tenant_name: str) -> IssuedKey:
    """Create a key for the tenant (created if new); the plaintext is returned once."""
    tenant = get_or_create_tenant(session, tenant_name)
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)  # 256 bits
    session.add(ApiKey(id=key_id, tenant_id=tenant.id, secret_sha256=_sha256(secret)))
    session.flush()
    return IssuedKey(key_id=key_id, tenant_id=tenant.id, plaintext=f"{PREFIX}_{key_id}_{secret}")


def authenticate(session: Session, presented: str) -> uuid.UUID | None:
    """The tenant id the key belongs to, or None for a malformed, unknown or revoked key."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        return None
    key = session.get(ApiKey, key_id)
    # Constant-time comparison: the hash of a wrong secret leaks nothing by timing.
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.secret_sha256, _sha256(secret)):
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
        session.commit()
    return key.tenant_id
