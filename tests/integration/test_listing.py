"""Pagination, filter and sort of orders and jobs."""

from __future__ import annotations

import pytest


@pytest.fixture
def shop(api):
    """Five orders with totals 100..500; the first two paid."""
    ids = []
    for n in range(1, 6):
        items = [{"sku": "S", "quantity": n, "unit_price_cents": 100}]
        ids.append(api.create_order({"currency": "EUR", "items": items}))
    for order_id in ids[:2]:
        assert api.apply(order_id, "pay")["status"] == "succeeded"
    return api, ids


def test_pages_cover_every_order_once(shop):
    api, ids = shop
    seen = []
    for page in (1, 2, 3):
        body = api.get(f"/api/v1/orders?page={page}&limit=2").json()
        assert (body["page"], body["limit"], body["total"]) == (page, 2, 5)
        seen += [o["id"] for o in body["data"]]
    assert sorted(seen) == sorted(ids)
    assert api.get("/api/v1/orders?page=4&limit=2").json()["data"] == []


def test_default_sort_is_newest_first(shop):
    api, ids = shop
    data = api.get("/api/v1/orders").json()["data"]
    assert [o["id"] for o in data] == list(reversed(ids))


def test_sort_by_total(shop):
    api, _ = shop
    ascending = [o["total_cents"] for o in api.get("/api/v1/orders?sort=total_cents").json()["data"]]
    descending = [o["total_cents"] for o in api.get("/api/v1/orders?sort=-total_cents").json()["data"]]
    assert ascending == [100, 200, 300, 400, 500]
    assert descending == ascending[::-1]


def test_filter_by_status(shop):
    api, ids = shop
    paid = api.get("/api/v1/orders?status=paid").json()
    assert paid["total"] == 2
    assert {o["id"] for o in paid["data"]} == set(ids[:2])
    assert api.get("/api/v1/orders?status=pending").json()["total"] == 3


def test_jobs_filter_and_sort(shop):
    api, _ = shop
    api.apply(api.get("/api/v1/orders?status=pending").json()["data"][0]["id"], "ship")  # fails
    failed = api.get("/api/v1/jobs?status=failed").json()
    assert failed["total"] == 1
    assert failed["data"][0]["error"]["code"] == "invalid_transition"
    every = api.get("/api/v1/jobs?sort=created_at&limit=100").json()["data"]
    assert [j["created_at"] for j in every] == sorted(j["created_at"] for j in every)
    assert len(every) == 8


@pytest.mark.parametrize(
    "query", ["page=0", "limit=0", "limit=101", "limit=1000000000", "sort=id", "sort=password", "status=lost", "page=a"]
)
def test_bad_query_parameters_are_400(api, query):
    for path in ("/api/v1/orders", "/api/v1/jobs"):
        response = api.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == query.split("=")[0]
