"""The Ledger application: its commands, on every backend (the `ledger` fixture).

The store is real on every run (in-memory, SQLite file, PostgreSQL database); whether
something was written is checked through the recorder's own notification log, and what
a stream holds by reading its events back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.commands import (
    Change,
    ImposeMeasure,
    MeasureTerms,
    OpenNegotiation,
    RecordedEvent,
    Written,
    change_type,
)
from domain.errors import (
    DomainError,
    DuplicateEventId,
    InvalidMeasureChange,
    InvalidTransition,
    InvalidValue,
    StreamAlreadyExists,
    StreamNotFound,
    UnknownEventReference,
    VersionConflict,
    WrongStreamKind,
)
from domain.events import Facts
from domain.ledger import MEASURE, NEGOTIATION, Ledger, stream_id_for_key
from domain.measure import TariffMeasure
from domain.measure_changes import (
    ChangeRate,
    ExtendSuspension,
    GrantExclusion,
    GrantSuspension,
    MeasureChange,
)
from domain.negotiation import Negotiation
from domain.negotiation_state import Status
from domain.negotiation_steps import HoldRound, NegotiationStep
from domain.values import Provenance, Reliability, Source
from tests.conftest import durable

FEDERAL_REGISTER = Source(
    "https://www.federalregister.gov/documents/2025/04/07/2025-06063",
    "Federal Register",
    Reliability.OFFICIAL,
)
PROVENANCE = Provenance((FEDERAL_REGISTER,), recorded_by="analyst@tradeledger")

RECIPROCAL = MeasureTerms(
    imposer="US",
    name="Reciprocal tariff on China (EO 14257)",
    targets=("CN",),
    layer="ieepa_reciprocal",
    instruments=("EO 14257",),
    rate_pct=Decimal("34"),
)


def facts(event_id: str, effective_on: date, announced_on: date | None = None) -> Facts:
    return Facts(
        event_id=event_id,
        effective_on=effective_on,
        announced_at=datetime.combine(announced_on or effective_on, time.min, tzinfo=UTC),
        provenance=PROVENANCE,
    )


def imposing_reciprocal(measure_id: UUID) -> ImposeMeasure:
    return ImposeMeasure(
        measure_id=measure_id,
        key="us-cn-reciprocal",
        facts=facts("US-CN-RECIP-34", date(2025, 4, 9), announced_on=date(2025, 4, 2)),
        terms=RECIPROCAL,
    )


def opening_us_china(negotiation_id: UUID) -> OpenNegotiation:
    return OpenNegotiation(
        negotiation_id=negotiation_id,
        key="us-cn-2025",
        facts=facts("US-CN-OPEN", date(2025, 4, 24)),
        title="US-China economic and trade talks",
        parties=("US", "CN"),
        summary="Talks after the April 2025 escalation",
    )


def impose_reciprocal(ledger: Ledger, measure_id: UUID | None = None) -> UUID:
    return ledger.create_stream(imposing_reciprocal(measure_id or uuid4())).stream_id


def open_us_china(ledger: Ledger, negotiation_id: UUID | None = None) -> UUID:
    return ledger.create_stream(opening_us_china(negotiation_id or uuid4())).stream_id


def rate_change(event_id: str, rate_pct: str, on: date = date(2025, 4, 10)) -> MeasureChange:
    return ChangeRate(facts(event_id, on), rate_pct=Decimal(rate_pct), hs_prefixes=())


def step(event_type: str, event_id: str, on: date, **fields: Any) -> Change:
    """A negotiation step named by its public type, its summary by default the type."""
    fields.setdefault("summary", event_type.replace("_", " "))
    return change_type(NEGOTIATION, event_type)(facts(event_id, on), **fields)


def geneva_round(event_id: str = "GENEVA-ROUND", on: date = date(2025, 5, 10)) -> NegotiationStep:
    return HoldRound(facts(event_id, on), summary="round held", location="Geneva", round_number=1)


def last_notification_id(ledger: Ledger) -> int:
    """The id of the last thing the store recorded, 0 when it is empty."""
    return ledger.recorder.max_notification_id() or 0


def event_ids(ledger: Ledger, stream_id: UUID) -> list[str]:
    """The ids of the events the store holds for a stream, in order (none: no stream)."""
    return [str(getattr(e, "event_id", "")) for e in ledger.events.get(stream_id)]


# -- create, append, read back --------------------------------------------------------


def test_a_measure_is_imposed_changed_and_read_back(ledger: Ledger) -> None:
    measure_id = uuid4()

    created = ledger.create_stream(imposing_reciprocal(measure_id))
    changed = ledger.append_to_stream(
        measure_id,
        [
            rate_change("US-CN-RECIP-125", "125", date(2025, 4, 10)),
            GrantExclusion(
                facts("US-CN-ELECTRONICS", date(2025, 4, 5), announced_on=date(2025, 4, 11)),
                hs_prefixes=("851713", "847130"),
            ),
            GrantSuspension(
                facts("US-CN-GENEVA-SUSP", date(2025, 5, 14), announced_on=date(2025, 5, 12)),
                points=Decimal("24"),
                ends_on=date(2025, 8, 12),
            ),
        ],
    )

    assert (created.version, changed.version) == (1, 4)
    measure: object = ledger.repository.get(measure_id)
    assert isinstance(measure, TariffMeasure)
    assert measure.version == 4
    assert (measure.key, measure.imposer, measure.targets, measure.layer) == (
        "us-cn-reciprocal",
        "US",
        ("CN",),
        "ieepa_reciprocal",
    )
    assert measure.event_types == {
        "US-CN-RECIP-34": "imposed",
        "US-CN-RECIP-125": "rate_changed",
        "US-CN-ELECTRONICS": "exclusion_granted",
        "US-CN-GENEVA-SUSP": "suspension_granted",
    }
    assert measure.suspension_starts == {"US-CN-GENEVA-SUSP": date(2025, 5, 14)}


def test_the_events_of_a_measure_read_back_with_their_values(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    ledger.append_to_stream(
        measure_id,
        [
            rate_change("US-CN-RECIP-125", "125.5"),
            GrantExclusion(
                facts("US-CN-ELECTRONICS", date(2025, 4, 5), announced_on=date(2025, 4, 11)),
                hs_prefixes=("851713",),
            ),
        ],
    )

    imposed, changed, excluded = ledger.events.get(measure_id)

    assert isinstance(imposed, TariffMeasure.Imposed)
    assert imposed.rate_pct == Decimal("34")
    assert imposed.provenance == PROVENANCE
    assert imposed.provenance.reliability is Reliability.OFFICIAL
    assert isinstance(changed, TariffMeasure.RateChanged)
    assert changed.rate_pct == Decimal("125.5")
    assert changed.effective_on == date(2025, 4, 10)
    assert changed.announced_at == datetime(2025, 4, 10, tzinfo=UTC)
    assert isinstance(excluded, TariffMeasure.ExclusionGranted)
    assert excluded.effective_on == date(2025, 4, 5)
    assert excluded.announced_at == datetime(2025, 4, 11, tzinfo=UTC)
    # JSON has no tuples: tuple fields come back as lists.
    assert tuple(excluded.hs_prefixes) == ("851713",)


def test_a_negotiation_is_opened_stepped_and_read_back(ledger: Ledger) -> None:
    negotiation_id = uuid4()

    created = ledger.create_stream(opening_us_china(negotiation_id))
    stepped = ledger.append_to_stream(
        negotiation_id,
        [
            step("precondition_stated", "CN-PRE", date(2025, 4, 28), by_party="CN"),
            geneva_round(),
            step(
                "joint_statement_issued",
                "GENEVA-JS",
                date(2025, 5, 12),
                truce_ends_on=date(2025, 8, 12),
            ),
            step(
                "threat_issued",
                "US-CN-THREAT-100",
                date(2025, 10, 10),
                by_party="US",
                threatened_rate_pct=Decimal("100"),
                threatened_from=date(2025, 11, 1),
            ),
        ],
    )

    assert (created.version, stepped.version) == (1, 5)
    negotiation: Negotiation = ledger.repository.get(negotiation_id)
    assert isinstance(negotiation, Negotiation)
    assert negotiation.state_on(date(2025, 5, 1)).status is Status.PRECONDITIONS
    in_truce = negotiation.state_on(date(2025, 5, 15))
    assert in_truce.status is Status.TRUCE
    assert in_truce.truce_ends_on == date(2025, 8, 12)
    assert in_truce.parties == ("US", "CN")
    threatened = negotiation.state_on(date(2025, 10, 15))
    assert threatened.status is Status.ESCALATION_THREATENED
    assert [s.event_id for s in threatened.threats] == ["US-CN-THREAT-100"]
    (threat,) = ledger.events.get(negotiation_id, gt=4)
    assert isinstance(threat, Negotiation.ThreatIssued)
    assert (threat.threatened_rate_pct, threat.threatened_from) == (
        Decimal("100"),
        date(2025, 11, 1),
    )


def test_a_step_is_checked_against_the_stored_history(ledger: Ledger) -> None:
    negotiation_id = open_us_china(ledger)
    ledger.append_to_stream(negotiation_id, [step("talks_collapsed", "COLLAPSE", date(2025, 6, 1))])

    with pytest.raises(InvalidTransition) as raised:
        ledger.append_to_stream(negotiation_id, [geneva_round("ROUND-2", date(2025, 6, 15))])

    assert raised.value.status == "collapsed"
    assert event_ids(ledger, negotiation_id) == ["US-CN-OPEN", "COLLAPSE"]


@durable
def test_a_reopened_ledger_finds_what_was_recorded(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    ledger.append_to_stream(measure_id, [rate_change("US-CN-RECIP-125", "125")])
    negotiation_id = open_us_china(ledger)

    reopened = Ledger(ledger.env)
    try:
        measure: object = reopened.repository.get(measure_id)
        negotiation: object = reopened.repository.get(negotiation_id)
    finally:
        reopened.close()

    assert isinstance(measure, TariffMeasure)
    assert (measure.key, measure.version) == ("us-cn-reciprocal", 2)
    assert list(measure.event_types) == ["US-CN-RECIP-34", "US-CN-RECIP-125"]
    assert isinstance(negotiation, Negotiation)
    assert (negotiation.key, negotiation.version) == ("us-cn-2025", 1)
    assert list(negotiation.event_types) == ["US-CN-OPEN"]


# -- optimistic concurrency -----------------------------------------------------------


def test_an_append_at_the_expected_version_succeeds(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)

    written = ledger.append_to_stream(
        measure_id, [rate_change("US-CN-RECIP-84", "84")], expected_version=1
    )

    assert written.version == 2


@pytest.mark.parametrize("expected_version", [1, 3])
def test_an_append_expecting_another_version_is_refused_with_the_current_one(
    ledger: Ledger, expected_version: int
) -> None:
    measure_id = impose_reciprocal(ledger)
    ledger.append_to_stream(measure_id, [rate_change("US-CN-RECIP-84", "84")])
    before = last_notification_id(ledger)

    with pytest.raises(VersionConflict) as raised:
        ledger.append_to_stream(
            measure_id, [rate_change("US-CN-RECIP-125", "125")], expected_version=expected_version
        )

    assert raised.value.stream_id == measure_id
    assert raised.value.expected_version == expected_version
    assert raised.value.current_version == 2
    assert raised.value.rule == "version_conflict"
    assert last_notification_id(ledger) == before
    assert event_ids(ledger, measure_id) == ["US-CN-RECIP-34", "US-CN-RECIP-84"]


def test_a_negotiation_step_expecting_an_older_version_is_refused(ledger: Ledger) -> None:
    negotiation_id = open_us_china(ledger)
    ledger.append_to_stream(negotiation_id, [geneva_round()], expected_version=1)
    before = last_notification_id(ledger)

    with pytest.raises(VersionConflict) as raised:
        ledger.append_to_stream(
            negotiation_id,
            [step("joint_statement_issued", "JS", date(2025, 5, 12), truce_ends_on=None)],
            expected_version=1,
        )

    assert (raised.value.expected_version, raised.value.current_version) == (1, 2)
    assert last_notification_id(ledger) == before


def run_together(workers: int, work: Callable[[int], None]) -> None:
    """Run `work(0)` ... `work(workers - 1)` on as many threads, released at once;
    re-raise the first error any of them met."""
    start = threading.Barrier(workers)

    def worker(number: int) -> None:
        start.wait()
        work(number)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(worker, n) for n in range(workers)]
        for future in futures:
            future.result()


def test_concurrent_appends_without_an_expected_version_lose_nothing(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)

    def append_25(thread: int) -> None:
        for i in range(25):
            ledger.append_to_stream(
                measure_id, [rate_change(f"T{thread}-{i:02}", str(thread * 100 + i))]
            )

    run_together(4, append_25)

    events = list(ledger.events.get(measure_id))
    ids = [getattr(e, "event_id", None) for e in events[1:]]
    assert [e.originator_version for e in events] == list(range(1, 102))
    assert sorted(ids, key=str) == sorted(f"T{t}-{i:02}" for t in range(4) for i in range(25))
    for thread in range(4):
        own = [i for i in ids if str(i).startswith(f"T{thread}-")]
        assert own == [f"T{thread}-{i:02}" for i in range(25)], (
            "each thread's appends keep their order"
        )


def test_concurrent_batches_are_never_interleaved(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)

    def append_5_batches_of_5(thread: int) -> None:
        for batch in range(5):
            ledger.append_to_stream(
                measure_id,
                [rate_change(f"T{thread}-B{batch}-{i}", str(i)) for i in range(5)],
            )

    run_together(4, append_5_batches_of_5)

    events = list(ledger.events.get(measure_id))[1:]
    ids = [str(getattr(e, "event_id", "")) for e in events]
    batches = [ids[n : n + 5] for n in range(0, len(ids), 5)]
    assert [e.originator_version for e in events] == list(range(2, 102))
    assert len(set(ids)) == 100
    for batch in batches:
        label = batch[0].rsplit("-", 1)[0]
        assert batch == [f"{label}-{i}" for i in range(5)], f"batch {label} was interleaved"


# -- stream identity ------------------------------------------------------------------


def test_a_measure_cannot_be_imposed_twice(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    before = last_notification_id(ledger)

    with pytest.raises(StreamAlreadyExists) as raised:
        impose_reciprocal(ledger, measure_id)

    assert raised.value.stream_id == measure_id
    assert last_notification_id(ledger) == before


def test_a_negotiation_cannot_be_opened_twice(ledger: Ledger) -> None:
    negotiation_id = open_us_china(ledger)
    before = last_notification_id(ledger)

    with pytest.raises(StreamAlreadyExists) as raised:
        open_us_china(ledger, negotiation_id)

    assert raised.value.stream_id == negotiation_id
    assert last_notification_id(ledger) == before


def test_a_negotiation_cannot_take_the_id_of_a_measure(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    before = last_notification_id(ledger)

    with pytest.raises(StreamAlreadyExists):
        open_us_china(ledger, measure_id)

    assert last_notification_id(ledger) == before
    assert isinstance(ledger.repository.get(measure_id), TariffMeasure)


def test_a_measure_that_breaks_a_rule_is_not_created(ledger: Ledger) -> None:
    measure_id = uuid4()
    no_rate = MeasureTerms(imposer="US", name="No rate", targets=("CN",), layer="ieepa")
    before = last_notification_id(ledger)

    with pytest.raises(InvalidMeasureChange):
        ledger.create_stream(
            ImposeMeasure(measure_id, "nothing", facts("X", date(2025, 4, 9)), no_rate)
        )

    assert last_notification_id(ledger) == before
    assert event_ids(ledger, measure_id) == []


STREAM_OPERATIONS: dict[str, Callable[[Ledger, UUID], object]] = {
    "append to a measure": lambda ledger, sid: ledger.append_to_stream(
        sid, [rate_change("R", "1")]
    ),
    "append to a negotiation": lambda ledger, sid: ledger.append_to_stream(sid, [geneva_round()]),
}


@pytest.mark.parametrize("operation", sorted(STREAM_OPERATIONS))
def test_an_unknown_stream_is_not_found(ledger: Ledger, operation: str) -> None:
    impose_reciprocal(ledger)
    unknown = uuid4()
    before = last_notification_id(ledger)

    with pytest.raises(StreamNotFound) as raised:
        STREAM_OPERATIONS[operation](ledger, unknown)

    assert raised.value.stream_id == unknown
    assert raised.value.rule == "stream_not_found"
    assert last_notification_id(ledger) == before
    assert event_ids(ledger, unknown) == []


def test_a_missing_measure_is_reported_as_a_measure(ledger: Ledger) -> None:
    unknown = uuid4()

    with pytest.raises(StreamNotFound) as raised:
        ledger.append_to_stream(unknown, [rate_change("R", "1")])

    assert raised.value.kind == MEASURE
    assert str(unknown) in raised.value.message


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("append to a measure", MEASURE),
        ("append to a negotiation", NEGOTIATION),
    ],
)
def test_a_stream_of_the_other_kind_is_refused(
    ledger: Ledger, operation: str, expected: str
) -> None:
    other_kind = open_us_china(ledger) if expected == MEASURE else impose_reciprocal(ledger)
    before = last_notification_id(ledger)

    with pytest.raises(WrongStreamKind) as raised:
        STREAM_OPERATIONS[operation](ledger, other_kind)

    assert raised.value.stream_id == other_kind
    assert raised.value.expected == expected
    assert last_notification_id(ledger) == before
    assert len(event_ids(ledger, other_kind)) == 1


# -- atomic appends -------------------------------------------------------------------


def test_an_append_needs_a_change(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)

    with pytest.raises(InvalidValue):
        ledger.append_to_stream(measure_id, [])


def test_the_changes_of_one_append_are_to_one_kind_of_stream(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    before = last_notification_id(ledger)

    with pytest.raises(ValueError, match="to a measure, or to a negotiation"):
        ledger.append_to_stream(measure_id, [rate_change("R", "1"), geneva_round()])

    assert last_notification_id(ledger) == before


BAD_SECOND_CHANGES: dict[str, tuple[Change, type[DomainError]]] = {
    "duplicate id": (rate_change("US-CN-RECIP-84", "125"), DuplicateEventId),
    "id of the stream": (rate_change("US-CN-RECIP-34", "125"), DuplicateEventId),
    "rule broken": (
        GrantExclusion(facts("BAD", date(2025, 4, 11)), hs_prefixes=()),
        InvalidMeasureChange,
    ),
    "unknown reference": (
        ExtendSuspension(
            facts("BAD", date(2025, 8, 11)),
            suspension_event_id="NO-SUCH-SUSPENSION",
            ends_on=date(2025, 11, 10),
        ),
        UnknownEventReference,
    ),
}


@pytest.mark.parametrize("bad", sorted(BAD_SECOND_CHANGES))
def test_a_batch_with_a_bad_second_change_writes_nothing(ledger: Ledger, bad: str) -> None:
    measure_id = impose_reciprocal(ledger)
    second, error = BAD_SECOND_CHANGES[bad]
    before = last_notification_id(ledger)

    with pytest.raises(error):
        ledger.append_to_stream(measure_id, [rate_change("US-CN-RECIP-84", "84"), second])

    assert last_notification_id(ledger) == before
    assert event_ids(ledger, measure_id) == ["US-CN-RECIP-34"]


def test_a_negotiation_batch_with_an_impossible_second_step_writes_nothing(ledger: Ledger) -> None:
    negotiation_id = open_us_china(ledger)
    before = last_notification_id(ledger)

    with pytest.raises(InvalidTransition):
        ledger.append_to_stream(
            negotiation_id,
            [
                step("talks_collapsed", "COLLAPSE", date(2025, 6, 1)),
                geneva_round("ROUND", date(2025, 6, 15)),
            ],
        )

    assert last_notification_id(ledger) == before
    assert event_ids(ledger, negotiation_id) == ["US-CN-OPEN"]


def test_each_change_of_a_batch_sees_the_changes_before_it(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    before = last_notification_id(ledger)

    written = ledger.append_to_stream(
        measure_id,
        [
            GrantSuspension(
                facts("SUSP", date(2025, 5, 14)), points=Decimal("24"), ends_on=date(2025, 8, 12)
            ),
            ExtendSuspension(
                facts("EXT", date(2025, 8, 11)),
                suspension_event_id="SUSP",
                ends_on=date(2025, 11, 10),
            ),
        ],
    )

    assert written.version == 3
    assert last_notification_id(ledger) == before + 2


# -- what a write reports -------------------------------------------------------------


def test_creating_a_stream_reports_its_kind_key_version_and_event(ledger: Ledger) -> None:
    measure_id = uuid4()
    before = last_notification_id(ledger)

    written = ledger.create_stream(imposing_reciprocal(measure_id))

    assert written == Written(
        kind=MEASURE,
        stream_id=measure_id,
        key="us-cn-reciprocal",
        version=1,
        created=True,
        events=(RecordedEvent("US-CN-RECIP-34", 1, before + 1),),
    )


def test_appending_reports_each_new_event_with_its_version_and_log_position(
    ledger: Ledger,
) -> None:
    negotiation_id = open_us_china(ledger)
    ledger.append_to_stream(
        negotiation_id,
        [step("talks_scheduled", "SCHEDULED", date(2025, 5, 1), talks_on=None, location="Geneva")],
    )
    impose_reciprocal(ledger)
    before = last_notification_id(ledger)

    written = ledger.append_to_stream(
        negotiation_id,
        [
            geneva_round(),
            step("joint_statement_issued", "JS", date(2025, 5, 12), truce_ends_on=None),
        ],
    )

    assert (written.kind, written.key, written.version, written.created) == (
        NEGOTIATION,
        "us-cn-2025",
        4,
        False,
    )
    assert written.events == (
        RecordedEvent("GENEVA-ROUND", 3, before + 1),
        RecordedEvent("JS", 4, before + 2),
    )
    assert not written.replayed


def test_a_key_names_one_stream_of_each_kind() -> None:
    ids = [
        stream_id_for_key(MEASURE, "us-cn-reciprocal"),
        stream_id_for_key(MEASURE, "us-cn-reciprocal"),
        stream_id_for_key(NEGOTIATION, "us-cn-reciprocal"),
        stream_id_for_key(MEASURE, "us-cn-fentanyl"),
    ]

    assert ids[0] == ids[1]
    assert len(set(ids)) == 3


def test_a_stream_created_under_its_key_id_is_found_by_key(ledger: Ledger) -> None:
    measure_id = stream_id_for_key(MEASURE, "us-cn-reciprocal")
    impose_reciprocal(ledger, measure_id)

    measure: object = ledger.repository.get(stream_id_for_key(MEASURE, "us-cn-reciprocal"))

    assert isinstance(measure, TariffMeasure)
    assert (measure.id, measure.key) == (measure_id, "us-cn-reciprocal")


def test_the_events_of_every_stream_share_one_ordered_log(ledger: Ledger) -> None:
    before = last_notification_id(ledger)
    measure_id = impose_reciprocal(ledger)
    negotiation_id = open_us_china(ledger)
    ledger.append_to_stream(measure_id, [rate_change("US-CN-RECIP-84", "84")])

    notifications = ledger.recorder.select_notifications(start=before + 1, limit=10)

    assert [(n.originator_id, n.originator_version) for n in notifications] == [
        (measure_id, 1),
        (negotiation_id, 1),
        (measure_id, 2),
    ]
    assert [e.originator_version for e in ledger.events.get(measure_id)] == [1, 2]
    assert isinstance(ledger.repository.get(negotiation_id), Negotiation)
