"""Request and response schemas of the HTTP API (the `XCreate` / `XPublic` ladder).

Request bodies reuse the public event models of `eventschema` (the same as the
dataset format), so the API and the dataset loader cannot disagree about an event.
Responses mirror the read side's frozen dataclasses; every answer about a point in time
carries the point it answers for (`on`, `known_at`, `recorded_at`) and the log
`position` it stands on. Rates are exact decimals written as JSON numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    WithJsonSchema,
)

from domain.ledger import Written
from domain.negotiation import NegotiationState
from eventschema import (
    MEASURE_EVENT_MODELS,
    NEGOTIATION_EVENT_MODELS,
    MeasureImposed,
    NegotiationOpened,
)
from projections.answers import (
    AsOf,
    DutyAnswer,
    MeasureState,
    NegotiationAnswer,
    Schedule,
    TimelineEntry,
)
from projections.diff import Diff
from projections.render import jsonable, number
from storage.eventlog import LogEntry


def _number(value: Decimal) -> int | float:
    # int() of a Decimal like 1E+999999 takes minutes; no real rate is that large, but
    # one recorded by mistake must not stall every answer that mentions it.
    return float(value) if value.adjusted() > 15 else number(value)


def _sanitised(value: Any) -> Any:
    """`value` with implausibly large Decimals as floats, so that `jsonable` stays fast."""
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > 15:
        return float(value)
    if isinstance(value, dict):
        return {k: _sanitised(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_sanitised(v) for v in value]
    return value


Number = Annotated[
    Decimal,
    PlainSerializer(_number, return_type=int | float, when_used="json"),
    WithJsonSchema({"type": "number"}),
]
"""An exact rate, written as a JSON number (145, 7.5)."""


class Public(BaseModel):
    """Base of response schemas: read from the read side's dataclasses by attribute."""

    model_config = ConfigDict(from_attributes=True)


# -- writing ----------------------------------------------------------------------------

MeasureCreate = MeasureImposed
"""The body creating a measure: its `imposed` event (the key, if given, names it)."""

NegotiationCreate = NegotiationOpened
"""The body creating a negotiation: its `opened` event (the key, if given, names it)."""

_MEASURE_CHANGES = tuple(m for m in MEASURE_EVENT_MODELS if m is not MeasureImposed)
_NEGOTIATION_STEPS = tuple(m for m in NEGOTIATION_EVENT_MODELS if m is not NegotiationOpened)

if TYPE_CHECKING:
    from eventschema import MeasureChangeIn, NegotiationStepIn

    MeasureChange: TypeAlias = MeasureChangeIn
    NegotiationStep: TypeAlias = NegotiationStepIn
else:
    MeasureChange = Annotated[Union[_MEASURE_CHANGES], Field(discriminator="type")]  # noqa: UP007
    NegotiationStep = Annotated[Union[_NEGOTIATION_STEPS], Field(discriminator="type")]  # noqa: UP007


class MeasureBatchCreate(BaseModel):
    """Several changes to one measure, recorded together or not at all."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "expected_version": 1,
                    "events": [
                        {
                            "type": "rate_changed",
                            "event_id": "US-CN-FENT-20",
                            "rate_pct": "20",
                            "effective_on": "2025-03-04",
                            "announced_at": "2025-03-03",
                            "sources": [
                                {
                                    "citation": "Executive Order 14228",
                                    "publisher": "The White House",
                                    "reliability": "official",
                                }
                            ],
                            "recorded_by": "analyst@example.org",
                        }
                    ],
                }
            ]
        },
    )

    events: list[MeasureChange] = Field(min_length=1, description="The changes, in order.")
    expected_version: int | None = Field(
        default=None,
        ge=0,
        description="The stream's version the batch was decided on (like If-Match).",
    )


class NegotiationBatchCreate(BaseModel):
    """Several steps of one negotiation, recorded together or not at all."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "expected_version": 1,
                    "events": [
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
                    ],
                }
            ]
        },
    )

    events: list[NegotiationStep] = Field(min_length=1, description="The steps, in order.")
    expected_version: int | None = Field(
        default=None,
        ge=0,
        description="The stream's version the batch was decided on (like If-Match).",
    )


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


