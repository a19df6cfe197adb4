"""What auditors ask: state on a day, as known at a moment, as recorded at a moment.

Every query takes a TimePoint (`on`, `known_at`, `recorded_at`; each defaulting to
today/now from the clock given at construction): it folds only the events announced by
`known_at` and recorded by `recorded_at`, then evaluates what was in force on `on`.

Queries only read. They answer from the read models at the position these have reached
(the `position` of every answer), never projecting and never reading the event store.
A reader that needs a later position (its own write's) passes `min_position`: the query
waits until the read models reach it, up to `wait_timeout` seconds, and raises
ReadModelBehind if they do not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from domain.errors import InvalidValue, StreamNotFound
from domain.ledger import MEASURE, NEGOTIATION, stream_id_for_key
from domain.negotiation import Negotiation
from domain.negotiation_state import fold_negotiation
from domain.values import country_code, hs_digits, prefixes_of
from projections.answers import (
    AsOf,
    DutyAnswer,
    FinerLine,
    MeasureState,
    NegotiationAnswer,
    Schedule,
    Timeline,
    TimelineEntry,
)
from projections.evaluation import AppliedMeasure, evaluate_duty, listing_order
from projections.facts import MeasureRow
from projections.measure_states import measure_state
from projections.progress import ReadModelProgress
from projections.timepoint import NOW, TimePoint
from projections.view_reading import StoredNegotiationEvent
from projections.views import ReadModelView

FINER_LINES_LIMIT = 20
"""At most this many finer lines are evaluated and listed per duty question."""

PRECISE_HS_DIGITS = 10
"""Questions with at least this many digits (a full national tariff line, as the US
statistical suffix) are taken as precise, and cost no search for finer lines."""

DEFAULT_WAIT_TIMEOUT = 5.0
"""Seconds a query waits for the read models to reach the `min_position` it was given."""

TIMELINE_ORDERS = ("effective", "announced", "recorded")


class Queries:
    """The read side's use cases, over the indexed read models (never a replay)."""

    def __init__(
        self,
        view: ReadModelView,
        mapper: Mapper[UUID],
        reached: ReadModelProgress,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> None:
        self.view = view
        self.mapper = mapper
        """Decodes the negotiations' events the read models keep as stored."""
        self.reached = reached
        self.clock = clock
        self.wait_timeout = wait_timeout

    # -- the three axes --------------------------------------------------------------

    def as_of(self, at: TimePoint = NOW, min_position: int = 0) -> AsOf:
        """The point `at` with its defaults filled in, and the position to answer from:
        the read models' (once they have reached `min_position`), or the last one
        recorded by `at.recorded_at` if earlier. A reader also waits for what this process
        itself last committed, so that it reads its own writes without asking."""
        wanted = max(min_position, self.reached.committed)
        position = self.reached.wait_for(wanted, self.wait_timeout)
        on, known_at, recorded_at = at.resolve(self.clock())
        if at.recorded_at is not None:
            position = min(position, self.view.position_at(recorded_at))
        undecodable = self.view.undecodable_positions(position)
        return AsOf(on, known_at, recorded_at, position, undecodable)

    def resolve(self, kind: str, ref: str | UUID) -> UUID:
        """A stream id from a UUID or a human key."""
        if isinstance(ref, UUID):
            return ref
        try:
            return UUID(ref)
        except ValueError:
            return stream_id_for_key(kind, ref)

    def stream_version(self, stream_id: UUID, point: AsOf) -> int:
        """The version the stream had reached at the answer's position (0 before it
        existed): an answer's entity tag, for a write decided on it."""
        return self.view.stream_version(stream_id, point.position)

    # -- duty ------------------------------------------------------------------------

    def duty_on(
        self, importer: str, origin: str, hs: str, at: TimePoint = NOW, min_position: int = 0
    ) -> DutyAnswer:
        """The additional duty `importer` charged on `hs` from `origin`, with every reason."""
        importer_code = country_code(importer, "importer")
        origin_code = country_code(origin, "origin")
        digits = hs_digits(hs)
        point = self.as_of(at, min_position)
        measures = self.view.measures_for(
            importer_code, origin_code, point.known_at, point.position
        )
        facts = self.view.facts_for([m.measure_id for m in measures], prefixes_of(digits), point)
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
        facts = self.view.facts_for(ids, prefixes, point)
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
        self, measure: str | UUID, at: TimePoint = NOW, min_position: int = 0
    ) -> MeasureState:
        point = self.as_of(at, min_position)
        measure_id = self.resolve(MEASURE, measure)
        row = self.view.measure(measure_id, point.known_at, point.position)
        if row is None:
            raise StreamNotFound(measure_id, "measure known at that point", str(measure))
        facts = self.view.facts_for([measure_id], None, point)
        return measure_state(row, facts[measure_id], point)

    def schedule(
        self, imposer: str, origin: str, at: TimePoint = NOW, min_position: int = 0
    ) -> Schedule:
        """Every measure of `imposer` that targets `origin` (or every origin) on `on`."""
        imposer_code = country_code(imposer, "imposer")
        origin_code = country_code(origin, "origin")
        point = self.as_of(at, min_position)
        rows = [
            m
            for m in self.view.measures_for(
                imposer_code, origin_code, point.known_at, point.position
            )
            if origin_code not in m.excluded_targets
        ]
        facts = self.view.facts_for([m.measure_id for m in rows], None, point)
        states = [measure_state(m, facts[m.measure_id], point) for m in rows]
        states.sort(key=lambda s: (s.status != "in_force", *listing_order(s)))
        return Schedule(imposer_code, origin_code, point, tuple(states))

    # -- negotiations ----------------------------------------------------------------

    def negotiation_state(
        self, negotiation: str | UUID, at: TimePoint = NOW, min_position: int = 0
    ) -> NegotiationAnswer:
        """The negotiation's state on `on`: a fold (domain.negotiation) of the events the
        read models keep for it, those recorded by the position and announced by
        `known_at` (and every correction recorded by the position)."""
        point = self.as_of(at, min_position)
        negotiation_id = self.resolve(NEGOTIATION, negotiation)
        stored = self.view.negotiation_events(negotiation_id, point.known_at, point.position)
        if not stored:
            raise StreamNotFound(negotiation_id, "negotiation", str(negotiation))
        events = [self._negotiation_event(negotiation_id, s) for s in stored if s.known]
        if not any(isinstance(e, Negotiation.Opened) for e in events):
            raise StreamNotFound(
                negotiation_id, "negotiation known at that point", str(negotiation)
            )
        return NegotiationAnswer(point, fold_negotiation(negotiation_id, events, point.on))

    def _negotiation_event(
        self, negotiation_id: UUID, stored: StoredNegotiationEvent
    ) -> Negotiation.Event:
        event = self.mapper.to_domain_event(
            StoredEvent(negotiation_id, stored.version, stored.topic, stored.state)
        )
        assert isinstance(event, Negotiation.Event), stored.topic
        return event

    # -- timelines -------------------------------------------------------------------

    def timeline(
        self,
        stream: str | UUID | None = None,
        *,
        kind: str = MEASURE,
        imposer: str | None = None,
        origin: str | None = None,
        order: str = "effective",
        at: TimePoint = NOW,
        min_position: int = 0,
    ) -> Timeline:
        """The events of a stream, or of every stream between an imposer and an origin,
        recorded by `at.recorded_at` (and, if it is given, announced by `at.known_at`);
        `at.on` plays no part."""
        if order not in TIMELINE_ORDERS:
            raise InvalidValue("order", "must be effective, announced or recorded")
        point = self.as_of(at, min_position)
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
            known_at=point.known_at if at.known_at is not None else None,
            position=point.position,
        )
        if stream is not None and not rows:
            raise StreamNotFound(stream_ids[0], kind, str(stream))
        fields = TimelineEntry.__dataclass_fields__
        entries = tuple(TimelineEntry(**{k: r[k] for k in fields}) for r in rows)
        return Timeline(point, entries)
