"""Translate ledger events into read-model rows, one row per effect on a (measure, kind, key).

This is the write half of the read side: pure functions, no SQL, so that the SQLite and
PostgreSQL views store exactly the same rows and the evaluator reads them the same way.

Kinds of measure facts, and how the evaluator combines the rows of one kind:
  rate        key = HS prefix ("" = general rate)      latest on or before D, per key
  coverage    key = HS prefix ("" = every product)     latest per key; state covered|not_covered
  exclusion   key = HS prefix                          latest per key; state excluded|revoked;
                                                       detail START_UNKNOWN when the event
                                                       gave no effective date
  legal       key = ""                                 latest; state stops|continues
  terminated  key = ""                                 any on or before D
  suspension  key = its event id                       all that started on or before D
  extension   key = the suspension's event id          latest announced, whatever D
  precedence  key = its event id                       all on or before D
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar
from uuid import UUID

from domain.events import LedgerEvent, type_name
from domain.measure import TariffMeasure
from domain.negotiation import Negotiation

LATEST_PER_KEY_KINDS = ("rate", "coverage", "exclusion", "legal")

START_UNKNOWN = "start_unknown"
"""The detail of an exclusion row whose event gave no effective date (its row then
counts from the announcement day, and answers say that this day is assumed)."""
ALL_ROWS_KINDS = ("terminated", "suspension", "extension", "precedence")


@dataclass(frozen=True)
class LoggedEvent:
    """One event of the log as the read side lists it: its place in the log and in its
    stream, its type and id, its three dates and a summary."""

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


@dataclass(frozen=True)
class EventRow(LoggedEvent):
    """One event of the log with its three dates: the index behind timelines and `recorded_at`."""

    occurred_on: date
    """The day it takes effect, or, when that is unknown, the day it became public."""


@dataclass(frozen=True)
class MeasureDescription:
    """What a measure is, as its imposition says and nothing later changes: who imposes
    it on whom, under which authority. Both a measure's row and its state on a day
    (projections.answers.MeasureState) carry it."""

    measure_id: UUID
    key: str
    name: str
    imposer: str
    layer: str
    targets: tuple[str, ...]
    excluded_targets: tuple[str, ...]
    instruments: tuple[str, ...]


DESCRIPTION_FIELDS = tuple(f.name for f in fields(MeasureDescription))


def description_of(measure: MeasureDescription) -> dict[str, Any]:
    """The description's fields of `measure` (a row, or a state), by name."""
    return {name: getattr(measure, name) for name in DESCRIPTION_FIELDS}


@dataclass(frozen=True)
class MeasureRow(MeasureDescription):
    """A measure as imposed: its description, and the event that imposed it."""

    event_id: str
    position: int
    occurred_on: date
    effective_known: bool
    announced_at: datetime


@dataclass(frozen=True)
class FactRow:
    """One effect of one event on one (measure, kind, key); see the module docstring."""

    measure_id: UUID
    kind: str
    key: str
    event_id: str
    position: int
    occurred_on: date
    announced_at: datetime
    state: str = ""
    rate_pct: Decimal | None = None
    ends_on: date | None = None
    detail: str = ""


@dataclass(frozen=True)
class Retraction:
    """A correction: rows of `event_id` in `stream_id` stop counting from `position` on."""

    stream_id: UUID
    event_id: str
    position: int


@dataclass(frozen=True)
class NegotiationEventRow:
    """A negotiation's event as the store holds it (topic and encoded state), so that the
    negotiation's state is folded from the read models, never from the event store."""

    position: int
    negotiation_id: UUID
    version: int
    event_type: str
    announced_at: datetime
    topic: str
    state: bytes


@dataclass(frozen=True)
class Rows:
    """Everything one event adds to the read models."""

    event: EventRow
    measure: MeasureRow | None = None
    facts: tuple[FactRow, ...] = ()
    retraction: Retraction | None = None
    extends_suspension: tuple[str, date] | None = None
    parties: tuple[str, ...] = ()
    negotiation_event: NegotiationEventRow | None = None


@cache
def _type_name(event_class: type[LedgerEvent]) -> str:
    return type_name(event_class)


_Row = TypeVar("_Row")


def frozen_row(cls: type[_Row], **fields: Any) -> _Row:
    """An instance of the frozen dataclass `cls` from all its fields, made without its
    generated __init__, which sets each field through object.__setattr__ and costs
    three times as much. Projecting makes a few of these per event, millions in a
    rebuild, and queries one per row read; every field must be given (defaults are not
    filled in)."""
    row = object.__new__(cls)
    object.__setattr__(row, "__dict__", fields)
    return row


def rows_for(
    event: LedgerEvent,
    position: int,
    recorded_at: datetime,
    kind: str,
    stored: tuple[str, bytes] = ("", b""),
) -> Rows:
    """The rows an event adds, given its position and record time in the log, and its
    (topic, state) as stored (kept for negotiations, whose state is a fold of them)."""
    event_row = frozen_row(
        EventRow,
        position=position,
        stream_id=event.originator_id,
        stream_kind=kind,
        version=event.originator_version,
        event_type=_type_name(type(event)),
        event_id=event.event_id,
        effective_on=event.effective_on,
        occurred_on=event.occurred_on,
        announced_at=event.announced_at,
        recorded_at=recorded_at,
        summary=_summary(event),
    )
    if isinstance(event, Negotiation.Event):
        negotiation_event = frozen_row(
            NegotiationEventRow,
            position=position,
            negotiation_id=event.originator_id,
            version=event.originator_version,
            event_type=event_row.event_type,
            announced_at=event.announced_at,
            topic=stored[0],
            state=stored[1],
        )
        parties = tuple(event.parties) if isinstance(event, Negotiation.Opened) else ()
        return _rows(event_row, parties=parties, negotiation_event=negotiation_event)
    assert isinstance(event, TariffMeasure.Event)
    return _measure_rows(event, event_row)


