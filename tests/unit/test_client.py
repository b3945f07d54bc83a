"""The Python client's pure parts: webhook signatures and retry delays."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from orderly_client import InvalidSignature, RetryPolicy, sign, verify_signature

BODY = b'{"id":"evt_1","type":"job.finished"}'
NOW = 1_800_000_000


def header(*secrets: str, timestamp: int = NOW, body: bytes = BODY) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secrets)])


def test_a_signature_made_with_the_secret_verifies():
    assert verify_signature(BODY, header("whsec_a"), "whsec_a", now=NOW) == NOW


def test_during_a_rotation_either_secret_verifies():
    both = header("whsec_new", "whsec_old")
    assert verify_signature(BODY, both, "whsec_old", now=NOW) == NOW
    assert verify_signature(BODY, both, ["whsec_new"], now=NOW) == NOW


@pytest.mark.parametrize(
    ("body", "signature", "secret", "now"),
    [
        (BODY + b" ", header("whsec_a"), "whsec_a", NOW),  # body changed
        (BODY, header("whsec_a"), "whsec_b", NOW),  # another secret
        (BODY, header("whsec_a"), "whsec_a", NOW + 301),  # replayed too late
        (BODY, header("whsec_a", timestamp=NOW + 10).replace(f"t={NOW + 10}", f"t={NOW}"), "whsec_a", NOW),
        (BODY, None, "whsec_a", NOW),
        (BODY, "v1=abc", "whsec_a", NOW),
        (BODY, f"t={NOW}", "whsec_a", NOW),
        (BODY, "t=٣,v1=00", "whsec_a", NOW),  # a non-ASCII digit is no timestamp
    ],
)
def test_anything_else_is_refused(body, signature, secret, now):
    with pytest.raises(InvalidSignature):
        verify_signature(body, signature, secret, now=now)


def test_retry_after_is_honoured_with_jitter_on_top():
    policy = RetryPolicy(jitter=lambda low, high: high)  # the most jitter
    assert policy.delay(1, "5") == 6.0
    assert RetryPolicy(jitter=lambda low, high: low).delay(1, "5") == 5.0
    assert policy.delay(1, "1000") == policy.max_delay


def test_without_retry_after_the_backoff_doubles_and_is_capped():
    policy = RetryPolicy(base_delay=0.5, max_delay=4, jitter=lambda low, high: high)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert policy.delay(2, "soon") == 1.0  # not delta-seconds: ignored


def test_the_package_installs_on_its_own(tmp_path):
    """client/ is a package of its own: it builds and imports without the server's code."""
    source = tmp_path / "client"  # pip builds in the source folder: not in the checkout
    shutil.copytree(Path(__file__).resolve().parents[2] / "client", source)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert (target / "orderly_client" / "py.typed").exists()  # type hints ship with it
    probe = "import orderly_client, sys; assert 'web' not in sys.modules; print(orderly_client.Client.__name__)"
    shown = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {probe}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shown.stdout.strip() == "Client", shown.stderr
