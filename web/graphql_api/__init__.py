"""GraphQL beside REST: POST /api/v1/graphql (docs/graphql.md)."""

from web.graphql_api.view import register

__all__ = ["register"]
