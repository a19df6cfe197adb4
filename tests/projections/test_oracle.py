"""The oracle test: the read side answers exactly what the naive specification computes.

Hypothesis generates random histories of a few tariff measures of one importer (US,
or on PostgreSQL a fresh country per example; see conftest.py) and plays them
through the real Ledger (so every command passes the domain's guards; commands the
domain refuses are dropped, as a client's would be). The histories are built to make
the hard cases common: HS prefixes from a tiny alphabet so that keys nest and collide,
business dates from a handful of days so that facts tie on `occurred_on` and the log
position decides, effective dates before announcements (retroactive) or unknown,
commands appended in an order unrelated to their business dates, two changes saved in
one transaction (one record time), corrections of earlier records.

Then, for 4-10 query points per history, on all three time axes, it asks
`Queries.duty_on` and `Queries.measure_state`, and compares with `tests.projections.spec`,
which folds the raw stored events (with their positions and store-stamped record
times) by the rules alone. Query instants are drawn on and right around the values
that matter: the record times of the events, the announcement instants, the
effective days, plus or minus a microsecond or a day.

Examples are plain data (`Scenario`): a failure prints one that can be pasted into a
regression test (`WORKED_EXAMPLES` at the end shows the shape). Two properties share
the machinery: one over all kinds of history, one over "crowded" histories where
several measures meet on one product, so that precedence, stacking and suspensions
interact in most examples rather than in a few percent.

Environment: TRADELEDGER_ORACLE_EXAMPLES (default 200) sets the number of examples;
TRADELEDGER_ORACLE_RANDOM=1 explores new random examples instead of the fixed ones.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from domain.commands import Change, ImposeMeasure, MeasureTerms, OpenNegotiation, change_type
from domain.errors import DomainError, StreamNotFound
from domain.events import Facts
from domain.ledger import MEASURE
from domain.values import Provenance, Reliability, Source
from projections.timepoint import TimePoint
from tests.projections.conftest import FOREIGN_IMPOSER, ORIGINS, Backend, World
from tests.projections.spec import DutySpec, Recorded, spec_duty, spec_measure_rate

# -- the vocabulary histories are drawn from ------------------------------------------------

DAYS = (
    date(2025, 1, 20),
    date(2025, 3, 4),
    date(2025, 4, 5),
    date(2025, 4, 9),
    date(2025, 5, 14),
    date(2025, 8, 12),
    date(2025, 11, 10),
)
"""Few business days, so that facts often occur on the same day."""

QUERY_DAYS = tuple(sorted({d + timedelta(days=n) for d in DAYS for n in (-1, 0, 1)}))
TIMES = (time(0, 0), time(13, 30), time(23, 59, 59, 999999))
PREFIXES = ("85", "8517", "851713", "95", "9503", "")
"""HS keys that nest ("85" < "8517" < "851713"), plus every product ("")."""

HS_CODES = (
    "8517130000",
    "8517.13.0000",
    "8517120000",
    "85044000",
    "9503000090",
    "9503.00.0090",
    "95030000",
    "9504500000",
    "0101210000",
)
"""Products under the keys above, at 8 and 10 digits, some written with dots."""
LAYERS = ("fentanyl", "reciprocal", "s232", "s301")
RATES = tuple(Decimal(r) for r in ("0", "10", "20", "24", "34", "125"))
POINTS = (None, Decimal("10"), Decimal("24"), Decimal("34"))
TARGETS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("CN",), ()),
    (("CN", "HK"), ()),
    (("MX",), ()),
    (("DE", "MX"), ()),
    (("*",), ()),
    (("*",), ("CN",)),
    (("*",), ("MX", "DE")),
)
"""(targets, excluded_targets); origins are excluded only from "every origin"."""

PROVENANCE = Provenance(
    (Source("https://example.org/oracle", "oracle test", Reliability.OFFICIAL),), "oracle"
)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


# -- scenarios: plain data, so that a failing example can be pasted back -------------------


@dataclass(frozen=True)
class When:
    """The business dates of an event: effective day (None: unknown) and announcement."""

    effective_on: date | None
    announced_on: date
    announced_time: time = time(0, 0)

    @property
    def announced_at(self) -> datetime:
        return datetime.combine(self.announced_on, self.announced_time, tzinfo=UTC)

    @property
    def occurred_on(self) -> date:
        return self.effective_on or self.announced_on


@dataclass(frozen=True)
class MeasureRef:
    """A measure of the scenario named in a precedence rule, as hex, str(uuid) or key."""

    measure: int
    form: str = "hex"


@dataclass(frozen=True)
class EventRef:
    """The `index`-th (modulo) earlier event of the measure that may be referred to."""

    index: int


@dataclass(frozen=True)
class Impose:
    measure: int
    when: When
    layer: str = "reciprocal"
    targets: tuple[str, ...] = ("CN",)
    excluded_targets: tuple[str, ...] = ()
    rate_pct: Decimal | None = Decimal("10")
    rate_by_prefix: tuple[tuple[str, Decimal], ...] = ()
    hs_prefixes: tuple[str, ...] = ("",)
    excluded_hs_prefixes: tuple[str, ...] = ()
    foreign: bool = False
    """Imposed by FOREIGN_IMPOSER instead of the importer queried."""


@dataclass(frozen=True)
class OpenTalks:
    """A negotiation opened by the importer: another kind of stream interleaved in the
    log, which no duty answer may notice (positions are shared by every stream)."""

    when: When


@dataclass(frozen=True)
class Step:
    """One change; `fields` may hold EventRef / MeasureRef resolved when it is applied.

    For suspension_granted, ``days`` gives ends_on relative to the start; for
    suspension_extended, relative to the start of the suspension extended.
    """

    event_type: str
    when: When
    fields: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Batch:
    """Changes to one measure saved in one transaction (they share a record time)."""

    measure: int
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class QueryPoint:
    """A query on all three axes, drawn relative to the history's own instants.

    `recorded`: None means after everything; otherwise the index (modulo) of a distinct
    record time of the history, shifted by `recorded_shift` microseconds.
    `known_on`: None means the far future; otherwise an announcement instant shifted by
    `known_shift` microseconds, or with `known_as_date` the date itself (the end of it).
    `on_day`: when given, `on` is instead the index (modulo) of a day the history names
    (effective, announced, suspension end), shifted by `on_shift` days: boundaries.
    """

    on: date
    origin: str
    hs: str
    known_on: date | None = None
    known_time: time = time(0, 0)
    known_shift: int = 0
    known_as_date: bool = False
    recorded: int | None = None
    recorded_shift: int = 0
    measure: int = 0
    on_day: int | None = None
    on_shift: int = 0


@dataclass(frozen=True)
class Scenario:
    commands: tuple[Impose | Batch | OpenTalks, ...]
    queries: tuple[QueryPoint, ...]


# -- strategies ----------------------------------------------------------------------------------


def subsets(
    values: Sequence[str], min_size: int = 0, max_size: int = 2
) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(values), min_size=min_size, max_size=max_size, unique=True).map(
        tuple
    )


whens = st.builds(
    When,
    effective_on=st.none() | st.sampled_from(DAYS),
    announced_on=st.sampled_from(DAYS),
    announced_time=st.sampled_from(TIMES),
)
early_whens = st.builds(
    When,
    effective_on=st.none() | st.sampled_from(DAYS[:3]),
    announced_on=st.sampled_from(DAYS[:4]),
    announced_time=st.sampled_from(TIMES),
)
rates = st.sampled_from(RATES)


@st.composite
def imposes(draw: st.DrawFn, measure: int, crowded: bool) -> Impose:
    """A measure, usually effective early in the year so that later days see it in force.

    `crowded`: on China, on every product, early, with a general rate, so that
    measures meet in one answer (precedence, stacking) far more often.
    """
    if crowded:
        return Impose(
            measure=measure,
            when=draw(early_whens),
            layer=draw(st.sampled_from(LAYERS)),
            targets=draw(st.sampled_from([("CN",), ("*",), ("CN", "HK")])),
            rate_pct=draw(rates),
        )
    targets, excluded = draw(st.sampled_from(TARGETS[:2] + TARGETS) | st.just(TARGETS[4]))
    rate_by_prefix = draw(
        st.dictionaries(st.sampled_from(PREFIXES), rates, max_size=2).map(
            lambda d: tuple(sorted(d.items()))
        )
    )
    # rate_pct is the rate of key "": never both it and rate_by_prefix[""] in one event.
    rate_pct = None
    if not rate_by_prefix or ("" not in dict(rate_by_prefix) and draw(st.booleans())):
        rate_pct = draw(rates)
    return Impose(
        measure=measure,
        when=draw(early_whens | whens),
        layer=draw(st.sampled_from(LAYERS)),
        targets=targets,
        excluded_targets=excluded,
        rate_pct=rate_pct,
        rate_by_prefix=rate_by_prefix,
        hs_prefixes=draw(
            st.sampled_from([("",), ("",), ("",), ("85",), ("8517", "95"), ("9503",), ()])
        ),
        excluded_hs_prefixes=draw(st.just(()) | subsets(PREFIXES[:-1], max_size=1)),
        foreign=draw(st.sampled_from([False, False, False, True])),
    )


@st.composite
def scope_fields(draw: st.DrawFn) -> tuple[tuple[str, Any], ...]:
    added = draw(subsets(PREFIXES))
    removed = draw(subsets([p for p in PREFIXES if p not in added]))
    if not added and not removed:
        added = ("9503",)
    return (("added_hs_prefixes", added), ("removed_hs_prefixes", removed))


measure_refs = st.builds(
    MeasureRef, measure=st.integers(0, 3), form=st.sampled_from(["hex", "str", "key"])
)


def _step(event_type: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Step]:
    return st.builds(
        Step,
        event_type=st.just(event_type),
        when=whens,
        fields=st.fixed_dictionaries(fields).map(lambda d: tuple(d.items())),
    )


rate_changes = _step("rate_changed", rate_pct=rates, hs_prefixes=subsets(PREFIXES))
suspensions = _step(
    "suspension_granted", points=st.sampled_from(POINTS), days=st.sampled_from([1, 5, 40, 90])
)
layer_precedences = _step(
    "precedence_declared",
    displaces_measure_ids=st.just(()),
    displaces_layers=subsets(LAYERS, min_size=1, max_size=2),
    hs_prefixes=st.just(()) | subsets(PREFIXES, max_size=1),
)
precedences = _step(
    "precedence_declared",
    # One of the two may be empty, not both (the domain refuses a rule naming nothing).
    displaces_measure_ids=st.lists(measure_refs, min_size=1, max_size=2).map(tuple),
    displaces_layers=subsets(LAYERS, max_size=1),
    hs_prefixes=st.just(()) | subsets(PREFIXES, max_size=1),
)
extensions = _step(
    "suspension_extended",
    suspension_event_id=st.builds(EventRef, st.integers(0, 3)),
    days=st.sampled_from([1, 10, 60, 120]),
)
steps = st.one_of(
    # Repeated to make the rarer outcomes (suspended, displaced) common enough.
    rate_changes,
    rate_changes,
    st.builds(Step, event_type=st.just("scope_changed"), when=whens, fields=scope_fields()),
    _step("exclusion_granted", hs_prefixes=subsets(PREFIXES, min_size=1)),
    _step("exclusion_revoked", hs_prefixes=subsets(PREFIXES, min_size=1)),
    suspensions,
    suspensions,
    extensions,
    _step("terminated"),
    precedences,
    precedences,
    layer_precedences,
    _step(
        "legal_status_changed",
        status=st.sampled_from(["ruled_unlawful", "upheld"]),
        collection_stops=st.booleans(),
    ),
    _step(
        "record_corrected",
        corrected_event_id=st.builds(EventRef, st.integers(0, 7)),
        reason=st.just("typo"),
    ),
)


query_points = st.builds(
    QueryPoint,
    on=st.sampled_from(QUERY_DAYS[len(QUERY_DAYS) // 2 :]) | st.sampled_from(QUERY_DAYS),
    origin=st.just("CN") | st.sampled_from(ORIGINS),
    hs=st.sampled_from(HS_CODES),
    # Mostly everything known and recorded, so that many facts combine in one answer.
    known_on=st.one_of(st.none(), st.none(), st.sampled_from(DAYS)),
    known_time=st.sampled_from(TIMES),
    known_shift=st.sampled_from([-1, 0, 1]),
    known_as_date=st.booleans(),
    recorded=st.one_of(st.none(), st.none(), st.integers(0, 30)),
    recorded_shift=st.sampled_from([-1, 0, 1]),
    measure=st.integers(0, 3),
    on_day=st.none() | st.integers(0, 40),
    on_shift=st.sampled_from([-1, 0, 0, 1]),
)


crowded_steps = st.one_of(
    precedences,
    layer_precedences,
    _step(
        "precedence_declared",
        displaces_measure_ids=st.lists(measure_refs, min_size=1, max_size=2).map(tuple),
        displaces_layers=st.just(()),
        hs_prefixes=st.just(()),
        # In force from the first day, so that it meets every query.
    ).map(lambda step: replace(step, when=When(None, DAYS[0]))),
    suspensions,
    suspensions,
    extensions,
    extensions,
    rate_changes,
    _step("terminated"),
    _step("exclusion_granted", hs_prefixes=subsets(PREFIXES, min_size=1)),
    _step(
        "record_corrected",
        corrected_event_id=st.builds(EventRef, st.integers(0, 7)),
        reason=st.just("typo"),
    ),
)
crowded_query_points = query_points.map(lambda point: replace(point, origin="CN"))


@st.composite
def scenarios(draw: st.DrawFn, crowded: bool = False) -> Scenario:
    """1-4 measures imposed early in the log, then up to a dozen batches of changes.

    `crowded`: 2-4 measures that all meet on China and every product, changed mostly
    by precedence rules and suspensions: the cross-measure rules get exercised.
    """
    n_measures = draw(st.integers(2, 4) if crowded else st.integers(1, 4))
    batches = draw(
        st.lists(
            st.builds(
                Batch,
                measure=st.integers(0, n_measures - 1),
                steps=st.lists(crowded_steps if crowded else steps, min_size=1, max_size=2).map(
                    tuple
                ),
            ),
            min_size=2,
            max_size=12,
        )
    )
    # An extension is refused unless its measure already has a suspension: follow some
    # suspensions, later in the log, by an extension (maybe more than one, maybe late).
    for index in reversed(range(len(batches))):
        batch = batches[index]
        if any(step.event_type == "suspension_granted" for step in batch.steps) and draw(
            st.booleans()
        ):
            later = draw(st.integers(index + 1, len(batches)))
            batches.insert(later, Batch(batch.measure, (draw(extensions),)))
    commands: list[Impose | Batch | OpenTalks] = list(batches)
    # Usually before its changes in the log (a change to a measure not yet imposed is
    # refused), but not always, and in any order relative to the business dates.
    for measure in range(n_measures):
        impose = draw(imposes(measure, crowded))
        commands.insert(draw(st.integers(0, min(2, len(commands)))), impose)
    if draw(st.booleans()):
        commands.insert(draw(st.integers(0, len(commands))), OpenTalks(draw(whens)))
    queries = draw(
        st.lists(crowded_query_points if crowded else query_points, min_size=4, max_size=10)
    )
    return Scenario(tuple(commands), tuple(queries))


# -- playing a scenario through the real Ledger --------------------------------------------------


@dataclass
class Played:
    """What the store made of a scenario: ids, keys, and the events it recorded."""

    measure_ids: list[UUID]
    keys: list[str]
    accepted_events: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    """Per measure, (event_id, type) of every event recorded, in order."""
    suspension_starts: dict[str, date] = field(default_factory=dict)
    """First day of every suspension granted, by event id (extensions are relative to it)."""
    days: set[date] = field(default_factory=set)
    """Every day the recorded events name: where rules switch on and off."""
    recorded: list[Recorded] = field(default_factory=list)
    refused: int = 0


def play(world: World, scenario: Scenario) -> Played:
    """Send every command to the Ledger in order; count those the domain refuses."""
    n = 1 + max(c.measure for c in scenario.commands if not isinstance(c, OpenTalks))
    played = Played([uuid4() for _ in range(n)], [])
    played.keys = [f"m{i}-{played.measure_ids[i].hex[:8]}" for i in range(n)]
    for number, command in enumerate(scenario.commands):
        try:
            if isinstance(command, Impose):
                _impose(world, played, command, f"e{number}")
            elif isinstance(command, OpenTalks):
                talks_id = uuid4()
                world.ledger.create_stream(
                    OpenNegotiation(
                        negotiation_id=talks_id,
                        key=f"talks-{talks_id.hex}",
                        facts=_facts(command.when, f"e{number}"),
                        title="talks",
                        parties=(world.importer, "CN"),
                        summary="noise in the log",
                    )
                )
            else:
                _change(world, played, command, f"e{number}")
        except DomainError:
            played.refused += 1
    played.recorded = world.refresh()
    for r in played.recorded:
        played.days.update(
            d
            for d in (
                r.event.effective_on,
                r.event.announced_at.date(),
                getattr(r.event, "ends_on", None),
            )
            if d is not None
        )
    return played


def _facts(when: When, event_id: str) -> Facts:
    return Facts(event_id, when.effective_on, when.announced_at, PROVENANCE)


def _impose(world: World, played: Played, command: Impose, event_id: str) -> None:
    measure = command.measure
    terms = MeasureTerms(
        imposer=FOREIGN_IMPOSER if command.foreign else world.importer,
        name=f"measure {measure}",
        targets=command.targets,
        excluded_targets=command.excluded_targets,
        layer=command.layer,
        rate_pct=command.rate_pct,
        rate_by_prefix=dict(command.rate_by_prefix),
        hs_prefixes=command.hs_prefixes,
        excluded_hs_prefixes=command.excluded_hs_prefixes,
    )
    world.ledger.create_stream(
        ImposeMeasure(
            played.measure_ids[measure], played.keys[measure], _facts(command.when, event_id), terms
        )
    )
    played.accepted_events[measure] = [(event_id, "imposed")]


def _change(world: World, played: Played, command: Batch, event_id: str) -> None:
    """Resolve the batch's references against what was recorded, then append it.

    A reference with nothing to name (no such measure yet, no suspension to extend)
    is refused here with the error the Ledger would give.
    """
    earlier = played.accepted_events.get(command.measure)
    if earlier is None:
        raise StreamNotFound(played.measure_ids[command.measure], "measure")
    changes: list[Change] = []
    starts: dict[str, date] = {}
    for index, step in enumerate(command.steps):
        fields = dict(step.fields)
        if step.event_type == "suspension_granted":
            fields["ends_on"] = step.when.occurred_on + timedelta(days=fields.pop("days"))
        elif step.event_type == "suspension_extended":
            granted = [e for e, t in earlier if t == "suspension_granted"]
            if not granted:
                raise StreamNotFound(played.measure_ids[command.measure], "suspension")
            suspension = granted[fields["suspension_event_id"].index % len(granted)]
            fields["suspension_event_id"] = suspension
            start = played.suspension_starts[suspension]
            fields["ends_on"] = start + timedelta(days=fields.pop("days"))
        elif step.event_type == "record_corrected":
            correctable = [e for e, t in earlier if t != "record_corrected"]
            fields["corrected_event_id"] = correctable[
                fields["corrected_event_id"].index % len(correctable)
            ]
        elif step.event_type == "precedence_declared":
            fields["displaces_measure_ids"] = tuple(
                _name(played, ref) for ref in fields["displaces_measure_ids"]
            )
        step_id = f"{event_id}.{index}"
        if step.event_type == "suspension_granted":
            starts[step_id] = step.when.occurred_on
        changes.append(change_type(MEASURE, step.event_type)(_facts(step.when, step_id), **fields))
    world.ledger.append_to_stream(played.measure_ids[command.measure], changes)
    earlier.extend((c.facts.event_id, c.event_type) for c in changes)
    played.suspension_starts.update(starts)


def _name(played: Played, ref: MeasureRef) -> str:
    measure = ref.measure % len(played.measure_ids)
    measure_id = played.measure_ids[measure]
    if ref.form == "key":
        return played.keys[measure]
    return str(measure_id) if ref.form == "str" else measure_id.hex


def tally(label: str) -> None:
    """Count an outcome in Hypothesis' statistics (--hypothesis-show-statistics): how
    often each reason occurs tells whether the generator reaches the hard cases."""
    if currently_in_test_context():
        event(label)


# -- asking, and comparing with the specification -----------------------------------------------


@dataclass(frozen=True)
class Instants:
    """A query point resolved against what the store recorded.

    `known_at` is the instant the specification uses; `known_as_given` is what the
    query is given (the same instant, or a date meaning the end of that day).
    """

    on: date
    known_at: datetime
    recorded_at: datetime
    known_as_given: datetime | date


def resolve(point: QueryPoint, played: Played) -> Instants:
    """Turn a QueryPoint's relative instants into the instants to query at."""
    known_at = FAR_FUTURE
    known_as_given: datetime | date = known_at
    if point.known_on is not None and point.known_as_date:
        known_as_given = point.known_on
        known_at = datetime.combine(point.known_on + timedelta(days=1), time(0), tzinfo=UTC)
        known_at -= MICROSECOND
    elif point.known_on is not None:
        known_at = datetime.combine(point.known_on, point.known_time, tzinfo=UTC)
        known_at += point.known_shift * MICROSECOND
        known_as_given = known_at
    record_times = sorted({r.recorded_at for r in played.recorded})
    if not record_times:
        recorded_at = datetime.now(UTC)
    elif point.recorded is None:
        recorded_at = record_times[-1] + timedelta(seconds=1)
    else:
        recorded_at = record_times[point.recorded % len(record_times)]
        recorded_at += point.recorded_shift * MICROSECOND
    on = point.on
    if point.on_day is not None and played.days:
        days = sorted(played.days)
        on = days[point.on_day % len(days)] + timedelta(days=point.on_shift)
    return Instants(on, known_at, recorded_at, known_as_given)


