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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import ApplicationRecorder, Tracking
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresTrackingRecorder,
)
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteDatastore,
    SQLiteTrackingRecorder,
)
from psycopg.sql import SQL, Composed

from projections.facts import (
    ALL_ROWS_KINDS,
    LATEST_PER_KEY_KINDS,
    FactRow,
    MeasureRow,
    Rows,
    frozen_row,
)
from projections.tables import (
    POSTGRES,
    READ_INDEXES,
    SQLITE,
    TABLES,
    Dialect,
    create_statements,
)
from storage.postgres import SCHEMA_LOCK_KEY


def _visible(alias: str) -> str:
    """Rows announced by `known_at`, recorded by the position, not yet retracted by then."""
    return (
        f"{alias}announced_at <= ? AND {alias}position <= ?"
        f" AND ({alias}retracted_at IS NULL OR {alias}retracted_at > ?)"
    )


@lru_cache(maxsize=4096)
def _uuid(hex_id: str) -> UUID:
    """A stream id from its stored hex; the same few hundred measures come back on every
    query, and UUID() parses its argument each time."""
    return UUID(hex_id)


@lru_cache(maxsize=4096)
def _strings(stored: str) -> tuple[str, ...]:
    """A stored JSON list of strings (targets, instruments), decoded once per distinct value."""
    return tuple(json.loads(stored))


_RETRACTABLE = (
    ("tl_measure_facts", "measure_id"),
    ("tl_measures", "measure_id"),
    ("tl_events", "stream_id"),
)
"""Tables whose rows a correction withdraws, and the column naming their stream."""


