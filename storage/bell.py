"""A wake-up call for the followers of the log: the store's push notifications
(LISTEN/NOTIFY on PostgreSQL, the in-process commit signal on SQLite) turned into a ring
for any number of followers, through one subscription per process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from domain.ledger import Ledger
from storage.backoff import Backoff, Retrying, is_transient, one_line
from storage.postgres import LedgerPostgresApplicationRecorder

logger = logging.getLogger(__name__)

Ring = Callable[[], None]


class LogBell:
    """Rings every registered callback soon after the log grows.

    One subscription to the store (on PostgreSQL a bare LISTEN, elsewhere
    `recorder.subscribe()`, i.e. SQLite's in-process commit signal and its poll for
    other processes' writes) serves every follower of this process: N clients
    cost one LISTEN connection, not N, and a slow client slows nobody else, because each
    follower reads the log itself, from its own cursor, when woken. The bell carries no
    data, so a missed or duplicated ring can delay a follower but never make it skip or
    repeat an event; followers also re-read on a timer as a safety net.

    The subscription runs on a thread started with the first callback. When the store
    goes away it reconnects with backoff (`restart_delay` seconds first, doubling up to
    `max_delay`, jittered; a warning per change of state, see storage.backoff), and
    rings everyone once it listens again, in case something committed meanwhile. An
    error that is not the store being unreachable stops the thread, logged in one line
    (followers then still re-read on their timers). `close()` stops it.
    """

    def __init__(self, ledger: Ledger, restart_delay: float = 0.1, max_delay: float = 5.0) -> None:
        self.ledger = ledger
        self.backoff = Backoff(first=restart_delay, cap=max(max_delay, restart_delay))
        self.error: BaseException | None = None
        """What stopped the subscription for good, if anything did."""
        self._rings: set[Ring] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._subscription: Any = None

    def add(self, ring: Ring) -> None:
        """Call `ring` (from the bell's thread; it must be quick) whenever the log grows."""
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError("the bell is closed")
            self._rings.add(ring)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="log-bell", daemon=True)
                self._thread.start()

    def discard(self, ring: Ring) -> None:
        with self._lock:
            self._rings.discard(ring)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the subscription and its thread."""
        with self._lock:
            self._closed.set()
            subscription, thread = self._subscription, self._thread
        if subscription is not None:
            subscription.stop()
        if thread is not None:
            thread.join(timeout)

    def _ring_all(self) -> None:
        with self._lock:
            rings = list(self._rings)
        for ring in rings:
            try:
                ring()
            except Exception:  # one broken follower must not silence the others
                logger.exception("a log follower's wake-up call failed")

    def _run(self) -> None:
        retrying = Retrying("the log bell", logger, self.backoff)
        while not self._closed.is_set():
            try:
                self._follow(retrying)
            except Exception as error:
                if self._closed.is_set():
                    return
                if not is_transient(error):
                    self.error = error
                    logger.error("the log bell stopped: %s", one_line(error))
                    return
                self._closed.wait(retrying.failed(error))

    def _follow(self, retrying: Retrying) -> None:
        recorder = self.ledger.recorder
        if isinstance(recorder, LedgerPostgresApplicationRecorder):
            # LISTEN alone: the bell needs no notifications selected for it. The first
            # ring comes once LISTEN is in place, for what committed before it was.
            for _ in recorder.listen_for_commits(self._closed):
                retrying.recovered()
                self._ring_all()
            return
        with recorder.subscribe(gt=recorder.max_notification_id() or 0) as subscription:
            with self._lock:
                if self._closed.is_set():
                    return
                self._subscription = subscription
            retrying.recovered()
            # Anything committed before the subscription started is news to followers
            # that registered before it did.
            self._ring_all()
            for _notification in subscription:
                self._ring_all()
