"""The base of the answer models, how an exact rate is written in JSON, and how a model
that mirrors an answer of the read side takes its fields from it (`mirrors`)."""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from functools import reduce
from types import GenericAlias, UnionType
from typing import Annotated, Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema, create_model

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

    shown_flat: ClassVar[frozenset[str]] = frozenset()
    """Fields of a mirrored answer that this model shows flattened into its own fields
    (see `mirrors`)."""

    @classmethod
    def field_values_of(cls, source: object) -> dict[str, Any]:
        """The values of this model's fields that `source` holds as attributes."""
        return {name: getattr(source, name) for name in cls.model_fields if hasattr(source, name)}


# -- models that mirror an answer -------------------------------------------------------

_Model = TypeVar("_Model", bound=Public)

_PUBLIC: dict[type, type[Public]] = {}
"""The public model of each answer dataclass that has one (filled by `mirrors`)."""


def mirrors(answer: type, **declared: Any) -> Callable[[type[_Model]], type[_Model]]:
    """Make the decorated model show the fields of the dataclass `answer`, in its order,
    after those of the model's base.

    Each field is typed as `answer` types it, for JSON: a tuple as a list, a Decimal as a
    Number, a dataclass as its public model (which must be made first). Every field is
    required: an answer always carries them all. A field in `declared` takes its
    FieldInfo (to describe it), or a (type, FieldInfo) pair to show it otherwise (an
    enum as a string). Fields the model's base has already, or shows flattened
    (`shown_flat`), are left to it. The decorated class keeps its docstring and methods,
    and declares no fields.
    """

    names = [f.name for f in dataclasses.fields(answer)]
    if unknown := declared.keys() - set(names):
        raise TypeError(f"{answer.__name__} has no field {', '.join(sorted(unknown))}")

    def build(model: type[_Model]) -> type[_Model]:
        hints = get_type_hints(answer)
        fields: dict[str, Any] = {}
        for name in names:
            if name in model.shown_flat or name in model.model_fields:
                continue
            shown = declared.get(name)
            if isinstance(shown, tuple):
                fields[name] = shown
            else:
                fields[name] = (_public_type(hints[name]), shown or ...)
        mirror = create_model(
            model.__name__,
            __base__=model,
            __module__=model.__module__,
            __doc__=model.__doc__,
            **fields,
        )
        _PUBLIC[answer] = mirror
        return mirror

    return build


def _public_type(hint: Any) -> Any:
    """How a model mirroring an answer types a field the answer types as `hint`."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return GenericAlias(list, (_public_type(args[0]),))
    if origin in (Union, UnionType):
        return reduce(operator.or_, (_public_type(arg) for arg in args))
    if hint is Decimal:
        return Number
    if hint in _PUBLIC:
        return _PUBLIC[hint]
    if dataclasses.is_dataclass(hint) or (isinstance(hint, type) and issubclass(hint, Enum)):
        raise TypeError(f"{hint!r} has no public form: declare the field, or mirror it first")
    return hint
