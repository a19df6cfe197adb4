"""One writer per stream in this process: writes to a stream queue up, and the oldest
writes them all in one go (group commit).

Writers racing for one stream through the store lose: every loser's insert conflicts,
reloads the stream and tries again, so sixteen writers on one stream did a twentieth
of the work of one, and after 30 s a writer that asked for no version check was told
of a version conflict. Here a write to a stream joins that stream's line instead. The
write at the front of the line is the *leader*: it takes every write waiting behind
it (up to `max_batch`), hands them to `commit` in arrival order, answers each of them,
and passes the lead to the oldest write that arrived meanwhile. So a stream has one
writer in this process, a busy stream costs one transaction per batch rather than one
per write, and no thread leads for longer than one batch.

Each write has a deadline. One that is still waiting in line when it passes leaves
the line with StreamBusy, a retryable error that says nothing was recorded; one that
a leader has taken is answered by that leader (whose `commit` also honours the
deadlines when it has to try again).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar
from uuid import UUID

from domain.errors import DomainError

_J = TypeVar("_J")
_R = TypeVar("_R")

DEFAULT_MAX_BATCH = 64
"""Writes a leader takes at once: a bound on one transaction, not a limit on anyone."""


class StreamBusy(DomainError):
    """A write to a stream could not be made in time: its line was too long, or other
    processes kept changing the stream. Nothing of it was recorded; try again later."""

    rule = "stream_busy"

    def __init__(self, stream_id: UUID, waited: float) -> None:
        super().__init__(
            f"stream {stream_id} is too busy: the write could not be made within "
            f"{waited:.1f} s; nothing was recorded, try again"
        )
        self.stream_id = stream_id
        self.waited = waited


class Ticket(Generic[_J, _R]):
    """A write waiting for its answer: `job` is the write, `deadline` (time.monotonic())
    when it stops waiting. The leader that takes it gives it a `result` or an `error`."""

    __slots__ = ("_answered", "_error", "_result", "_taken", "_wake", "deadline", "job", "started")

    def __init__(self, job: _J, deadline: float) -> None:
        self.job = job
        self.started = time.monotonic()
        self.deadline = deadline
        self._wake = threading.Event()
        self._taken = False
        self._answered = False
        self._result: _R | None = None
        self._error: BaseException | None = None

    @property
    def answered(self) -> bool:
        return self._answered

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def settle(self, result: _R) -> None:
        """Answer the write with its result (the first answer stands)."""
        if not self._answered:
            self._result, self._answered = result, True

    def fail(self, error: BaseException) -> None:
        """Answer the write with an error, raised in the writer's thread (the first
        answer stands)."""
        if not self._answered:
            self._error, self._answered = error, True

    def outcome(self) -> _R:
        if self._error is not None:
            raise self._error
        assert self._answered, "a ticket is read only once answered"
        return self._result  # type: ignore[return-value]


Commit = Callable[[Sequence[Ticket[_J, _R]]], None]
"""What the leader does with the writes it took (all to one stream, oldest first):
answers each of them, with `settle` or `fail`."""


class StreamQueue(Generic[_J, _R]):
    """A line of writes per stream, each line led by its oldest write."""

    def __init__(self, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("a leader must take at least one write")
        self.max_batch = max_batch
        self._lines: dict[UUID, deque[Ticket[_J, _R]]] = {}
        self._lock = threading.Lock()

    def write(self, stream_id: UUID, job: _J, commit: Commit[_J, _R], deadline: float) -> _R:
        """Join the line of the stream, and return once `job` is answered: by `commit`
        called on this thread (leading a batch), or on the thread of another write.
        StreamBusy when the deadline passes before any leader took the write."""
        ticket: Ticket[_J, _R] = Ticket(job, deadline)
        with self._lock:
            line = self._lines.setdefault(stream_id, deque())
            line.append(ticket)
            leads = len(line) == 1
        if not leads and not self._await_lead_or_answer(stream_id, ticket):
            return ticket.outcome()
        self._lead(stream_id, ticket, commit)
        return ticket.outcome()

    def __len__(self) -> int:
        """How many writes are in line, over every stream (the leaders' batches too)."""
        with self._lock:
            return sum(len(line) for line in self._lines.values())

    def _await_lead_or_answer(self, stream_id: UUID, ticket: Ticket[_J, _R]) -> bool:
        """Wait to be answered (False) or to lead (True); StreamBusy at the deadline if
        no leader took the write by then. (The lead is handed on under the lock, so a
        write not told to lead is never at the front of its line.)"""
        while True:
            woken = ticket._wake.wait(max(0.0, ticket.deadline - time.monotonic()))
            if woken:
                return not ticket.answered
            with self._lock:
                if not ticket._taken and not ticket._wake.is_set():
                    self._lines[stream_id].remove(ticket)
                    raise StreamBusy(stream_id, time.monotonic() - ticket.started)
            if ticket._taken:
                ticket._wake.wait()  # a leader has it: it answers, whatever happens
                return not ticket.answered

    def _lead(self, stream_id: UUID, ticket: Ticket[_J, _R], commit: Commit[_J, _R]) -> None:
        """Commit the batch `ticket` heads, answer it, and hand the lead on."""
        with self._lock:
            line = self._lines[stream_id]
            batch = [line[n] for n in range(min(len(line), self.max_batch))]
            for taken in batch:
                taken._taken = True
        try:
            commit(batch)
        except BaseException as error:
            for taken in batch:
                taken.fail(error)
            raise
        finally:
            for taken in batch:
                taken.fail(RuntimeError("the leader left a write of its batch unanswered"))
            with self._lock:
                for _ in batch:
                    line.popleft()
                if line:
                    line[0]._wake.set()  # the oldest write left leads next
                else:
                    del self._lines[stream_id]
            for taken in batch:
                if taken is not ticket:
                    taken._wake.set()
