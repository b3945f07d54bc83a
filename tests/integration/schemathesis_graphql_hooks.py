"""schemathesis hooks for the GraphQL run (test_graphql_fuzz.py).

schemathesis counts every GraphQL error as a server error, a domain
refusal too (an unknown order, an invalid currency). Orderly's contract is
narrower and stricter: every error carries a code (web/graphql_api/errors.py),
none is `internal-error`, no answer is a 5xx, and an answer is JSON.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def graphql_errors_are_coded_refusals(ctx: Any, response: Any, case: Any) -> None:
    if response.status_code >= 500:
        raise AssertionError(f"{response.status_code} answered")
    body = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code in (None, "internal-error"):
            raise AssertionError(f"an error without a refusal's code: {error}")
