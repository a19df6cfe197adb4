"""PostgreSQL store: record times, one-round-trip appends, safe concurrent start-up.

Select with ``PERSISTENCE_MODULE=storage.postgres`` and the library's
``POSTGRES_*`` variables. ``POSTGRES_ENABLE_DB_FUNCTIONS`` is ignored: our recorders
always append through the function described below.

Record time
    Column ``recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()``, filled by
    the server at insert. The library's INSERT names its columns, so the defaulted
    extra column needs no change to it. Inserts hold the EXCLUSIVE table lock (see
    below), so record times are non-decreasing in notification-id order.

One round trip per append
    The library's recorder appends in a transaction (BEGIN, SET lock_timeout, LOCK
    TABLE, NOTIFY, INSERT, COMMIT). Its POSTGRES_ENABLE_DB_FUNCTIONS path is a single
    statement but takes no table lock, so a reader following notification ids can
    pass over an id that commits later. Our plpgsql function does both: it takes
    ``LOCK TABLE ... IN EXCLUSIVE MODE`` (within the datastore's lock_timeout),
    inserts via ``unnest(events)`` returning the notification ids, and NOTIFYs the
    channel; :meth:`LedgerPostgresApplicationRecorder.insert_events` calls it as one
    prepared statement in autocommit mode. Commit order therefore equals
    notification-id order, as with the library's locking path.

Concurrent schema creation
    The library's ``create_table`` runs ``CREATE TYPE`` / ``CREATE TABLE IF NOT
    EXISTS`` / ``CREATE OR REPLACE FUNCTION`` unserialised, and processes starting
    together on an empty database fail with "tuple concurrently updated" or
    duplicate-key errors. Ours runs all of it in one transaction holding
    ``pg_advisory_xact_lock(SCHEMA_LOCK_KEY)``.

Tables must be created by these recorders: a table created by the library's own
recorders lacks ``recorded_at``. (Adding it later with a volatile default would
stamp every existing event with the time of the migration.)

Failing fast when the server is down
    The library's pool is replaced by storage.postgres_pool.FailFastPool (a request to an
    unreachable server fails in milliseconds, not 47 s; see there). Our recorder methods
    retry once, 50 ms later, an OperationalError or InterfaceError (a connection that
    died under a statement, a lock timeout): never StoreUnavailable.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC
from threading import Event
from typing import Any, ParamSpec, TypeVar, cast

import eventsourcing.postgres as es_postgres
import psycopg.errors
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent, Tracking
from eventsourcing.utils import Environment, EnvType, retry
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Composable, Identifier

from storage import NotificationRange, RecordedNotification, RecordTimeRecorder
from storage.postgres_pool import DEFAULT_STORE_TIMEOUT, FailFastPool, fail_fast_pool
from storage.recorder_check import ensure_recorder_class

__all__ = [
    "SCHEMA_LOCK_KEY",
    "Factory",
    "FailFastPool",
    "LedgerPostgresApplicationRecorder",
    "LedgerPostgresFactory",
    "LedgerPostgresProcessRecorder",
    "recheck_tracking_table",
]

SCHEMA_LOCK_KEY = int.from_bytes(b"tl_schem", "big")
"""Advisory lock key serialising schema creation by all tradeledger processes."""

_MAX_IDENTIFIER_LEN = es_postgres.PostgresRecorder.MAX_IDENTIFIER_LEN

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _retry_once(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Retry a recorder method once, 50 ms later, on an OperationalError or
    InterfaceError (a connection that died under the statement, a lock timeout); never on
    StoreUnavailable, so that an unreachable store costs a caller one wait, not ten."""
    decorator = retry((InterfaceError, OperationalError), max_attempts=2, wait=0.05)
    return cast(Callable[_P, _R], decorator(func))