# -- reading: the point in time ---------------------------------------------------------


class PointPublic(Public):
    """The point an answer is for, on the three axes, and the log position it stands on."""

    on: date = Field(description="The effective day (valid time).")
    known_at: datetime = Field(description="What had been announced by this instant.")
    recorded_at: datetime = Field(description="What this ledger held at this instant.")
    position: int = Field(description="The last log position the answer takes into account.")

    @staticmethod
    def fields_of(point: AsOf) -> dict[str, Any]:
        return {
            "on": point.on,
            "known_at": point.known_at,
            "recorded_at": point.recorded_at,
            "position": point.position,
        }


class AsOfPublic(PointPublic):
    @classmethod
    def of(cls, point: AsOf) -> AsOfPublic:
        return cls(**cls.fields_of(point))


# -- duty -------------------------------------------------------------------------------


class SuspensionPublic(Public):
    event_id: str
    points: Number | None = Field(description="Points suspended; null means all of the rate.")
    starts_on: date
    ends_on: date = Field(description="The day the rate snaps back.")
    extended_by: str | None = Field(description="The event that set the current end, if any.")


class AppliedMeasurePublic(Public):
    measure_id: UUID
    key: str
    name: str
    layer: str
    rate_pct: Number = Field(description="The rate charged, after suspensions.")
    scheduled_rate_pct: Number = Field(description="The rate before suspensions.")
    events: list[str] = Field(description="The ids of the events that established the rate.")
    suspensions: list[SuspensionPublic]
    effective_date_unknown: bool


class SkippedMeasurePublic(Public):
    measure_id: UUID
    key: str
    name: str
    layer: str
    reason: str = Field(
        description="Why it did not apply: not_yet_effective, terminated, collection_stopped, "
        "origin_excluded, out_of_scope, excluded, no_rate, suspended, displaced.",
        examples=["excluded"],
    )
    detail: str
    events: list[str] = Field(description="The ids of the events behind the reason.")
    until: date | None = Field(default=None, description="When the reason ends, if known.")


class FinerLinePublic(Public):
    hs_prefix: str = Field(description="A more precise code under the one asked, as digits.")
    total_additional_pct: Number = Field(description="The duty on that line.")
    applied: list[str] = Field(description="Keys of the measures applied to that line.")


class DutyPublic(PointPublic):
    """The additional duty on one product, with every measure applied and every reason."""

    importer: str
    origin: str
    hs: str = Field(description="The HS code as asked.")
    hs_digits: str = Field(description="The HS code as digits.")
    total_additional_pct: Number = Field(description="The sum of the applied rates (not MFN).")
    applied: list[AppliedMeasurePublic]
    not_applied: list[SkippedMeasurePublic]
    finer_lines: list[FinerLinePublic] = Field(
        default_factory=list,
        description="When the code asked is less precise than some measure's scope: the "
        "lines under it that are charged differently, each with its own total. The total "
        "above is then the duty on the other lines under the code asked.",
    )
    finer_lines_truncated: bool = Field(
        default=False, description="More finer lines exist than are listed."
    )

    @classmethod
    def of(cls, answer: DutyAnswer) -> DutyPublic:
        return cls.model_validate(
            {
                "importer": answer.importer,
                "origin": answer.origin,
                "hs": answer.hs,
                "hs_digits": answer.hs_digits,
                **cls.fields_of(answer.as_of),
                "total_additional_pct": answer.total_additional_pct,
                "applied": answer.applied,
                "not_applied": answer.not_applied,
                "finer_lines": answer.finer_lines,
                "finer_lines_truncated": answer.finer_lines_truncated,
            }
        )


# -- measures and schedules -------------------------------------------------------------


class RateInForcePublic(Public):
    hs_prefix: str = Field(description="'' for the general rate.")
    rate_pct: Number
    since: date
    event_id: str


class ScopeEntryPublic(Public):
    hs_prefix: str
    state: str
    since: date
    event_id: str


