"""The executable specification of a duty answer: a naive fold over the raw event log.

The read side answers from indexed fact rows and SQL views, built for speed. This module
answers the same questions from nothing but the stored domain events, each with its log
position and the record time the store stamped on it, by applying the rules of
``DOMAIN.md`` ("Three time axes", "How tariffs combine") as literally as they can be
written. It is deliberately slow and simple: every query re-reads every event, nothing is
indexed or cached, so that a reviewer can check each line against the rules. The oracle
property test (``test_oracle.py``) asserts that the real queries agree with it.

It shares no code with ``projections`` beyond the domain's event classes: a bug in the
read side cannot hide by being copied here.

The rules, in the order this module applies them:

a. *Visibility.* An event counts iff the store recorded it by ``recorded_at`` and it was
   announced by ``known_at`` (a correction counts by record time alone: it is a ledger
   fact, not a world fact). A counting ``RecordCorrected`` makes the event it names (same
   stream) not count.
b. A measure exists iff its ``Imposed`` event counts. A fact *occurs on* its
   ``effective_on``, or the day it was announced when that is unknown. Facts occurring
   after ``on`` are ignored, except suspension extensions, which move an end date
   whatever day they occur on.
c. A measure is part of a duty answer iff its imposer is the importer and it targets the
   origin (by name or ``"*"``).
d. The first failing check names the reason a measure did not apply: ``origin_excluded``,
   ``not_yet_effective``, ``terminated``, ``collection_stopped``, ``out_of_scope``,
   ``excluded``, ``no_rate``, ``suspended``; then, across measures, ``displaced``.
e. Per HS prefix key, the latest fact wins, latest meaning the greatest
   ``(occurred_on, position)``; the longest key with a fact decides.
f. Suspensions remove points (``None``: the whole rate) from ``start`` until the day
   before the end date, which the latest-announced extension may move.
g. A measure that qualifies (applied, or fully suspended) displaces the other applied
   measures its precedence rules name, on the products the rules cover.
h. The total is the sum of the applied rates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from domain.ledger import Ledger
from domain.measure import TariffMeasure
from storage import RecordTimeRecorder

ALL_PRODUCTS = ""
ALL_ORIGINS = "*"

Measure = TariffMeasure
"""Short name for the event classes, which are nested in the aggregate."""


@dataclass(frozen=True)
class Recorded:
    """One stored measure event with what the store added to it: position and record time."""

    position: int
    recorded_at: datetime
    event: TariffMeasure.Event

    @property
    def stream_id(self) -> UUID:
        stream_id = self.event.originator_id
        assert isinstance(stream_id, UUID)
        return stream_id


@dataclass(frozen=True)
class DutySpec:
    """What the specification says a duty query must answer."""

    total: Decimal
    applied: dict[UUID, Decimal]
    not_applied: dict[UUID, str]


def read_log(ledger: Ledger, start: int | None = None, limit: int = 1_000_000) -> list[Recorded]:
    """Every measure event in the ledger's log from `start`, as the store recorded it.

    Negotiation events are left out: they never change a duty.
    """
    recorder = ledger.recorder
    assert isinstance(recorder, RecordTimeRecorder)
    notifications = recorder.select_notifications_with_record_time(start=start, limit=limit)
    recorded = []
    for notification in notifications:
        event = ledger.mapper.to_domain_event(notification)
        if isinstance(event, TariffMeasure.Event):
            recorded.append(Recorded(notification.id, notification.recorded_at, event))
    return recorded


# -- a. visibility ------------------------------------------------------------------------


def counting(
    events: Iterable[Recorded], known_at: datetime, recorded_at: datetime
) -> list[Recorded]:
    """The events that count at (known_at, recorded_at), corrections already applied."""
    visible = [
        r
        for r in events
        if r.recorded_at <= recorded_at
        and (isinstance(r.event, Measure.RecordCorrected) or r.event.announced_at <= known_at)
    ]
    retracted = {
        (r.stream_id, r.event.corrected_event_id)
        for r in visible
        if isinstance(r.event, Measure.RecordCorrected)
    }
    return [r for r in visible if (r.stream_id, r.event.event_id) not in retracted]


# -- b. measures and the day a fact occurs ----------------------------------------------


def occurred_on(event: TariffMeasure.Event) -> date:
    """`effective_on`, or the day of the announcement when the effective day is unknown."""
    if event.effective_on is not None:
        return event.effective_on
    return event.announced_at.date()


@dataclass(frozen=True)
class History:
    """The counting events of one measure whose Imposed event counts."""

    imposed: TariffMeasure.Imposed
    events: list[Recorded]

    def of_type(self, cls: type[TariffMeasure.Event], on: date | None) -> list[Recorded]:
        """Events of type `cls`, only those occurring on or before `on` unless it is None."""
        return [
            r
            for r in self.events
            if isinstance(r.event, cls) and (on is None or occurred_on(r.event) <= on)
        ]


def measures(
    events: Iterable[Recorded], known_at: datetime, recorded_at: datetime
) -> dict[UUID, History]:
    """Every measure that exists at (known_at, recorded_at), with its counting events."""
    by_stream: dict[UUID, list[Recorded]] = {}
    for r in counting(events, known_at, recorded_at):
        by_stream.setdefault(r.stream_id, []).append(r)
    histories = {}
    for stream_id, stream in by_stream.items():
        imposed = [r.event for r in stream if isinstance(r.event, Measure.Imposed)]
        if imposed:
            histories[stream_id] = History(imposed[0], stream)
    return histories


def _latest(records: Sequence[Recorded]) -> Recorded | None:
    return max(records, key=lambda r: (occurred_on(r.event), r.position), default=None)


# -- d. status checks that do not depend on the product -----------------------------------


def status(history: History, on: date) -> str:
    """not_yet_effective, terminated, collection_stopped or in_force, checked in that order."""
    if occurred_on(history.imposed) > on:
        return "not_yet_effective"
    if history.of_type(Measure.Terminated, on):
        return "terminated"
    legal = _latest(history.of_type(Measure.LegalStatusChanged, on))
    if legal is not None:
        assert isinstance(legal.event, Measure.LegalStatusChanged)
        if legal.event.collection_stops:
            return "collection_stopped"
    return "in_force"


# -- e. facts per HS prefix key -------------------------------------------------------------


@dataclass(frozen=True)
class KeyFact:
    """One statement an event makes about one HS prefix key."""

    key: str
    value: str | Decimal
    """coverage: covered / not_covered; exclusion: excluded / revoked; rate: a Decimal."""
    occurred_on: date
    position: int


def key_facts(history: History, on: date, kind: str) -> list[KeyFact]:
    """The `kind` facts (coverage, exclusion, rate) of a measure, occurring by `on`."""
    facts: list[KeyFact] = []

    def add(keys: Iterable[str], value: str | Decimal, r: Recorded) -> None:
        facts.extend(KeyFact(k, value, occurred_on(r.event), r.position) for k in keys)

    for r in history.events:
        e = r.event
        if occurred_on(e) > on:
            continue
        if kind == "coverage":
            if isinstance(e, Measure.Imposed):
                add(e.hs_prefixes, "covered", r)
                add(e.rate_by_prefix, "covered", r)
            elif isinstance(e, Measure.ScopeChanged):
                add(e.added_hs_prefixes, "covered", r)
                add(e.removed_hs_prefixes, "not_covered", r)
        elif kind == "exclusion":
            if isinstance(e, Measure.Imposed):
                add(e.excluded_hs_prefixes, "excluded", r)
            elif isinstance(e, Measure.ExclusionGranted):
                add(e.hs_prefixes, "excluded", r)
            elif isinstance(e, Measure.ExclusionRevoked):
                add(e.hs_prefixes, "revoked", r)
        elif kind == "rate":
            if isinstance(e, Measure.Imposed):
                if e.rate_pct is not None:
                    add([ALL_PRODUCTS], e.rate_pct, r)
                for key, rate in e.rate_by_prefix.items():
                    add([key], rate, r)
            elif isinstance(e, Measure.RateChanged):
                add(e.hs_prefixes or [ALL_PRODUCTS], e.rate_pct, r)
        else:
            raise ValueError(kind)
    return facts


def candidate_keys(digits: str) -> list[str]:
    """The keys that can match a product, longest first: d[:n] down to 2 digits, then ""."""
    return [digits[:n] for n in range(len(digits), 1, -1)] + [ALL_PRODUCTS]


def decisive(facts: Sequence[KeyFact], digits: str) -> KeyFact | None:
    """The latest fact of the longest candidate key that has any fact at all."""
    for key in candidate_keys(digits):
        on_key = [f for f in facts if f.key == key]
        if on_key:
            return max(on_key, key=lambda f: (f.occurred_on, f.position))
    return None


# -- f. suspensions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Suspension:
    points: Decimal | None
    starts_on: date
    ends_on: date


def active_suspensions(history: History, on: date) -> list[Suspension]:
    """Suspensions in effect on `on`: started by then, and `on` before their (extended) end."""
    active = []
    for r in history.of_type(Measure.SuspensionGranted, on):
        granted = r.event
        assert isinstance(granted, Measure.SuspensionGranted)
        extensions = [
            x
            for x in history.of_type(Measure.SuspensionExtended, None)
            if isinstance(x.event, Measure.SuspensionExtended)
            and x.event.suspension_event_id == granted.event_id
        ]
        ends_on = granted.ends_on
        if extensions:
            last = max(extensions, key=lambda x: (x.event.announced_at, x.position))
            assert isinstance(last.event, Measure.SuspensionExtended)
            ends_on = last.event.ends_on
        starts_on = occurred_on(granted)
        if starts_on <= on < ends_on:
            active.append(Suspension(granted.points, starts_on, ends_on))
    return active


def after_suspensions(rate: Decimal, suspensions: Sequence[Suspension]) -> Decimal:
    """The rate charged once the suspended points are removed (never below zero)."""
    suspended = sum((rate if s.points is None else s.points for s in suspensions), Decimal(0))
    return max(rate - suspended, Decimal(0))


# -- d, e, f for one measure and one product -----------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A measure's answer before displacement: a charged rate, or a reason it charged nothing."""

    rate: Decimal | None
    reason: str | None
    qualifies: bool
    """Got past every check up to suspension, or was fully suspended: may displace others."""


