"""How far the read models have got, and waiting until they get somewhere.

A writer is told the log position its write reached; a reader that asks for it
(`min_position`) waits here until the read models have projected that far. The
projector of this process says where it has got after every batch it commits (from
the writing thread or the follower), which wakes the waiting readers at once; a
waiting reader also reads the position from the database every `poll_interval`
seconds, for a projector in another process that nobody here hears about.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ReadModelBehind(Exception):
    """The read models did not reach the position a reader asked for within its wait."""

    def __init__(self, asked: int, reached: int, waited: float) -> None:
        super().__init__(
            f"the read models have reached log position {reached}, not {asked} as asked, "
            f"after waiting {waited:g} s; try again shortly"
        )
        self.message = str(self)
        self.asked = asked
        self.reached = reached
        self.waited = waited


DEFAULT_POLL_INTERVAL = 0.5
"""Seconds between a waiting reader's reads of the position, should no projector here
tell it of progress (the projector being another process)."""


class ReadModelProgress:
    """The read models' position as this process last learnt it, for readers to wait on."""

    def __init__(
        self, read_position: Callable[[], int], poll_interval: float = DEFAULT_POLL_INTERVAL
    ) -> None:
        self._read_position = read_position
        self.poll_interval = poll_interval
        self._position = 0
        self._changed = threading.Condition()
        self.committed = 0
        """The last log position this process itself committed: its readers wait for it
        (read-your-writes within a process, without asking for a position)."""

    @property
    def position(self) -> int:
        """The last position learnt (0 before any)."""
        return self._position

    def note_committed(self, position: int) -> None:
        """This process has committed up to `position` (called after every save)."""
        self.committed = max(self.committed, position)

    def advance(self, position: int) -> None:
        """The read models have committed everything up to `position`: wake the readers
        waiting for it. A position older than one already learnt changes nothing."""
        with self._changed:
            if position > self._position:
                self._position = position
                self._changed.notify_all()

    def current(self) -> int:
        """The read models' position, read from the database now (and learnt: lower than
        the last one learnt only when the read models were dropped to be rebuilt)."""
        before = self._position
        position = self._read_position()
        with self._changed:
            if position > self._position:
                self._position = position
                self._changed.notify_all()
            elif position < before:
                self._position = position
        return position

    def wait_for(self, position: int, timeout: float) -> int:
        """The read models' position, read from the database once it is `position` or later.

        Reads it now, then again each time the projector of this process tells of
        progress that reaches `position`, or every `poll_interval` seconds. Raises
        ReadModelBehind after `timeout` seconds.
        """
        reached = self.current()
        deadline = time.monotonic() + timeout
        while reached < position:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReadModelBehind(position, reached, timeout)
            with self._changed:
                self._changed.wait_for(
                    lambda: self._position >= position, min(remaining, self.poll_interval)
                )
            reached = self.current()
        return reached
