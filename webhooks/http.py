"""One webhook POST to a vetted Target (webhooks/urls.py).

It connects to the address that was checked, and for https verifies the
certificate against the URL's host name (SNI and hostname check use the name,
not the address). No redirects are followed (a 3xx is a failure: it could
point anywhere), no proxy from the environment is used, the timeouts are
short, and at most MAX_RESPONSE_BYTES of the answer are read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import urllib3

from webhooks.urls import Target

MAX_RESPONSE_BYTES = 4096


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (connection error, timeout, TLS)
    error: str | None  # why it counts as failed; None when delivered (2xx)
    seconds: float
    could_not_connect: bool = False  # nothing was sent: the next address may be tried

    @property
    def delivered(self) -> bool:
        return self.error is None


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float, ca_bundle: str | None) -> Answer:
    """Try the target's addresses in order until one accepts the connection
    (a name with an unreachable IPv6 address still gets its delivery)."""
    answer = Answer(None, "no address", 0.0)
    for address in target.addresses:
        answer = _post_to(address, target, body, headers, timeout, ca_bundle)
        if not answer.could_not_connect:
            break
    return answer


def _post_to(
    address: str, target: Target, body: bytes, headers: dict[str, str], timeout: float, ca_bundle: str | None
) -> Answer:
    started = time.monotonic()
    pool = _pool(address, target, timeout, ca_bundle)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": host_header, "Content-Length": str(len(body))},
            redirect=False,
            retries=False,
            preload_content=False,
        )
        try:
            response.read(MAX_RESPONSE_BYTES)  # bounded: a huge answer is not our problem
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        unreachable = isinstance(exc, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError)
        return Answer(None, _describe(exc), time.monotonic() - started, could_not_connect=unreachable)
    finally:
        pool.close()
    seconds = time.monotonic() - started
    if 200 <= response.status < 300:
        return Answer(response.status, None, seconds)
    if 300 <= response.status < 400:
        return Answer(response.status, f"HTTP {response.status}: redirects are not followed", seconds)
    return Answer(response.status, f"HTTP {response.status}", seconds)


def _pool(address: str, target: Target, timeout: float, ca_bundle: str | None) -> urllib3.HTTPConnectionPool:
    limits = urllib3.Timeout(connect=timeout, read=timeout)
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=limits,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_bundle or None,
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(address, target.port, timeout=limits, maxsize=1, retries=False)


def _describe(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = f"{type(reason).__name__}: {reason}"
    return text[:300]
