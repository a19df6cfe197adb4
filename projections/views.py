"""The read-model view: rows written in the same transaction as the tracking position,
read back with a few indexed queries. One class per backend, sharing all the SQL.

The view is a tracking recorder of the eventsourcing library (SQLite or PostgreSQL),
so the position of the last event projected is committed atomically with its rows:
a crash loses nothing and repeats nothing.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.sql import SQL, Composed

from projections.facts import (
    ALL_ROWS_KINDS,
    LATEST_PER_KEY_KINDS,
    FactRow,
    MeasureRow,
    Rows,
)
from projections.schema import POSTGRES, SQLITE, TABLES, Dialect, create_statements
from tradeledger.store.postgres import SCHEMA_LOCK_KEY


def _visible(alias: str) -> str:
    """Rows announced by `known_at`, recorded by the position, not yet retracted by then."""
    return (
        f"{alias}announced_at <= ? AND {alias}position <= ?"
        f" AND ({alias}retracted_at IS NULL OR {alias}retracted_at > ?)"
    )


class ReadModelView:
    """Backend-independent SQL of the read models; subclasses provide the transaction."""

    if TYPE_CHECKING:  # provided by the library's tracking recorder each backend mixes in

        def create_table(self) -> None: ...

    dialect: Dialect
    application_name = "tradeledger"

    # -- plumbing --------------------------------------------------------------------

    @contextmanager
    def _cursor(self, *, commit: bool) -> Iterator[Any]:
        raise NotImplementedError
        yield  # pragma: no cover

    def _insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        raise NotImplementedError

    def current_position(self) -> int:
        raise NotImplementedError

    def _v(self, value: Any) -> Any:
        """A Python value as this backend stores it."""
        if self.dialect is SQLITE:
            if isinstance(value, datetime):
                return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, bool):
                return int(value)
        if isinstance(value, UUID):
            return value.hex
        return value

    def _exec(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> None:
        cursor.execute(self.dialect.sql(statement), [self._v(p) for p in params])

    def _execmany(self, cursor: Any, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            cursor.executemany(
                self.dialect.sql(statement), [[self._v(p) for p in row] for row in rows]
            )

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._cursor(commit=False) as cursor:
            self._exec(cursor, statement, params)
            return list(cursor.fetchall())

    # -- writing ---------------------------------------------------------------------

    def project(self, batch: Sequence[Rows], tracking: Tracking) -> None:
        """Write the rows of a batch of events and the tracking position, atomically."""
        events, measures, targets, facts, keys, parties = [], [], [], [], set(), []
        for rows in batch:
            e = rows.event
            events.append(
                (
                    e.position,
                    e.stream_id,
                    e.stream_kind,
                    e.version,
                    e.event_type,
                    e.event_id,
                    e.effective_on,
                    e.occurred_on,
                    e.announced_at,
                    e.recorded_at,
                    e.summary,
                )
            )
            if rows.measure is not None:
                m = rows.measure
                measures.append(
                    (
                        m.measure_id,
                        m.key,
                        m.imposer,
                        m.name,
                        m.layer,
                        json.dumps(m.targets),
                        json.dumps(m.excluded_targets),
                        json.dumps(m.instruments),
                        m.event_id,
                        m.position,
                        m.occurred_on,
                        m.effective_known,
                        m.announced_at,
                    )
                )
                targets += [(m.imposer, t, m.measure_id) for t in dict.fromkeys(m.targets)]
            for f in rows.facts:
                facts.append(
                    (
                        f.measure_id,
                        f.kind,
                        f.key,
                        f.event_id,
                        f.position,
                        f.occurred_on,
                        f.announced_at,
                        f.state,
                        f.rate_pct,
                        f.ends_on,
                        f.ends_on if f.kind == "suspension" else None,
                        f.detail,
                    )
                )
                keys.add((f.measure_id.hex, f.kind, f.key))
            if e.event_type == "opened":
                parties += [(p, e.stream_id) for p in rows.parties]
        with self._cursor(commit=True) as c:
            self._execmany(c, "INSERT INTO tl_events VALUES (?,?,?,?,?,?,?,?,?,?,?,NULL)", events)
            self._execmany(
                c, "INSERT INTO tl_measures VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,NULL)", measures
            )
            self._execmany(
                c, "INSERT INTO tl_measure_targets VALUES (?,?,?) ON CONFLICT DO NOTHING", targets
            )
            self._execmany(
                c,
                "INSERT INTO tl_measure_facts (measure_id, kind, key, event_id, position,"
                " occurred_on, announced_at, state, rate_pct, ends_on, until_bound, detail)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                facts,
            )
            self._execmany(
                c, "INSERT INTO tl_fact_keys VALUES (?,?,?) ON CONFLICT DO NOTHING", sorted(keys)
            )
            self._execmany(
                c, "INSERT INTO tl_negotiation_parties VALUES (?,?) ON CONFLICT DO NOTHING", parties
            )
            for rows in batch:
                self._apply_updates(c, rows)
            self._insert_tracking_in(c, tracking)

    def _apply_updates(self, c: Any, rows: Rows) -> None:
        if rows.retraction is not None:
            r = rows.retraction
            for table, column in (
                ("tl_measure_facts", "measure_id"),
                ("tl_measures", "measure_id"),
                ("tl_events", "stream_id"),
            ):
                self._exec(
                    c,
                    f"UPDATE {table} SET retracted_at = ? WHERE {column} = ? AND event_id = ?"
                    " AND retracted_at IS NULL",
                    (r.position, r.stream_id, r.event_id),
                )
        if rows.extends_suspension is not None:
            suspension_id, ends_on = rows.extends_suspension
            self._exec(
                c,
                "UPDATE tl_measure_facts SET until_bound = ? WHERE measure_id = ?"
                " AND kind = 'suspension' AND key = ? AND until_bound < ?",
                (ends_on, rows.event.stream_id, suspension_id, ends_on),
            )

    def drop(self) -> None:
        """Drop every read-model table and forget the tracking position (for a rebuild)."""
        with self._cursor(commit=True) as c:
            for table in TABLES:
                self._exec(c, f"DROP TABLE IF EXISTS {table}")
            self._exec(
                c, "DELETE FROM tracking WHERE application_name = ?", (self.application_name,)
            )

    # -- reading ---------------------------------------------------------------------

    def position_at(self, recorded_at: datetime) -> int:
        """The last position the ledger had recorded at `recorded_at` (0 before anything)."""
        rows = self._select(
            "SELECT MAX(position) AS p FROM tl_events WHERE recorded_at <= ?", (recorded_at,)
        )
        return int(rows[0]["p"] or 0)

    def measures_for(
        self, imposer: str, origin: str, known_at: datetime, position: int
    ) -> list[MeasureRow]:
        rows = self._select(
            "SELECT m.* FROM tl_measure_targets t JOIN tl_measures m ON m.measure_id = t.measure_id"
            " WHERE t.imposer = ? AND t.origin IN (?, '*') AND m.announced_at <= ?"
            " AND m.position <= ? AND (m.retracted_at IS NULL OR m.retracted_at > ?)",
            (imposer, origin, known_at, position, position),
        )
        return [self._measure(r) for r in rows]

    def measure(self, measure_id: UUID, known_at: datetime, position: int) -> MeasureRow | None:
        rows = self._select(
            "SELECT * FROM tl_measures WHERE measure_id = ? AND announced_at <= ?"
            " AND position <= ? AND (retracted_at IS NULL OR retracted_at > ?)",
            (measure_id, known_at, position, position),
        )
        return self._measure(rows[0]) if rows else None

    def facts_for(
        self,
        measure_ids: Sequence[UUID],
        prefixes: Sequence[str] | None,
        on: date,
        known_at: datetime,
        position: int,
    ) -> dict[UUID, list[FactRow]]:
        """The facts that can matter on `on`: the latest per key of the latest-wins kinds
        (one index probe each) and every row of the sparse kinds still in force."""
        found: dict[UUID, list[FactRow]] = {m: [] for m in measure_ids}
        if not measure_ids:
            return found
        ids = [m.hex for m in measure_ids]
        marks = ",".join("?" * len(ids))
        kinds = ",".join(f"'{k}'" for k in LATEST_PER_KEY_KINDS)
        sparse = ",".join(f"'{k}'" for k in ALL_ROWS_KINDS)
        key_filter, key_params = "", []
        if prefixes is not None:
            key_filter = f" AND k.key IN ({','.join('?' * len(prefixes))})"
            key_params = list(prefixes)
        statement = (
            "SELECT * FROM tl_measure_facts WHERE fact_id IN ("
            " SELECT (SELECT f.fact_id FROM tl_measure_facts f"
            "  WHERE f.measure_id = k.measure_id AND f.kind = k.kind AND f.key = k.key"
            f"  AND f.occurred_on <= ? AND {_visible('f.')}"
            "  ORDER BY f.occurred_on DESC, f.position DESC LIMIT 1)"
            f" FROM tl_fact_keys k WHERE k.measure_id IN ({marks})"
            f" AND k.kind IN ({kinds}){key_filter})"
            " UNION ALL"
            f" SELECT * FROM tl_measure_facts WHERE measure_id IN ({marks}) AND kind IN ({sparse})"
            f" AND {_visible('')} AND (kind = 'extension' OR occurred_on <= ?)"
            " AND (until_bound IS NULL OR until_bound > ?)"
        )
        params: list[Any] = [on, known_at, position, position, *ids, *key_params]
        params += [*ids, known_at, position, position, on, on]
        for row in self._select(statement, params):
            fact = self._fact(row)
            found[fact.measure_id].append(fact)
        return found

    def events(
        self,
        *,
        stream_ids: Sequence[UUID] | None = None,
        order: str = "recorded",
        known_at: datetime | None = None,
        position: int | None = None,
        limit: int = 10_000,
    ) -> list[dict[str, Any]]:
        """Event rows (with their three dates), ordered by effective, announced or record time."""
        orderings = {
            "effective": "occurred_on, announced_at, position",
            "announced": "announced_at, position",
            "recorded": "position",
        }
        where: list[str] = ["1=1"]
        params: list[Any] = []
        if stream_ids is not None:
            if not stream_ids:
                return []
            where.append(f"stream_id IN ({','.join('?' * len(stream_ids))})")
            params += [s.hex for s in stream_ids]
        if known_at is not None:
            where.append("(announced_at <= ? OR event_type = 'record_corrected')")
            params.append(known_at)
        if position is not None:
            where.append("position <= ?")
            params.append(position)
        rows = self._select(
            f"SELECT * FROM tl_events WHERE {' AND '.join(where)}"
            f" ORDER BY {orderings[order]} LIMIT ?",
            [*params, limit],
        )
        return [self._event(r) for r in rows]

    def stream_kind(self, stream_id: UUID) -> str | None:
        rows = self._select(
            "SELECT stream_kind FROM tl_events WHERE stream_id = ? AND version = 1", (stream_id,)
        )
        return str(rows[0]["stream_kind"]) if rows else None

    def streams_between(self, imposer: str, origin: str) -> list[UUID]:
        """Measures of `imposer` on `origin` and negotiations with both as parties."""
        rows = self._select(
            "SELECT measure_id AS s FROM tl_measure_targets"
            " WHERE imposer = ? AND origin IN (?, '*')"
            " UNION SELECT a.negotiation_id AS s FROM tl_negotiation_parties a"
            " JOIN tl_negotiation_parties b ON a.negotiation_id = b.negotiation_id"
            " WHERE a.party = ? AND b.party = ?",
            (imposer, origin, imposer, origin),
        )
        return [UUID(r["s"]) for r in rows]

    def known_countries(self) -> set[str]:
        rows = self._select(
            "SELECT imposer AS c FROM tl_measure_targets"
            " UNION SELECT origin FROM tl_measure_targets"
            " UNION SELECT party FROM tl_negotiation_parties"
        )
        return {str(r["c"]) for r in rows}

    # -- decoding --------------------------------------------------------------------

    @staticmethod
    def _date(value: Any) -> date:
        return date.fromisoformat(value) if isinstance(value, str) else value

    @staticmethod
    def _instant(value: Any) -> datetime:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(UTC)

    def _measure(self, r: Any) -> MeasureRow:
        return MeasureRow(
            measure_id=UUID(r["measure_id"]),
            key=r["key"],
            imposer=r["imposer"],
            name=r["name"],
            layer=r["layer"],
            targets=tuple(json.loads(r["targets"])),
            excluded_targets=tuple(json.loads(r["excluded_targets"])),
            instruments=tuple(json.loads(r["instruments"])),
            event_id=r["event_id"],
            position=int(r["position"]),
            occurred_on=self._date(r["occurred_on"]),
            effective_known=bool(r["effective_known"]),
            announced_at=self._instant(r["announced_at"]),
        )

    def _fact(self, r: Any) -> FactRow:
        return FactRow(
            measure_id=UUID(r["measure_id"]),
            kind=r["kind"],
            key=r["key"],
            event_id=r["event_id"],
            position=int(r["position"]),
            occurred_on=self._date(r["occurred_on"]),
            announced_at=self._instant(r["announced_at"]),
            state=r["state"],
            rate_pct=None if r["rate_pct"] is None else Decimal(str(r["rate_pct"])),
            ends_on=None if r["ends_on"] is None else self._date(r["ends_on"]),
            detail=r["detail"],
        )

    def _event(self, r: Any) -> dict[str, Any]:
        return {
            "position": int(r["position"]),
            "stream_id": UUID(r["stream_id"]),
            "stream_kind": r["stream_kind"],
            "version": int(r["version"]),
            "event_type": r["event_type"],
            "event_id": r["event_id"],
            "effective_on": None if r["effective_on"] is None else self._date(r["effective_on"]),
            "occurred_on": self._date(r["occurred_on"]),
            "announced_at": self._instant(r["announced_at"]),
            "recorded_at": self._instant(r["recorded_at"]),
            "summary": r["summary"],
            "retracted_at": None if r["retracted_at"] is None else int(r["retracted_at"]),
        }


class SQLiteReadModelView(ReadModelView, SQLiteTrackingRecorder):
    """The read models in the ledger's SQLite file (or an in-memory database)."""

    dialect = SQLITE

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *create_statements(SQLITE)]

    @contextmanager
    def _cursor(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as c:
            yield c

    def _insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)

    def current_position(self) -> int:
        return self.max_tracking_id(self.application_name) or 0


class PostgresReadModelView(ReadModelView, PostgresTrackingRecorder):
    """The read models in the ledger's PostgreSQL database."""

    dialect = POSTGRES

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements += [Composed([SQL(s)]) for s in create_statements(POSTGRES)]

    def _create_table(self, curs: Any) -> None:
        # Serialise with every other process creating the schema (same key as the
        # event store), then re-check what the library checked before the lock: another
        # process may have created the tracking table meanwhile.
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        with (
            contextlib.suppress(psycopg.errors.UndefinedTable),
            curs.connection.transaction(),
        ):
            migration = self._max_tracking_id(self.table_migration_identifier, curs)
            self.tracking_table_exists = True
            self.tracking_migration_previous = migration
            self.tracking_migration_current = migration
        super()._create_table(curs)

    @contextmanager
    def _cursor(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as c:
            yield c

    def _insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)

    def current_position(self) -> int:
        return self.max_tracking_id(self.application_name) or 0
