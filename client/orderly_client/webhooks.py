"""Checking that a webhook delivery comes from Orderly.

Each delivery carries `Orderly-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`:
HMAC-SHA256, keyed with the endpoint's secret, over `<t>.` followed by the
raw body. While a secret is being rotated there are two `v1` values, one per
secret. Checking the timestamp stops an old delivery from being replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

from orderly_client.errors import InvalidSignature

SIGNATURE_HEADER = "Orderly-Signature"
DEFAULT_TOLERANCE = 300  # seconds between the signing and the check


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `v1` value for one secret (Orderly's side; also handy in tests)."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify_signature(
    body: bytes,
    header: str | None,
    secrets: str | Iterable[str],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Return the delivery's timestamp if one of its signatures matches one of
    `secrets` (pass old and new while you rotate) and it is at most
    `tolerance` seconds old; raise InvalidSignature otherwise.

    `body` must be the raw bytes received, before any JSON parsing.
    """
    if not header:
        raise InvalidSignature(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidSignature(f"malformed {SIGNATURE_HEADER} header")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidSignature(f"timestamp {timestamp} is outside the {tolerance:g} s tolerance")
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    expected = [sign(secret, timestamp, body) for secret in keys]
    if not any(hmac.compare_digest(e, s) for e in expected for s in signatures):
        raise InvalidSignature("no signature matches")
    return timestamp