def _rows(
    event: EventRow,
    measure: MeasureRow | None = None,
    facts: tuple[FactRow, ...] = (),
    retraction: Retraction | None = None,
    extends_suspension: tuple[str, date] | None = None,
    parties: tuple[str, ...] = (),
    negotiation_event: NegotiationEventRow | None = None,
) -> Rows:
    return frozen_row(
        Rows,
        event=event,
        measure=measure,
        facts=facts,
        retraction=retraction,
        extends_suspension=extends_suspension,
        parties=parties,
        negotiation_event=negotiation_event,
    )


def _summary(event: LedgerEvent) -> str:
    text = getattr(event, "summary", "") or getattr(event, "name", "")
    return str(text) or event.provenance.note


def _fact(
    event: LedgerEvent,
    position: int,
    kind: str,
    key: str,
    *,
    state: str = "",
    rate_pct: Decimal | None = None,
    ends_on: date | None = None,
    detail: str = "",
) -> FactRow:
    return frozen_row(
        FactRow,
        measure_id=event.originator_id,
        kind=kind,
        key=key,
        event_id=event.event_id,
        position=position,
        occurred_on=event.occurred_on,
        announced_at=event.announced_at,
        state=state,
        rate_pct=rate_pct,
        ends_on=ends_on,
        detail=detail,
    )


def _imposed(event: TariffMeasure.Imposed, position: int) -> MeasureRow:
    return MeasureRow(
        measure_id=event.originator_id,
        key=event.key,
        name=event.name,
        imposer=event.imposer,
        layer=event.layer,
        targets=tuple(event.targets),
        excluded_targets=tuple(event.excluded_targets),
        instruments=tuple(event.instruments),
        event_id=event.event_id,
        position=position,
        occurred_on=event.occurred_on,
        effective_known=event.effective_on is not None,
        announced_at=event.announced_at,
    )


def _imposed_facts(event: TariffMeasure.Imposed, at: int) -> list[FactRow]:
    facts: list[FactRow] = []
    if event.rate_pct is not None:
        facts.append(_fact(event, at, "rate", "", rate_pct=event.rate_pct))
    for prefix, prefix_rate in event.rate_by_prefix.items():
        facts.append(_fact(event, at, "rate", prefix, rate_pct=Decimal(prefix_rate)))
    covered = dict.fromkeys([*event.hs_prefixes, *event.rate_by_prefix])
    facts += [_fact(event, at, "coverage", p, state="covered") for p in covered]
    unknown = START_UNKNOWN if event.effective_on is None else ""
    facts += [
        _fact(event, at, "exclusion", p, state="excluded", detail=unknown)
        for p in event.excluded_hs_prefixes
    ]
    return facts


def _measure_rows(event: TariffMeasure.Event, event_row: EventRow) -> Rows:
    at = event_row.position
    facts: list[FactRow] = []
    measure: MeasureRow | None = None
    retraction: Retraction | None = None
    extends: tuple[str, date] | None = None
    match event:
        case TariffMeasure.Imposed():
            measure = _imposed(event, at)
            facts += _imposed_facts(event, at)
        case TariffMeasure.RateChanged():
            keys = tuple(event.hs_prefixes) or ("",)
            facts += [_fact(event, at, "rate", k, rate_pct=event.rate_pct) for k in keys]
        case TariffMeasure.ScopeChanged():
            facts += [
                _fact(event, at, "coverage", p, state="covered") for p in event.added_hs_prefixes
            ]
            facts += [
                _fact(event, at, "coverage", p, state="not_covered")
                for p in event.removed_hs_prefixes
            ]
        case TariffMeasure.ExclusionGranted():
            unknown = START_UNKNOWN if event.effective_on is None else ""
            facts += [
                _fact(event, at, "exclusion", p, state="excluded", detail=unknown)
                for p in event.hs_prefixes
            ]
        case TariffMeasure.ExclusionRevoked():
            facts += [_fact(event, at, "exclusion", p, state="revoked") for p in event.hs_prefixes]
        case TariffMeasure.SuspensionGranted():
            facts.append(
                _fact(
                    event,
                    at,
                    "suspension",
                    event.event_id,
                    rate_pct=event.points,
                    ends_on=event.ends_on,
                    state="all" if event.points is None else "points",
                )
            )
        case TariffMeasure.SuspensionExtended():
            facts.append(
                _fact(event, at, "extension", event.suspension_event_id, ends_on=event.ends_on)
            )
            extends = (event.suspension_event_id, event.ends_on)
        case TariffMeasure.Terminated():
            facts.append(_fact(event, at, "terminated", ""))
        case TariffMeasure.PrecedenceDeclared():
            detail = json.dumps(
                {
                    "measures": list(event.displaces_measure_ids),
                    "layers": list(event.displaces_layers),
                    "hs_prefixes": list(event.hs_prefixes),
                }
            )
            facts.append(_fact(event, at, "precedence", event.event_id, detail=detail))
        case TariffMeasure.LegalStatusChanged():
            state = "stops" if event.collection_stops else "continues"
            facts.append(_fact(event, at, "legal", "", state=state, detail=event.status))
        case TariffMeasure.RecordCorrected():
            retraction = Retraction(
                event.originator_id, event.corrected_event_id, event_row.position
            )
    return _rows(event_row, measure, tuple(facts), retraction, extends)