class PrecedenceRulePublic(Public):
    event_id: str
    since: date
    displaces_measures: list[str]
    displaces_layers: list[str]
    hs_prefixes: list[str]


class MeasurePublic(PointPublic):
    """A measure on one day: whether it is in force, its rates, scope, suspensions, rules."""

    measure_id: UUID
    key: str
    name: str
    imposer: str
    layer: str
    targets: list[str]
    excluded_targets: list[str]
    instruments: list[str]
    status: str = Field(
        description="in_force, not_yet_effective, terminated or collection_stopped."
    )
    status_events: list[str]
    rates: list[RateInForcePublic]
    charged_rate_pct: Number | None = Field(description="The general rate after suspensions.")
    coverage: list[ScopeEntryPublic]
    exclusions: list[ScopeEntryPublic]
    suspensions: list[SuspensionPublic]
    legal_status: str | None
    legal_status_event: str | None
    precedence: list[PrecedenceRulePublic]
    imposed_event: str
    effective_from: date

    @classmethod
    def of(cls, state: MeasureState) -> MeasurePublic:
        fields = {name: getattr(state, name) for name in cls.model_fields if hasattr(state, name)}
        return cls.model_validate({**fields, **cls.fields_of(state.as_of)})


class SchedulePublic(PointPublic):
    """Every measure of an imposer that targets an origin, and its state on the day."""

    imposer: str
    origin: str
    measures: list[MeasurePublic]

    @classmethod
    def of(cls, schedule: Schedule) -> SchedulePublic:
        return cls(
            imposer=schedule.imposer,
            origin=schedule.origin,
            measures=[MeasurePublic.of(m) for m in schedule.measures],
            **cls.fields_of(schedule.as_of),
        )


# -- negotiations -----------------------------------------------------------------------


class StepPublic(Public):
    event_id: str
    event_type: str
    occurred_on: date
    summary: str
    party: str | None


class NegotiationPublic(PointPublic):
    """A negotiation on one day: status, preconditions, rounds, proposals, truce."""

    negotiation_id: UUID
    title: str
    parties: list[str]
    status: str = Field(examples=["truce_active"])
    status_set_by: StepPublic | None
    open_preconditions: list[StepPublic]
    last_round: StepPublic | None
    proposals_on_table: list[StepPublic]
    agreements: list[StepPublic]
    truce_ends_on: date | None
    truce_steps: list[StepPublic]
    threats: list[StepPublic]
    implementing_measure_ids: list[str]
    steps: list[StepPublic]

    @classmethod
    def of(cls, answer: NegotiationAnswer) -> NegotiationPublic:
        state: NegotiationState = answer.state
        fields = {name: getattr(state, name) for name in cls.model_fields if hasattr(state, name)}
        return cls.model_validate(
            {**fields, "status": state.status.value, **cls.fields_of(answer.as_of)}
        )


# -- timelines and diffs ----------------------------------------------------------------


class TimelineEntryPublic(Public):
    position: int
    stream_id: UUID
    stream_kind: str
    version: int
    event_type: str
    event_id: str
    effective_on: date | None
    announced_at: datetime
    recorded_at: datetime
    summary: str
    retracted_at: int | None = Field(
        description="The position of the correction that withdrew this event, if any."
    )


class TimelinePublic(Public):
    """A stream's events with their three dates, ordered by one of them."""

    stream_id: UUID
    kind: Literal["measure", "negotiation"]
    order: Literal["effective", "announced", "recorded"]
    entries: list[TimelineEntryPublic]

    @classmethod
    def of(
        cls, stream_id: UUID, kind: str, order: str, entries: list[TimelineEntry]
    ) -> TimelinePublic:
        return cls.model_validate(
            {"stream_id": stream_id, "kind": kind, "order": order, "entries": entries}
        )


class ChangePublic(Public):
    facet: str = Field(examples=["total_additional_pct"])
    old: str | None
    new: str | None
    caused_by: list[str] = Field(description="Events only the second point relies on.")
    withdrawn: list[str] = Field(description="Events only the first point relies on.")


