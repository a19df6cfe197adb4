"""The base of the answer models, and how an exact rate is written in JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

from projections.render import number


def _number(value: Decimal) -> int | float:
    # int() of a Decimal like 1E+999999 takes minutes; no real rate is that large, but
    # one recorded by mistake must not stall every answer that mentions it.
    return float(value) if value.adjusted() > 15 else number(value)


Number = Annotated[
    Decimal,
    PlainSerializer(_number, return_type=int | float, when_used="json"),
    WithJsonSchema({"type": "number"}),
]
"""An exact rate, written as a JSON number (145, 7.5)."""


class Public(BaseModel):
    """Base of response schemas: read from the read side's dataclasses by attribute."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def field_values_of(cls, source: object) -> dict[str, Any]:
        """The values of this model's fields that `source` holds as attributes."""
        return {name: getattr(source, name) for name in cls.model_fields if hasattr(source, name)}