def evaluate(history: History, origin: str, digits: str, on: date) -> Outcome:
    """Checks d. in order; the first one failing gives the reason."""
    if origin in history.imposed.excluded_targets:
        return Outcome(None, "origin_excluded", qualifies=False)
    state = status(history, on)
    if state != "in_force":
        return Outcome(None, state, qualifies=False)
    coverage = decisive(key_facts(history, on, "coverage"), digits)
    if coverage is None or coverage.value != "covered":
        return Outcome(None, "out_of_scope", qualifies=False)
    exclusion = decisive(key_facts(history, on, "exclusion"), digits)
    if (
        exclusion is not None
        and exclusion.value == "excluded"
        and len(exclusion.key) >= len(coverage.key)
    ):
        return Outcome(None, "excluded", qualifies=False)
    rate = decisive(key_facts(history, on, "rate"), digits)
    if rate is None:
        return Outcome(None, "no_rate", qualifies=False)
    assert isinstance(rate.value, Decimal)
    suspensions = active_suspensions(history, on)
    charged = after_suspensions(rate.value, suspensions)
    if suspensions and charged == 0:
        return Outcome(None, "suspended", qualifies=True)
    return Outcome(charged, None, qualifies=True)


# -- the two queries ---------------------------------------------------------------------------


def targets_origin(imposed: TariffMeasure.Imposed, origin: str) -> bool:
    return origin in imposed.targets or ALL_ORIGINS in imposed.targets


