"""The answers of the read side: every answer about a point in time carries that point.

Answers mirror the read side's frozen dataclasses (`mirrors`: each takes its fields from
its dataclass, and declares only their descriptions); each one about a point in time
carries the point it answers for (`on`, `known_at`, `recorded_at`) and the log
`position` it stands on. Rates are exact decimals written as JSON numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from api.models.public import Public, mirrors
from domain.negotiation_state import NegotiationState, Step
from projections.answers import (
    AsOf,
    DutyAnswer,
    FinerLine,
    MeasureState,
    NegotiationAnswer,
    PrecedenceRule,
    RateInForce,
    Schedule,
    ScopeEntry,
    TimelineEntry,
)
from projections.diff import Change, Diff
from projections.evaluation import ActiveSuspension, AppliedMeasure, SkippedMeasure

# -- reading: the point in time ---------------------------------------------------------


class PointPublic(Public):
    """The point an answer is for, on the three axes, and the log position it stands on."""

    shown_flat = frozenset({"as_of"})

    on: date = Field(description="The effective day (valid time).")
    known_at: datetime = Field(description="What had been announced by this instant.")
    recorded_at: datetime = Field(description="What this ledger held at this instant.")
    position: int = Field(description="The last log position the answer takes into account.")
    undecodable_positions: list[int] = Field(
        description="Positions up to `position` of stored events that do not decode, which "
        "the answer could not take into account (empty for an undamaged record)."
    )

    @staticmethod
    def fields_of(point: AsOf) -> dict[str, Any]:
        return {
            "on": point.on,
            "known_at": point.known_at,
            "recorded_at": point.recorded_at,
            "position": point.position,
            "undecodable_positions": list(point.undecodable_positions),
        }

    @model_validator(mode="before")
    @classmethod
    def _flatten_point(cls, data: Any) -> Any:
        """An answer of the read side shows its own fields and, flattened, its point."""
        point = getattr(data, "as_of", None)
        if isinstance(point, AsOf):
            return {**cls.field_values_of(data), **cls.fields_of(point)}
        return data


@mirrors(AsOf)
class AsOfPublic(PointPublic): ...


# -- duty -------------------------------------------------------------------------------


@mirrors(
    ActiveSuspension,
    points=Field(description="Points suspended; null means all of the rate."),
    ends_on=Field(description="The day the rate snaps back."),
    extended_by=Field(description="The event that set the current end, if any."),
)
class SuspensionPublic(Public): ...


@mirrors(
    AppliedMeasure,
    rate_pct=Field(description="The rate charged, after suspensions."),
    scheduled_rate_pct=Field(description="The rate before suspensions."),
    events=Field(description="The ids of the events that established the rate."),
)
class AppliedMeasurePublic(Public): ...


@mirrors(
    SkippedMeasure,
    reason=(
        str,
        Field(
            description="Why it did not apply: not_yet_effective, terminated, "
            "collection_stopped, origin_excluded, out_of_scope, excluded, no_rate, "
            "suspended, displaced.",
            examples=["excluded"],
        ),
    ),
    events=Field(description="The ids of the events behind the reason."),
    until=Field(default=None, description="When the reason ends, if known."),
)
class SkippedMeasurePublic(Public): ...


@mirrors(
    FinerLine,
    hs_prefix=Field(description="A more precise code under the one asked, as digits."),
    total_additional_pct=Field(description="The duty on that line."),
    applied=Field(description="Keys of the measures applied to that line."),
)
class FinerLinePublic(Public): ...


@mirrors(
    DutyAnswer,
    hs=Field(description="The HS code as asked."),
    hs_digits=Field(description="The HS code as digits."),
    total_additional_pct=Field(description="The sum of the applied rates (not MFN)."),
    finer_lines=Field(
        default_factory=list,
        description="When the code asked is less precise than some measure's scope: the "
        "lines under it that are charged differently, each with its own total. The total "
        "above is then the duty on the other lines under the code asked.",
    ),
    finer_lines_truncated=Field(
        default=False, description="More finer lines exist than are listed."
    ),
)
class DutyPublic(PointPublic):
    """The additional duty on one product, with every measure applied and every reason."""


# -- measures and schedules -------------------------------------------------------------


@mirrors(RateInForce, hs_prefix=Field(description="'' for the general rate."))
class RateInForcePublic(Public): ...


@mirrors(ScopeEntry)
class ScopeEntryPublic(Public): ...


@mirrors(PrecedenceRule)
class PrecedenceRulePublic(Public): ...


@mirrors(
    MeasureState,
    status=Field(description="in_force, not_yet_effective, terminated or collection_stopped."),
    charged_rate_pct=Field(description="The general rate after suspensions."),
)
class MeasurePublic(PointPublic):
    """A measure on one day: whether it is in force, its rates, scope, suspensions, rules."""


@mirrors(Schedule)
class SchedulePublic(PointPublic):
    """Every measure of an imposer that targets an origin, and its state on the day."""


# -- negotiations -----------------------------------------------------------------------


@mirrors(Step)
class StepPublic(Public): ...


@mirrors(NegotiationState, status=(str, Field(examples=["truce_active"])))
class NegotiationPublic(PointPublic):
    """A negotiation on one day: status, preconditions, rounds, proposals, truce."""

    @classmethod
    def of(cls, answer: NegotiationAnswer) -> NegotiationPublic:
        return cls.model_validate(
            {**cls.field_values_of(answer.state), **cls.fields_of(answer.as_of)}
        )


# -- timelines and diffs ----------------------------------------------------------------


@mirrors(
    TimelineEntry,
    retracted_at=Field(
        description="The position of the correction that withdrew this event, if any."
    ),
)
class TimelineEntryPublic(Public): ...


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


@mirrors(
    Change,
    facet=Field(examples=["total_additional_pct"]),
    caused_by=Field(description="Events only the second point relies on."),
    withdrawn=Field(description="Events only the first point relies on."),
)
class ChangePublic(Public): ...


@mirrors(Diff)
class DiffPublic(Public):
    """What changed between two points in time, old -> new, and the events that caused it."""


class SchemasPublic(BaseModel):
    """The JSON Schema of every event type, and of a dataset line."""

    events: dict[str, dict[str, Any]] = Field(
        description="By CloudEvents type ('tradeledger.measure.rate_changed')."
    )
    dataset_line: dict[str, Any]