@dataclass
class _TableRows:
    """A batch of events as rows of each table, ready to insert."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    measures: list[tuple[Any, ...]] = field(default_factory=list)
    targets: list[tuple[str, str, str]] = field(default_factory=list)
    facts: list[tuple[Any, ...]] = field(default_factory=list)
    keys: dict[tuple[str, str, str], None] = field(default_factory=dict)
    parties: list[tuple[str, str]] = field(default_factory=list)
    retractions: list[tuple[int, str, str]] = field(default_factory=list)
    """(position of the correction, stream id hex, corrected event id)."""
    extensions: dict[tuple[str, str], date] = field(default_factory=dict)
    """The latest end day of each (measure id hex, suspension event id) extended."""


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

    def positions(self, log: object) -> tuple[int, int]:
        """(this view's position, the last position of `log`), read in that order, so
        that the view is never seen ahead of a log read before it. Subclasses read both
        in one statement when the log lives in the same database."""
        view_at = self.current_position()
        if not isinstance(log, ApplicationRecorder):
            msg = f"{type(log).__qualname__} is not an application recorder"
            raise TypeError(msg)
        return view_at, log.max_notification_id() or 0

    def _v(self, value: Any) -> Any:
        """A Python value as this backend stores it."""
        if type(value) is str or type(value) is int:
            return value
        if self.dialect is SQLITE:
            if isinstance(value, datetime):
                return self._instant_value(value)
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
        rows = self._table_rows(batch)
        with self._cursor(commit=True) as c:
            self._insert(c, rows)
            self._update(c, rows)
            self._insert_tracking_in(c, tracking)

    def _table_rows(self, batch: Sequence[Rows]) -> _TableRows:
        """The batch as rows of the tables, in the values this backend stores (one pass,
        no per-value type dispatch: the column types are known)."""
        date_value, instant, number = self._date_value, self._instant_value, self._number_value
        out = _TableRows()
        events, facts, keys = out.events, out.facts, out.keys
        for rows in batch:
            e = rows.event
            stream_hex = e.stream_id.hex
            events.append(
                (
                    e.position,
                    stream_hex,
                    e.stream_kind,
                    e.version,
                    e.event_type,
                    e.event_id,
                    None if e.effective_on is None else date_value(e.effective_on),
                    date_value(e.occurred_on),
                    instant(e.announced_at),
                    instant(e.recorded_at),
                    e.summary,
                )
            )
            if rows.measure is not None:
                m = rows.measure
                out.measures.append(
                    (
                        stream_hex,
                        m.key,
                        m.imposer,
                        m.name,
                        m.layer,
                        json.dumps(m.targets),
                        json.dumps(m.excluded_targets),
                        json.dumps(m.instruments),
                        m.event_id,
                        m.position,
                        date_value(m.occurred_on),
                        self._bool_value(m.effective_known),
                        instant(m.announced_at),
                    )
                )
                out.targets += [(m.imposer, t, stream_hex) for t in dict.fromkeys(m.targets)]
            for f in rows.facts:
                ends_on = None if f.ends_on is None else date_value(f.ends_on)
                facts.append(
                    (
                        stream_hex,
                        f.kind,
                        f.key,
                        f.event_id,
                        f.position,
                        date_value(f.occurred_on),
                        instant(f.announced_at),
                        f.state,
                        None if f.rate_pct is None else number(f.rate_pct),
                        ends_on,
                        ends_on if f.kind == "suspension" else None,
                        f.detail,
                    )
                )
                keys[(stream_hex, f.kind, f.key)] = None
            if rows.parties:
                out.parties += [(p, stream_hex) for p in rows.parties]
            if rows.retraction is not None:
                r = rows.retraction
                out.retractions.append((r.position, r.stream_id.hex, r.event_id))
            if rows.extends_suspension is not None:
                suspension_id, ends_on_day = rows.extends_suspension
                slot = (stream_hex, suspension_id)
                latest = out.extensions.get(slot)
                if latest is None or ends_on_day > latest:
                    out.extensions[slot] = ends_on_day
        return out

    def _insert(self, c: Any, rows: _TableRows) -> None:
        many = c.executemany
        if rows.events:
            many("INSERT INTO tl_events VALUES (?,?,?,?,?,?,?,?,?,?,?,NULL)", rows.events)
        if rows.measures:
            many("INSERT INTO tl_measures VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,NULL)", rows.measures)
        if rows.targets:
            many(
                "INSERT INTO tl_measure_targets VALUES (?,?,?) ON CONFLICT DO NOTHING", rows.targets
            )
        if rows.facts:
            many(
                "INSERT INTO tl_measure_facts (measure_id, kind, key, event_id, position,"
                " occurred_on, announced_at, state, rate_pct, ends_on, until_bound, detail)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                rows.facts,
            )
        if rows.keys:
            many(
                "INSERT INTO tl_fact_keys VALUES (?,?,?) ON CONFLICT DO NOTHING", sorted(rows.keys)
            )
        if rows.parties:
            many(
                "INSERT INTO tl_negotiation_parties VALUES (?,?) ON CONFLICT DO NOTHING",
                rows.parties,
            )

    def _update(self, c: Any, rows: _TableRows) -> None:
        """Corrections withdraw earlier rows; extensions raise their suspension's bound.

        Each update depends only on rows inserted before it (a correction names an earlier
        event, an extension an earlier suspension), so they can follow the inserts.
        """
        for table, column in _RETRACTABLE:
            if rows.retractions:
                c.executemany(
                    f"UPDATE {table} SET retracted_at = ? WHERE {column} = ? AND event_id = ?"
                    " AND retracted_at IS NULL",
                    rows.retractions,
                )
        if rows.extensions:
            # The suspension's own row has its event id as key and as event_id: the
            # (measure_id, event_id) index finds it.
            c.executemany(
                "UPDATE tl_measure_facts SET until_bound = ? WHERE measure_id = ?"
                " AND event_id = ? AND kind = 'suspension' AND until_bound < ?",
                [
                    (self._date_value(day), m, key, self._date_value(day))
                    for (m, key), day in rows.extensions.items()
                ],
            )

    def _date_value(self, day: date) -> Any:
        return day.isoformat()

    def _instant_value(self, moment: datetime) -> Any:
        return moment.astimezone(UTC).isoformat(timespec="microseconds")

    def _number_value(self, number: Decimal) -> Any:
        return str(number)

    def _bool_value(self, flag: bool) -> Any:
        return int(flag)

    def drop_read_indexes(self) -> None:
        """Drop the indexes only queries use (`create_table` creates them again)."""
        with self._cursor(commit=True) as c:
            for index in READ_INDEXES:
                self._exec(c, f"DROP INDEX IF EXISTS {index}")

    def analyze(self) -> None:
        """Refresh the query planner's statistics of the read-model tables (after a rebuild)."""
        with self._cursor(commit=True) as c:
            for table in TABLES:
                self._exec(c, f"ANALYZE {table}")

    def drop(self) -> None:
        """Drop every read-model table and forget the tracking position (for a rebuild)."""
        with self._cursor(commit=True) as c:
            for table in TABLES:
                self._exec(c, f"DROP TABLE IF EXISTS {table}")
            # The library names the tracking table "tracking" on SQLite and
            # "<application>_tracking" on PostgreSQL.
            tracking = getattr(self, "tracking_table_name", "tracking")
            self._exec(
                c, f"DELETE FROM {tracking} WHERE application_name = ?", (self.application_name,)
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

    def finer_keys(self, measure_ids: Sequence[UUID], digits: str, limit: int) -> list[str]:
        """HS prefixes longer than `digits` that start with it and that these measures'
        rates, scopes or exclusions name (at any time: the caller reads their facts as of
        its point), in order, at most `limit`."""
        if not measure_ids:
            return []
        marks = ",".join("?" * len(measure_ids))
        rows = self._select(
            "SELECT DISTINCT key FROM tl_fact_keys"
            f" WHERE measure_id IN ({marks}) AND kind IN ('rate', 'coverage', 'exclusion')"
            " AND key LIKE ? AND length(key) > ? ORDER BY key LIMIT ?",
            [*(m.hex for m in measure_ids), f"{digits}%", len(digits), limit],
        )
        return [str(row["key"]) for row in rows]

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
        (one index probe each), every row of the sparse kinds still in force, and the
        extensions of the suspensions among them."""
        found: dict[UUID, list[FactRow]] = {m: [] for m in measure_ids}
        if not measure_ids:
            return found
        ids = {m.hex: m for m in measure_ids}
        latest, latest_params = self._latest_per_key(list(ids), prefixes, on, known_at, position)
        marks = ",".join("?" * len(ids))
        sparse = ",".join(f"'{k}'" for k in ALL_ROWS_KINDS if k != "extension")
        # Extensions matter only through the suspension they extend (evaluation looks them
        # up by the suspension's event id), so only those of the suspensions returned.
        statement = (
            f"{latest}"
            " UNION ALL"
            " SELECT * FROM tl_measure_facts"
            f" WHERE measure_id IN ({marks}) AND kind IN ({sparse})"
            f" AND {_visible('')} AND occurred_on <= ? AND (until_bound IS NULL OR until_bound > ?)"
            " UNION ALL"
            " SELECT e.* FROM tl_measure_facts s JOIN tl_measure_facts e"
            " ON e.measure_id = s.measure_id AND e.kind = 'extension' AND e.key = s.event_id"
            f" WHERE s.measure_id IN ({marks}) AND s.kind = 'suspension' AND {_visible('s.')}"
            f" AND s.occurred_on <= ? AND s.until_bound > ? AND {_visible('e.')}"
        )
        visible = [known_at, position, position]
        params: list[Any] = [*latest_params, *ids, *visible, on, on]
        params += [*ids, *visible, on, on, *visible]
        fact = self._fact
        for row in self._select(statement, params):
            measure_id = ids[row["measure_id"]]
            found[measure_id].append(fact(row, measure_id))
        return found

    def _latest_per_key(
        self,
        ids: list[str],
        prefixes: Sequence[str] | None,
        on: date,
        known_at: datetime,
        position: int,
    ) -> tuple[str, list[Any]]:
        """SQL selecting, per (measure, kind, key) of the latest-wins kinds (with a key
        among `prefixes`, if given), the latest visible row on or before `on`.

        tl_fact_keys lists the keys that exist, so each probe finds a row; each probe reads
        tl_facts_latest backwards from `on` to the first visible row.
        """
        kinds = ",".join(f"'{k}'" for k in LATEST_PER_KEY_KINDS)
        key_filter, key_params = "", []
        if prefixes is not None:
            key_filter = f" AND k.key IN ({','.join('?' * len(prefixes))})"
            key_params = list(prefixes)
        # `+k.kind` keeps SQLite from probing the (measure_id, key, kind) index once per
        # kind as well as per key: the few kinds of a key are read in one range.
        statement = (
            "SELECT * FROM tl_measure_facts WHERE fact_id IN ("
            " SELECT (SELECT f.fact_id FROM tl_measure_facts f"
            "  WHERE f.measure_id = k.measure_id AND f.kind = k.kind AND f.key = k.key"
            f"  AND f.occurred_on <= ? AND {_visible('f.')}"
            "  ORDER BY f.occurred_on DESC, f.position DESC LIMIT 1)"
            f" FROM tl_fact_keys k WHERE k.measure_id IN ({','.join('?' * len(ids))})"
            f" AND +k.kind IN ({kinds}){key_filter})"
        )
        return statement, [on, known_at, position, position, *ids, *key_params]

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
        selected = f"SELECT * FROM tl_events WHERE {' AND '.join(where)}"
        if stream_ids is not None:
            selected = self._by_stream_first(selected)
        rows = self._select(f"{selected} ORDER BY {orderings[order]} LIMIT ?", [*params, limit])
        return [self._event(r) for r in rows]

    def _by_stream_first(self, selected: str) -> str:
        """`selected` (rows of some streams), planned to find them by the stream index."""
        return selected

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
        return frozen_row(
            MeasureRow,
            measure_id=_uuid(r["measure_id"]),
            key=r["key"],
            imposer=r["imposer"],
            name=r["name"],
            layer=r["layer"],
            targets=_strings(r["targets"]),
            excluded_targets=_strings(r["excluded_targets"]),
            instruments=_strings(r["instruments"]),
            event_id=r["event_id"],
            position=int(r["position"]),
            occurred_on=self._date(r["occurred_on"]),
            effective_known=bool(r["effective_known"]),
            announced_at=self._instant(r["announced_at"]),
        )

    def _fact(self, r: Any, measure_id: UUID | None = None) -> FactRow:
        return frozen_row(
            FactRow,
            measure_id=UUID(r["measure_id"]) if measure_id is None else measure_id,
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

    def positions(self, log: object) -> tuple[int, int]:
        if not (isinstance(log, SQLiteApplicationRecorder) and log.datastore is self.datastore):
            return super().positions(log)
        statement = (
            f"SELECT ({self.select_max_tracking_id_statement}) AS view_at,"
            f" ({log.select_max_notification_id_statement}) AS log_at"
        )
        row = self._select(statement, (self.application_name,))[0]
        return int(row["view_at"] or 0), int(row["log_at"] or 0)


class PostgresReadModelView(ReadModelView, PostgresTrackingRecorder):
    """The read models in the ledger's PostgreSQL database."""

    dialect = POSTGRES

    def project(self, batch: Sequence[Rows], tracking: Tracking) -> None:
        """As on SQLite, in a transaction that does not wait for its WAL to reach disk.

        The read models are derived data committed atomically with their position: if
        the server crashes before the commit is durable, rows and position are lost
        together and the batch is projected again. Waiting for the flush would only make
        each batch slower (an fsync per batch).
        """
        rows = self._table_rows(batch)
        with self._cursor(commit=True) as c:
            c.execute("SET LOCAL synchronous_commit TO OFF")
            self._insert(c, rows)
            self._update(c, rows)
            self._insert_tracking_in(c, tracking)

    def _insert(self, c: Any, rows: _TableRows) -> None:
        # COPY streams the rows in one round trip per table (the server parses and
        # indexes them while the client is still sending); the tables whose rows may
        # already exist take one INSERT ... SELECT FROM unnest(...) ON CONFLICT each.
        for table, columns, types, table_rows in (
            ("tl_events", _EVENT_COLUMNS, _EVENT_TYPES, rows.events),
            ("tl_measures", _MEASURE_COLUMNS, _MEASURE_TYPES, rows.measures),
            ("tl_measure_facts", _FACT_COLUMNS, _FACT_TYPES, rows.facts),
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

    def _update(self, c: Any, rows: _TableRows) -> None:
        if rows.retractions:
            columns = [list(column) for column in zip(*rows.retractions, strict=True)]
            for table, column in _RETRACTABLE:
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

    def positions(self, log: object) -> tuple[int, int]:
        # One round trip instead of two: both maxima in one statement, so also from one
        # snapshot.
        if not (isinstance(log, PostgresApplicationRecorder) and log.datastore is self.datastore):
            return super().positions(log)
        statement = SQL("SELECT ({}) AS view_at, ({}) AS log_at").format(
            self.max_tracking_id_statement, log.max_notification_id_statement
        )
        with self.datastore.get_connection() as conn, conn.cursor() as c:
            c.execute(statement, (self.application_name,), prepare=True)
            row: Any = c.fetchone()
        return int(row["view_at"] or 0), int(row["log_at"] or 0)

    def _latest_per_key(
        self,
        ids: list[str],
        prefixes: Sequence[str] | None,
        on: date,
        known_at: datetime,
        position: int,
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
            f"  AND f.occurred_on <= ? AND {_visible('f.')}"
            "  ORDER BY f.occurred_on DESC, f.position DESC LIMIT 1) AS f"
            f" WHERE k.kind IN ({kinds})"
        )
        return statement, [ids, *key_params, on, known_at, position, position]
