"""Two Ledgers writing the same streams of one store, as two processes would.

Each Ledger appends to the state it last saved of a stream (domain.stream_cache), which
the other Ledger's writes leave behind the store. These are the promises that must
hold anyway: nothing is lost, versions stay contiguous, a client's expected version is
judged against the store, and the domain decides on the store's state.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from domain.commands import AppendChange
from domain.errors import InvalidTransition, UnknownEventReference, VersionConflict
from domain.idempotency import IdempotencyClaim
from domain.ledger import Ledger
from domain.measure import TariffMeasure
from domain.measure_changes import CorrectMeasureRecord, GrantSuspension, MeasureChange
from domain.negotiation import Negotiation
from tests.domain.test_ledger import (
    event_ids,
    facts,
    geneva_round,
    impose_reciprocal,
    last_notification_id,
    open_us_china,
    rate_change,
    step,
)
from tradeledger.settings import parse_database_url


@pytest.fixture
def two_ledgers(durable_database_url: str) -> Iterator[tuple[Ledger, Ledger]]:
    """Two Ledgers on one store (SQLite file, PostgreSQL database), closed after the test."""
    env = parse_database_url(durable_database_url).env
    first = Ledger(env)
    second = Ledger(env)
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def correction(event_id: str, corrected_event_id: str) -> MeasureChange:
    return CorrectMeasureRecord(
        facts(event_id, date(2025, 4, 11)),
        corrected_event_id=corrected_event_id,
        reason="entered in error",
    )


def test_ledgers_taking_turns_on_one_stream_lose_nothing(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = two_ledgers
    measure_id = impose_reciprocal(first)

    versions = [
        (first, second)[turn % 2]
        .append_to_stream(measure_id, [rate_change(f"TURN-{turn}", "50")])
        .version
        for turn in range(20)
    ]

    assert versions == list(range(2, 22))
    stored = list(first.events.get(measure_id))
    assert [e.originator_version for e in stored] == list(range(1, 22))
    assert event_ids(first, measure_id)[1:] == [f"TURN-{turn}" for turn in range(20)]


def test_a_stale_cache_with_the_true_expected_version_succeeds(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = two_ledgers
    measure_id = impose_reciprocal(first)
    second.append_to_stream(measure_id, [rate_change("BY-SECOND", "84")])

    written = first.append_to_stream(
        measure_id, [rate_change("BY-FIRST", "125")], expected_version=2
    )

    assert written.version == 3
    assert event_ids(second, measure_id)[1:] == ["BY-SECOND", "BY-FIRST"]


@pytest.mark.parametrize("expected_version", [1, 2])
def test_a_stale_expected_version_is_refused_with_the_true_current_version(
    two_ledgers: tuple[Ledger, Ledger], expected_version: int
) -> None:
    first, second = two_ledgers
    measure_id = impose_reciprocal(first)
    second.append_to_stream(measure_id, [rate_change("BY-SECOND-1", "84")])
    second.append_to_stream(measure_id, [rate_change("BY-SECOND-2", "104")])
    before = last_notification_id(first)

    with pytest.raises(VersionConflict) as raised:
        first.append_to_stream(
            measure_id, [rate_change("BY-FIRST", "125")], expected_version=expected_version
        )

    assert (raised.value.expected_version, raised.value.current_version) == (expected_version, 3)
    assert last_notification_id(first) == before


def test_a_change_refused_on_the_cached_state_is_decided_on_the_stored_one(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = two_ledgers
    measure_id = impose_reciprocal(first)
    second.append_to_stream(measure_id, [rate_change("BY-SECOND", "84")])

    # The first ledger's own state has no BY-SECOND to correct; the store has.
    written = first.append_to_stream(measure_id, [correction("FIX", "BY-SECOND")])

    assert written.version == 3


def test_a_change_allowed_by_the_cached_state_is_refused_by_the_stored_one(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = two_ledgers
    negotiation_id = open_us_china(first)
    second.append_to_stream(negotiation_id, [step("talks_collapsed", "COLLAPSE", date(2025, 6, 1))])
    before = last_notification_id(first)

    with pytest.raises(InvalidTransition) as raised:
        first.append_to_stream(negotiation_id, [geneva_round("ROUND-2", date(2025, 6, 15))])

    assert raised.value.status == "collapsed"
    assert last_notification_id(first) == before


def test_a_change_the_store_refuses_is_refused_even_on_a_fresh_start(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, _ = two_ledgers
    measure_id = impose_reciprocal(first)

    with pytest.raises(UnknownEventReference):
        first.append_to_stream(measure_id, [correction("FIX", "NO-SUCH-EVENT")])

    assert event_ids(first, measure_id) == ["US-CN-RECIP-34"]


def test_a_failed_write_leaves_nothing_of_itself_in_the_cache(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, _ = two_ledgers
    measure_id = impose_reciprocal(first)

    with pytest.raises(UnknownEventReference):
        first.append_to_stream(
            measure_id, [rate_change("GOOD", "84"), correction("FIX", "NO-SUCH-EVENT")]
        )
    written = first.append_to_stream(measure_id, [rate_change("GOOD", "84")])

    assert written.version == 2
    assert event_ids(first, measure_id)[1:] == ["GOOD"]


def test_an_idempotent_append_on_a_stale_cache_reports_the_stored_positions(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = two_ledgers
    measure_id = impose_reciprocal(first)
    second.append_to_stream(measure_id, [rate_change("BY-SECOND", "84")])
    claim = IdempotencyClaim("key-1", "digest-1")

    written = first.append_to_stream(measure_id, [rate_change("BY-FIRST", "125")], claim=claim)
    replayed = second.append_to_stream(measure_id, [rate_change("BY-FIRST", "125")], claim=claim)

    (event,) = written.events
    (stored,) = [
        n
        for n in first.recorder.select_notifications(1, 10)
        if (n.originator_id, n.originator_version) == (measure_id, 3)
    ]
    assert (event.event_id, event.version, event.position) == ("BY-FIRST", 3, stored.id)
    assert replayed.replayed
    assert replayed.events == written.events


def test_batches_on_a_stale_cache_land_and_report_the_stored_versions(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = two_ledgers
    measure_id = impose_reciprocal(first)
    batch = [AppendChange(measure_id, rate_change("BATCH-1", "84"))]
    first.append_batch(batch)
    second.append_to_stream(measure_id, [rate_change("BY-SECOND", "104")])

    added = first.append_batch([AppendChange(measure_id, rate_change("BATCH-2", "125"))])
    again = first.append_batch(batch)

    assert (added.added, added.versions) == (1, {measure_id: 4})
    assert (again.added, again.skipped, again.versions) == (0, 1, {measure_id: 4})
    assert event_ids(second, measure_id)[1:] == ["BATCH-1", "BY-SECOND", "BATCH-2"]


def test_the_cached_state_is_the_state_a_load_rebuilds(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = two_ledgers
    measure_id = impose_reciprocal(first)
    first.append_to_stream(
        measure_id,
        [
            rate_change("RATE", "84"),
            GrantSuspension(
                facts("PAUSE", date(2025, 4, 12)), points=None, ends_on=date(2025, 7, 9)
            ),
            correction("FIX", "RATE"),
        ],
    )
    negotiation_id = open_us_china(first)
    first.append_to_stream(negotiation_id, [geneva_round()])

    for stream_id, cls in ((measure_id, TariffMeasure), (negotiation_id, Negotiation)):
        kept = first.streams.take(stream_id)
        loaded: object = second.repository.get(stream_id)
        assert isinstance(kept, cls)
        assert comparable(first, kept) == comparable(second, loaded)


def comparable(ledger: Ledger, aggregate: Any) -> dict[str, Any]:
    """The aggregate's state, with the events a negotiation keeps in its history as they
    are stored: an event made in this process holds tuples where a decoded one holds
    lists, which the domain never tells apart (its fold reads them with tuple())."""
    state = {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}
    if "history" in state:
        stored = (ledger.mapper.to_stored_event(e) for e in state["history"])
        state["history"] = [(e.topic, e.state) for e in stored]
    return state


def test_a_ledger_that_keeps_no_streams_still_writes(tmp_path: Path) -> None:
    env = parse_database_url(f"sqlite:///{tmp_path}/ledger.sqlite").env
    ledger = Ledger({**env, "STREAM_CACHE_MAXSIZE": "0"})
    try:
        measure_id = impose_reciprocal(ledger, uuid4())
        written = ledger.append_to_stream(measure_id, [rate_change("RATE", "84")])
    finally:
        ledger.close()

    assert written.version == 2
    assert len(ledger.streams) == 0
