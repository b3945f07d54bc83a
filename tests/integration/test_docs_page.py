"""The docs page (/api/v1/docs) is served whole by the API itself: Swagger UI's
files come from a pinned package, nothing from a third-party origin, and a
Content-Security-Policy forbids inline and foreign scripts."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import requests


def test_the_docs_page_loads_only_same_origin_files(base_url):
    page = requests.get(f"{base_url}/api/v1/docs", timeout=10)  # no API key: the docs are public
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy

    files = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(files) == 3, files  # the stylesheet, Swagger UI, our start-up script
    for path in files:
        assert path.startswith("/api/v1/docs/"), path  # same origin: works offline
        answer = requests.get(f"{base_url}{path}", timeout=10)
        assert answer.status_code == 200, path
        assert answer.headers["Content-Type"].split(";")[0] in ("text/css", "text/javascript"), path
        assert "max-age" in answer.headers["Cache-Control"]
    bundle = requests.get(f"{base_url}/api/v1/docs/swagger-ui-bundle.js", timeout=10).text
    assert "SwaggerUIBundle" in bundle
    # Inline scripts would need 'unsafe-inline': every script has a src.
    assert "<script>" not in page.text


@pytest.mark.parametrize("asset", ["index.html", "swagger-ui.js.map", "..%2F..%2Fconfig.py", "%2Fetc%2Fpasswd"])
def test_nothing_else_is_served_from_the_docs_folder(base_url, asset):
    answer = requests.get(f"{base_url}/api/v1/docs/{asset}", timeout=10)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_a_browser_renders_the_operations_under_the_policy(base_url, tmp_path):
    # A real browser, offline, enforcing the page's CSP: Swagger UI must start
    # and render the document's operations.
    if shutil.which("chromium") is None:
        pytest.fail("chromium is missing: scripts/test.sh installs it (apt-get install chromium)")
    dom = subprocess.run(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path}",
            "--virtual-time-budget=10000", "--dump-dom", f"{base_url}/api/v1/docs",
        ],
        capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    assert "opblock" in dom  # Swagger UI's block for an operation
    assert "/api/v1/orders/{order_id}/commands" in dom
