"""The webhook sender's rounds: claim due deliveries, send them, record how
it went. At least once: a delivery is marked delivered only after the
endpoint answered 2xx, so a sender that dies mid-delivery leaves it pending,
and it is sent again once its lease has run out (with the same event id).

Failures are retried with capped exponential backoff and jitter for
WEBHOOK_RETRY_HOURS (72 h by default), then the delivery fails. An endpoint
whose every attempt has failed for WEBHOOK_DISABLE_AFTER_HOURS is disabled
with the reason, and its pending deliveries fail; a tenant can re-enable it
and resend them by hand.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session, sessionmaker

from infra.faults import fault_point
from models.base import iso
from telemetry import metrics
from webhooks import http
from webhooks.secrets import SecretBox, SecretsUnavailable
from webhooks.unit_of_work import WebhooksUnitOfWork
from webhooks.urls import Resolver, Target, UrlPolicy, UrlRefused, system_resolver

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Orderly-Signature"
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class SenderPolicy:
    urls: UrlPolicy
    timeout: float = 5.0
    ca_bundle: str | None = None
    retry_for: timedelta = timedelta(hours=72)
    retry_base: timedelta = timedelta(seconds=30)
    disable_after: timedelta = timedelta(hours=72)
    lease: timedelta = timedelta(seconds=60)

    def backoff(self, attempts: int) -> timedelta:
        """Before attempt `attempts + 1`: base * 2^(attempts-1), capped at 6 h, +-20 % jitter."""
        delay = min(MAX_BACKOFF, self.retry_base * 2 ** min(attempts - 1, 20))
        return delay * random.uniform(0.8, 1.2)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: Iterable[str], timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hmac>` with one v1 per secret (two during a rotation)."""
    return ",".join([f"t={timestamp}", *(f"v1={sign(secret, timestamp, body)}" for secret in secrets)])


def event_body(delivery: Row[Any]) -> bytes:
    event = {
        "id": str(delivery.event_id),
        "type": delivery.event_type,
        "created_at": iso(delivery.occurred_at),
        "data": delivery.payload,
    }
    return json.dumps(event, separators=(",", ":")).encode()


def claim(uow: WebhooksUnitOfWork, policy: SenderPolicy, limit: int) -> list[Row[Any]]:
    """Up to `limit` due deliveries, each leased for `policy.lease`: other
    senders skip it meanwhile, and it comes due again if this one dies before
    recording."""
    with uow:
        rows = uow.deliveries.claim(limit, policy.lease)
        uow.commit()
    return rows


@dataclass(frozen=True)
class Result:
    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    created_at: datetime
    attempts: int
    answer: http.Answer | None  # None: not sent (refused, endpoint gone)
    failure: str | None  # why it failed; None when delivered
    final: bool = False  # no point retrying: the endpoint was deleted or disabled


def send(delivery: Row[Any], policy: SenderPolicy, box: SecretBox, resolver: Resolver = system_resolver) -> Result:
    """Make one attempt (no database access: safe in a thread). Never raises:
    whatever goes wrong is this delivery's failure, not the round's."""

    def result(answer: http.Answer | None, failure: str | None, final: bool = False) -> Result:
        ids = (delivery.id, delivery.endpoint_id, delivery.created_at, delivery.attempts)
        return Result(*ids, answer, failure, final)

    if delivery.deleted_at is not None or not delivery.enabled:
        gone = "the endpoint was deleted" if delivery.deleted_at else "the endpoint is disabled"
        return result(None, gone, final=True)
    try:
        target = policy.urls.resolve(delivery.url, resolver)
    except UrlRefused as refused:
        metrics.WEBHOOK_DELIVERIES.labels("refused").inc()
        return result(None, f"refused: {refused}")
    try:
        return result(*_post(delivery, target, policy, box))
    except SecretsUnavailable as exc:
        return result(None, str(exc))
    except Exception:
        log.exception("webhook delivery %s: unexpected error", delivery.id)
        return result(None, "internal error in the sender (its log has the details)")


