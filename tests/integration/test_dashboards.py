"""The operators' files under deploy/: Prometheus' configuration and alert
rules (promtool), and the Grafana dashboard, each panel's queries run by a
real Prometheus (Debian's) scraping the running test stack."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.integration.stack import LOGS, ROOT, free_port, stop, wait_http

PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "orderly-dashboard.json"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60)


def test_the_scrape_config_and_alert_rules_are_valid_and_fire_as_documented():
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def panel_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel["targets"]]


@pytest.fixture
def prometheus(running, tmp_path) -> str:
    """Debian's prometheus scraping the test stack's three exporters every second."""
    jobs = {"orderly-api": "api", "orderly-worker": "worker", "orderly-relay": "relay"}
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(PROMETHEUS / "alerts.yml")],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [running.metrics[component].split("/")[2]]}]}
            for job, component in jobs.items()
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    with open(LOGS / "prometheus.log", "ab") as log:
        process = subprocess.Popen(
            ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/-/ready", process, timeout=30)
        yield url
    finally:
        stop(process)


def query(url: str, expr: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert answer["status"] == "success", (expr, answer)
    return answer["data"]["result"]


def test_every_dashboard_panel_shows_data_from_the_running_stack(api, prometheus):
    queries = panel_queries()
    assert len(queries) >= 15
    missing: list[tuple[str, str]] = queries
    deadline = time.monotonic() + 60
    while missing and time.monotonic() < deadline:
        # Traffic while Prometheus scrapes: commands, reads (misses and hits), a failed job.
        order_id = api.create_order()
        api.order(order_id)
        api.order(order_id)
        api.apply(order_id, "deliver")
        missing = [(title, expr) for title, expr in missing if not query(prometheus, expr)]
    assert missing == []
    # The targets are the three exporters, all up.
    assert sorted(result["metric"]["job"] for result in query(prometheus, 'up{job=~"orderly-.*"} == 1')) == [
        "orderly-api", "orderly-relay", "orderly-worker"]  # fmt: skip


def test_the_shipped_scrape_config_names_the_default_exporter_ports():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets == {"orderly-api": ["127.0.0.1:9101"], "orderly-worker": ["127.0.0.1:9102"],
                       "orderly-relay": ["127.0.0.1:9103"], "orderly-webhooks": ["127.0.0.1:9104"],
                       "orderly-stream": ["127.0.0.1:9105"]}  # fmt: skip
    assert Path(PROMETHEUS / config["rule_files"][0]).is_file()
