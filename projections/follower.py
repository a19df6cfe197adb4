"""Keeps one process's read models current with the commits other processes make.

A process without a follower (the CLI) projects its own commits right after making them,
in the thread that committed (Projector.project_committed); in a process with one (a
server) the commit wakes the follower instead and returns at once. What another process
commits (the CLI's `append`, a second server) reaches this one
through the follower: a thread woken by the store's commit notifications (the process's
LogBell: LISTEN/NOTIFY on PostgreSQL; on SQLite the in-process commit signal, and the
subscription's poll for other processes' commits), and by a coarse poll of its own in
case a notification is lost. Each time, it catches up from the position the read models
have recorded, so it resumes where it stopped after any failure.

When the database goes away, catching up fails: the follower logs it and tries again
after a delay that doubles up to `max_backoff` (the store's connection pool reconnects;
the bell restarts its own subscription), then carries on from the tracked position.
"""

from __future__ import annotations

import logging
import threading

from projections.projector import Projector
from storage.bell import LogBell
from storage.undecodable import UndecodableEvent

logger = logging.getLogger(__name__)

DEFAULT_POLL_INTERVAL = 5.0
"""Seconds between catch-ups when no notification comes (notifications do the work)."""


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
    ) -> None:
        self.projector = projector
        self.bell = bell
        self.poll_interval = poll_interval
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.failures = 0
        """Catch-ups that failed in a row (0 while the store answers)."""
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Follower:
        """Start following (once); return self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="projection-follower", daemon=True
            )
            self._thread.start()
            self.bell.add(self._wake.set)
            self.projector.wake_follower = self._wake.set
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop following, once the batch being written (if any) has committed."""
        self.bell.discard(self._wake.set)
        self.projector.wake_follower = None
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        backoff = self.first_backoff
        while not self._stop.is_set():
            # Cleared before catching up: a commit notified meanwhile wakes the next round.
            self._wake.clear()
            try:
                self.projector.catch_up()
            except UndecodableEvent:
                # Stop mode: the projector has told of it; try again now and then, so
                # that it goes on once the row is repaired (or the setting changed).
                self.failures += 1
                self._stop.wait(self.max_backoff)
                continue
            except Exception:
                self.failures += 1
                logger.exception(
                    "the projection follower failed to catch up; trying again in %.1f s", backoff
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            self.failures, backoff = 0, self.first_backoff
            self._wake.wait(self.poll_interval)
