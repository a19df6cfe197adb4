"""A line of a dataset file: an event plus the stream it belongs to, and its batch item.

A dataset file (JSON Lines) holds one `DatasetLine` per line: an event plus exactly
one of `"measure"` or `"negotiation"` naming its stream by key or UUID. Each event type
has its line model, generated from the event model; `to_batch_item` turns a validated
line into the item `Ledger.append_batch` takes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, TypeAlias, TypeVar, Union, cast
from uuid import UUID

from pydantic import BaseModel, Discriminator, Field, Tag, TypeAdapter, model_validator

from domain.commands import AppendChange, BatchItem
from domain.ledger import MEASURE, NEGOTIATION
from eventschema.examples import LINE_STREAMS, STORY_STREAMS
from eventschema.facts import (
    EventIn,
    MeasureChangeIn,
    NegotiationStepIn,
    event_type_of,
    one_of,
)
from eventschema.measures import MEASURE_EVENT_MODELS, MeasureImposed
from eventschema.negotiations import NEGOTIATION_EVENT_MODELS, NegotiationOpened
from eventschema.recordable import check_recordable
from eventschema.streams import StreamRef, is_uuid, referenced_stream_id
from eventschema.values import ID_RULE, EventId, invalid


class _StreamLine(BaseModel):
    """What the two kinds of dataset line share: a stream reference and its id."""

    stream_kind: ClassVar[str]

    @property
    def stream_ref(self) -> str:
        raise NotImplementedError  # pragma: no cover

    @property
    def stream_key(self) -> str | None:
        """The key naming the stream, or None when the line names it by UUID."""
        ref = self.stream_ref
        return None if is_uuid(ref) else ref

    @property
    def stream_id(self) -> UUID:
        return referenced_stream_id(self.stream_kind, self.stream_ref)

    @model_validator(mode="after")
    def _key_agrees_with_stream(self) -> _StreamLine:
        # A key always maps to the same id, so a stream created under a key must live
        # at that id; otherwise a later line naming the key would miss it.
        # Only creating lines have a key; read from __dict__, as getattr would pay for
        # pydantic's AttributeError on every other line.
        key = self.__dict__.get("key")
        kind, ref = self.stream_kind, self.stream_ref
        if key is None or referenced_stream_id(kind, key) == self.stream_id:
            return self
        if self.stream_key is not None:
            raise invalid(f"key {key!r} differs from the {kind} {ref!r} this line names")
        raise invalid(
            f"key {key!r} belongs to {kind} {referenced_stream_id(kind, key)}, not {ref}; "
            f"name the {kind} by its key, or drop the key"
        )


class MeasureLine(_StreamLine):
    """A dataset line about a measure: the event, plus the measure it belongs to."""

    measure: StreamRef = Field(
        description="The measure (by key or UUID) this event belongs to or creates.",
        examples=["us-cn-fentanyl"],
    )

    stream_kind = MEASURE

    @property
    def stream_ref(self) -> str:
        return self.measure


class NegotiationLine(_StreamLine):
    """A dataset line about a negotiation: the event, plus the negotiation it belongs to."""

    negotiation: StreamRef = Field(
        description="The negotiation (by key or UUID) this event belongs to or opens.",
        examples=["us-cn-trade-talks"],
    )

    stream_kind = NEGOTIATION

    @property
    def stream_ref(self) -> str:
        return self.negotiation


_E = TypeVar("_E", bound=EventIn)


def _line_model(event_model: type[_E], stream: type[_StreamLine]) -> type[_E]:
    """The dataset line of one event type: the event's fields plus the stream's, and an
    event_id it must give.

    Generated rather than written out (thirty-six near-identical classes); each is a
    subclass of both its event model and of MeasureLine or NegotiationLine.

    A line must carry its id, where an HTTP body may leave it out: a body is sent once
    (a retry carries an Idempotency-Key), but a file is loaded again and again, and only
    the id tells a line already recorded from a new one. An id derived from the content
    was the other choice; it was not taken because a corrected line would then get a
    new id and be recorded beside the mistake instead of being refused, two genuinely
    distinct events with the same text would collapse into one, and corrections need a
    name to refer to that does not change when the text does.
    """
    kind = stream.stream_kind
    ref = STORY_STREAMS.get((kind, event_type_of(event_model)), LINE_STREAMS[kind])
    examples = [{kind: ref, **example} for example in event_model.schema_examples()]
    namespace = {
        "__module__": __name__,
        "__qualname__": f"{event_model.__name__}Line",
        "__doc__": f"A dataset line: {(event_model.__doc__ or '').strip()}",
        "schema_examples": classmethod(lambda cls: examples),
        "__annotations__": {"event_id": EventId},
        "event_id": Field(
            description=(
                "Unique within the stream and stable across loads; required in a dataset "
                "line. A line whose id the stream holds is skipped when its content is the "
                "same, and refused when it differs: a recorded event never changes, a "
                "correction is a new event (record_corrected) naming the one it corrects. "
                f"{ID_RULE}"
            ),
            examples=["US-CN-FENT-10"],
        ),
    }
    return cast(type[_E], type(f"{event_model.__name__}Line", (event_model, stream), namespace))


def _kind_of_line(value: object) -> str | None:
    if isinstance(value, dict):
        has_measure, has_negotiation = "measure" in value, "negotiation" in value
        if has_measure == has_negotiation:
            return None
        return MEASURE if has_measure else NEGOTIATION
    if isinstance(value, MeasureLine):
        return MEASURE
    if isinstance(value, NegotiationLine):
        return NEGOTIATION
    return None


_MEASURE_LINE_MODELS = tuple(_line_model(model, MeasureLine) for model in MEASURE_EVENT_MODELS)
_NEGOTIATION_LINE_MODELS = tuple(
    _line_model(model, NegotiationLine) for model in NEGOTIATION_EVENT_MODELS
)
LINE_MODELS: tuple[type[EventIn], ...] = (*_MEASURE_LINE_MODELS, *_NEGOTIATION_LINE_MODELS)
"""The model of a dataset line of each event type: the event's model and its stream's."""

if TYPE_CHECKING:
    # What type checkers can know: each line is one of these, and also one of the event
    # models (which `to_batch_item` finds out with isinstance).
    DatasetLine: TypeAlias = MeasureLine | NegotiationLine
else:
    DatasetLine = Annotated[
        Union[  # noqa: UP007 - built from tuples at run time
            Annotated[one_of(_MEASURE_LINE_MODELS), Tag(MEASURE)],
            Annotated[one_of(_NEGOTIATION_LINE_MODELS), Tag(NEGOTIATION)],
        ],
        Discriminator(
            _kind_of_line,
            custom_error_type="stream_missing",
            custom_error_message=(
                "a line names its stream with exactly one of 'measure' or 'negotiation' "
                "(a key or a UUID)"
            ),
        ),
    ]
"""One line of a dataset file: an event plus `"measure"` or `"negotiation"` naming its stream.

Discriminated first by which of the two stream fields is present, then by `type` (both
kinds have `terminated` and `record_corrected`, so `type` alone cannot tell).
"""

DATASET_LINE: TypeAdapter[DatasetLine] = TypeAdapter(DatasetLine)
"""Validates one dataset line (a dict from JSON, or a JSON string with validate_json)."""


def to_batch_item(line: DatasetLine) -> BatchItem:
    """The `Ledger.append_batch` item for a validated line.

    A creating line (imposed, opened) takes its key from the line's stream when it names
    the stream by key and gives none itself.
    """
    check_recordable(line, "")
    stream_id = line.stream_id
    if isinstance(line, MeasureImposed | NegotiationOpened):
        if line.key is None and line.stream_key is not None:
            line = line.model_copy(update={"key": line.stream_key})
        return line.to_command(stream_id)
    if isinstance(line, MeasureChangeIn | NegotiationStepIn):
        return AppendChange(stream_id, line.to_change())
    raise TypeError(f"not a dataset line: {line!r}")  # pragma: no cover
