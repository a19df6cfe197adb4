"""Keeps one process's read models current with the commits other processes make.

A process without a follower (the CLI) projects its own commits right after making them,
in the thread that committed (Projector.project_committed); in a process with one (a
server) the commit wakes the follower instead and returns at once. What another process
commits (the CLI's `append`, a second server) reaches this one
through the follower: a thread woken by the store's commit notifications (the process's
LogBell: LISTEN/NOTIFY on PostgreSQL; on SQLite the in-process commit signal, and the
subscription's poll for other processes' commits), and by a coarse poll of its own in
case a notification is lost. Each time, it catches up from the position the read models
have recorded, so it resumes where it stopped after any failure. The projection worker
(`tradeledger project`) is a follower too, in a process of its own.

When the store goes away, catching up fails: the follower tries again with backoff
(`first_backoff` seconds, doubling to `max_backoff`, jittered; a warning when the store
is lost and when it is back, see storage.backoff), or as soon as the bell rings (it
rings once it listens again), then carries on from the tracked position. Any other
error stops the follower, named in one line in the log and kept in `error`; the process
then projects its own commits itself, as one without a follower does.
"""

from __future__ import annotations

import logging
import threading

from projections.projector import Projector
from storage.backoff import Backoff, Retrying, is_transient, one_line
from storage.bell import LogBell
from storage.undecodable import UndecodableEvent

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 5.0
"""Seconds between catch-ups when no notification comes (notifications do the work)."""

UNDECODABLE_RETRY_SECONDS = 5.0
"""How often a follower stopped before an undecodable event (stop mode) looks again."""


class Follower:
    """A thread that projects, in this process, what any process commits to the store."""

    def __init__(
        self,
        projector: Projector,
        bell: LogBell,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        first_backoff: float = 0.1,
        max_backoff: float = 5.0,
        batch_limit: int | None = None,
        name: str = "the projection follower",
    ) -> None:
        """`batch_limit` bounds the events projected between two looks at `stop()` (the
        worker stops between batches); None catches up in one go, pipelined."""
        self.projector = projector
        self.bell = bell
        self.poll_interval = poll_interval
        self.backoff = Backoff(first=first_backoff, cap=max(max_backoff, first_backoff))
        self.batch_limit = batch_limit
        self.name = name
        self.projected = 0
        """Events projected by this follower so far."""
        self.caught_up = threading.Event()
        """Set once the follower has first reached the end of the log."""
        self.error: BaseException | None = None
        """The error that stopped the follower, if one did (never a transient one)."""
        self._retrying = Retrying(name, logger, self.backoff)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def failures(self) -> int:
        """Catch-ups that failed in a row (0 while the store answers)."""
        return self._retrying.failures

    def start(self) -> Follower:
        """Start following (once); return self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="projection-follower", daemon=True
            )
            self.projector.wake_follower = self._wake.set
            self._thread.start()
            self.bell.add(self._wake.set)
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop following, once the batch being written (if any) has committed."""
        self.bell.discard(self._wake.set)
        self._unhook()
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _unhook(self) -> None:
        if self.projector.wake_follower == self._wake.set:
            self.projector.wake_follower = None

    def _run(self) -> None:
        try:
            self._follow()
        finally:
            # Commits of this process are projected by the thread that made them again.
            self._unhook()

    def _follow(self) -> None:
        while not self._stop.is_set():
            # Cleared before catching up: a commit notified meanwhile wakes the next round.
            self._wake.clear()
            try:
                projected = self.projector.catch_up(limit=self.batch_limit)
            except UndecodableEvent:
                # Stop mode: the projector has told of it; try again now and then, so
                # that it goes on once the row is repaired (or the setting changed).
                self._stop.wait(UNDECODABLE_RETRY_SECONDS)
                continue
            except Exception as error:
                if not is_transient(error):
                    self.error = error
                    logger.error("%s stopped: %s", self.name, one_line(error))
                    return
                # A ring of the bell (it reconnected) cuts the wait short.
                self._wake.wait(self._retrying.failed(error))
                continue
            self._retrying.recovered()
            self.projected += projected
            if self.batch_limit is not None and projected >= self.batch_limit:
                continue  # more to come, most likely
            self.caught_up.set()
            self._wake.wait(self.poll_interval)
