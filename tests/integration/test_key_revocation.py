"""API keys are checked from a per-process copy plus a revocation marker in
Redis (access/key_verifier.py): a revoked key must still answer 401 at once,
in every API process, and also while Redis cannot be reached."""

from __future__ import annotations

import uuid

import requests

from access import api_keys, key_verifier
from infra.redis_client import make_redis
from infra.unit_of_work import UnitOfWork
from tests.integration.servers import stopped

# Enough fresh connections that both API processes serve some of them.
REQUESTS = 12


def statuses(base_url: str, key: str) -> set[int]:
    """Status of REQUESTS calls, each on a new connection (so on either process)."""
    headers = {"Authorization": f"Bearer {key}", "Connection": "close"}
    return {requests.get(f"{base_url}/api/v1/orders", headers=headers, timeout=10).status_code for _ in range(REQUESTS)}


def new_key(session_factory) -> api_keys.IssuedKey:
    with session_factory() as session:
        issued = api_keys.create_key(session, f"revoke-{uuid.uuid4().hex[:8]}")
        session.commit()
    return issued


def revoke(session_factory, settings, key_id: str) -> key_verifier.Revocation:
    return key_verifier.revoke(UnitOfWork(session_factory), make_redis(settings.redis_url), key_id, "test")


def test_every_process_refuses_a_revoked_key_it_holds(base_url, session_factory, settings):
    issued = new_key(session_factory)
    assert statuses(base_url, issued.plaintext) == {200}  # every process now holds the key
    revocation = revoke(session_factory, settings, issued.key_id)
    assert revocation == key_verifier.Revocation(revoked=True, announced=True)
    assert statuses(base_url, issued.plaintext) == {401}


def test_with_redis_down_a_key_revoked_meanwhile_is_refused(base_url, session_factory, settings):
    """Fails closed: the marker cannot be read, so the key is looked up again."""
    issued = new_key(session_factory)
    assert statuses(base_url, issued.plaintext) == {200}
    with stopped("redis"):
        revocation = revoke(session_factory, settings, issued.key_id)
        assert revocation == key_verifier.Revocation(revoked=True, announced=False)
        assert statuses(base_url, issued.plaintext) == {401}
    assert statuses(base_url, issued.plaintext) == {401}


def test_a_made_up_key_is_refused_and_a_valid_one_still_works(base_url, session_factory):
    issued = new_key(session_factory)
    forged = f"ok_{issued.key_id}_{'x' * 43}"  # a real key id with a wrong secret
    assert statuses(base_url, forged) == {401}
    assert statuses(base_url, f"ok_{uuid.uuid4().hex[:16]}_{'y' * 43}") == {401}
    assert statuses(base_url, issued.plaintext) == {200}
