"""The answers of the read side: plain frozen dataclasses, each saying which point on the
three time axes it answers for and the log position it stands on (`AsOf`).

Every list in an answer has one order, whatever order the read models return rows in
(a rebuild's fresh indexes and statistics may change a query plan's), so that the same
question gives the same bytes after an incremental projection and after a rebuild:

- measures (applied, not_applied, a schedule's): by layer, name, key, id
  (`evaluation.listing_order`); a schedule puts those in force first;
- rates, coverage, exclusions: by HS prefix; finer lines: by HS prefix;
- suspensions, precedence rules, status events of a termination: in the order they
  took effect (effective day, then log position);
- the events behind an applied measure: imposition, scope, rate, then each suspension
  (and its extension) in that order; timeline entries: the order asked, then position;
- a diff's changes: by facet; the events of a change: sorted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from domain.negotiation_state import NegotiationState
from projections.evaluation import ActiveSuspension, AppliedMeasure, SkippedMeasure
from projections.facts import LoggedEvent, MeasureDescription


@dataclass(frozen=True)
class AsOf:
    """The point a query answers for, on all three axes, and the log position it stands on:
    the read models' position when it was asked, or the last position recorded by
    `recorded_at` if that is earlier."""

    on: date
    known_at: datetime
    recorded_at: datetime
    position: int
    undecodable_positions: tuple[int, ...] = ()
    """Positions up to `position` of stored events that do not decode and that the read
    models were told to skip (TRADELEDGER_ON_UNDECODABLE=skip): what the answer does not
    know. Empty for an undamaged record."""


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
class MeasureState(MeasureDescription):
    """A measure on one day: its description, whether it is in force, its rates, scope,
    suspensions, rules."""

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
class TimelineEntry(LoggedEvent):
    """An event of a timeline, and whether a correction has withdrawn it since."""

    retracted_at: int | None
    """The position of the correction that withdrew the event, if any."""


@dataclass(frozen=True)
class Timeline:
    """Events of one or more streams with their three dates, in the order asked for."""

    as_of: AsOf
    entries: tuple[TimelineEntry, ...]
