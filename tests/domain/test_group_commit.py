"""Appends to one stream wait in line and are saved a batch at a time, each with its own fate.

The batches are made on purpose: a first append is held in its after-commit hook (the
leader has saved, and not yet handed on the lead) while the appends under test join
the line behind it; released, they are saved together. Stores are real (every backend).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import Recording

from domain.commands import Written
from domain.errors import UnknownEventReference, VersionConflict
from domain.idempotency import IdempotencyClaim
from domain.ledger import Ledger
from domain.measure_changes import CorrectMeasureRecord, MeasureChange
from domain.stream_queue import StreamBusy
from tests.conftest import durable, store_url
from tests.domain.test_ledger import (
    event_ids,
    facts,
    impose_reciprocal,
    last_notification_id,
    rate_change,
    run_together,
)
from tradeledger.settings import parse_database_url


def correction(event_id: str, corrected_event_id: str) -> MeasureChange:
    return CorrectMeasureRecord(
        facts(event_id, date(2025, 4, 11)), corrected_event_id=corrected_event_id, reason="typo"
    )


class Held:
    """Holds the leader of the next save in its after-commit hook until released, and
    counts the saves (one per transaction) made since it was set up."""

    def __init__(self, ledger: Ledger) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.saves = 0
        ledger.after_commit(self._hook)

    def _hook(self, position: int) -> None:
        self.saves += 1
        if not self.gate.is_set():
            self.entered.set()
            self.gate.wait(10)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=20) as executor:
        yield executor


def pile_up(
    ledger: Ledger,
    measure_id: UUID,
    pool: ThreadPoolExecutor,
    appends: Sequence[Callable[[], Written]],
) -> tuple[Held, list[Future[Written]]]:
    """Append "FIRST" and hold it; queue `appends` behind it, in order; release them."""
    held = Held(ledger)
    first = pool.submit(ledger.append_to_stream, measure_id, [rate_change("FIRST", "1")])
    assert held.entered.wait(10)
    futures = []
    for n, append in enumerate(appends):
        futures.append(pool.submit(append))
        deadline = time.monotonic() + 10
        while ledger.appends_in_line != n + 2:
            assert time.monotonic() < deadline, "the append did not join the line"
            time.sleep(0.001)
    held.saves = 0
    held.gate.set()
    assert first.result(10).version == 2
    return held, futures


def append(
    ledger: Ledger, stream_id: UUID, *changes: MeasureChange, **options: Any
) -> Callable[[], Written]:
    return lambda: ledger.append_to_stream(stream_id, list(changes), **options)


def positions(ledger: Ledger, stream_id: UUID) -> dict[int, int]:
    """The log position of each version of a stream, as the store holds them."""
    return {
        n.originator_version: n.id
        for n in ledger.recorder.select_notifications(1, 1000)
        if n.originator_id == stream_id
    }


def test_appends_waiting_for_one_stream_are_saved_in_one_transaction_each_reported_alone(
    ledger: Ledger, pool: ThreadPoolExecutor
) -> None:
    measure_id = impose_reciprocal(ledger)

    held, futures = pile_up(
        ledger,
        measure_id,
        pool,
        [
            append(ledger, measure_id, rate_change("A", "10")),
            append(ledger, measure_id, rate_change("B1", "20"), rate_change("B2", "21")),
            append(ledger, measure_id, rate_change("C", "30")),
        ],
    )
    a, b, c = (future.result(10) for future in futures)

    assert held.saves == 1
    assert event_ids(ledger, measure_id) == ["US-CN-RECIP-34", "FIRST", "A", "B1", "B2", "C"]
    stored = positions(ledger, measure_id)
    assert (a.version, [(e.event_id, e.version, e.position) for e in a.events]) == (
        3,
        [("A", 3, stored[3])],
    )
    assert (b.version, [(e.event_id, e.version, e.position) for e in b.events]) == (
        5,
        [("B1", 4, stored[4]), ("B2", 5, stored[5])],
    )
    assert (c.version, c.position) == (6, stored[6])
    assert ledger.append_to_stream(measure_id, [rate_change("AFTER", "1")]).version == 7


def test_an_append_that_breaks_a_rule_fails_alone_and_the_others_are_saved(
    ledger: Ledger, pool: ThreadPoolExecutor
) -> None:
    measure_id = impose_reciprocal(ledger)

    held, (a, bad, c) = pile_up(
        ledger,
        measure_id,
        pool,
        [
            append(ledger, measure_id, rate_change("A", "10")),
            append(ledger, measure_id, correction("FIX", "NO-SUCH-EVENT")),
            append(ledger, measure_id, rate_change("C", "30")),
        ],
    )

    assert (a.result(10).version, c.result(10).version) == (3, 4)
    with pytest.raises(UnknownEventReference):
        bad.result(10)
    assert held.saves == 1
    assert event_ids(ledger, measure_id) == ["US-CN-RECIP-34", "FIRST", "A", "C"]


def test_an_append_refused_after_its_first_change_leaves_nothing_to_the_others(
    ledger: Ledger, pool: ThreadPoolExecutor
) -> None:
    measure_id = impose_reciprocal(ledger)

    _, (a, bad, c) = pile_up(
        ledger,
        measure_id,
        pool,
        [
            append(ledger, measure_id, rate_change("A", "10")),
            append(ledger, measure_id, rate_change("B", "20"), correction("FIX", "NO-SUCH")),
            append(ledger, measure_id, correction("FIX-B", "B")),
        ],
    )

    assert a.result(10).version == 3
    with pytest.raises(UnknownEventReference):
        bad.result(10)
    with pytest.raises(UnknownEventReference):
        c.result(10)  # B was never recorded: decided on a state without it
    after = ledger.append_to_stream(measure_id, [rate_change("AFTER", "1")])
    assert after.version == 4
    assert event_ids(ledger, measure_id) == ["US-CN-RECIP-34", "FIRST", "A", "AFTER"]


def test_an_append_expecting_a_version_its_turn_has_not_is_refused_with_the_version_now(
    ledger: Ledger, pool: ThreadPoolExecutor
) -> None:
    measure_id = impose_reciprocal(ledger)

    _, (a, stale, fresh, c) = pile_up(
        ledger,
        measure_id,
        pool,
        [
            append(ledger, measure_id, rate_change("A", "10")),
            append(ledger, measure_id, rate_change("STALE", "20"), expected_version=2),
            append(ledger, measure_id, rate_change("FRESH", "25"), expected_version=3),
            append(ledger, measure_id, rate_change("C", "30")),
        ],
    )

    assert [f.result(10).version for f in (a, fresh, c)] == [3, 4, 5]
    with pytest.raises(VersionConflict) as raised:
        stale.result(10)
    assert (raised.value.expected_version, raised.value.current_version) == (2, 5)
    assert event_ids(ledger, measure_id)[2:] == ["A", "FRESH", "C"]


def test_appends_under_idempotency_keys_in_one_batch_record_their_own_writes(
    ledger: Ledger, pool: ThreadPoolExecutor
) -> None:
    measure_id = impose_reciprocal(ledger)
    one, two = IdempotencyClaim("key-one", "digest-one"), IdempotencyClaim("key-two", "d-two")

    _, (first_one, second, again_one) = pile_up(
        ledger,
        measure_id,
        pool,
        [
            append(ledger, measure_id, rate_change("ONE", "10"), claim=one),
            append(ledger, measure_id, rate_change("T1", "20"), rate_change("T2", "21"), claim=two),
            append(ledger, measure_id, rate_change("ONE", "10"), claim=one),
        ],
    )
    written_one, written_two, replayed_one = (f.result(10) for f in (first_one, second, again_one))
    replayed_two = ledger.append_to_stream(
        measure_id, [rate_change("T1", "20"), rate_change("T2", "21")], claim=two
    )

    assert event_ids(ledger, measure_id)[2:] == ["ONE", "T1", "T2"]
    assert [(e.event_id, e.version) for e in written_one.events] == [("ONE", 3)]
    assert (replayed_one.replayed, replayed_one.events) == (True, written_one.events)
    assert [(e.event_id, e.version) for e in written_two.events] == [("T1", 4), ("T2", 5)]
    assert (replayed_two.replayed, replayed_two.events) == (True, written_two.events)


def test_an_append_waiting_longer_than_its_patience_is_refused_as_busy(
    ledger: Ledger, pool: ThreadPoolExecutor
) -> None:
    measure_id = impose_reciprocal(ledger)
    ledger.append_patience = 0.05
    held = Held(ledger)
    first = pool.submit(ledger.append_to_stream, measure_id, [rate_change("FIRST", "1")])
    assert held.entered.wait(10)
    before = last_notification_id(ledger)

    with pytest.raises(StreamBusy) as raised:
        ledger.append_to_stream(measure_id, [rate_change("LATE", "2")])
    held.gate.set()

    assert raised.value.stream_id == measure_id
    assert first.result(10).version == 2
    assert last_notification_id(ledger) == before
    assert event_ids(ledger, measure_id) == ["US-CN-RECIP-34", "FIRST"]


def test_a_stale_expected_version_costs_no_read_of_the_stream(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    for n in range(20):
        ledger.append_to_stream(measure_id, [rate_change(f"R{n}", "10")])
    loaded = ledger.events_loaded

    with pytest.raises(VersionConflict) as raised:
        ledger.append_to_stream(measure_id, [rate_change("STALE", "1")], expected_version=5)
    written = ledger.append_to_stream(measure_id, [rate_change("OK", "1")], expected_version=21)

    assert raised.value.current_version == 21
    assert written.version == 22
    assert ledger.events_loaded == loaded


def test_concurrent_appends_lose_nothing_and_each_keeps_its_order(ledger: Ledger) -> None:
    measure_id = impose_reciprocal(ledger)
    saves: list[int] = []
    ledger.after_commit(saves.append)

    def append_20(thread: int) -> None:
        for i in range(20):
            written = ledger.append_to_stream(measure_id, [rate_change(f"T{thread}-{i:02}", "1")])
            assert [e.event_id for e in written.events] == [f"T{thread}-{i:02}"]

    run_together(16, append_20)

    events = list(ledger.events.get(measure_id))
    assert [e.originator_version for e in events] == list(range(1, 322))
    ids = [str(getattr(e, "event_id", "")) for e in events[1:]]
    for thread in range(16):
        assert [i for i in ids if i.startswith(f"T{thread}-")] == [
            f"T{thread}-{i:02}" for i in range(20)
        ]
    assert len(saves) <= 320


# -- another process writing the same stream ------------------------------------------


@pytest.fixture
def two_ledgers(durable_database_url: str) -> Iterator[tuple[Ledger, Ledger]]:
    env = parse_database_url(durable_database_url).env
    first, second = Ledger(env), Ledger(env)
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def test_a_stale_expected_version_reads_only_the_events_after_the_kept_state(
    two_ledgers: tuple[Ledger, Ledger],
) -> None:
    first, second = two_ledgers
    measure_id = impose_reciprocal(first)
    for n in range(20):
        first.append_to_stream(measure_id, [rate_change(f"R{n}", "10")])
    second.append_to_stream(measure_id, [rate_change("OTHER-1", "5"), rate_change("OTHER-2", "6")])
    loaded = first.events_loaded

    with pytest.raises(VersionConflict) as raised:
        first.append_to_stream(measure_id, [rate_change("STALE", "1")], expected_version=21)
    written = first.append_to_stream(measure_id, [rate_change("OK", "1")], expected_version=23)

    assert raised.value.current_version == 23
    assert written.version == 24
    assert first.events_loaded - loaded == 2


class Raced(Ledger):
    """A Ledger whose saves another Ledger always beats to the store, `wins` times."""

    name = Ledger.name  # the same tables (the library names them after the application)
    rival: Ledger
    wins: int = 1_000_000

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        if self.wins > 0:
            self.wins -= 1
            stream_id = next(o.originator_id for o in objs if hasattr(o, "originator_id"))
            self.rival.append_to_stream(stream_id, [rate_change(f"RIVAL-{self.wins}", "5")])
        return super().save(*objs, **kwargs)


@durable
def test_an_append_raced_by_another_process_lands_on_the_stored_state(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = parse_database_url(store_url(backend, request, tmp_path)).env
    rival, raced = Ledger(env), Raced(env)
    raced.rival, raced.wins = rival, 2
    try:
        measure_id = impose_reciprocal(rival)

        written = raced.append_to_stream(measure_id, [rate_change("MINE", "1")])

        assert written.version == 4
        assert event_ids(rival, measure_id)[1:] == ["RIVAL-1", "RIVAL-0", "MINE"]
        raced.wins, raced.append_patience = 1_000_000, 0.05
        with pytest.raises(StreamBusy):
            raced.append_to_stream(measure_id, [rate_change("NEVER", "1")])
        assert "NEVER" not in event_ids(rival, measure_id)
    finally:
        raced.close()
        rival.close()
