"""What a long-running loop waits out when the store goes away, and how long it waits.

Every loop that lives as long as its process (the projection worker, a server's
follower thread and log bell, and later the relay, alert and webhook workers) meets
the store's outages the same way:

* `is_transient(error)` says whether an error is the store being unreachable or
  restarting (worth waiting out) or anything else (a bug, a broken row, a missing table:
  the loop stops and names it in one line, `one_line(error)`);
* `Backoff` is the policy: exponential from `first` to `cap` seconds, jittered so that
  processes restarted together do not reconnect in lockstep;
* `Retrying` is one loop's state: the delay before each next attempt, and a warning
  when the state changes (the store lost, a new kind of failure, the store back), not
  one per attempt.

A loop looks like::

    retrying = Retrying("the projection worker", logger)
    while not stopped.is_set():
        try:
            step()
        except Exception as error:
            if not is_transient(error):
                logger.error("the projection worker stopped: %s", one_line(error))
                raise
            stopped.wait(retrying.failed(error))
            continue
        retrying.recovered()

`StoreUnavailable` is what the PostgreSQL store raises when it cannot give a connection
within its time budget (see storage.postgres); it is transient too.
"""

from __future__ import annotations

import logging
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError

__all__ = [
    "DEFAULT_BACKOFF",
    "Backoff",
    "Retrying",
    "StoreUnavailable",
    "is_transient",
    "one_line",
]


class StoreUnavailable(PersistenceError):
    """The store could not be reached within the time a caller may wait for it.

    Deliberately not an OperationalError or InterfaceError: the library's recorder
    methods retry those ten times, 0.2 s apart, each time waiting again for a
    connection; an unreachable store is reported to the caller at once instead.
    """


_TRANSIENT: tuple[type[BaseException], ...] = (
    StoreUnavailable,
    OperationalError,  # the library's: lost connections, refused ones, timeouts, restarts
    InterfaceError,
    ConnectionError,  # refused, reset, broken pipe
    TimeoutError,
)


def is_transient(error: BaseException) -> bool:
    """Whether `error` (or what it was raised from) is the store being unreachable,
    restarting or timing out, rather than a fault that waiting would not mend.

    Transient: StoreUnavailable; the library's OperationalError and InterfaceError
    (which is what it makes of the drivers' connection errors: "terminating connection
    due to administrator command", "connection refused", a pool timeout, a lock or
    statement timeout, SQLite's "database is locked"); psycopg's OperationalError and
    InterfaceError met outside the library; ConnectionError and TimeoutError.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _TRANSIENT) or _is_psycopg_transient(current):
            return True
        current = current.__cause__
    return False


def _is_psycopg_transient(error: BaseException) -> bool:
    # Only if the driver is loaded: a process on SQLite never imports it.
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(
        error, psycopg.OperationalError | psycopg.InterfaceError
    )


def one_line(error: BaseException) -> str:
    """`Kind: message` on one line, for logs and exit messages."""
    text = re.sub(r"\s+", " ", str(error)).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: the n-th retry waits between half and all of
    `first * factor**(n-1)`, capped at `cap` seconds (so never more than `cap`)."""

    first: float = 0.1
    cap: float = 5.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.first <= self.cap or self.factor < 1:
            raise ValueError(f"not a backoff: {self}")

    def delay(
        self, attempt: int, uniform: Callable[[float, float], float] = random.uniform
    ) -> float:
        """Seconds to wait before retry number `attempt` (1 for the first)."""
        ceiling = min(self.cap, self.first * self.factor ** max(attempt - 1, 0))
        return uniform(ceiling / 2, ceiling)


DEFAULT_BACKOFF = Backoff()
"""0.1 s, doubling up to 5 s."""


class Retrying:
    """One long-running loop's dealings with an unreachable store.

    `failed(error)` counts a failed attempt and returns how long to wait before the next;
    `recovered()` says an attempt worked. Warnings go to `logger` once per change of
    state: when the loop first fails, when the kind of failure changes (say from
    "terminating connection" to "connection refused"), and when it recovers. Each attempt
    in between is logged at debug level only.
    """

    def __init__(
        self,
        what: str,
        logger: logging.Logger,
        backoff: Backoff = DEFAULT_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.logger = logger
        self.backoff = backoff
        self.failures = 0
        """Attempts failed in a row (0 while the store answers)."""
        self._clock = clock
        self._since = 0.0
        self._kind: type[BaseException] | None = None

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def failed(self, error: BaseException) -> float:
        """Count a failed attempt; the seconds to wait before the next one."""
        self.failures += 1
        delay = self.backoff.delay(self.failures)
        if self.failures == 1:
            self._since = self._clock()
            self._kind = type(error)
            self.logger.warning(
                "%s lost the store (%s); reconnecting, first in %.2f s, backing off to %g s",
                self.what,
                one_line(error),
                delay,
                self.backoff.cap,
            )
        elif type(error) is not self._kind:
            self._kind = type(error)
            self.logger.warning(
                "%s still cannot reach the store after %d attempts (%s); next in %.2f s",
                self.what,
                self.failures,
                one_line(error),
                delay,
            )
        else:
            self.logger.debug(
                "%s: attempt %d failed (%s); next in %.2f s",
                self.what,
                self.failures,
                one_line(error),
                delay,
            )
        return delay

    def recovered(self) -> None:
        """An attempt worked: log the recovery once if attempts had failed."""
        if self.failures:
            self.logger.warning(
                "%s reconnected to the store after %d failed attempts (%.1f s)",
                self.what,
                self.failures,
                self._clock() - self._since,
            )
        self.failures = 0
        self._kind = None
