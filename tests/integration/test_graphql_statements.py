"""What a GraphQL page costs PostgreSQL: a bounded number of statements,
whatever the page size (web/graphql_api/loaders.py). The app runs in this
process, against the real servers, so that its statements can be counted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

import config
import web

PAGE = "{ orders(first: 100) { edges { node { id version events { version command } jobs { id status } } } } }"


def test_a_page_of_100_orders_with_their_events_and_jobs_is_three_statements(api):
    jobs = [api.submit_create() for _ in range(100)]
    for job in jobs:
        api.wait(job)
    client = web.create_app(config.current()).test_client()
    headers = {"Authorization": f"Bearer {api.key}"}
    assert client.post("/api/v1/graphql", json={"query": PAGE}, headers=headers).status_code == 200  # warm

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        answer = client.post("/api/v1/graphql", json={"query": PAGE}, headers=headers).get_json()
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    edges = answer["data"]["orders"]["edges"]
    assert len(edges) == 100
    assert all(len(e["node"]["events"]) == 1 and len(e["node"]["jobs"]) == 1 for e in edges)
    # The page, the events of its orders, their jobs.
    assert len(statements) == 3, statements
