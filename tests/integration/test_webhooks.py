"""Webhooks end to end: an event committed with its change is delivered,
signed, retried and recorded, at least once; the SSRF rules refuse what
must not be called. Receivers are real HTTP(S) servers on 127.0.0.1 (HTTPS
with a throwaway certificate authority)."""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import trustme
from orderly_client import InvalidSignature, verify_signature
from prometheus_client import REGISTRY
from sqlalchemy import text

import config
from tests.integration import stack
from tests.integration.test_job_waits import stuck_job
from tests.integration.webhook_receiver import Receiver
from webhooks import delivery as webhook_delivery
from webhooks.delivery import SenderPolicy
from webhooks.secrets import SecretBox
from webhooks.urls import UrlPolicy

BOTH = ["job.finished", "order.status_changed"]
LOOPBACK = "127.0.0.1/32,::1/128"  # `localhost` may resolve to either
TEST_POLICY = SenderPolicy(
    urls=UrlPolicy(allow_http_to_loopback=True),
    timeout=1.0,
    retry_base=timedelta(seconds=0.2),
    lease=timedelta(seconds=3),
)


# ---------------------------------------------------------------- fixtures and helpers
@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_receiver(ca: trustme.CA) -> Iterator[Receiver]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    receiver = Receiver(tls=context)
    yield receiver
    receiver.close()


@pytest.fixture
def ca_bundle(ca: trustme.CA, tmp_path) -> str:
    path = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(autouse=True)
def nothing_left_pending(session_factory) -> Iterator[None]:
    """Other tests' undelivered deliveries (to names that do not resolve here)
    must not reach this test's sender, nor this test's the next one's."""

    def fail_pending() -> None:
        with session_factory() as session:
            session.execute(text("UPDATE webhook_deliveries SET status = 'failed' WHERE status = 'pending'"))
            session.commit()

    fail_pending()
    yield
    fail_pending()


def register(api, url: str, events: list[str] | None = None) -> tuple[dict[str, Any], str]:
    response = api.post("/api/v1/webhooks", json={"url": url, "events": events or BOTH})
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/api/v1/webhooks/{body['id']}"
    return body, body.pop("secret")


def deliveries(api, endpoint_id: str, **params: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", params={"sort": "created_at", **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def deliver(
    session_factory,
    until: Callable[[], bool],
    policy: SenderPolicy = TEST_POLICY,
    resolver: Any = None,
    timeout: float = 20,
) -> None:
    """Run the sender's rounds in this process (bounded) until `until()`."""
    box = SecretBox(config.current().webhook_secrets_key)
    extra = {"resolver": resolver} if resolver else {}
    sender = webhook_delivery.Sender(session_factory, policy, box, concurrency=4, **extra)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            sender.round()
            while not sender.idle() and time.monotonic() < deadline:
                time.sleep(0.02)
            if until():
                return
            time.sleep(0.1)
    finally:
        sender.close()
    raise AssertionError(f"not done within {timeout} s")


def counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("orderly_webhook_deliveries_total", {"outcome": outcome}) or 0.0


# ---------------------------------------------------------------- delivery
def test_events_are_delivered_signed_over_https_by_the_sender_process(api, https_receiver, ca_bundle):
    endpoint, secret = register(api, https_receiver.url(host="localhost", scheme="https"))
    sender = stack.start_webhook_sender(WEBHOOK_CA_BUNDLE=ca_bundle, WEBHOOK_ALLOWED_NETWORKS=LOOPBACK)
    try:
        job = api.wait(api.submit_create())
        received = https_receiver.wait_for(2)
    finally:
        stack.stop(sender)
    for request in received:
        verify_signature(request.body, request.headers["Orderly-Signature"], secret)  # raises when wrong
        assert request.headers["Orderly-Event-Id"] == request.event["id"]
        assert request.path == "/hooks/orderly?source=test"
    by_type = {r.event["type"]: r.event for r in received}
    assert by_type["job.finished"]["data"] == {
        "job_id": job["id"], "command": "create", "order_id": job["order_id"], "status": "succeeded",
        "error": None, "finished_at": job["finished_at"],
    }  # fmt: skip
    assert by_type["order.status_changed"]["data"]["to_status"] == "pending"
    assert by_type["order.status_changed"]["data"]["from_status"] is None
    recorded = deliveries(api, endpoint["id"])
    assert sorted(d["status"] for d in recorded) == ["delivered", "delivered"]
    assert {d["last_status_code"] for d in recorded} == {200}


