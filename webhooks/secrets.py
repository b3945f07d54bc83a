"""Webhook endpoint secrets: made here, shown once, stored encrypted.

Signing a delivery needs the secret itself (a hash would not do), so it is
stored as a Fernet token (AES-128-CBC with HMAC-SHA256, from `cryptography`)
under WEBHOOK_SECRETS_KEY. That setting may list several keys, newest
first: the newest encrypts, any decrypts, so the key can be rotated without
losing the endpoints' secrets. Any string of high entropy is a key: it is
stretched to Fernet's 32 bytes with SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SECRET_PREFIX = "whsec_"


class SecretsUnavailable(Exception):
    """No WEBHOOK_SECRETS_KEY, or a stored secret no listed key can decrypt."""


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class SecretBox:
    def __init__(self, keys: str) -> None:
        material = [key.strip() for key in keys.split(",") if key.strip()]
        self._fernet = MultiFernet([Fernet(_fernet_key(key)) for key in material]) if material else None

    @property
    def configured(self) -> bool:
        return self._fernet is not None

    def seal(self, secret: str) -> str:
        return self._box().encrypt(secret.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._box().decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretsUnavailable("a webhook secret cannot be decrypted with WEBHOOK_SECRETS_KEY") from None

    def _box(self) -> MultiFernet:
        if self._fernet is None:
            raise SecretsUnavailable("WEBHOOK_SECRETS_KEY is not set: webhooks are off")
        return self._fernet


def _fernet_key(material: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest())
