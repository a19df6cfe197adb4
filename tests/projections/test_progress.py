"""Readers wait for a log position on what the projector tells, not on a hot loop."""

from __future__ import annotations

import threading
import time

import pytest

from projections.progress import ReadModelBehind, ReadModelProgress


class Database:
    """Where the read models are, as the database would say; counts how often it is asked."""

    def __init__(self, position: int = 0) -> None:
        self.position = position
        self.reads = 0

    def read(self) -> int:
        self.reads += 1
        return self.position


def test_a_position_already_reached_is_answered_at_once() -> None:
    progress = ReadModelProgress(Database(5).read)

    assert progress.wait_for(3, timeout=0) == 5


def test_a_waiting_reader_wakes_when_the_projector_tells_of_the_position() -> None:
    database = Database(1)
    progress = ReadModelProgress(database.read, poll_interval=60)
    waited: list[int] = []
    reader = threading.Thread(target=lambda: waited.append(progress.wait_for(2, timeout=30)))
    reader.start()

    database.position = 2
    progress.advance(2)
    reader.join(10)

    assert waited == [2]
    assert database.reads <= 3


def test_a_waiting_reader_reads_the_position_now_and_then_for_other_projectors() -> None:
    database = Database(1)
    progress = ReadModelProgress(database.read, poll_interval=0.05)
    threading.Timer(0.2, lambda: setattr(database, "position", 2)).start()

    started = time.monotonic()
    reached = progress.wait_for(2, timeout=10)

    assert reached == 2
    assert database.reads <= 2 + (time.monotonic() - started) / 0.05 + 1


def test_a_position_not_reached_in_time_says_where_the_read_models_are() -> None:
    progress = ReadModelProgress(Database(4).read, poll_interval=0.01)

    with pytest.raises(ReadModelBehind) as behind:
        progress.wait_for(9, timeout=0.05)

    assert (behind.value.asked, behind.value.reached) == (9, 4)
    assert "position 4, not 9" in behind.value.message


def test_read_models_dropped_for_a_rebuild_are_seen_to_start_again() -> None:
    database = Database(7)
    progress = ReadModelProgress(database.read)
    progress.current()

    database.position = 0
    progress.current()

    assert progress.position == 0