def test_failed_and_cancelled_jobs_are_reported_and_events_are_filtered(api, receiver, session_factory):
    register(api, receiver.url(), events=["job.finished"])
    order_id = api.create_order()
    failed = api.wait(api.submit_command(order_id, "ship"))  # pending cannot be shipped
    cancelled = api.post(f"/api/v1/jobs/{stuck_job(session_factory, api)}/cancel").json()
    deliver(session_factory, until=lambda: len(receiver.received) >= 3)
    events = {e["data"]["job_id"]: e for e in receiver.events()}
    assert {e["type"] for e in events.values()} == {"job.finished"}  # no order.status_changed: not subscribed
    assert events[failed["id"]]["data"]["status"] == "failed"
    assert events[failed["id"]]["data"]["error"]["code"] == "invalid_transition"
    assert events[cancelled["id"]]["data"]["status"] == "cancelled"


def test_500s_and_timeouts_are_retried_with_the_same_event_id(api, receiver, session_factory):
    endpoint, _ = register(api, receiver.url(), events=["job.finished"])
    receiver.script.extend([500, ("sleep", 2.0)])  # then 200
    before = counted("retrying")
    api.wait(api.submit_create())
    deliver(session_factory, until=lambda: deliveries(api, endpoint["id"])[0]["status"] == "delivered")
    (delivery,) = deliveries(api, endpoint["id"])
    assert delivery["attempts"] == 3
    assert len({r.headers["Orderly-Event-Id"] for r in receiver.received}) == 1
    assert len(receiver.received) == 3
    assert counted("retrying") - before == 2


def test_a_sender_killed_mid_delivery_sends_it_again(api, receiver, session_factory):
    """The sender dies after the endpoint got the event, before recording it:
    the delivery stays pending, and a new sender sends it again after the
    lease, with the same event id (the receiver deduplicates on it)."""
    endpoint, _ = register(api, receiver.url(), events=["job.finished"])
    dying = stack.start_webhook_sender("webhooks-dying", ORDERLY_FAULTS="webhook.after_send=exit")
    try:
        api.wait(api.submit_create())
        receiver.wait_for(1)
        assert dying.wait(timeout=20) == 70  # killed by the fault point
    finally:
        stack.stop(dying)
    assert deliveries(api, endpoint["id"])[0]["status"] == "pending"
    sender = stack.start_webhook_sender()
    try:
        received = receiver.wait_for(2)
    finally:
        stack.stop(sender)
    assert received[0].headers["Orderly-Event-Id"] == received[1].headers["Orderly-Event-Id"]
    (delivery,) = deliveries(api, endpoint["id"])
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)


def test_a_delivery_is_given_up_after_its_retry_window(api, receiver, session_factory):
    endpoint, _ = register(api, receiver.url(), events=["job.finished"])
    receiver.script.extend([503] * 100)
    api.wait(api.submit_create())
    policy = replace(TEST_POLICY, retry_for=timedelta(seconds=1.5))
    deliver(session_factory, until=lambda: deliveries(api, endpoint["id"])[0]["status"] == "failed", policy=policy)
    (delivery,) = deliveries(api, endpoint["id"])
    assert delivery["last_error"].startswith(f"gave up after {delivery['attempts']} attempts: HTTP 503")
    assert delivery["attempts"] >= 2


# ---------------------------------------------------------------- secrets
def test_during_a_rotation_both_secrets_sign(api, receiver, session_factory):
    endpoint, old = register(api, receiver.url(), events=["job.finished"])
    rotated = api.post(f"/api/v1/webhooks/{endpoint['id']}/secret-rotations")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and rotated.json()["previous_secret_expires_at"]
    assert "secret" not in api.get(f"/api/v1/webhooks/{endpoint['id']}").json()  # shown once only

    api.wait(api.submit_create())
    deliver(session_factory, until=lambda: len(receiver.received) >= 1)
    overlapping = receiver.received[0]
    assert overlapping.headers["Orderly-Signature"].count("v1=") == 2
    verify_signature(overlapping.body, overlapping.headers["Orderly-Signature"], old)
    verify_signature(overlapping.body, overlapping.headers["Orderly-Signature"], new)

    newest = api.post(f"/api/v1/webhooks/{endpoint['id']}/secret-rotations", json={"overlap_hours": 0}).json()["secret"]
    api.wait(api.submit_create())
    deliver(session_factory, until=lambda: len(receiver.received) >= 2)
    alone = receiver.received[1]
    verify_signature(alone.body, alone.headers["Orderly-Signature"], newest)
    with pytest.raises(InvalidSignature):
        verify_signature(alone.body, alone.headers["Orderly-Signature"], new)