def names(stream_id: UUID, imposed: TariffMeasure.Imposed) -> set[str]:
    """Every way a precedence rule may name a measure: hex id, canonical id, key."""
    return {stream_id.hex, str(stream_id), imposed.key}


def spec_duty(
    events: Iterable[Recorded],
    importer: str,
    origin: str,
    hs_digits: str,
    on: date,
    known_at: datetime,
    recorded_at: datetime,
) -> DutySpec:
    """The duty `importer` charges on `hs_digits` from `origin`, by rules a. to h."""
    histories = {
        stream_id: history
        for stream_id, history in measures(events, known_at, recorded_at).items()
        if history.imposed.imposer == importer and targets_origin(history.imposed, origin)
    }
    outcomes = {sid: evaluate(h, origin, hs_digits, on) for sid, h in histories.items()}

    # g. Displacement is decided on the outcomes before any displacement.
    keys = set(candidate_keys(hs_digits))
    displaced: set[UUID] = set()
    for sid, outcome in outcomes.items():
        if not outcome.qualifies:
            continue
        for r in histories[sid].of_type(Measure.PrecedenceDeclared, on):
            rule = r.event
            assert isinstance(rule, Measure.PrecedenceDeclared)
            if rule.hs_prefixes and not keys.intersection(rule.hs_prefixes):
                continue
            for other, other_outcome in outcomes.items():
                if other == sid or other_outcome.rate is None:
                    continue
                imposed = histories[other].imposed
                if names(other, imposed).intersection(rule.displaces_measure_ids) or (
                    imposed.layer in rule.displaces_layers
                ):
                    displaced.add(other)

    applied: dict[UUID, Decimal] = {}
    not_applied: dict[UUID, str] = {}
    for sid, outcome in outcomes.items():
        if sid in displaced:
            not_applied[sid] = "displaced"
        elif outcome.rate is not None:
            applied[sid] = outcome.rate
        else:
            assert outcome.reason is not None
            not_applied[sid] = outcome.reason
    return DutySpec(sum(applied.values(), Decimal(0)), applied, not_applied)


def spec_measure_rate(
    events: Iterable[Recorded],
    measure_id: UUID,
    on: date,
    known_at: datetime,
    recorded_at: datetime,
) -> tuple[str, Decimal | None] | None:
    """(status, general rate after suspensions) of a measure; None when it does not exist.

    No product is involved: the status checks are d.'s without scope, and the rate is the
    latest fact on the key "" (None when the measure has no general rate).
    """
    history = measures(events, known_at, recorded_at).get(measure_id)
    if history is None:
        return None
    general = [f for f in key_facts(history, on, "rate") if f.key == ALL_PRODUCTS]
    latest = max(general, key=lambda f: (f.occurred_on, f.position), default=None)
    if latest is None:
        return status(history, on), None
    assert isinstance(latest.value, Decimal)
    return status(history, on), after_suspensions(latest.value, active_suspensions(history, on))