def _post(delivery: Row[Any], target: Target, policy: SenderPolicy, box: SecretBox) -> tuple[http.Answer, str | None]:
    """Sign and POST the delivery's event: the answer, and the failure if any."""
    now = datetime.now(UTC)
    secrets = [box.open(delivery.secret_ciphertext)]
    if delivery.previous_secret_ciphertext and (delivery.previous_secret_expires_at or now) > now:
        secrets.append(box.open(delivery.previous_secret_ciphertext))
    body = event_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Orderly-Webhooks/1.0",
        "Orderly-Event-Id": str(delivery.event_id),
        "Orderly-Event-Type": delivery.event_type,
        "Orderly-Delivery-Id": str(delivery.id),
        SIGNATURE_HEADER: signature_header(secrets, int(time.time()), body),
    }
    answer = http.post(target, body, headers, policy.timeout, policy.ca_bundle)
    fault_point("webhook.after_send")
    metrics.WEBHOOK_SECONDS.observe(answer.seconds)
    return answer, answer.error


def _note_endpoint_failing(uow: WebhooksUnitOfWork, endpoint_id: uuid.UUID, failure: str, policy: SenderPolicy) -> None:
    """Every attempt to the endpoint failing since when; past `disable_after`,
    disable it with the reason and fail its pending deliveries."""
    state = uow.deliveries.endpoint_state(endpoint_id)
    if not state.enabled:
        return
    if state.now - state.failing_since < policy.disable_after:
        uow.deliveries.still_failing(endpoint_id, state.failing_since)
        return
    reason = f"every delivery failed since {iso(state.failing_since)}; the last: {failure}"[:500]
    uow.deliveries.disable(endpoint_id, state.failing_since, reason)
    metrics.WEBHOOK_ENDPOINTS_DISABLED.inc()
    log.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)


def record(uow: WebhooksUnitOfWork, result: Result, policy: SenderPolicy) -> None:
    code = result.answer.status if result.answer else None
    with uow:
        if result.failure is None:
            uow.deliveries.mark_delivered(result.delivery_id, code)
            metrics.WEBHOOK_DELIVERIES.labels("delivered").inc()
        else:
            backoff = policy.backoff(result.attempts)
            give_up = result.final or datetime.now(UTC) + backoff > result.created_at + policy.retry_for
            error = result.failure
            if give_up and not result.final:
                error = f"gave up after {result.attempts} attempts: {error}"
            uow.deliveries.record_failed_attempt(result.delivery_id, give_up, backoff, code, error)
            metrics.WEBHOOK_DELIVERIES.labels("gave_up" if give_up else "retrying").inc()
            if not result.final:
                _note_endpoint_failing(uow, result.endpoint_id, result.failure, policy)
        uow.commit()


class Sender:
    """Deliveries in flight on a pool of threads: each thread sends one and
    records its outcome itself, so a slow endpoint (or a slow DNS answer)
    holds one thread, never the others' records. A round claims only as many
    deliveries as there are free threads; the rest stay due for the next."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        policy: SenderPolicy,
        box: SecretBox,
        concurrency: int,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._session_factory = session_factory
        self._policy = policy
        self._box = box
        self._resolver = resolver
        self._concurrency = concurrency
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook")
        self._lock = threading.Lock()
        self._in_flight = 0

    def round(self) -> int:
        """Claim what the free threads can take and start sending it; how many."""
        with self._lock:
            free = self._concurrency - self._in_flight
        if free <= 0:
            return 0
        due = claim(WebhooksUnitOfWork(self._session_factory), self._policy, free)
        with self._lock:
            self._in_flight += len(due)
        for delivery in due:
            self._pool.submit(self._deliver, delivery)
        return len(due)

    def idle(self) -> bool:
        with self._lock:
            return self._in_flight == 0

    def close(self) -> None:
        """Wait for the deliveries in flight (each bounded by its timeouts)."""
        self._pool.shutdown(wait=True)

    def _deliver(self, delivery: Row[Any]) -> None:
        try:
            result = send(delivery, self._policy, self._box, self._resolver)
            record(WebhooksUnitOfWork(self._session_factory), result, self._policy)
        except Exception:  # PostgreSQL down, most likely: the lease brings the delivery back
            log.exception("webhook delivery %s: could not record its outcome", delivery.id)
        finally:
            with self._lock:
                self._in_flight -= 1