def check(world: World, scenario: Scenario) -> None:
    """Play `scenario`, then assert every query of it agrees with the specification."""
    played = play(world, scenario)
    tally(f"events recorded: {len(played.recorded) // 5 * 5}+")
    tally(f"commands refused: {played.refused}")
    for point in scenario.queries:
        at = resolve(point, played)
        check_duty(world, point, at)
        check_measure_state(world, played.measure_ids[point.measure % len(played.measure_ids)], at)


def check_duty(world: World, point: QueryPoint, at: Instants) -> None:
    answer = world.queries.duty_on(
        world.importer,
        point.origin,
        point.hs,
        at=TimePoint(on=at.on, known_at=at.known_as_given, recorded_at=at.recorded_at),
    )
    actual = DutySpec(
        answer.total_additional_pct,
        {a.measure_id: a.rate_pct for a in answer.applied},
        {s.measure_id: str(s.reason.value) for s in answer.not_applied},
    )
    expected = spec_duty(
        world.events_of_imposer(world.importer),
        world.importer,
        point.origin,
        point.hs.replace(".", ""),
        at.on,
        at.known_at,
        at.recorded_at,
    )
    for reason in sorted(set(expected.not_applied.values())):
        tally(f"reason: {reason}")
    tally(f"applied: {len(expected.applied)}")
    if len(expected.applied) + len(expected.not_applied) > 1:
        tally("several measures in the answer")
    assert actual == expected, f"duty_on at {at}: expected {expected}, got {actual}"


