"""The GraphQL document limits (web/graphql_api/limits.py), on parsed documents alone."""

from __future__ import annotations

from graphql import OperationDefinitionNode, parse

from web.graphql_api.limits import MAX_PAGE, Measure, measure


def measured(query: str) -> Measure:
    document = parse(query)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return measure(operation, document.definitions)


def test_depth_counts_nested_fields_and_fragments_add_none_of_their_own():
    assert measured("{ job(id: 1) { id } }").depth == 2
    assert measured("{ ...f } fragment f on Query { orders { edges { node { id } } } }").depth == 4
    assert measured("{ ... on Query { job(id: 1) { error { code } } } }").depth == 3


def test_aliases_count_once_per_spread_of_their_fragment():
    fragment = "fragment f on Query { a: job(id: 1) { id } b: job(id: 2) { id } }"
    assert measured("{ x: job(id: 1) { id } }").aliases == 1
    assert measured(f"{{ ...f ...f ...f }} {fragment}").aliases == 6
    assert measured(f"{{ ...f }} {fragment}").aliases == 2


def test_cost_multiplies_by_the_page_size_and_the_list_estimates():
    assert measured("{ orders(first: 10) { edges { cursor } } }").cost == 1 + 10 + 10
    assert measured("{ orders { edges { cursor } } }").cost == 1 + 20 + 20  # the default page
    variable = measured("query($n: Int!) { orders(first: $n) { edges { cursor } } }").cost
    assert variable == 1 + MAX_PAGE + MAX_PAGE  # unknown when validated: the largest page
    # events: ten per order expected.
    assert measured("{ orders(first: 2) { edges { node { events { version } } } } }").cost == 1 + 2 + 2 + 2 + 20


def test_introspection_fields_are_left_to_their_own_rule():
    assert measured("{ __schema { types { name } } }") == Measure(0, 0, 0)


def test_a_fragment_cycle_ends_the_walk():
    cyclic = "{ ...a } fragment a on Query { ...b job(id: 1) { id } } fragment b on Query { ...a }"
    assert measured(cyclic).cost == 2
