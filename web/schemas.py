"""Request bodies, validated with pydantic (strict types, unknown fields refused)."""

from __future__ import annotations

from typing import Annotated, Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

# Bounds keep any order's total inside a signed 64-bit integer.
MAX_ITEMS = 100
MAX_QUANTITY = 1_000_000
MAX_UNIT_PRICE_CENTS = 10_000_000_000

_ISO_4217 = frozenset(currency.alpha_3 for currency in pycountry.currencies)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Item(_Strict):
    sku: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    unit_price_cents: int = Field(ge=0, le=MAX_UNIT_PRICE_CENTS)


class CreateOrder(_Strict):
    currency: str = Field(description="ISO 4217 code, e.g. USD")
    items: list[Item] = Field(min_length=1, max_length=MAX_ITEMS)
    customer_ref: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in _ISO_4217:
            raise ValueError("must be an ISO 4217 currency code in upper case, e.g. USD")
        return value


class OrderCommand(_Strict):
    command: Literal["pay", "ship", "deliver", "cancel"]
