"""What one GraphQL document may ask for, checked before anything runs.

- tokens (GRAPHQL_MAX_TOKENS): the parser stops past them, so a huge
  document costs no more than parsing that many tokens;
- depth (GRAPHQL_MAX_DEPTH), aliases (GRAPHQL_MAX_ALIASES) and cost
  (GRAPHQL_MAX_COST): measured in one walk of each operation, fragments
  expanded where they are spread (an alias inside a fragment spread ten
  times counts ten times);
- introspection only when GRAPHQL_INTROSPECTION is on.

The cost is the number of fields the answer may hold: a field inside a list
counts once per element the list may have: `first` for `orders` (100 when
it comes from a variable), LIST_ESTIMATES for an order's events and jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)

from config import Settings

MAX_PAGE = 100
DEFAULT_PAGE = 20
# Elements a list field is expected to hold, for the cost (an order has a
# handful of events and jobs; the loaders cap them at 100).
LIST_ESTIMATES = {"events": 10, "jobs": 10}
TOO_COMPLEX = "query-too-complex"
DOCUMENTS_CACHED = 1024  # distinct documents whose parse and validation are kept (LRU)


@dataclass
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


def _page_size(field: FieldNode) -> int:
    for argument in field.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            return int(value.value) if isinstance(value, IntValueNode) else MAX_PAGE
    return DEFAULT_PAGE


def _elements(field: FieldNode) -> int:
    if field.name.value == "orders":
        return max(1, min(_page_size(field), MAX_PAGE))
    return LIST_ESTIMATES.get(field.name.value, 1)


class _Walk:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.measure = Measure()

    def selections(self, node: SelectionSetNode | None, depth: int, multiplier: int, spread: frozenset[str]) -> None:
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue  # introspection: allowed or refused as a whole
                self.measure.aliases += selection.alias is not None
                self.measure.cost += multiplier
                self.measure.depth = max(self.measure.depth, depth + 1)
                self.selections(selection.selection_set, depth + 1, multiplier * _elements(selection), spread)
            elif isinstance(selection, InlineFragmentNode):
                self.selections(selection.selection_set, depth, multiplier, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in spread:  # cycles are another rule's error
                    self.selections(fragment.selection_set, depth, multiplier, spread | {name})


def measure(operation: OperationDefinitionNode, definitions: Iterable[Any]) -> Measure:
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    walk = _Walk(fragments)
    walk.selections(operation.selection_set, 0, 1, frozenset())
    return walk.measure


def complexity_rule(max_depth: int, max_aliases: int, max_cost: int) -> type[ValidationRule]:
    class Complexity(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            found = measure(node, self.context.document.definitions)
            for what, value, limit in (
                ("nests", found.depth, max_depth),
                ("has aliases:", found.aliases, max_aliases),
                ("may return fields:", found.cost, max_cost),
            ):
                if value > limit:
                    self.report_error(
                        GraphQLError(
                            f"the operation {what} {value}; at most {limit} are allowed",
                            node,
                            extensions={"code": TOO_COMPLEX},
                        )
                    )

    return Complexity


def extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    rules: list[type[ASTValidationRule]] = [
        complexity_rule(settings.graphql_max_depth, settings.graphql_max_aliases, settings.graphql_max_cost)
    ]
    if not settings.graphql_introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    # Factories: strawberry makes the extensions afresh for each request. The
    # parse and the validation (these rules included) of a document are
    # cached, bounded: clients send the same few documents with other
    # variables, and validating costs more than resolving a small query.
    return [
        partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        partial(ParserCache, maxsize=DOCUMENTS_CACHED),
        partial(AddValidationRules, rules),
        partial(ValidationCache, maxsize=DOCUMENTS_CACHED),
    ]