def test_secrets_are_stored_encrypted(api, receiver, session_factory):
    endpoint, secret = register(api, receiver.url())
    with session_factory() as session:
        stored = session.execute(
            text("SELECT secret_ciphertext FROM webhook_endpoints WHERE id = :id"), {"id": endpoint["id"]}
        ).scalar_one()
    assert secret not in stored and secret.removeprefix("whsec_") not in stored


# ---------------------------------------------------------------- failing endpoints
def test_an_endpoint_failing_too_long_is_disabled_and_its_deliveries_can_be_resent(api, receiver, session_factory):
    dead = f"http://127.0.0.1:{stack.free_port()}/gone"
    endpoint, _ = register(api, dead, events=["job.finished"])
    api.wait(api.submit_create())
    policy = replace(TEST_POLICY, disable_after=timedelta(seconds=1))

    def disabled() -> bool:
        return not api.get(f"/api/v1/webhooks/{endpoint['id']}").json()["enabled"]

    deliver(session_factory, until=disabled, policy=policy)
    current = api.get(f"/api/v1/webhooks/{endpoint['id']}").json()
    assert current["disabled_reason"].startswith("every delivery failed since")
    (failed,) = deliveries(api, endpoint["id"])
    assert failed["status"] == "failed" and failed["last_error"].startswith("the endpoint was disabled")

    resend = f"/api/v1/webhooks/{endpoint['id']}/deliveries/{failed['id']}/resend"
    assert api.post(resend).status_code == 409  # disabled: enable it first
    fixed = api.request("PATCH", f"/api/v1/webhooks/{endpoint['id']}", json={"url": receiver.url(), "enabled": True})
    assert fixed.status_code == 200 and fixed.json()["disabled_reason"] is None
    again = api.post(resend)
    assert again.status_code == 202, again.text
    deliver(session_factory, until=lambda: len(receiver.received) >= 1)
    assert receiver.received[0].headers["Orderly-Event-Id"] == failed["event_id"]
    statuses = {d["id"]: d["status"] for d in deliveries(api, endpoint["id"])}
    deliver(session_factory, until=lambda: deliveries(api, endpoint["id"], status="delivered") != [])
    assert statuses[failed["id"]] == "failed"
    assert deliveries(api, endpoint["id"], status="delivered")[0]["resent_from"] == failed["id"]


# ---------------------------------------------------------------- SSRF
@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # plain http
        "ftp://example.com/hook",
        "https://10.1.2.3/hook",  # private
        "https://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
        "https://[::1]/hook",  # loopback over https
        "https://[::ffff:10.0.0.1]/hook",  # IPv4-mapped private
        "https://0.0.0.0/hook",
        "https://user:password@example.com/hook",
        "https://exämple.com/hook",  # not punycode
        "https://example.com:99999/hook",
        "https://[::1/hook",  # once a 500: urlsplit's ValueError (found by schemathesis)
    ],
)
def test_registration_refuses_urls_that_must_not_be_called(api, url):
    response = api.post("/api/v1/webhooks", json={"url": url, "events": BOTH})
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "url"


@pytest.mark.parametrize(
    ("addresses", "refused"),
    [(["10.0.0.7"], "10.0.0.7"), (["93.184.215.14", "127.0.0.1"], "127.0.0.1"), (["fe80::1"], "fe80::1")],
)
def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(api, session_factory, addresses, refused):
    endpoint, _ = register(api, "https://hooks.customer.example/orderly", events=["job.finished"])
    api.wait(api.submit_create())
    looked_up: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return addresses

    before = counted("refused")
    deliver(session_factory, until=lambda: deliveries(api, endpoint["id"])[0]["attempts"] >= 1, resolver=resolver)
    (delivery,) = deliveries(api, endpoint["id"])
    assert delivery["status"] == "pending" and delivery["last_status_code"] is None
    assert delivery["last_error"] == f"refused: the URL leads to a non-public address ({refused})"
    assert looked_up == ["hooks.customer.example"]
    assert counted("refused") - before == 1


