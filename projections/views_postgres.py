"""The read models in the ledger's PostgreSQL database: the shared SQL, with COPY and
array parameters where PostgreSQL does a batch's work in fewer round trips, and a plan
fence where its planner would otherwise read too much."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composed

from projections.answers import AsOf
from projections.facts import LATEST_PER_KEY_KINDS, Rows
from projections.tables import POSTGRES, SHADOW_SUFFIX, TABLES, create_statements, renamed
from projections.view_reading import visible, visible_at
from projections.view_writing import RETRACTABLE, TableRows
from projections.views import ReadModelView
from storage.postgres import SCHEMA_LOCK_KEY, recheck_tracking_table
from storage.undecodable import UndecodableEvent

_EVENT_COLUMNS = (
    "position", "stream_id", "stream_kind", "version", "event_type", "event_id",
    "effective_on", "occurred_on", "announced_at", "recorded_at", "summary",
)  # fmt: skip
_EVENT_TYPES = (
    "int8", "text", "text", "int8", "text", "text", "date", "date", "timestamptz",
    "timestamptz", "text",
)  # fmt: skip
_MEASURE_COLUMNS = (
    "measure_id", "key", "imposer", "name", "layer", "targets", "excluded_targets",
    "instruments", "event_id", "position", "occurred_on", "effective_known", "announced_at",
)  # fmt: skip
_MEASURE_TYPES = (
    "text", "text", "text", "text", "text", "text", "text", "text", "text", "int8", "date",
    "bool", "timestamptz",
)  # fmt: skip
_FACT_COLUMNS = (
    "measure_id", "kind", "key", "event_id", "position", "occurred_on", "announced_at",
    "state", "rate_pct", "ends_on", "until_bound", "detail",
)  # fmt: skip
_FACT_TYPES = (
    "text", "text", "text", "text", "int8", "date", "timestamptz", "text", "numeric", "date",
    "date", "text",
)  # fmt: skip
_NEGOTIATION_EVENT_COLUMNS = (
    "position", "negotiation_id", "version", "event_type", "announced_at", "topic", "state",
)  # fmt: skip
_NEGOTIATION_EVENT_TYPES = ("int8", "text", "int8", "text", "timestamptz", "text", "bytea")
# Arrays go in binary (%b): psycopg quotes every element of a text array with a regular
# expression, four times the client's CPU for thousands of keys per batch.
_INSERT_TARGETS = (
    "INSERT INTO tl_measure_targets SELECT * FROM unnest(%b::text[], %b::text[], %b::text[])"
    " ON CONFLICT DO NOTHING"
)
_INSERT_KEYS = (
    "INSERT INTO tl_fact_keys SELECT * FROM unnest(%b::text[], %b::text[], %b::text[])"
    " ON CONFLICT DO NOTHING"
)
_INSERT_PARTIES = (
    "INSERT INTO tl_negotiation_parties SELECT * FROM unnest(%b::text[], %b::text[])"
    " ON CONFLICT DO NOTHING"
)


class PostgresReadModelView(ReadModelView, PostgresTrackingRecorder):
    """The read models in the ledger's PostgreSQL database."""

    dialect = POSTGRES

    def project(
        self,
        batch: Sequence[Rows],
        tracking: Tracking,
        undecodable: Sequence[UndecodableEvent] = (),
    ) -> None:
        """As on SQLite, in a transaction that does not wait for its WAL to reach disk.

        The read models are derived data committed atomically with their position: if
        the server crashes before the commit is durable, rows and position are lost
        together and the batch is projected again. Waiting for the flush would only make
        each batch slower (an fsync per batch).
        """
        rows = self.table_rows(batch)
        with self._writing() as c:
            c.execute("SET LOCAL synchronous_commit TO OFF")
            self._insert(c, rows)
            self._update(c, rows)
            self._insert_undecodable(c, undecodable)
            self._insert_tracking_in(c, tracking)

    def _insert(self, c: Any, rows: TableRows) -> None:
        # COPY streams the rows in one round trip per table (the server parses and
        # indexes them while the client is still sending); the tables whose rows may
        # already exist take one INSERT ... SELECT FROM unnest(...) ON CONFLICT each.
        for table, columns, types, table_rows in (
            ("tl_events", _EVENT_COLUMNS, _EVENT_TYPES, rows.events),
            ("tl_measures", _MEASURE_COLUMNS, _MEASURE_TYPES, rows.measures),
            ("tl_measure_facts", _FACT_COLUMNS, _FACT_TYPES, rows.facts),
            (
                "tl_negotiation_events",
                _NEGOTIATION_EVENT_COLUMNS,
                _NEGOTIATION_EVENT_TYPES,
                rows.negotiation_events,
            ),
        ):
            if table_rows:
                statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
                with c.copy(statement) as copy:
                    copy.set_types(types)
                    for row in table_rows:
                        copy.write_row(row)
        for statement, table_rows in (
            (_INSERT_TARGETS, rows.targets),
            (_INSERT_KEYS, sorted(rows.keys)),
            (_INSERT_PARTIES, rows.parties),
        ):
            if table_rows:
                c.execute(statement, [list(column) for column in zip(*table_rows, strict=True)])

    def _update(self, c: Any, rows: TableRows) -> None:
        if rows.retractions:
            columns = [list(column) for column in zip(*rows.retractions, strict=True)]
            for table, column in RETRACTABLE:
                c.execute(
                    f"UPDATE {table} t SET retracted_at = r.position"
                    " FROM unnest(%b::bigint[], %b::text[], %b::text[])"
                    " AS r(position, stream_id, event_id)"
                    f" WHERE t.{column} = r.stream_id AND t.event_id = r.event_id"
                    " AND t.retracted_at IS NULL",
                    columns,
                )
        if rows.extensions:
            c.execute(
                "UPDATE tl_measure_facts t SET until_bound = x.ends_on"
                " FROM unnest(%b::text[], %b::text[], %b::date[]) AS x(measure_id, key, ends_on)"
                " WHERE t.measure_id = x.measure_id AND t.event_id = x.key"
                " AND t.kind = 'suspension' AND t.until_bound < x.ends_on",
                [
                    [m for m, _ in rows.extensions],
                    [key for _, key in rows.extensions],
                    list(rows.extensions.values()),
                ],
            )

    def _by_stream_first(self, selected: str) -> str:
        # A fence: without it, a plan made for any stream (the generic plan PostgreSQL
        # uses once psycopg has prepared the statement) walks the whole log in position
        # order, filtering by stream, instead of reading the stream's rows and sorting.
        return f"SELECT * FROM ({selected} OFFSET 0) AS e"

    def _date_value(self, day: date) -> Any:
        return day

    def _instant_value(self, moment: datetime) -> Any:
        return moment

    def _number_value(self, number: Decimal) -> Any:
        return number

    def _bool_value(self, flag: bool) -> Any:
        return flag

    def __init__(
        self, datastore: PostgresDatastore, *, table_suffix: str = "", **kwargs: Any
    ) -> None:
        super().__init__(datastore, **kwargs)
        if table_suffix:
            self.table_suffix = table_suffix
            self.application_name = ReadModelView.application_name + table_suffix
        self.sql_create_statements += [
            Composed([SQL(renamed(s, table_suffix))]) for s in create_statements(POSTGRES)
        ]

    def shadow(self) -> PostgresReadModelView:
        """The read models a rebuild writes beside these (their tables created)."""
        view = type(self)(
            self.datastore, tracking_table_name=self.tracking_table_name, table_suffix=SHADOW_SUFFIX
        )
        view.create_table()
        return view

    def replace_with(self, shadow: ReadModelView) -> None:
        """Put `shadow`'s tables and tracking position in place of these, in one
        transaction: readers see the old read models until it commits, then the new.

        The rebuild's indexes are made first, beside the tables in use; the switch only
        drops, renames (tables, indexes, identity sequences) and moves the position.
        """
        shadow.create_table()
        suffix = shadow.table_suffix
        with self._cursor(commit=True) as c:
            for table in TABLES:
                c.execute(f"DROP TABLE IF EXISTS {table}")
            for table in TABLES:
                c.execute(f"ALTER TABLE {table}{suffix} RENAME TO {table}")
            c.execute(
                "SELECT c.relname, c.relkind FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind IN ('i', 'S')"
                " AND strpos(c.relname, %s) > 0",
                (suffix,),
            )
            for row in c.fetchall():
                kind = "INDEX" if row["relkind"] == "i" else "SEQUENCE"
                name = row["relname"]
                c.execute(f'ALTER {kind} "{name}" RENAME TO "{name.replace(suffix, "")}"')
            tracking = self.tracking_table_name
            c.execute(
                f"DELETE FROM {tracking} WHERE application_name = %s", (self.application_name,)
            )
            c.execute(
                f"UPDATE {tracking} SET application_name = %s WHERE application_name = %s",
                (self.application_name, shadow.application_name),
            )

    def _create_table(self, curs: Any) -> None:
        # Serialise with every other process creating the schema (same key as the
        # event store), then re-check what the library checked before the lock.
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        recheck_tracking_table(self, curs)
        super()._create_table(curs)

    @contextmanager
    def _cursor(self, *, commit: bool) -> Iterator[Any]:
        if commit:
            with self.datastore.transaction(commit=True) as c:
                yield c
            return
        # Reads are single statements on an autocommit connection: one round trip,
        # where a read-only transaction would add BEGIN and ROLLBACK. (Each query of
        # the read side filters by a log position, so it needs no snapshot shared
        # across statements.)
        with self.datastore.get_connection() as conn, conn.cursor() as c:
            yield c

    def _insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)

    def current_position(self) -> int:
        return self.max_tracking_id(self.application_name) or 0

    def _latest_per_key(
        self, ids: list[str], prefixes: Sequence[str] | None, point: AsOf
    ) -> tuple[str, list[Any]]:
        # The shared statement's `measure_id IN (...) AND kind IN (...) AND key IN (...)`
        # makes PostgreSQL's planner read every key of the measures (a bitmap scan on
        # measure_id alone), which grows with the store. Per measure, each prefix is one
        # short range of the (measure_id, key, kind) key; the kinds are filtered outside
        # the fenced subquery so that they do not multiply the index probes.
        kinds = ",".join(f"'{k}'" for k in LATEST_PER_KEY_KINDS)
        key_filter, key_params = "", []
        if prefixes is not None:
            key_filter = " AND k.key = ANY(?)"
            key_params = [list(prefixes)]
        statement = (
            "SELECT f.* FROM unnest(?::text[]) AS m(measure_id)"
            " CROSS JOIN LATERAL (SELECT k.kind, k.key FROM tl_fact_keys k"
            f"  WHERE k.measure_id = m.measure_id{key_filter}"
            "  OFFSET 0) AS k"  # a fence: no flattening into a join, no kinds pushed in
            " CROSS JOIN LATERAL (SELECT * FROM tl_measure_facts f"
            "  WHERE f.measure_id = m.measure_id AND f.kind = k.kind AND f.key = k.key"
            f"  AND f.occurred_on <= ? AND {visible('f.')}"
            "  ORDER BY f.occurred_on DESC, f.position DESC LIMIT 1) AS f"
            f" WHERE k.kind IN ({kinds})"
        )
        return statement, [ids, *key_params, point.on, *visible_at(point)]
