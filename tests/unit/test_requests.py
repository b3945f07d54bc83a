"""Parsing of query strings and conditional headers."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from flask import Flask, Response, request
from hypothesis import given, settings
from hypothesis import strategies as st

from web.openapi import document
from web.problems import Problem
from web.query_params import OrdersQuery, parse
from web.requests import check_if_none_match, expected_version, idempotency, json_body
from web.schemas import OrderCommand

app = Flask(__name__)


def parse_page(query: str):
    with app.test_request_context(f"/?{query}"):
        parsed = parse(request, OrdersQuery)
        return parsed.paging, parsed.status


def test_page_defaults():
    page, status = parse_page("")
    assert (page.number, page.limit, page.sort, status) == (1, 20, "-created_at", None)


def test_page_values_are_read():
    page, status = parse_page("page=3&limit=100&sort=total_cents&status=paid")
    assert (page.number, page.limit, page.sort, status) == (3, 100, "total_cents", "paid")


def test_a_bad_parameter_is_named_with_what_it_accepts():
    with pytest.raises(Problem) as raised:
        parse_page("page=1&sort=id&status=paid")
    assert raised.value.extra["errors"] == [
        {"field": "sort", "message": "sort must be one of created_at, -created_at, updated_at, -updated_at, "
         "total_cents, -total_cents, status, -status"}
    ]  # fmt: skip


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
        # Unicode digits that str.isdigit() accepts and int() refuses (were 500s)
        "page=%C2%B2",
        "limit=%E2%91%A0",
        "page=%D9%A3",  # Arabic-Indic three: int() takes it, the API does not
        "page=" + "9" * 4400,
        "page=1%0A",
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
        check_if_none_match(request)
        response = Response("{}")
        response.set_etag("4")
        response.make_conditional(request)
        assert (response.status_code == 304) is matches


@pytest.mark.parametrize("header", ["", "x", '"4', "4,"])
def test_malformed_if_none_match_is_400(header):
    with app.test_request_context("/", headers={"If-None-Match": header}), pytest.raises(Problem) as raised:
        check_if_none_match(request)
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


# Property-based: whatever a client puts in a query parameter or one of the
# parsed headers, the parser answers a value or a 400 Problem, never another
# exception (which would be a 500). Query values are any Unicode, percent-
# encoded; header values are what a WSGI server can hand over (latin-1).
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=50) | st.sampled_from(["9" * 5000, "²", "①", "\u0661"])
HEADER_TEXT = st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=300)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(["page", "limit", "sort", "status"]), value=ANY_TEXT)
def test_any_query_value_is_parsed_or_400(name, value):
    try:
        page, _ = parse_page(f"{name}={quote(value, safe='')}")
    except Problem as problem:
        assert problem.status == 400
    else:
        assert 1 <= page.number <= 1_000_000 and 1 <= page.limit <= 100


PARSERS = {
    "If-Match": lambda: expected_version(request),
    "If-None-Match": lambda: check_if_none_match(request),
    "Idempotency-Key": lambda: idempotency(request, {}),
}


@settings(max_examples=300, deadline=None)
@given(header=st.sampled_from(sorted(PARSERS)), value=HEADER_TEXT)
def test_any_parsed_header_is_read_or_400(header, value):
    with app.test_request_context("/", method="POST", headers={header: value}):
        try:
            PARSERS[header]()
        except Problem as problem:
            assert problem.status == 400


@pytest.mark.parametrize(("key", "valid"), [("a" * 255, True), ("a" * 256, False), ("with space", False),
                                            ("ключ", False), ("k-1_2.3~!", True), ("", False)])  # fmt: skip
def test_idempotency_key_is_what_the_openapi_document_says(key, valid):
    pattern = document()["components"]["parameters"]["IdempotencyKey"]["schema"]["pattern"]
    assert bool(re.fullmatch(pattern, key)) is valid
    with app.test_request_context("/", method="POST", headers={"Idempotency-Key": key.encode().decode("latin-1")}):
        if valid:
            assert idempotency(request, {}) is not None
        else:
            with pytest.raises(Problem):
                idempotency(request, {})
