"""The Ledger application: its use cases, on every backend (the `ledger` fixture).

The store is real on every run (in-memory, SQLite file, PostgreSQL database); whether
something was written is checked through the recorder's own notification log.
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

from domain.commands import Change, MeasureTerms
from domain.errors import (
    DomainError,
    DuplicateEventId,
    InvalidMeasureChange,
    InvalidTransition,
    StreamAlreadyExists,
    StreamNotFound,
    UnknownEventReference,
    UnknownEventType,
    VersionConflict,
    WrongStreamKind,
)
from domain.events import Facts
from domain.ledger import MEASURE, NEGOTIATION, Ledger, StreamInfo, stream_id_for_key
from domain.measure import TariffMeasure
from domain.negotiation import Negotiation
from domain.negotiation_state import Status
from domain.values import Provenance, Reliability, Source

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


def impose_reciprocal(ledger: Ledger, measure_id: UUID | None = None) -> UUID:
    measure_id = measure_id or uuid4()
    ledger.impose_measure(
        measure_id=measure_id,
        key="us-cn-reciprocal",
        facts=facts("US-CN-RECIP-34", date(2025, 4, 9), announced_on=date(2025, 4, 2)),
        terms=RECIPROCAL,
    )
    return measure_id


def open_us_china(ledger: Ledger, negotiation_id: UUID | None = None) -> UUID:
    negotiation_id = negotiation_id or uuid4()
    ledger.open_negotiation(
        negotiation_id=negotiation_id,
        key="us-cn-2025",
        facts=facts("US-CN-OPEN", date(2025, 4, 24)),
        title="US-China economic and trade talks",
        parties=("US", "CN"),
        summary="Talks after the April 2025 escalation",
    )
    return negotiation_id


def rate_change(event_id: str, rate_pct: str, on: date = date(2025, 4, 10)) -> Change:
    return Change(
        "rate_changed", facts(event_id, on), {"rate_pct": Decimal(rate_pct), "hs_prefixes": ()}
    )


def step(event_type: str, event_id: str, on: date, **fields: Any) -> Change:
    return Change(
        event_type, facts(event_id, on), {"summary": event_type.replace("_", " "), **fields}
    )


def geneva_round(event_id: str = "GENEVA-ROUND", on: date = date(2025, 5, 10)) -> Change:
    return step("round_held", event_id, on, location="Geneva", round_number=1)


def last_notification_id(ledger: Ledger) -> int:
    """The id of the last thing the store recorded, 0 when it is empty."""
    return ledger.recorder.max_notification_id() or 0


# -- create, append, read back --------------------------------------------------------


def test_a_measure_is_imposed_changed_and_read_back(ledger: Ledger) -> None:
    measure_id = uuid4()

    created = ledger.impose_measure(
        measure_id=measure_id,
        key="us-cn-reciprocal",
        facts=facts("US-CN-RECIP-34", date(2025, 4, 9), announced_on=date(2025, 4, 2)),
        terms=RECIPROCAL,
    )
    changed = ledger.change_measure(
        measure_id,
        [
            rate_change("US-CN-RECIP-125", "125", date(2025, 4, 10)),
            Change(
                "exclusion_granted",
                facts("US-CN-ELECTRONICS", date(2025, 4, 5), announced_on=date(2025, 4, 11)),
                {"hs_prefixes": ("851713", "847130")},
            ),
            Change(
                "suspension_granted",
                facts("US-CN-GENEVA-SUSP", date(2025, 5, 14), announced_on=date(2025, 5, 12)),
                {"points": Decimal("24"), "ends_on": date(2025, 8, 12)},
            ),
        ],
    )

    assert (created, changed) == (1, 4)
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
    ledger.change_measure(
        measure_id,
        [
            rate_change("US-CN-RECIP-125", "125.5"),
            Change(
                "exclusion_granted",
                facts("US-CN-ELECTRONICS", date(2025, 4, 5), announced_on=date(2025, 4, 11)),
                {"hs_prefixes": ("851713",)},
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

    created = ledger.open_negotiation(
        negotiation_id=negotiation_id,
        key="us-cn-2025",
        facts=facts("US-CN-OPEN", date(2025, 4, 24)),
        title="US-China economic and trade talks",
        parties=("US", "CN"),
        summary="Talks after the April 2025 escalation",
    )
    stepped = ledger.record_negotiation_steps(
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

    assert (created, stepped) == (1, 5)
    assert ledger.negotiation_state(negotiation_id, date(2025, 5, 1)).status is Status.PRECONDITIONS
    in_truce = ledger.negotiation_state(negotiation_id, date(2025, 5, 15))
    assert in_truce.status is Status.TRUCE
    assert in_truce.truce_ends_on == date(2025, 8, 12)
    assert in_truce.parties == ("US", "CN")
    threatened = ledger.negotiation_state(negotiation_id, date(2025, 10, 15))
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
    ledger.record_negotiation_steps(
        negotiation_id, [step("talks_collapsed", "COLLAPSE", date(2025, 6, 1))]
    )

    with pytest.raises(InvalidTransition) as raised:
        ledger.record_negotiation_steps(
            negotiation_id, [geneva_round("ROUND-2", date(2025, 6, 15))]
        )

    assert raised.value.status == "collapsed"
    assert ledger.stream_info(negotiation_id).version == 2


def test_a_reopened_ledger_finds_what_was_recorded(durable_ledger: Ledger) -> None:
    ledger = durable_ledger
    measure_id = impose_reciprocal(ledger)
    ledger.change_measure(measure_id, [rate_change("US-CN-RECIP-125", "125")])
    negotiation_id = open_us_china(ledger)

    reopened = Ledger(ledger.env)
    try:
        measure_info = reopened.stream_info(measure_id)
        negotiation_info = reopened.stream_info(negotiation_id)
    finally:
        reopened.close()

    assert measure_info == StreamInfo(
        measure_id, MEASURE, "us-cn-reciprocal", 2, ("US-CN-RECIP-34", "US-CN-RECIP-125")
    )
    assert negotiation_info == StreamInfo(
        negotiation_id, NEGOTIATION, "us-cn-2025", 1, ("US-CN-OPEN",)
    )


# -- optimistic concurrency -----------------------------------------------------------


def test_an_append_at_the_expected_version_succeeds(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)

    version = ledger.change_measure(
        measure_id, [rate_change("US-CN-RECIP-84", "84")], expected_version=1
    )

    assert version == 2


@pytest.mark.parametrize("expected_version", [1, 3])
def test_an_append_expecting_another_version_is_refused_with_the_current_one(
    ledger: Ledger, expected_version: int
) -> None:
    measure_id = impose_reciprocal(ledger)
    ledger.change_measure(measure_id, [rate_change("US-CN-RECIP-84", "84")])
    before = last_notification_id(ledger)

    with pytest.raises(VersionConflict) as raised:
        ledger.change_measure(
            measure_id, [rate_change("US-CN-RECIP-125", "125")], expected_version=expected_version
        )

    assert raised.value.stream_id == measure_id
    assert raised.value.expected_version == expected_version
    assert raised.value.current_version == 2
    assert raised.value.rule == "version_conflict"
    assert last_notification_id(ledger) == before
    assert ledger.stream_info(measure_id).version == 2


def test_a_negotiation_step_expecting_an_older_version_is_refused(ledger: Ledger) -> None:
    negotiation_id = open_us_china(ledger)
    ledger.record_negotiation_steps(negotiation_id, [geneva_round()], expected_version=1)
    before = last_notification_id(ledger)

    with pytest.raises(VersionConflict) as raised:
        ledger.record_negotiation_steps(
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
            ledger.change_measure(
                measure_id, [rate_change(f"T{thread}-{i:02}", str(thread * 100 + i))]
            )

    run_together(4, append_25)

    events = list(ledger.events.get(measure_id))
    ids = [getattr(e, "event_id", None) for e in events[1:]]
    assert ledger.stream_info(measure_id).version == 1 + 100
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
            ledger.change_measure(
                measure_id,
                [rate_change(f"T{thread}-B{batch}-{i}", str(i)) for i in range(5)],
            )

    run_together(4, append_5_batches_of_5)

    events = list(ledger.events.get(measure_id))[1:]
    ids = [str(getattr(e, "event_id", "")) for e in events]
    batches = [ids[n : n + 5] for n in range(0, len(ids), 5)]
    assert ledger.stream_info(measure_id).version == 1 + 100
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
    assert ledger.stream_info(measure_id).kind == MEASURE


def test_a_measure_that_breaks_a_rule_is_not_created(ledger: Ledger) -> None:
    measure_id = uuid4()
    before = last_notification_id(ledger)

    with pytest.raises(InvalidMeasureChange):
        ledger.impose_measure(
            measure_id=measure_id,
            key="nothing",
            facts=facts("X", date(2025, 4, 9)),
            terms=MeasureTerms(imposer="US", name="No rate", targets=("CN",), layer="ieepa"),
        )

    assert last_notification_id(ledger) == before
    assert not ledger.stream_exists(measure_id)


STREAM_OPERATIONS: dict[str, Callable[[Ledger, UUID], object]] = {
    "change_measure": lambda ledger, sid: ledger.change_measure(sid, [rate_change("R", "1")]),
    "record_negotiation_steps": lambda ledger, sid: ledger.record_negotiation_steps(
        sid, [geneva_round()]
    ),
    "negotiation_state": lambda ledger, sid: ledger.negotiation_state(sid, date(2025, 5, 1)),
    "stream_info": lambda ledger, sid: ledger.stream_info(sid),
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
    assert not ledger.stream_exists(unknown)


def test_a_missing_measure_is_reported_as_a_measure(ledger: Ledger) -> None:
    unknown = uuid4()

    with pytest.raises(StreamNotFound) as raised:
        ledger.change_measure(unknown, [rate_change("R", "1")])

    assert raised.value.kind == MEASURE
    assert str(unknown) in raised.value.message


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("change_measure", MEASURE),
        ("record_negotiation_steps", NEGOTIATION),
        ("negotiation_state", NEGOTIATION),
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
    assert ledger.stream_info(other_kind).version == 1


# -- event types and atomic batches ---------------------------------------------------


@pytest.mark.parametrize("event_type", ["imposed", "round_held", "rate_increased", ""])
def test_an_unknown_measure_event_type_is_refused_and_nothing_written(
    ledger: Ledger, event_type: str
) -> None:
    measure_id = impose_reciprocal(ledger)
    before = last_notification_id(ledger)

    with pytest.raises(UnknownEventType) as raised:
        ledger.change_measure(measure_id, [Change(event_type, facts("X", date(2025, 5, 1)))])

    assert raised.value.event_type == event_type
    assert last_notification_id(ledger) == before
    assert ledger.stream_info(measure_id).version == 1


@pytest.mark.parametrize("event_type", ["opened", "rate_changed", "talks_started"])
def test_an_unknown_negotiation_step_type_is_refused_and_nothing_written(
    ledger: Ledger, event_type: str
) -> None:
    negotiation_id = open_us_china(ledger)
    before = last_notification_id(ledger)

    with pytest.raises(UnknownEventType) as raised:
        ledger.record_negotiation_steps(
            negotiation_id, [geneva_round(), step(event_type, "X", date(2025, 5, 11))]
        )

    assert raised.value.event_type == event_type
    assert last_notification_id(ledger) == before
    assert ledger.stream_info(negotiation_id).version == 1


BAD_SECOND_CHANGES: dict[str, tuple[Change, type[DomainError]]] = {
    "unknown type": (Change("rate_increased", facts("BAD", date(2025, 4, 11))), UnknownEventType),
    "duplicate id": (rate_change("US-CN-RECIP-84", "125"), DuplicateEventId),
    "id of the stream": (rate_change("US-CN-RECIP-34", "125"), DuplicateEventId),
    "rule broken": (
        Change("exclusion_granted", facts("BAD", date(2025, 4, 11)), {"hs_prefixes": ()}),
        InvalidMeasureChange,
    ),
    "unknown reference": (
        Change(
            "suspension_extended",
            facts("BAD", date(2025, 8, 11)),
            {"suspension_event_id": "NO-SUCH-SUSPENSION", "ends_on": date(2025, 11, 10)},
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
        ledger.change_measure(measure_id, [rate_change("US-CN-RECIP-84", "84"), second])

    assert last_notification_id(ledger) == before
    assert ledger.stream_info(measure_id) == StreamInfo(
        measure_id, MEASURE, "us-cn-reciprocal", 1, ("US-CN-RECIP-34",)
    )


def test_a_negotiation_batch_with_an_impossible_second_step_writes_nothing(ledger: Ledger) -> None:
    negotiation_id = open_us_china(ledger)
    before = last_notification_id(ledger)

    with pytest.raises(InvalidTransition):
        ledger.record_negotiation_steps(
            negotiation_id,
            [
                step("talks_collapsed", "COLLAPSE", date(2025, 6, 1)),
                geneva_round("ROUND", date(2025, 6, 15)),
            ],
        )

    assert last_notification_id(ledger) == before
    assert ledger.stream_info(negotiation_id).event_ids == ("US-CN-OPEN",)


def test_each_change_of_a_batch_sees_the_changes_before_it(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    before = last_notification_id(ledger)

    version = ledger.change_measure(
        measure_id,
        [
            Change(
                "suspension_granted",
                facts("SUSP", date(2025, 5, 14)),
                {"points": Decimal("24"), "ends_on": date(2025, 8, 12)},
            ),
            Change(
                "suspension_extended",
                facts("EXT", date(2025, 8, 11)),
                {"suspension_event_id": "SUSP", "ends_on": date(2025, 11, 10)},
            ),
        ],
    )

    assert version == 3
    assert last_notification_id(ledger) == before + 2


# -- stream info ----------------------------------------------------------------------


def test_stream_info_describes_a_measure(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    ledger.change_measure(
        measure_id, [rate_change("US-CN-RECIP-84", "84"), rate_change("US-CN-RECIP-125", "125")]
    )

    info = ledger.stream_info(measure_id)

    assert info == StreamInfo(
        stream_id=measure_id,
        kind=MEASURE,
        key="us-cn-reciprocal",
        version=3,
        event_ids=("US-CN-RECIP-34", "US-CN-RECIP-84", "US-CN-RECIP-125"),
    )


def test_stream_info_describes_a_negotiation(ledger: Ledger) -> None:
    negotiation_id = open_us_china(ledger)
    ledger.record_negotiation_steps(negotiation_id, [geneva_round()])

    info = ledger.stream_info(negotiation_id)

    assert info == StreamInfo(
        negotiation_id, NEGOTIATION, "us-cn-2025", 2, ("US-CN-OPEN", "GENEVA-ROUND")
    )


def test_a_stream_exists_once_created(ledger: Ledger) -> None:
    measure_id = uuid4()
    existed_before = ledger.stream_exists(measure_id)

    impose_reciprocal(ledger, measure_id)

    assert existed_before is False
    assert ledger.stream_exists(measure_id) is True


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

    info = ledger.stream_info(stream_id_for_key(MEASURE, "us-cn-reciprocal"))

    assert (info.stream_id, info.key) == (measure_id, "us-cn-reciprocal")


def test_the_events_of_every_stream_share_one_ordered_log(ledger: Ledger) -> None:
    before = last_notification_id(ledger)
    measure_id = impose_reciprocal(ledger)
    negotiation_id = open_us_china(ledger)
    ledger.change_measure(measure_id, [rate_change("US-CN-RECIP-84", "84")])

    notifications = ledger.recorder.select_notifications(start=before + 1, limit=10)

    assert [(n.originator_id, n.originator_version) for n in notifications] == [
        (measure_id, 1),
        (negotiation_id, 1),
        (measure_id, 2),
    ]
    assert [e.originator_version for e in ledger.events.get(measure_id)] == [1, 2]
    assert isinstance(ledger.repository.get(negotiation_id), Negotiation)