def test_loopback_over_https_is_refused_unless_its_network_is_allowed(api, https_receiver, session_factory, ca_bundle):
    endpoint, _ = register(api, https_receiver.url(host="localhost", scheme="https"), events=["job.finished"])
    api.wait(api.submit_create())
    strict = replace(TEST_POLICY, ca_bundle=ca_bundle)
    deliver(session_factory, until=lambda: deliveries(api, endpoint["id"])[0]["attempts"] >= 1, policy=strict)
    assert "non-public address (127.0.0.1)" in deliveries(api, endpoint["id"])[0]["last_error"]
    assert https_receiver.received == []

    allowed = replace(strict, urls=UrlPolicy.from_settings(LOOPBACK, allow_http=False, testing=True))
    deliver(session_factory, until=lambda: len(https_receiver.received) >= 1, policy=allowed)


def test_an_untrusted_certificate_fails_the_delivery(api, https_receiver, session_factory):
    endpoint, _ = register(api, https_receiver.url(host="localhost", scheme="https"), events=["job.finished"])
    api.wait(api.submit_create())
    allowed = replace(TEST_POLICY, urls=UrlPolicy.from_settings(LOOPBACK, allow_http=False, testing=True))  # system CAs
    deliver(session_factory, until=lambda: deliveries(api, endpoint["id"])[0]["attempts"] >= 1, policy=allowed)
    assert "CERTIFICATE_VERIFY_FAILED" in deliveries(api, endpoint["id"])[0]["last_error"]


def test_redirects_are_not_followed(api, receiver, session_factory):
    endpoint, _ = register(api, receiver.url(), events=["job.finished"])
    receiver.script.append(("redirect", "http://169.254.169.254/latest/meta-data"))
    api.wait(api.submit_create())
    deliver(session_factory, until=lambda: deliveries(api, endpoint["id"])[0]["attempts"] >= 1)
    (delivery,) = deliveries(api, endpoint["id"])
    assert delivery["last_status_code"] == 302
    assert delivery["last_error"] == "HTTP 302: redirects are not followed"
    assert len(receiver.received) == 1


# ---------------------------------------------------------------- the API
def test_endpoints_belong_to_their_tenant(api, new_api, receiver):
    endpoint, _ = register(api, receiver.url())
    stranger = new_api()
    path = f"/api/v1/webhooks/{endpoint['id']}"
    assert stranger.get(path).status_code == 404
    assert stranger.request("PATCH", path, json={"enabled": False}).status_code == 404
    assert stranger.delete(path).status_code == 404
    assert stranger.get(f"{path}/deliveries").status_code == 404
    assert stranger.post(f"{path}/secret-rotations").status_code == 404
    assert stranger.get("/api/v1/webhooks").json()["total"] == 0
    assert api.get("/api/v1/webhooks").json()["total"] == 1


def test_deleting_an_endpoint_and_the_limit_per_tenant(api, receiver):
    endpoints = [register(api, receiver.url())[0] for _ in range(10)]
    eleventh = api.post("/api/v1/webhooks", json={"url": receiver.url(), "events": BOTH})
    assert eleventh.status_code == 409
    assert api.delete(f"/api/v1/webhooks/{endpoints[0]['id']}").status_code == 204
    assert api.get(f"/api/v1/webhooks/{endpoints[0]['id']}").status_code == 404
    assert register(api, receiver.url())[0]["enabled"] is True  # room again


def test_bad_bodies_are_refused(api, receiver):
    assert api.post("/api/v1/webhooks", json={"url": receiver.url(), "events": []}).status_code == 422
    assert api.post("/api/v1/webhooks", json={"url": receiver.url(), "events": ["order.paid"]}).status_code == 422
    assert api.post("/api/v1/webhooks", json={"url": receiver.url(), "events": BOTH, "secret": "x"}).status_code == 422
    assert api.post("/api/v1/webhooks", data="url=x", headers={"Content-Type": "text/plain"}).status_code == 415
    endpoint, _ = register(api, receiver.url())
    rotate = f"/api/v1/webhooks/{endpoint['id']}/secret-rotations"
    assert api.post(rotate, json={"overlap_hours": 1000}).status_code == 422
    assert api.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries?status=lost").status_code == 400
    assert api.post(f"/api/v1/webhooks/{endpoint['id']}/deliveries/{uuid.uuid4()}/resend").status_code == 404