def check_measure_state(world: World, measure_id: UUID, at: Instants) -> None:
    """Status and charged rate; a measure not in force charges nothing (None)."""
    try:
        state = world.queries.measure_state(
            measure_id,
            at=TimePoint(on=at.on, known_at=at.known_as_given, recorded_at=at.recorded_at),
        )
    except StreamNotFound:
        actual = None
    else:
        actual = (state.status, state.charged_rate_pct)
    spec = spec_measure_rate(
        world.events_of_stream(measure_id), measure_id, at.on, at.known_at, at.recorded_at
    )
    expected = None
    if spec is not None:
        status, rate = spec
        expected = (status, rate if status == "in_force" else None)
    assert actual == expected, (
        f"measure_state({measure_id}) at {at}: expected {expected}, got {actual}"
    )


# -- the tests -----------------------------------------------------------------------------------

EXAMPLES = int(os.environ.get("TRADELEDGER_ORACLE_EXAMPLES", "200"))
"""Examples of the main test per backend; the crowded test runs half as many."""

RANDOM = os.environ.get("TRADELEDGER_ORACLE_RANDOM", "") == "1"
"""1: explore with fresh random examples; otherwise the same examples on every run (CI)."""


def oracle_settings(max_examples: int) -> settings:
    """Reproducible by default; no example database, so that no run depends on another."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@oracle_settings(EXAMPLES)
@given(scenario=scenarios())
def test_queries_agree_with_the_specification(oracle_backend: Backend, scenario: Scenario) -> None:
    with oracle_backend.world() as world:
        check(world, scenario)


@oracle_settings(EXAMPLES // 2)
@given(scenario=scenarios(crowded=True))
def test_queries_agree_with_the_specification_when_measures_meet(
    oracle_backend: Backend, scenario: Scenario
) -> None:
    with oracle_backend.world() as world:
        check(world, scenario)


# -- the specification itself against DOMAIN.md -------------------------------------------------


def _on(day: str) -> When:
    return When(None, date.fromisoformat(day))


def _from(effective: str, announced: str) -> When:
    return When(date.fromisoformat(effective), date.fromisoformat(announced))


WORKED_EXAMPLES = Scenario(
    commands=(
        # US fentanyl tariff on China: 10% from 02-04, 20% from 03-04.
        Impose(0, _from("2025-02-04", "2025-02-01"), "ieepa_fentanyl", rate_pct=Decimal(10)),
        Batch(
            0,
            (
                Step(
                    "rate_changed",
                    _on("2025-03-04"),
                    (("rate_pct", Decimal(20)), ("hs_prefixes", ())),
                ),
            ),
        ),
        # US reciprocal tariff on China: 34%, then 84% the same day, then 125%.
        Impose(1, _from("2025-04-09", "2025-04-02"), "ieepa_reciprocal", rate_pct=Decimal(34)),
        Batch(
            1,
            (
                Step(
                    "rate_changed",
                    _from("2025-04-09", "2025-04-08"),
                    (("rate_pct", Decimal(84)), ("hs_prefixes", ())),
                ),
            ),
        ),
        Batch(
            1,
            (
                Step(
                    "rate_changed",
                    _from("2025-04-10", "2025-04-09"),
                    (("rate_pct", Decimal(125)), ("hs_prefixes", ())),
                ),
            ),
        ),
        # Smartphones excluded, announced 04-11, retroactive to 04-05.
        Batch(
            1,
            (
                Step(
                    "exclusion_granted",
                    _from("2025-04-05", "2025-04-11"),
                    (("hs_prefixes", ("851713",)),),
                ),
            ),
        ),
        # Geneva: back to 34%, 24 points suspended for 90 days.
        Batch(
            1,
            (
                Step(
                    "rate_changed",
                    _from("2025-05-14", "2025-05-12"),
                    (("rate_pct", Decimal(34)), ("hs_prefixes", ())),
                ),
                Step(
                    "suspension_granted",
                    _from("2025-05-14", "2025-05-12"),
                    (("points", Decimal(24)), ("days", 90)),
                ),
            ),
        ),
    ),
    queries=(),
)
"""DOMAIN.md's US-on-China history, as a scenario of the oracle test."""


