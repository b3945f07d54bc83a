"""schemathesis hooks (SCHEMATHESIS_HOOKS=tests.integration.schemathesis_hooks).

Generated requests often repeat an Idempotency-Key with another body, which
the API rightly refuses (422). A valid-looking key is made unique per request
so that the checks see the answer to the request itself; malformed keys are
left alone, so their rejection is still tested.

A generated webhook URL that fits the schema (`^https://`) but that the SSRF
rules refuse (a private address, no host...) is replaced by a public one:
no schema can say "public", and those rules have tests of their own.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

from webhooks.urls import UrlPolicy, UrlRefused

_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and _VALID_KEY.match(key):
        headers["Idempotency-Key"] = f"st-{uuid.uuid4()}"

    body = case.body
    if isinstance(body, dict) and isinstance(body.get("url"), str) and body["url"].startswith("https://"):
        try:
            UrlPolicy().check_url(body["url"])
        except UrlRefused:
            body["url"] = f"https://hooks.example.com/{uuid.uuid4()}"
