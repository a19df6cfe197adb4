"""The PostgreSQL connection pool that fails fast: an unreachable server costs a caller
milliseconds, not the library pool's waits multiplied by its retries.

With the library's pool a request to a stopped server waited 47 s (nine 5 s pool waits
inside a ten-try retry), and the first request after the server came back 13 s (the pool's
own reconnect backoff). FailFastPool bounds the wait for a connection
(POSTGRES_STORE_TIMEOUT), lets each caller try its own connection while the server is
known to be down (refused in about 1 ms), checks connections idle for a while before
handing them out, drops every idle connection once one is found dead, and sets TCP
keepalives and a user timeout so that a vanished server is noticed. storage.postgres
installs it in place of the library's pool.

In detail (measured and designed in issue #13):

The library's pool waits ``POSTGRES_CONNECT_TIMEOUT`` (5 s) for a connection, and
its recorder methods retry ten times, 0.2 s apart: with the server stopped a request
took 47 s to fail (measured: one failure on a dead pooled connection, then nine
pool timeouts), and after the server came back the pool was still in its reconnect
backoff (the first request took 13 s). :class:`FailFastPool` replaces that pool:

* a request waits at most ``POSTGRES_STORE_TIMEOUT`` seconds (default 2) for a
  connection, then gets :class:`~storage.backoff.StoreUnavailable`, which the
  library's retries do not catch;
* once a connection was found dead or a connection attempt failed, each request
  first makes a connection attempt of its own (refused in about a millisecond when
  the server is down), so that an outage is reported at once, and the first
  request after the server is back succeeds;
* a connection idle for more than a second is checked with an empty query before it
  is handed out, and when one is found broken (checked, or returned broken after an
  error) the pool drops every idle connection, which died with it;
* connections are opened with a connect timeout, TCP keepalives and a TCP user
  timeout (a partitioned server is noticed), and ``statement_timeout`` set to
  ``POSTGRES_STATEMENT_TIMEOUT`` seconds (0: none);
* the pool never sits in a long reconnect backoff of its own: a failed connection
  attempt is given up at once, and the next request that needs one makes another.

Our recorder methods retry once, 50 ms later, an OperationalError or InterfaceError
(a connection that died under a statement, a lock timeout): never StoreUnavailable.
"""

from __future__ import annotations

import math
import time
import weakref
from typing import Any

import eventsourcing.postgres as es_postgres
from psycopg import Connection
from psycopg.rows import DictRow
from psycopg.sql import SQL
from psycopg_pool import PoolTimeout

from storage.backoff import StoreUnavailable, one_line

DEFAULT_STORE_TIMEOUT = 2.0
"""Seconds a caller waits for a connection before StoreUnavailable (POSTGRES_STORE_TIMEOUT)."""

PING_AFTER_IDLE = 1.0
"""Seconds of idleness after which a pooled connection is checked before it is handed
out (an empty query: about 0.1 ms on a local server). Connections in steady use are not."""

TCP_USER_TIMEOUT_MS = 10_000
"""How long sent data may stay unacknowledged before the connection counts as dead (a
partitioned server; without it, TCP retransmits for about fifteen minutes)."""

_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 2,
    "keepalives_count": 3,
}
"""An idle connection (the bell's LISTEN) to a vanished server is noticed in about 16 s."""


class FailFastPool(es_postgres.ConnectionPool[Connection[DictRow]]):
    """The library's connection pool, answering fast when the server is unreachable and
    handing out no connection that died while idle (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.probe_first = False
        """Set when a connection was found dead or a connection attempt failed: the next
        request makes a connection attempt of its own before it waits for the pool."""
        self._last_used: weakref.WeakKeyDictionary[Connection[DictRow], float] = (
            weakref.WeakKeyDictionary()
        )

    def getconn(self, timeout: float | None = None) -> Connection[DictRow]:
        """A live connection within `timeout` (default: the pool's) seconds, or
        StoreUnavailable."""
        budget = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        while True:
            if self.probe_first:
                self._probe()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StoreUnavailable(f"no live connection to PostgreSQL within {budget:g} s")
            try:
                conn = super().getconn(remaining)
            except PoolTimeout as error:
                raise StoreUnavailable(
                    f"no connection to PostgreSQL within {budget:g} s "
                    "(the server does not answer, or every connection is busy)"
                ) from error
            if self._alive(conn):
                return conn
            # It died while idle: the server went away or restarted, and its siblings
            # with it. Returned broken, it makes the pool drop them (putconn).
            self.probe_first = True
            self.putconn(conn)

    def putconn(self, conn: Connection[DictRow]) -> None:
        if conn.closed:
            # Broken under a statement (the server stopped or restarted): the idle ones
            # are most likely dead too.
            self.probe_first = True
            super().putconn(conn)
            self._drop_idle()
            return
        self._last_used[conn] = time.monotonic()
        super().putconn(conn)

    def _connect(self, timeout: float | None = None) -> Connection[DictRow]:
        # Every connection attempt, the pool's and the probes, tells whether the server
        # accepts connections.
        try:
            conn = super()._connect(timeout)
        except Exception:
            self.probe_first = True
            raise
        self.probe_first = False
        self._last_used[conn] = time.monotonic()
        return conn

    def _probe(self) -> None:
        """Connect (and disconnect) now: StoreUnavailable if the server refuses. (The
        connections that died with the server were dropped when one was found dead.)"""
        try:
            self._connect().close()
        except Exception as error:
            raise StoreUnavailable(f"PostgreSQL is unreachable: {one_line(error)}") from error

    def _alive(self, conn: Connection[DictRow]) -> bool:
        if time.monotonic() - self._last_used.get(conn, 0.0) < PING_AFTER_IDLE:
            return True
        try:
            self.check_connection(conn)
        except Exception:
            return False
        return True

    def _drop_idle(self) -> None:
        drain = getattr(self, "drain", None)  # psycopg_pool >= 3.3
        if drain is not None:
            drain()
        else:
            self.check()


def fail_fast_pool(
    datastore: es_postgres.PostgresDatastore,
    store_timeout: float = DEFAULT_STORE_TIMEOUT,
    statement_timeout: float = 0.0,
) -> FailFastPool:
    """A FailFastPool to replace `datastore`'s (not yet opened) pool, with its sizes,
    credentials and connection set-up, and the timeouts given (in seconds)."""
    library_pool = datastore.pool
    assert isinstance(library_pool.kwargs, dict), "the library passes a dict of kwargs"
    kwargs = {
        **library_pool.kwargs,
        **_KEEPALIVES,
        "connect_timeout": max(2, math.ceil(store_timeout)),  # libpq's minimum is 2 s
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
    }
    after_connect = datastore.after_connect_func()
    set_statement_timeout = SQL("SET statement_timeout = {0}").format(int(statement_timeout * 1000))

    def configure(conn: Connection[Any]) -> None:
        after_connect(conn)  # autocommit, idle_in_transaction_session_timeout
        conn.execute(set_statement_timeout)

    return FailFastPool(
        connection_class=library_pool.connection_class,
        kwargs=kwargs,
        min_size=library_pool.min_size,
        max_size=library_pool.max_size,
        open=False,
        configure=configure,
        timeout=store_timeout,
        max_waiting=library_pool.max_waiting,
        max_lifetime=library_pool.max_lifetime,
        # Never back off between reconnection attempts for minutes, as the pool does by
        # default: a failed attempt is given up, and the next request makes a new one.
        reconnect_timeout=0.0,
        get_password_func=library_pool.get_password_func,
    )
