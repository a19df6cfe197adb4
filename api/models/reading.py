"""The answers of the read side: every answer about a point in time carries that point.

Answers mirror the read side's frozen dataclasses; each one about a point in time
carries the point it answers for (`on`, `known_at`, `recorded_at`) and the log
`position` it stands on. Rates are exact decimals written as JSON numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.models.public import Number, Public
from domain.negotiation_state import NegotiationState
from projections.answers import (
    AsOf,
    DutyAnswer,
    MeasureState,
    NegotiationAnswer,
    Schedule,
    TimelineEntry,
)
from projections.diff import Diff

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
        return cls.model_validate({**cls.field_values_of(state), **cls.fields_of(state.as_of)})


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
        return cls.model_validate(
            {
                **cls.field_values_of(state),
                "status": state.status.value,
                **cls.fields_of(answer.as_of),
            }
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


class SchemasPublic(BaseModel):
    """The JSON Schema of every event type, and of a dataset line."""

    events: dict[str, dict[str, Any]] = Field(
        description="By CloudEvents type ('tradeledger.measure.rate_changed')."
    )
    dataset_line: dict[str, Any]