class LedgerPostgresApplicationRecorder(
    es_postgres.PostgresApplicationRecorder, RecordTimeRecorder
):
    """The library's PostgreSQL application recorder, with the changes in the module doc."""

    def __init__(
        self,
        datastore: es_postgres.PostgresDatastore,
        *,
        events_table_name: str = "stored_events",
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.append_function_name = _append_function_name(events_table_name)
        names = {
            "schema": Identifier(self.datastore.schema),
            "table": Identifier(self.events_table_name),
            "originator_id_type": Identifier(self.datastore.originator_id_type),
            "event_type": Identifier(self.stored_event_type_name),
            "function": Identifier(self.append_function_name),
            "channel": Identifier(self.channel_name),
        }
        self.sql_create_statements[self.create_table_statement_index] = SQL(_CREATE_TABLE).format(
            **names
        )
        # Replace (rather than add to) the library's insert function: it takes no
        # table lock, and its name does not depend on the table name.
        self.sql_create_statements[self.create_insert_function_statement_index] = SQL(
            _CREATE_APPEND_FUNCTION
        ).format(**names)
        # The events go in binary (%b): in text, psycopg quotes every composite and its
        # state (a bytea, escaped as hex) and the server parses them back.
        self.sql_call_append_function = SQL(
            "SELECT notification_id FROM {schema}.{function}(%b, %s::integer) AS notification_id"
        ).format(**names)
        self.sql_select_notifications_with_record_time = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state, "
            "recorded_at FROM {schema}.{table}"
        ).format(**names)

    def create_table(self) -> None:
        """Create types, tables, index and function, serialised across processes.

        Everything happens in one transaction holding a transaction-level advisory
        lock, so a process that waited sees what the first one committed. Types
        are created in savepoints because CREATE TYPE has no IF NOT EXISTS.
        """
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
            for statement in self.sql_create_statements:
                if "CREATE TYPE" in statement.as_string():
                    with contextlib.suppress(psycopg.errors.DuplicateObject), conn.transaction():
                        curs.execute(statement, prepare=False)
            self._create_table(curs)
        self.datastore.register_type_adapters()

    @_retry_once
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Append in one round trip (see module doc); return the notification ids.

        Like the library: nothing to insert returns None without touching the
        database; a version conflict raises IntegrityError; InterfaceError and
        OperationalError (e.g. lock timeout) are retried (once: see module doc).
        """
        if not stored_events:
            return None
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            return self._append(curs, stored_events)

    def _append(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]) -> list[int]:
        pg_stored_events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        lock_timeout_ms = int(self.datastore.lock_timeout * 1000)
        curs.execute(
            self.sql_call_append_function,
            (pg_stored_events, lock_timeout_ms),
            prepare=True,
        )
        return [row["notification_id"] for row in curs.fetchall()]

    @_retry_once
    def _select_recorded(self, selected: NotificationRange) -> list[RecordedNotification]:
        conditions: list[Composable] = []
        params: list[int | list[str]] = []
        if selected.start is not None:
            conditions.append(
                SQL(
                    "notification_id >= %s"
                    if selected.inclusive_of_start
                    else "notification_id > %s"
                )
            )
            params.append(selected.start)
        if selected.stop is not None:
            conditions.append(SQL("notification_id <= %s"))
            params.append(selected.stop)
        if selected.topics:
            conditions.append(SQL("topic = ANY(%s)"))
            params.append(list(selected.topics))
        statement = self.sql_select_notifications_with_record_time
        if conditions:
            statement += SQL(" WHERE ") + SQL(" AND ").join(conditions)
        statement += SQL(" ORDER BY notification_id LIMIT %s")
        params.append(selected.limit)
        # Binary results and tuple rows: a projection rebuild reads the whole log through
        # here, and in text the server hex-encodes every state and the client decodes it
        # again and builds a dict per row (twice the CPU on each side).
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(binary=True, row_factory=tuple_row) as curs,
        ):
            curs.execute(statement, params, prepare=True)
            rows = curs.fetchall()
        from_row = RecordedNotification.from_row
        return [
            from_row(notification_id, originator_id, version, topic, state, at.astimezone(UTC))
            for notification_id, originator_id, version, topic, state, at in rows
        ]

    def listen_for_commits(self, stopped: Event, check_every: float = 0.25) -> Iterator[None]:
        """Yield once LISTEN is in place, then once per commit notified (coalesced per
        read of the socket), until `stopped` is set (seen within `check_every` seconds).

        For wake-up calls only: unlike `subscribe()`, nothing is selected and no thread
        is started, so a follower that reads the log itself learns of a commit one
        query and two thread hand-offs sooner.
        """
        with self.datastore.get_connection() as conn:
            conn.execute(SQL("LISTEN {0}").format(Identifier(self.channel_name)))
            yield
            while not stopped.is_set():
                for _ in conn.notifies(timeout=check_every, stop_after=1):
                    yield


class LedgerPostgresProcessRecorder(
    es_postgres.PostgresProcessRecorder, LedgerPostgresApplicationRecorder
):
    """The library's process recorder (events + tracking) on our events table.

    Appends with tracking cannot be one autocommit statement, because the tracking
    row must commit atomically with the events: they run in a transaction that
    inserts the tracking row and then calls the same append function (which takes
    the table lock until commit). Appends without tracking take one round trip.
    """

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        tracking: Tracking | None = kwargs.get("tracking")
        if tracking is None:
            return super().insert_events(stored_events, **kwargs)
        return self._insert_events_with_tracking(stored_events, tracking)

    @_retry_once
    def _insert_events_with_tracking(
        self, stored_events: Sequence[StoredEvent], tracking: Tracking
    ) -> Sequence[int] | None:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            self._insert_tracking(curs, tracking)
            return self._append(curs, stored_events) if stored_events else None

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        recheck_tracking_table(self, curs)
        super()._create_table(curs)


def recheck_tracking_table(
    recorder: es_postgres.PostgresTrackingRecorder, curs: Cursor[DictRow]
) -> None:
    """Check again, under the schema lock, what the library's tracking recorder checked
    before taking it: whether the tracking table exists, and its migration.

    The library decides whether to create or migrate the tracking table from a check
    made before create_table() took the lock; another process may since have created
    it. Call from `_create_table`, in the transaction holding SCHEMA_LOCK_KEY.
    """
    with (
        contextlib.suppress(psycopg.errors.UndefinedTable),
        curs.connection.transaction(),
    ):
        migration = recorder._max_tracking_id(recorder.table_migration_identifier, curs)
        recorder.tracking_table_exists = True
        recorder.tracking_migration_previous = migration
        recorder.tracking_migration_current = migration


class LedgerPostgresFactory(es_postgres.PostgresFactory):
    """Infrastructure factory whose application and process recorders are ours.

    Tracking and aggregate (snapshot) recorders are the library's.
    """

    application_recorder_class = LedgerPostgresApplicationRecorder
    process_recorder_class = LedgerPostgresProcessRecorder

    POSTGRES_STORE_TIMEOUT = "POSTGRES_STORE_TIMEOUT"
    """Seconds a caller waits for a connection (default 2); see FailFastPool."""
    POSTGRES_STATEMENT_TIMEOUT = "POSTGRES_STATEMENT_TIMEOUT"
    """The server's statement_timeout for every connection, in seconds (default 0: none)."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        self.datastore.pool = fail_fast_pool(
            self.datastore,
            store_timeout=self._seconds(self.POSTGRES_STORE_TIMEOUT, DEFAULT_STORE_TIMEOUT),
            statement_timeout=self._seconds(self.POSTGRES_STATEMENT_TIMEOUT, 0.0),
        )

    def _seconds(self, key: str, default: float) -> float:
        text = self.env.get(key) or ""
        if not text.strip():
            return default
        try:
            seconds = float(text)
        except ValueError:
            seconds = math.nan
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"{key} must be a number of seconds, not {text!r}")
        return seconds

    def application_recorder(self) -> LedgerPostgresApplicationRecorder:
        return ensure_recorder_class(
            super().application_recorder(), LedgerPostgresApplicationRecorder
        )

    def process_recorder(self) -> LedgerPostgresProcessRecorder:
        return ensure_recorder_class(super().process_recorder(), LedgerPostgresProcessRecorder)


