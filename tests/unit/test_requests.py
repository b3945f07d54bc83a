"""Parsing of query strings and conditional headers."""

from __future__ import annotations

import pytest
from flask import Flask, request

from web.problems import Problem
from web.requests import etag_matches, expected_version, json_body, page_params
from web.schemas import OrderCommand

app = Flask(__name__)
SORTABLE = ("created_at", "total_cents")
STATUSES = ("pending", "paid")


def parse_page(query: str):
    with app.test_request_context(f"/?{query}"):
        return page_params(request, SORTABLE, STATUSES)


def test_page_defaults():
    page, status = parse_page("")
    assert (page.number, page.limit, page.sort, status) == (1, 20, "-created_at", None)


def test_page_values_are_read():
    page, status = parse_page("page=3&limit=100&sort=total_cents&status=paid")
    assert (page.number, page.limit, page.sort, status) == (3, 100, "total_cents", "paid")


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=x",
        "limit=0",
        "limit=101",
        "limit=1000000000",
        "sort=id",
        "sort=--created_at",
        "status=deleted",
        "status=PAID",
    ],
)
def test_bad_page_parameters_are_400(query):
    with pytest.raises(Problem) as raised:
        parse_page(query)
    assert raised.value.status == 400


@pytest.mark.parametrize(("header", "version"), [(None, None), ('"3"', 3), ('W/"12"', 12), ("3", 3)])
def test_if_match_is_parsed(header, version):
    headers = {"If-Match": header} if header else {}
    with app.test_request_context("/", headers=headers):
        assert expected_version(request) == version


@pytest.mark.parametrize("header", ['"x"', "*", '"1", "2"', '"3', ""])
def test_unusable_if_match_is_400(header):
    with app.test_request_context("/", headers={"If-Match": header}), pytest.raises(Problem) as raised:
        expected_version(request)
    assert raised.value.status == 400


@pytest.mark.parametrize(
    ("header", "matches"),
    [('"4"', True), ('"3", "4"', True), ("*", True), ('"3"', False), ("4", True), ('W/"4"', True)],
)
def test_if_none_match(header, matches):
    with app.test_request_context("/", headers={"If-None-Match": header}):
        assert etag_matches(request, 4) is matches


@pytest.mark.parametrize("header", ["", "x", '"4', "4,"])
def test_malformed_if_none_match_is_400(header):
    with app.test_request_context("/", headers={"If-None-Match": header}), pytest.raises(Problem) as raised:
        etag_matches(request, 4)
    assert raised.value.status == 400


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b'{"command": "pay"', "application/json", 400),
        (b'{"command": NaN}', "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"[" * 10_000 + b"]" * 10_000, "application/json", 400),
        (b'{"command": "pay"}', "text/plain", 415),
        (b'{"command": "refund"}', "application/json", 422),
    ],
)
def test_bad_bodies(data, content_type, status):
    with app.test_request_context("/", method="POST", data=data, content_type=content_type):
        with pytest.raises(Problem) as raised:
            json_body(request, OrderCommand)
        assert raised.value.status == status
