"""StreamQueue: writes to one stream wait in line; the oldest commits everything waiting.

A `commit` here is a plain function recording the batches it was given, held on a gate
when a test needs writes to pile up behind a leader; threads are real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidValue
from domain.stream_queue import StreamBusy, StreamQueue, Ticket

Batch = list[str]


class Recorder:
    """A commit that answers each write with its own job upper-cased (or an error for a
    job starting with "bad"), remembers the batches it saw, and can be held; a batch
    holding "boom" raises."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self.threads: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, tickets: Sequence[Ticket[str, str]]) -> None:
        self.entered.set()
        self.gate.wait(10)
        if any(ticket.job == "boom" for ticket in tickets):
            raise RuntimeError("the store went away")
        self.batches.append([ticket.job for ticket in tickets])
        self.threads.append(threading.current_thread().name)
        for ticket in tickets:
            if ticket.job.startswith("bad"):
                ticket.fail(InvalidValue("job", f"{ticket.job} is refused"))
            else:
                ticket.settle(ticket.job.upper())


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=32) as executor:
        yield executor


def soon(seconds: float = 10.0) -> float:
    return time.monotonic() + seconds


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition was not met in time"
        time.sleep(0.001)


def pile_up(
    queue: StreamQueue[str, str],
    commit: Recorder,
    pool: ThreadPoolExecutor,
    stream: UUID,
    jobs: Sequence[str],
    deadline: float | None = None,
) -> tuple[Future[str], list[Future[str]]]:
    """A first write leading (held in its commit), and `jobs` waiting behind it, in order."""
    commit.gate.clear()
    first = pool.submit(queue.write, stream, "first", commit, soon())
    assert commit.entered.wait(10)
    waiting = []
    for n, job in enumerate(jobs):
        waiting.append(pool.submit(queue.write, stream, job, commit, deadline or soon()))
        wait_until(lambda n=n: len(queue) == n + 2)  # type: ignore[misc]
    return first, waiting


def test_a_lone_write_is_committed_on_its_own_thread() -> None:
    queue: StreamQueue[str, str] = StreamQueue()
    commit = Recorder()

    result = queue.write(uuid4(), "alone", commit, soon())

    assert result == "ALONE"
    assert commit.batches == [["alone"]]
    assert commit.threads == [threading.current_thread().name]
    assert len(queue) == 0


def test_writes_waiting_behind_a_leader_are_committed_together_in_order(
    pool: ThreadPoolExecutor,
) -> None:
    queue: StreamQueue[str, str] = StreamQueue()
    commit = Recorder()
    first, waiting = pile_up(queue, commit, pool, uuid4(), ["a", "b", "c", "d"])

    commit.gate.set()

    assert first.result(10) == "FIRST"
    assert [future.result(10) for future in waiting] == ["A", "B", "C", "D"]
    assert commit.batches == [["first"], ["a", "b", "c", "d"]]
    assert len(queue) == 0


def test_a_refused_write_fails_alone(pool: ThreadPoolExecutor) -> None:
    queue: StreamQueue[str, str] = StreamQueue()
    commit = Recorder()
    _, waiting = pile_up(queue, commit, pool, uuid4(), ["a", "bad-b", "c"])

    commit.gate.set()

    assert waiting[0].result(10) == "A"
    with pytest.raises(InvalidValue, match="bad-b is refused"):
        waiting[1].result(10)
    assert waiting[2].result(10) == "C"


def test_a_leader_takes_at_most_max_batch_writes(pool: ThreadPoolExecutor) -> None:
    queue: StreamQueue[str, str] = StreamQueue(max_batch=2)
    commit = Recorder()
    _, waiting = pile_up(queue, commit, pool, uuid4(), ["a", "b", "c", "d", "e"])

    commit.gate.set()

    assert [future.result(10) for future in waiting] == ["A", "B", "C", "D", "E"]
    assert commit.batches == [["first"], ["a", "b"], ["c", "d"], ["e"]]


def test_streams_do_not_wait_for_each_other(pool: ThreadPoolExecutor) -> None:
    queue: StreamQueue[str, str] = StreamQueue()
    held = Recorder()
    first, _ = pile_up(queue, held, pool, uuid4(), [])

    other = queue.write(uuid4(), "elsewhere", Recorder(), soon())

    assert other == "ELSEWHERE"
    assert not first.done()
    held.gate.set()
    assert first.result(10) == "FIRST"


def test_a_write_still_waiting_at_its_deadline_leaves_busy_and_is_never_committed(
    pool: ThreadPoolExecutor,
) -> None:
    queue: StreamQueue[str, str] = StreamQueue()
    commit = Recorder()
    stream = uuid4()
    _, (late,) = pile_up(queue, commit, pool, stream, ["late"], deadline=soon(0.05))

    with pytest.raises(StreamBusy) as raised:
        late.result(10)
    after = pool.submit(queue.write, stream, "after", commit, soon())
    commit.gate.set()

    assert raised.value.stream_id == stream
    assert raised.value.rule == "stream_busy"
    assert after.result(10) == "AFTER"
    assert ["late"] not in commit.batches
    assert all("late" not in batch for batch in commit.batches)
    assert len(queue) == 0


def test_a_commit_that_raises_fails_its_batch_and_hands_the_lead_on(
    pool: ThreadPoolExecutor,
) -> None:
    queue: StreamQueue[str, str] = StreamQueue(max_batch=2)
    commit = Recorder()
    _, waiting = pile_up(queue, commit, pool, uuid4(), ["boom", "a", "b"])

    commit.gate.set()

    for failed in waiting[:2]:
        with pytest.raises(RuntimeError, match="the store went away"):
            failed.result(10)
    assert waiting[2].result(10) == "B"
    assert commit.batches == [["first"], ["b"]]
    assert len(queue) == 0


def test_sixteen_writers_on_one_stream_each_get_their_own_answer(
    pool: ThreadPoolExecutor,
) -> None:
    queue: StreamQueue[str, str] = StreamQueue()
    commit = Recorder()
    stream = uuid4()
    start = threading.Barrier(16)

    def writer(number: int) -> list[str]:
        start.wait()
        return [queue.write(stream, f"w{number}-{n}", commit, soon()) for n in range(50)]

    results = [future.result(30) for future in [pool.submit(writer, n) for n in range(16)]]

    assert results == [[f"W{w}-{n}" for n in range(50)] for w in range(16)]
    committed = [job for batch in commit.batches for job in batch]
    assert sorted(committed) == sorted(f"w{w}-{n}" for w in range(16) for n in range(50))
    assert len(queue) == 0