# InfrastructureFactory.construct() requires exactly one factory class in this
# module's namespace, which is why the library's module is imported, not its classes.
Factory = LedgerPostgresFactory


def _append_function_name(events_table_name: str) -> str:
    """Name the append function after its table (functions live in the table's schema)."""
    prefix = "tl_append_"
    name = prefix + events_table_name
    if len(name) <= _MAX_IDENTIFIER_LEN:
        return name
    # Keep long names unique but within PostgreSQL's identifier limit.
    digest = hashlib.sha256(events_table_name.encode()).hexdigest()[:8]
    keep = _MAX_IDENTIFIER_LEN - len(prefix) - len(digest) - 1
    return f"{prefix}{events_table_name[:keep]}_{digest}"


# The library's table, plus recorded_at.
_CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
    "originator_id {originator_id_type} NOT NULL, "
    "originator_version bigint NOT NULL, "
    "topic text, "
    "state bytea, "
    "notification_id bigserial, "
    "recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(), "
    "PRIMARY KEY (originator_id, originator_version)) "
    "WITH ("
    "autovacuum_enabled = true, "
    "autovacuum_vacuum_threshold = 100000000, "
    "autovacuum_vacuum_scale_factor = 0.5, "
    "autovacuum_analyze_threshold = 1000, "
    "autovacuum_analyze_scale_factor = 0.01)"
)

# lock_timeout is a parameter (not baked into the body) so that each caller's
# datastore setting applies, whichever process created the function last.
_CREATE_APPEND_FUNCTION = """\
CREATE OR REPLACE FUNCTION {schema}.{function}(
    events {schema}.{event_type}[], lock_timeout_ms integer
) RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$
BEGIN
    PERFORM set_config('lock_timeout', lock_timeout_ms::text, true);
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
    RETURN QUERY
        INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)
        SELECT originator_id, originator_version, topic, state FROM unnest(events)
        RETURNING notification_id;
    NOTIFY {channel};
END;
$BODY$"""
