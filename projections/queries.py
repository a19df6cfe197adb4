"""What auditors ask: state on a day, as known at a moment, as recorded at a moment.

Every query takes `on` (effective day), `known_at` (publication instant; a date means the
end of that day) and `recorded_at` (ledger instant), each defaulting to today/now from
the clock given at construction. A query folds only the events announced by `known_at`
and recorded by `recorded_at`, then evaluates what was in force on `on`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from domain.errors import InvalidValue, StreamNotFound
from domain.ledger import MEASURE, NEGOTIATION, Ledger, stream_id_for_key
from domain.negotiation import Negotiation
from domain.negotiation_state import NegotiationState, fold_negotiation
from domain.values import country_code, end_of_day, hs_digits, prefixes_of, utc_instant
from projections.evaluation import (
    ActiveSuspension,
    AppliedMeasure,
    SkippedMeasure,
    active_suspensions,
    evaluate_duty,
    index_facts,
)
from projections.facts import FactRow, MeasureRow
from projections.projector import Projector
from projections.views import ReadModelView

Instant = datetime | date


@dataclass(frozen=True)
class AsOf:
    """The point a query answers for, on all three axes, and the log position it stands on."""

    on: date
    known_at: datetime
    recorded_at: datetime
    position: int


@dataclass(frozen=True)
class FinerLine:
    """A more precise code under the one asked, that the measures treat differently.

    A measure scoped to HS 8703.80.00 does not cover a question about 8703.80 (most
    lines under it may be outside the measure), but the answer then depends on the
    line: each such line is listed with its own total, so that no answer silently
    stands for a product it does not describe.
    """

    hs_prefix: str
    total_additional_pct: Decimal
    applied: tuple[str, ...]
    """Keys of the measures applied to this line."""


FINER_LINES_LIMIT = 20
"""At most this many finer lines are evaluated and listed per duty question."""

PRECISE_HS_DIGITS = 10
"""Questions with at least this many digits (a full national tariff line, as the US
statistical suffix) are taken as precise, and cost no search for finer lines."""


@dataclass(frozen=True)
class DutyAnswer:
    importer: str
    origin: str
    hs: str
    hs_digits: str
    as_of: AsOf
    total_additional_pct: Decimal
    applied: tuple[AppliedMeasure, ...]
    not_applied: tuple[SkippedMeasure, ...]
    finer_lines: tuple[FinerLine, ...] = ()
    """Lines under `hs` whose duty differs from the total above (empty when `hs` is as
    precise as every measure's scope)."""
    finer_lines_truncated: bool = False
    """More than FINER_LINES_LIMIT finer lines exist; only the first are listed."""


@dataclass(frozen=True)
class RateInForce:
    hs_prefix: str
    rate_pct: Decimal
    since: date
    event_id: str


@dataclass(frozen=True)
class ScopeEntry:
    hs_prefix: str
    state: str
    since: date
    event_id: str


@dataclass(frozen=True)
class PrecedenceRule:
    event_id: str
    since: date
    displaces_measures: tuple[str, ...]
    displaces_layers: tuple[str, ...]
    hs_prefixes: tuple[str, ...]


@dataclass(frozen=True)
class MeasureState:
    """A measure on one day: whether it is in force, its rates, scope, suspensions, rules."""

    measure_id: UUID
    key: str
    name: str
    imposer: str
    layer: str
    targets: tuple[str, ...]
    excluded_targets: tuple[str, ...]
    instruments: tuple[str, ...]
    as_of: AsOf
    status: str
    status_events: tuple[str, ...]
    rates: tuple[RateInForce, ...]
    charged_rate_pct: Decimal | None
    coverage: tuple[ScopeEntry, ...]
    exclusions: tuple[ScopeEntry, ...]
    suspensions: tuple[ActiveSuspension, ...]
    legal_status: str | None
    legal_status_event: str | None
    precedence: tuple[PrecedenceRule, ...]
    imposed_event: str
    effective_from: date


@dataclass(frozen=True)
class Schedule:
    imposer: str
    origin: str
    as_of: AsOf
    measures: tuple[MeasureState, ...]


@dataclass(frozen=True)
class NegotiationAnswer:
    as_of: AsOf
    state: NegotiationState


@dataclass(frozen=True)
class TimelineEntry:
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
    retracted_at: int | None


class Queries:
    """The read side's use cases, over the indexed read models (never a full replay)."""

    def __init__(
        self,
        ledger: Ledger,
        view: ReadModelView,
        projector: Projector,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.ledger = ledger
        self.view = view
        self.projector = projector
        self.clock = clock

    # -- the three axes --------------------------------------------------------------

    def as_of(
        self,
        on: date | None = None,
        known_at: Instant | None = None,
        recorded_at: Instant | None = None,
    ) -> AsOf:
        """Resolve defaults and the record position; catch up with the log first."""
        position = self.projector.settled_position()
        now = self.clock()
        known = _instant(known_at, "known_at") if known_at is not None else now
        recorded = now
        if recorded_at is not None:
            recorded = _instant(recorded_at, "recorded_at")
            position = min(position, self.view.position_at(recorded))
        return AsOf(on if on is not None else now.date(), known, recorded, position)

    def resolve(self, kind: str, ref: str | UUID) -> UUID:
        """A stream id from a UUID or a human key."""
        if isinstance(ref, UUID):
            return ref
        try:
            return UUID(ref)
        except ValueError:
            return stream_id_for_key(kind, ref)

    # -- duty ------------------------------------------------------------------------

    def duty_on(
        self,
        importer: str,
        origin: str,
        hs: str,
        on: date | None = None,
        known_at: Instant | None = None,
        recorded_at: Instant | None = None,
    ) -> DutyAnswer:
        """The additional duty `importer` charged on `hs` from `origin`, with every reason."""
        importer_code = country_code(importer, "importer")
        origin_code = country_code(origin, "origin")
        digits = hs_digits(hs)
        point = self.as_of(on, known_at, recorded_at)
        measures = self.view.measures_for(
            importer_code, origin_code, point.known_at, point.position
        )
        facts = self.view.facts_for(
            [m.measure_id for m in measures],
            prefixes_of(digits),
            point.on,
            point.known_at,
            point.position,
        )
        applied, skipped = evaluate_duty(measures, facts, origin_code, digits, point.on)
        total = sum((a.rate_pct for a in applied), Decimal(0))
        finer: list[FinerLine] = []
        truncated = False
        if len(digits) < PRECISE_HS_DIGITS and measures:
            finer, truncated = self._finer_lines(measures, origin_code, digits, point, applied)
        return DutyAnswer(
            importer=importer_code,
            origin=origin_code,
            hs=hs,
            hs_digits=digits,
            as_of=point,
            total_additional_pct=total,
            applied=tuple(applied),
            not_applied=tuple(skipped),
            finer_lines=tuple(finer),
            finer_lines_truncated=truncated,
        )

    def _finer_lines(
        self,
        measures: Sequence[MeasureRow],
        origin: str,
        digits: str,
        point: AsOf,
        applied: Sequence[AppliedMeasure],
    ) -> tuple[list[FinerLine], bool]:
        """The lines under `digits` that some measure names, evaluated each as its own
        question (all in one read of the facts), where the answer differs."""
        ids = [m.measure_id for m in measures]
        keys = self.view.finer_keys(ids, digits, FINER_LINES_LIMIT + 1)
        truncated = len(keys) > FINER_LINES_LIMIT
        keys = keys[:FINER_LINES_LIMIT]
        if not keys:
            return [], False
        prefixes = sorted({p for key in keys for p in prefixes_of(key)})
        facts = self.view.facts_for(ids, prefixes, point.on, point.known_at, point.position)
        asked = {(a.measure_id, a.rate_pct) for a in applied}
        lines = []
        for key in keys:
            line_applied, _ = evaluate_duty(measures, facts, origin, key, point.on)
            if {(a.measure_id, a.rate_pct) for a in line_applied} != asked:
                lines.append(
                    FinerLine(
                        hs_prefix=key,
                        total_additional_pct=sum((a.rate_pct for a in line_applied), Decimal(0)),
                        applied=tuple(a.key for a in line_applied),
                    )
                )
        return lines, truncated

    # -- measures --------------------------------------------------------------------

    def measure_state(
        self,
        measure: str | UUID,
        on: date | None = None,
        known_at: Instant | None = None,
        recorded_at: Instant | None = None,
    ) -> MeasureState:
        point = self.as_of(on, known_at, recorded_at)
        measure_id = self.resolve(MEASURE, measure)
        row = self.view.measure(measure_id, point.known_at, point.position)
        if row is None:
            raise StreamNotFound(measure_id, "measure known at that point", str(measure))
        facts = self.view.facts_for([measure_id], None, point.on, point.known_at, point.position)
        return _measure_state(row, facts[measure_id], point)

    def schedule(
        self,
        imposer: str,
        origin: str,
        on: date | None = None,
        known_at: Instant | None = None,
        recorded_at: Instant | None = None,
    ) -> Schedule:
        """Every measure of `imposer` that targets `origin` (or every origin) on `on`."""
        imposer_code = country_code(imposer, "imposer")
        origin_code = country_code(origin, "origin")
        point = self.as_of(on, known_at, recorded_at)
        rows = [
            m
            for m in self.view.measures_for(
                imposer_code, origin_code, point.known_at, point.position
            )
            if origin_code not in m.excluded_targets
        ]
        facts = self.view.facts_for(
            [m.measure_id for m in rows], None, point.on, point.known_at, point.position
        )
        states = [_measure_state(m, facts[m.measure_id], point) for m in rows]
        states.sort(key=lambda s: (s.status != "in_force", s.layer, s.name))
        return Schedule(imposer_code, origin_code, point, tuple(states))

    # -- negotiations ----------------------------------------------------------------

    def negotiation_state(
        self,
        negotiation: str | UUID,
        on: date | None = None,
        known_at: Instant | None = None,
        recorded_at: Instant | None = None,
    ) -> NegotiationAnswer:
        point = self.as_of(on, known_at, recorded_at)
        negotiation_id = self.resolve(NEGOTIATION, negotiation)
        rows = self.view.events(stream_ids=[negotiation_id], position=point.position)
        if not rows or rows[0]["stream_kind"] != NEGOTIATION:
            raise StreamNotFound(negotiation_id, "negotiation", str(negotiation))
        versions = {r["version"] for r in rows}
        events = [
            e
            for e in self.ledger.events.get(negotiation_id)
            if e.originator_version in versions
            and isinstance(e, Negotiation.Event)
            and (isinstance(e, Negotiation.RecordCorrected) or e.announced_at <= point.known_at)
        ]
        if not any(isinstance(e, Negotiation.Opened) for e in events):
            raise StreamNotFound(
                negotiation_id, "negotiation known at that point", str(negotiation)
            )
        return NegotiationAnswer(point, fold_negotiation(negotiation_id, events, point.on))

    # -- timelines -------------------------------------------------------------------

    def timeline(
        self,
        stream: str | UUID | None = None,
        *,
        kind: str = MEASURE,
        imposer: str | None = None,
        origin: str | None = None,
        order: str = "effective",
        known_at: Instant | None = None,
        recorded_at: Instant | None = None,
    ) -> list[TimelineEntry]:
        """The events of a stream, or of every stream between an imposer and an origin."""
        if order not in ("effective", "announced", "recorded"):
            raise InvalidValue("order", "must be effective, announced or recorded")
        point = self.as_of(None, known_at, recorded_at)
        if stream is not None:
            stream_ids = [self.resolve(kind, stream)]
        elif imposer and origin:
            stream_ids = self.view.streams_between(
                country_code(imposer, "imposer"), country_code(origin, "origin")
            )
        else:
            raise InvalidValue("stream", "name a stream, or both an imposer and an origin")
        rows = self.view.events(
            stream_ids=stream_ids,
            order=order,
            known_at=point.known_at if known_at is not None else None,
            position=point.position,
        )
        if stream is not None and not rows:
            raise StreamNotFound(stream_ids[0], kind, str(stream))
        return [
            TimelineEntry(**{k: r[k] for k in TimelineEntry.__dataclass_fields__}) for r in rows
        ]


def _instant(value: Instant, field: str) -> datetime:
    if isinstance(value, datetime):
        return utc_instant(value, field)
    return end_of_day(value)


def _measure_state(row: MeasureRow, facts: Sequence[FactRow], point: AsOf) -> MeasureState:
    indexed = index_facts(facts, point.on)
    latest = indexed.latest
    rates = sorted(
        (
            RateInForce(k, f.rate_pct, f.occurred_on, f.event_id)
            for (kind, k), f in latest.items()
            if kind == "rate" and f.rate_pct is not None
        ),
        key=lambda r: r.hs_prefix,
    )
    coverage = sorted(
        (
            ScopeEntry(k, f.state, f.occurred_on, f.event_id)
            for (kind, k), f in latest.items()
            if kind == "coverage"
        ),
        key=lambda s: s.hs_prefix,
    )
    exclusions = sorted(
        (
            ScopeEntry(k, f.state, f.occurred_on, f.event_id)
            for (kind, k), f in latest.items()
            if kind == "exclusion" and f.state == "excluded"
        ),
        key=lambda s: s.hs_prefix,
    )
    suspensions = active_suspensions(indexed, point.on)
    legal = latest.get(("legal", ""))
    status, status_events = "in_force", [row.event_id]
    if row.occurred_on > point.on:
        status = "not_yet_effective"
    elif indexed.terminated:
        status, status_events = "terminated", [f.event_id for f in indexed.terminated]
    elif legal is not None and legal.state == "stops":
        status, status_events = "collection_stopped", [legal.event_id]
    general = next((r for r in rates if r.hs_prefix == ""), None)
    charged: Decimal | None = None
    if general is not None and status == "in_force":
        suspended = sum(
            (general.rate_pct if s.points is None else s.points for s in suspensions), Decimal(0)
        )
        charged = max(general.rate_pct - suspended, Decimal(0))
    precedence = []
    for fact in indexed.precedence:
        detail = json.loads(fact.detail)
        precedence.append(
            PrecedenceRule(
                fact.event_id,
                fact.occurred_on,
                tuple(detail["measures"]),
                tuple(detail["layers"]),
                tuple(detail["hs_prefixes"]),
            )
        )
    return MeasureState(
        measure_id=row.measure_id,
        key=row.key,
        name=row.name,
        imposer=row.imposer,
        layer=row.layer,
        targets=row.targets,
        excluded_targets=row.excluded_targets,
        instruments=row.instruments,
        as_of=point,
        status=status,
        status_events=tuple(status_events),
        rates=tuple(rates),
        charged_rate_pct=charged,
        coverage=tuple(coverage),
        exclusions=tuple(exclusions),
        suspensions=tuple(suspensions),
        legal_status=legal.detail if legal else None,
        legal_status_event=legal.event_id if legal else None,
        precedence=tuple(precedence),
        imposed_event=row.event_id,
        effective_from=row.occurred_on,
    )
