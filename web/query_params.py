"""Query parameters as pydantic models: each list's `?page=1&limit=20&sort=-created_at&status=paid`
and a job's `?wait=N`, checked in one place, and the source of the OpenAPI
document's parameters (`openapi_parameters`), so the two cannot drift apart.

A value that does not fit answers 400 `invalid-query`, naming the parameter
and what it accepts; parameters the API does not know are ignored.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

from flask import Request
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema

from infra.pagination import Page
from models import DeliveryStatus, JobStatus, OrderStatus
from orders.waits import MAX_WAIT_SECONDS
from web.problems import Problem

Q = TypeVar("Q", bound=BaseModel)

MAX_LIMIT = 100
MAX_PAGE = 1_000_000
# ASCII digits only (str.isdigit() also accepts "²" and "①", which int()
# refuses, and int() takes "٣"), and no longer than the largest allowed value.
_NUMBER = re.compile(rf"[0-9]{{1,{len(str(MAX_PAGE))}}}")


def _ascii_digits(value: object) -> object:
    if isinstance(value, str) and not _NUMBER.fullmatch(value):
        raise ValueError("not an integer written with the digits 0-9")
    return value


def _listed(status: OrderStatus) -> OrderStatus:
    if status is OrderStatus.DELETED:
        raise ValueError("deleted orders are not listed")
    return status


Digits = BeforeValidator(_ascii_digits)
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE), Digits]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT), Digits]
LISTED_ORDER_STATUSES = [s.value for s in OrderStatus if s is not OrderStatus.DELETED]


class _ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    page: PageNumber = 1
    limit: Limit = 20
    sort: str = "-created_at"

    @property
    def paging(self) -> Page:
        return Page(number=self.page, limit=self.limit, sort=self.sort)


class OrdersQuery(_ListQuery):
    sort: Literal[
        "created_at", "-created_at", "updated_at", "-updated_at", "total_cents", "-total_cents", "status", "-status"
    ] = "-created_at"
    status: Annotated[
        OrderStatus, AfterValidator(_listed), WithJsonSchema({"type": "string", "enum": LISTED_ORDER_STATUSES})
    ] | None = None  # fmt: skip


class JobsQuery(_ListQuery):
    sort: Literal["created_at", "-created_at", "finished_at", "-finished_at", "status", "-status"] = "-created_at"
    status: JobStatus | None = None


class WebhooksQuery(_ListQuery):
    sort: Literal["created_at", "-created_at", "updated_at", "-updated_at"] = "-created_at"


class DeliveriesQuery(_ListQuery):
    sort: Literal["created_at", "-created_at", "next_attempt_at", "-next_attempt_at"] = "-created_at"
    status: DeliveryStatus | None = None


class WaitQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    wait: Annotated[int, Field(ge=1, le=MAX_WAIT_SECONDS), Digits] | None = Field(
        None,
        description="Seconds to hold the answer until the job has finished (1-20); the job as it stands when they "
        "run out. Concurrent waits per API key are bounded (429 beyond).",
    )


def parse(request: Request, model: type[Q]) -> Q:
    """The request's query parameters as `model`, or a 400 naming each bad one."""
    try:
        return model.model_validate(request.args.to_dict(flat=True))
    except ValidationError as exc:
        fields = [str(error["loc"][0]) for error in exc.errors(include_url=False)]
        errors = [{"field": name, "message": accepted(model, name)} for name in dict.fromkeys(fields)]
        raise Problem(400, "invalid-query", "Bad Request", errors[0]["message"], errors=errors) from None


def accepted(model: type[BaseModel], name: str) -> str:
    """What the parameter accepts, in words, from the model's schema."""
    schema = _plain(model.model_json_schema(), model.model_json_schema()["properties"][name])
    if "enum" in schema:
        return f"{name} must be one of {', '.join(map(str, schema['enum']))}"
    return f"{name} must be an integer from {schema['minimum']} to {schema['maximum']}"


def openapi_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The model's fields as OpenAPI query parameters."""
    whole = model.model_json_schema()
    parameters = []
    for name, field in whole["properties"].items():
        schema = _plain(whole, field)
        description = schema.pop("description", None)
        parameter = {"name": name, "in": "query", "required": False, "schema": schema}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _plain(whole: dict[str, Any], field: dict[str, Any]) -> dict[str, Any]:
    """A field's schema without pydantic's wrapping: no title, no `null`
    alternative (a query parameter is absent instead), `$defs` inlined."""
    options = [option for option in field.get("anyOf", [field]) if option.get("type") != "null"]
    schema = {**options[0], **{k: v for k, v in field.items() if k in ("default", "description")}}
    if "$ref" in schema:
        schema = {**whole["$defs"][schema.pop("$ref").rsplit("/", 1)[1]], **schema}
    schema.pop("title", None)
    if schema.get("default", ...) is None:
        del schema["default"]
    return schema