@pytest.mark.parametrize(
    ("hs", "on", "known_on", "total"),
    [
        ("9503.00.0090", "2025-04-15", None, 145),
        ("9503.00.0090", "2025-05-20", None, 30),
        ("8517.13.0000", "2025-04-15", None, 20),
        ("8517.13.0000", "2025-04-10", "2025-04-10", 145),
        ("8517.13.0000", "2025-04-10", "2025-04-12", 20),
    ],
)
def test_the_specification_gives_the_worked_examples_of_domain_md(
    oracle_backend: Backend, hs: str, on: str, known_on: str | None, total: int
) -> None:
    """The specification is only an oracle if it encodes DOMAIN.md: check its public
    worked examples (and that the read side gives them too)."""
    with oracle_backend.world() as world:
        played = play(world, WORKED_EXAMPLES)
        point = QueryPoint(
            date.fromisoformat(on),
            "CN",
            hs,
            known_on=date.fromisoformat(known_on) if known_on else None,
            known_as_date=True,
        )
        at = resolve(point, played)

        expected = spec_duty(
            world.events_of_imposer(world.importer),
            world.importer,
            "CN",
            hs.replace(".", ""),
            at.on,
            at.known_at,
            at.recorded_at,
        )

        assert played.refused == 0
        assert expected.total == total
        check_duty(world, point, at)
