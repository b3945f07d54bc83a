"""schemathesis against the live GraphQL endpoint: queries and mutations
generated from the schema (hypothesis-graphql), each answered without a 500
and every error a coded refusal (schemathesis_graphql_hooks.py). The schema is handed over as SDL, so the endpoint
keeps introspection off as shipped."""

from __future__ import annotations

import subprocess

import config
from tests.integration.stack import BIN, ROOT
from web.graphql_api.schema import build_schema

HOOKS = "tests.integration.schemathesis_graphql_hooks"


def test_schemathesis_finds_nothing_in_the_graphql_schema(api, base_url, tmp_path):
    sdl = tmp_path / "orderly.graphql"
    sdl.write_text(build_schema(config.current()).as_str())
    for _order in range(3):  # orders to find, with an event and a job each
        api.create_order()
    result = subprocess.run(
        [
            BIN / "st", "run", str(sdl), "--url", f"{base_url}/api/v1/graphql",
            "--header", f"Authorization: Bearer {api.key}",
            "--checks", "graphql_errors_are_coded_refusals", "--max-examples", "40", "--seed", "1",
            "--request-timeout", "15", "--no-color",
        ],
        cwd=tmp_path, env={"PATH": str(BIN), "PYTHONPATH": str(ROOT), "SCHEMATHESIS_HOOKS": HOOKS},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:]
    assert "Failures:" not in result.stdout and "Errors:" not in result.stdout
    # Every root field was exercised: 3 queries and 3 mutations.
    assert "Tested: 6" in result.stdout or "6 passed" in result.stdout, result.stdout[-3000:]
