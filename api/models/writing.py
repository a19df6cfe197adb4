"""The bodies a client writes with (`XCreate`), and what a write answers (`WrittenPublic`).

Request bodies reuse the public event models of `eventschema` (the same as the dataset
format), so the API and the dataset loader cannot disagree about an event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from api.models.public import Public
from domain.commands import Written
from eventschema import (
    MEASURE_EXAMPLES,
    MeasureChange,
    MeasureImposed,
    NegotiationOpened,
    NegotiationStep,
)

MeasureCreate = MeasureImposed
"""The body creating a measure: its `imposed` event (the key, if given, names it)."""

NegotiationCreate = NegotiationOpened
"""The body creating a negotiation: its `opened` event (the key, if given, names it)."""


_ExpectedVersion = Annotated[
    int | None,
    Field(ge=0, description="The stream's version the batch was decided on (like If-Match)."),
]


def _batch_config(event_example: dict[str, Any]) -> ConfigDict:
    """The config of a batch body, with an example of a batch of one event."""
    return ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"expected_version": 1, "events": [event_example]}]},
    )


class MeasureBatchCreate(BaseModel):
    """Several changes to one measure, recorded together or not at all."""

    model_config = _batch_config(MEASURE_EXAMPLES["rate_changed"])

    events: list[MeasureChange] = Field(min_length=1, description="The changes, in order.")
    expected_version: _ExpectedVersion = None


class NegotiationBatchCreate(BaseModel):
    """Several steps of one negotiation, recorded together or not at all."""

    model_config = _batch_config(
        {
            "type": "round_held",
            "event_id": "US-CN-GENEVA-TALKS",
            "location": "Geneva",
            "summary": "Two days of talks in Geneva.",
            "effective_on": "2025-05-10",
            "announced_at": "2025-05-10",
            "sources": [
                {
                    "citation": "https://www.reuters.com/world/",
                    "publisher": "Reuters",
                    "reliability": "press",
                }
            ],
            "recorded_by": "analyst@example.org",
        }
    )

    events: list[NegotiationStep] = Field(min_length=1, description="The steps, in order.")
    expected_version: _ExpectedVersion = None


def _one_or_batch(value: Any) -> str | None:
    if isinstance(value, dict):
        return "batch" if "events" in value else "event"
    if isinstance(value, MeasureBatchCreate | NegotiationBatchCreate):
        return "batch"
    if isinstance(value, BaseModel):
        return "event"
    return None


_BODY_ERROR = "the body is one event (an object with a 'type') or a batch (an object with 'events')"

_ONE_OR_BATCH = Discriminator(
    _one_or_batch, custom_error_type="body_shape", custom_error_message=_BODY_ERROR
)

if TYPE_CHECKING:
    MeasureEventsCreate: TypeAlias = MeasureChange | MeasureBatchCreate
    NegotiationEventsCreate: TypeAlias = NegotiationStep | NegotiationBatchCreate
else:
    MeasureEventsCreate = Annotated[
        Union[  # noqa: UP007
            Annotated[MeasureChange, Tag("event")],
            Annotated[MeasureBatchCreate, Tag("batch")],
        ],
        _ONE_OR_BATCH,
    ]
    NegotiationEventsCreate = Annotated[
        Union[  # noqa: UP007
            Annotated[NegotiationStep, Tag("event")],
            Annotated[NegotiationBatchCreate, Tag("batch")],
        ],
        _ONE_OR_BATCH,
    ]


def events_of(
    body: MeasureEventsCreate | NegotiationEventsCreate,
) -> tuple[Sequence[MeasureChange | NegotiationStep], int | None]:
    """The events of a body that is one event or a batch, in order, and the version a
    batch says it was decided on (None for one event)."""
    if isinstance(body, MeasureBatchCreate | NegotiationBatchCreate):
        return body.events, body.expected_version
    return [body], None


class RecordedEventPublic(Public):
    event_id: str = Field(description="The event's id within its stream.")
    version: int = Field(description="The event's version in its stream.")
    position: int = Field(description="The event's position in the global log.")


class WrittenPublic(Public):
    """What a write recorded: the stream, its version after it, each event and its position.

    A retry with the same Idempotency-Key gets this same body (and an
    `Idempotent-Replayed: true` header), and nothing is recorded again.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "measure",
                    "stream_id": "afcaeb5d-c3b0-57c6-801a-f27e210fb4f9",
                    "key": "us-cn-fentanyl",
                    "version": 2,
                    "created": False,
                    "events": [{"event_id": "US-CN-FENT-20", "version": 2, "position": 17}],
                    "position": 17,
                }
            ]
        }
    )

    kind: Literal["measure", "negotiation"]
    stream_id: UUID
    key: str = Field(description="The stream's key ('' when it was created without one).")
    version: int = Field(description="The stream's version after the write (also the ETag).")
    created: bool = Field(description="Whether the write created the stream.")
    events: list[RecordedEventPublic]
    position: int = Field(
        description="The log position the write reached (also X-Log-Position): read with it "
        "as `min_position` to see the write."
    )

    @classmethod
    def of(cls, written: Written) -> WrittenPublic:
        return cls.model_validate(written)
