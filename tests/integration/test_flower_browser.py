"""Flower as an operator sees it: headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium) logs in with the generated kind of
credentials, finds the running worker, and finds the task of a command just
submitted, named by its command and carrying only the job id.

The screenshot goes to .local/test-logs/flower.png; with
UPDATE_SCREENSHOTS=1 to docs/img/flower.png (shown in the README)."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import time
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.integration.stack import BIN, LOGS, ROOT, free_port, process_env, stop, wait_http

USER = "ops"


@pytest.fixture
def flower() -> Iterator[tuple[str, str]]:
    """Flower started as the Procfile starts it, with a login of its own."""
    password = secrets.token_hex(16)
    port = free_port()
    command = next(line.split(":", 1)[1] for line in (ROOT / "Procfile").read_text().splitlines()
                   if line.startswith("flower:"))  # fmt: skip
    env = process_env(VENV_BIN=str(BIN), FLOWER_PORT=str(port), FLOWER_BASIC_AUTH=f"{USER}:{password}")
    with open(LOGS / "flower-browser.log", "ab") as log:
        process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthcheck", process, timeout=30)
        yield url, password
    finally:
        stop(process)


@pytest.fixture
def browser(tmp_path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,900"):  # fmt: skip
        options.add_argument(flag)
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look for drivers online
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def log_in(driver: webdriver.Chrome, password: str) -> None:
    """Basic auth on every request the pages make (their own XHRs included)."""
    token = base64.b64encode(f"{USER}:{password}".encode()).decode()
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}})


def page_text_until(driver: webdriver.Chrome, url: str, wanted: list[str], timeout: float = 45) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        driver.get(url)
        time.sleep(1.5)  # the tables fill in by XHR
        # Narrow table cells wrap long names: match on the text without line breaks.
        text = driver.find_element("tag name", "body").text.replace("\n", "")
        if all(item in text for item in wanted):
            return text
    raise AssertionError(f"{url} never showed {wanted}; it showed:\n{text[:2000]}")


def test_an_operator_sees_the_worker_and_a_named_task_in_flower(api, running, flower, browser):
    url, password = flower
    driver = browser
    driver.get(url)
    assert "401" in driver.title or "Flower" not in driver.title  # nothing without the login
    log_in(driver, password)

    page_text_until(driver, f"{url}/workers", ["w1@orderly-test"])
    job = api.submit_create()
    assert api.wait(job)["status"] == "succeeded"
    tasks = page_text_until(driver, f"{url}/tasks", ["orderly.create", job["id"]])
    assert api.key.split("_", 2)[2] not in tasks  # never a secret
    target = (
        ROOT / "docs" / "img" / "flower.png" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else LOGS / "flower.png"
    )
    assert driver.save_screenshot(str(target))
    assert target.stat().st_size > 10_000
