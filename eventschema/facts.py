"""What every event carries, whatever its stream: identity, two dates, provenance.

`EventIn` is the base of every event model; it produces the domain's `Facts` (the
common part of each command) and the event's own fields as the domain's event class
names and types them. `MeasureChangeIn` and `NegotiationStepIn` are the bases of the
events appended to an existing stream.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union, cast
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

from domain.commands import Change, ChangeType
from domain.events import Facts
from domain.measure import MEASURE
from domain.measure_changes import MEASURE_CHANGES
from domain.negotiation import NEGOTIATION
from domain.negotiation_steps import NEGOTIATION_STEPS
from domain.values import Provenance, Reliability, Source
from eventschema.examples import EVENT_EXAMPLES
from eventschema.values import (
    ID_RULE,
    AnnouncedAt,
    Country,
    EventId,
    IsoDate,
    NonBlank,
    Text,
    invalid,
)


class SourceIn(BaseModel):
    """Where a fact comes from; auditors follow every number back to these."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "citation": "Executive Order 14195",
                    "publisher": "The White House",
                    "reliability": "official",
                }
            ]
        },
    )

    citation: NonBlank = Field(
        description="A URL or a precise reference (document number, page).",
        examples=["https://www.federalregister.gov/", "Executive Order 14289, sec. 2"],
    )
    publisher: NonBlank = Field(
        description="Who published the source.", examples=["Federal Register", "Reuters"]
    )
    reliability: Reliability = Field(
        description=(
            "How far an auditor may trust it: official (government text), law_firm, press, "
            "unverified."
        ),
        examples=["official"],
    )

    def to_source(self) -> Source:
        return Source(self.citation, self.publisher, self.reliability)


_COMMON_FIELDS = frozenset(
    {
        "type",
        "event_id",
        "effective_on",
        "announced_at",
        "sources",
        "recorded_by",
        "note",
        # The stream a dataset line names is not a field of its event.
        "measure",
        "negotiation",
    }
)


def _show_examples(schema: dict[str, Any], model: type[Any]) -> None:
    # The JSON Schema of every event model shows its examples (OpenAPI, the first).
    schema["examples"] = model.schema_examples()


class EventIn(BaseModel):
    """Fields every event carries, whatever its stream: identity, two dates, provenance."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_show_examples)

    stream_kind: ClassVar[str]
    """The kind of stream the event belongs to ("measure")."""

    type: str = Field(description="The event type.")
    event_id: EventId | None = Field(
        default=None,
        description=(
            "Unique within the stream and stable across loads: corrections refer to events "
            "by it, and an event whose id the stream holds is not recorded again (with the "
            "same content it is skipped; with other content it is refused). Required in a "
            "dataset line; in an HTTP body a fresh id is generated when absent. "
            f"{ID_RULE}"
        ),
        examples=["US-CN-FENT-10"],
    )
    effective_on: IsoDate | None = Field(
        description=(
            "First day the fact applies in the world (valid time), in the imposer's time "
            "zone; earlier than announced_at means retroactive; null means unknown."
        ),
        examples=["2025-04-05", None],
    )
    announced_at: AnnouncedAt = Field(
        description="When the fact became public (a date means 00:00 UTC that day)."
    )
    sources: list[SourceIn] = Field(min_length=1, description="At least one source for the fact.")
    recorded_by: NonBlank = Field(
        description="Who entered the fact (a person or a loader).",
        examples=["analyst@example.org"],
    )
    note: Text = Field(default="", description="Free text for auditors.", examples=[""])

    @classmethod
    def schema_examples(cls) -> list[dict[str, Any]]:
        """The examples the model's JSON Schema shows: that of its kind and type, from
        `eventschema.examples`."""
        return [EVENT_EXAMPLES[cls.stream_kind][event_type_of(cls)]]

    def to_facts(self) -> Facts:
        """The common part of the domain command (generates the event id when absent)."""
        # Positional, and a list made before the tuple: every line of a dataset comes here.
        sources = tuple([source.to_source() for source in self.sources])
        provenance = Provenance(sources, self.recorded_by, self.note)
        return Facts(self.event_id or uuid4().hex, self.effective_on, self.announced_at, provenance)

    def event_fields(self) -> dict[str, Any]:
        """The event's own fields, as the domain's event class names and types them."""
        values = self.__dict__
        fields: dict[str, Any] = {}
        for name, to_domain in _own_fields(type(self)):
            value = values[name]
            fields[name] = value if to_domain is None else to_domain(value)
        return fields


@functools.cache
def _own_fields(model: type[EventIn]) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    """The names of an event model's own fields, each with what turns its value into the
    domain's, if anything does (asked once per line, answered once)."""
    return tuple(
        (name, _to_domain(field.annotation))
        for name, field in model.model_fields.items()
        if name not in _COMMON_FIELDS
    )


