"""The base of every status, command and code enum."""

from __future__ import annotations

from enum import StrEnum


class Choice(StrEnum):
    """A StrEnum whose repr is its value: what error messages quote to a
    client ("Input should be 'pay' or 'ship'") and logs show."""

    def __repr__(self) -> str:
        return repr(self.value)