class DiffPublic(Public):
    """What changed between two points in time, old -> new, and the events that caused it."""

    subject: str
    before: AsOfPublic
    after: AsOfPublic
    changes: list[ChangePublic]

    @classmethod
    def of(cls, diff: Diff) -> DiffPublic:
        return cls(
            subject=diff.subject,
            before=AsOfPublic.of(diff.before),
            after=AsOfPublic.of(diff.after),
            changes=[ChangePublic.model_validate(c) for c in diff.changes],
        )


# -- the event log ----------------------------------------------------------------------


class CloudEventPublic(BaseModel):
    """One event of the global log as a CloudEvents 1.0 structured JSON event.

    Extensions: `position` (in the global log: the cursor), `version` (in its stream),
    `effectivedate` (absent when unknown), `announcedat`, `streamkind`, `streamkey`.
    `data` holds the event's public fields, as a client would send them to record it.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "specversion": "1.0",
                    "id": "afcaeb5d-c3b0-57c6-801a-f27e210fb4f9/2",
                    "source": "/v1/measures/afcaeb5d-c3b0-57c6-801a-f27e210fb4f9",
                    "type": "tradeledger.measure.rate_changed",
                    "subject": "afcaeb5d-c3b0-57c6-801a-f27e210fb4f9",
                    "time": "2025-06-02T09:15:00.123Z",
                    "datacontenttype": "application/json",
                    "position": 17,
                    "version": 2,
                    "effectivedate": "2025-03-04",
                    "announcedat": "2025-03-03T00:00:00Z",
                    "streamkind": "measure",
                    "streamkey": "us-cn-fentanyl",
                    "data": {
                        "type": "rate_changed",
                        "event_id": "US-CN-FENT-20",
                        "effective_on": "2025-03-04",
                        "announced_at": "2025-03-03T00:00:00Z",
                        "rate_pct": 20,
                        "hs_prefixes": [],
                        "sources": [
                            {
                                "citation": "Executive Order 14228",
                                "publisher": "The White House",
                                "reliability": "official",
                            }
                        ],
                        "recorded_by": "analyst@example.org",
                        "note": "",
                    },
                }
            ]
        }
    )

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(description="Unique per event: '<stream id>/<version>'.")
    source: str = Field(description="The stream's resource path.")
    type: str = Field(description="'tradeledger.<kind>.<type>'.")
    subject: str = Field(description="The stream id.")
    time: datetime | None = Field(description="When the ledger recorded the event.")
    datacontenttype: Literal["application/json"] = "application/json"
    position: int
    version: int
    effectivedate: date | None = Field(
        default=None, exclude_if=lambda value: value is None, description="Absent when unknown."
    )
    announcedat: datetime
    streamkind: Literal["measure", "negotiation"]
    streamkey: str
    data: dict[str, Any]

    @classmethod
    def of(cls, entry: LogEntry) -> CloudEventPublic:
        plural = "measures" if entry.kind == "measure" else "negotiations"
        return cls(
            id=f"{entry.stream_id}/{entry.version}",
            source=f"/v1/{plural}/{entry.stream_id}",
            type=entry.full_type,
            subject=str(entry.stream_id),
            time=entry.recorded_at,
            position=entry.position,
            version=entry.version,
            effectivedate=entry.effective_on,
            announcedat=entry.announced_at,
            streamkind=entry.kind,
            streamkey=entry.key,
            data=jsonable(_sanitised(dict(entry.data))),
        )


class EventsPagePublic(BaseModel):
    """A page of the global log in commit order, and where to continue."""

    events: list[CloudEventPublic]
    next_after: int = Field(
        description="Pass as `after` to continue: the last position this page passed "
        "(past the last event when later ones were filtered out)."
    )
    high_water: int = Field(description="The last position in the log when the page was read.")


class SchemasPublic(BaseModel):
    """The JSON Schema of every event type, and of a dataset line."""

    events: dict[str, dict[str, Any]] = Field(
        description="By CloudEvents type ('tradeledger.measure.rate_changed')."
    )
    dataset_line: dict[str, Any]