def _to_domain(annotation: Any) -> Callable[[Any], Any] | None:
    """What turns a value so annotated into the domain's: domain events hold tuples
    (immutable, hashable), never lists."""
    options = typing.get_args(annotation) if typing.get_origin(annotation) in _UNIONS else ()
    for option in (annotation, *options):
        if typing.get_origin(option) is list:
            (item,) = typing.get_args(option)
            return _tuples if _to_domain(item) is not None else tuple
    return None


def _tuples(value: Any) -> Any:
    """A list of lists (and so on) as tuples of tuples."""
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


_UNIONS = (typing.Union, types.UnionType)


class ChangeIn(EventIn):
    """An event appended to an existing stream: it becomes the domain's change of its type,
    the call of the aggregate's verb that records it, with the event's own fields as the
    verb's arguments (they have the same names and types)."""

    change_types: ClassVar[Mapping[str, ChangeType]]
    """The domain's changes of the stream's kind, by the public type of their event."""

    def to_change(self) -> Change:
        return self.change_types[self.type].with_arguments(self.to_facts(), self.event_fields())


class MeasureEventIn(EventIn):
    """An event of a tariff measure's stream."""

    stream_kind = MEASURE


class MeasureChangeIn(MeasureEventIn, ChangeIn):
    """An event appended to an existing measure."""

    change_types = MEASURE_CHANGES


class NegotiationEventIn(EventIn):
    """An event of a negotiation's stream: every step carries a summary."""

    stream_kind = NEGOTIATION

    summary: NonBlank = Field(
        description="What happened, in one or two sentences.",
        examples=["Both sides agree to cut the reciprocal increments for 90 days."],
    )


class NegotiationStepIn(NegotiationEventIn, ChangeIn):
    """An event appended to an existing negotiation."""

    change_types = NEGOTIATION_STEPS


class PartyStepIn(NegotiationStepIn):
    """A step one of the parties takes."""

    by_party: Country = Field(description="The party acting (one of the negotiation's parties).")


class TruceStepIn(NegotiationStepIn):
    """A step that may start a truce: with truce_ends_on, one ending that day."""

    truce_ends_on: IsoDate | None = Field(
        default=None,
        description="The first day a truce agreed here is no longer in force, if any.",
    )


def stream_key(stream: str, example: str) -> Any:
    """The `key` field of the event that creates a `stream` ("measure")."""
    return Field(
        default=None,
        description=(
            f"A human key for the {stream}; its id is derived from it. In a dataset line it "
            "defaults to the key naming the stream, and must agree with it."
        ),
        examples=[example],
    )


class RecordCorrectedIn(BaseModel):
    """The fields of a correction, the same in both kinds of stream.

    A mixin, named first among the bases of a model, so that its fields come after the
    ones the stream's own base adds (a negotiation step's summary), as they always did.
    """

    type: Literal["record_corrected"] = Field(description="An earlier record is withdrawn.")
    corrected_event_id: EventId = Field(description="The event_id of the event withdrawn.")
    reason: NonBlank = Field(description="Why it was wrong.")


_M = TypeVar("_M", bound=BaseModel)

_NOTHING: tuple[object, ...] = (None, [], {})
"""What an optional field holds when a client gave nothing for it."""


def _given(name: str, given: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema of an object whose field `name` is there, and as `given` says."""
    return {"required": [name], "properties": {name: given}}


_GIVEN: Mapping[str, dict[str, Any]] = {
    "array": {"minItems": 1},
    "object": {"minProperties": 1},
    "value": {"not": {"type": "null"}},
}
"""How a field of each shape counts as given (see `_NOTHING`)."""


def one_or_both_config(first: tuple[str, str], second: tuple[str, str]) -> ConfigDict:
    """The config of a model that `one_or_both` checks, each field given as (name, shape:
    array, object or value): its JSON Schema says the same, so that a client reading the
    schema never sends what the validator refuses."""

    def extra(schema: dict[str, Any], model: type[Any]) -> None:
        _show_examples(schema, model)
        schema["anyOf"] = [_given(first[0], _GIVEN[first[1]]), _given(second[0], _GIVEN[second[1]])]

    return ConfigDict(extra="forbid", json_schema_extra=extra)


def one_or_both(model: _M, first: str, second: str) -> _M:
    """`model` if it gives `first`, `second` or both; an event must change something."""
    if getattr(model, first) in _NOTHING and getattr(model, second) in _NOTHING:
        raise invalid(f"give {first}, {second}, or both")
    return model


def one_of(models: tuple[type[EventIn], ...]) -> Any:
    """The type of a body that is any of `models`, told apart by `type`."""
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007


def event_type_of(model: type[EventIn]) -> str:
    """The public type name of an event model (its `type` literal)."""
    literal = model.model_fields["type"].annotation  # Literal["rate_changed"]
    args: tuple[object, ...] = getattr(literal, "__args__", ())
    return cast(str, args[0])
