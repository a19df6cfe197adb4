"""The read-model view's writing half: a batch of events' rows, inserted and applied in
the transaction that records the tracking position (so a crash loses nothing and
repeats nothing), and the upkeep of the tables (drop, indexes, statistics)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from eventsourcing.persistence import Tracking

from projections.facts import FactRow, MeasureRow, NegotiationEventRow, Rows
from projections.tables import READ_INDEXES, TABLES
from projections.view_base import ViewBase
from storage.undecodable import UndecodableEvent

RETRACTABLE = (
    ("tl_measure_facts", "measure_id"),
    ("tl_measures", "measure_id"),
    ("tl_events", "stream_id"),
)
"""Tables whose rows a correction withdraws, and the column naming their stream."""


@dataclass
class TableRows:
    """A batch of events as rows of each table, ready to insert."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    measures: list[tuple[Any, ...]] = field(default_factory=list)
    targets: list[tuple[str, str, str]] = field(default_factory=list)
    facts: list[tuple[Any, ...]] = field(default_factory=list)
    keys: dict[tuple[str, str, str], None] = field(default_factory=dict)
    parties: list[tuple[str, str]] = field(default_factory=list)
    negotiation_events: list[tuple[Any, ...]] = field(default_factory=list)
    retractions: list[tuple[int, str, str]] = field(default_factory=list)
    """(position of the correction, stream id hex, corrected event id)."""
    extensions: dict[tuple[str, str], date] = field(default_factory=dict)
    """The latest end day of each (measure id hex, suspension event id) extended."""


_INSERT_NEGOTIATION_EVENT = "INSERT INTO tl_negotiation_events VALUES (?,?,?,?,?,?,?)"


class ViewWriting(ViewBase):
    """Backend-independent SQL writing the read models."""

    def project(
        self,
        batch: Sequence[Rows],
        tracking: Tracking,
        undecodable: Sequence[UndecodableEvent] = (),
    ) -> None:
        """Write the rows of a batch of events, the events of it that were skipped as
        undecodable, and the tracking position, atomically."""
        rows = self.table_rows(batch)
        with self._writing() as c:
            self._insert(c, rows)
            self._update(c, rows)
            self._insert_undecodable(c, undecodable)
            self._insert_tracking_in(c, tracking)

    def _insert_undecodable(self, c: Any, undecodable: Sequence[UndecodableEvent]) -> None:
        if undecodable:
            c.executemany(
                self.dialect.sql("INSERT INTO tl_undecodable VALUES (?,?,?,?)"),
                [(u.position, u.stream_id, u.version, u.reason) for u in undecodable],
            )

    def keep_negotiation_events(self, events: Sequence[NegotiationEventRow]) -> None:
        """Add negotiations' events projected before their table existed (those already
        there are left as they are: any process may fill the table at the same time)."""
        values = [self._negotiation_event_values(e) for e in events]
        if values:
            with self._writing() as c:
                c.executemany(
                    self.dialect.sql(f"{_INSERT_NEGOTIATION_EVENT} ON CONFLICT DO NOTHING"), values
                )

    # -- rows as stored ----------------------------------------------------------------

    def table_rows(self, batch: Sequence[Rows]) -> TableRows:
        """The batch as rows of the tables, in the values this backend stores (no
        per-value type dispatch: the column types are known)."""
        date_value, instant = self._date_value, self._instant_value
        out = TableRows()
        for rows in batch:
            e = rows.event
            stream_hex = e.stream_id.hex
            out.events.append(
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
                self._add_measure(out, rows.measure, stream_hex)
            if rows.facts:
                self._add_facts(out, rows.facts, stream_hex)
            if rows.parties:
                out.parties += [(p, stream_hex) for p in rows.parties]
            if rows.negotiation_event is not None:
                out.negotiation_events.append(
                    self._negotiation_event_values(rows.negotiation_event)
                )
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

    def _add_measure(self, out: TableRows, m: MeasureRow, stream_hex: str) -> None:
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
                self._date_value(m.occurred_on),
                self._bool_value(m.effective_known),
                self._instant_value(m.announced_at),
            )
        )
        out.targets += [(m.imposer, t, stream_hex) for t in dict.fromkeys(m.targets)]

    def _add_facts(self, out: TableRows, facts: Sequence[FactRow], stream_hex: str) -> None:
        date_value, instant, number = self._date_value, self._instant_value, self._number_value
        append, keys = out.facts.append, out.keys
        for f in facts:
            ends_on = None if f.ends_on is None else date_value(f.ends_on)
            append(
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

    def _negotiation_event_values(self, n: NegotiationEventRow) -> tuple[Any, ...]:
        return (
            n.position,
            n.negotiation_id.hex,
            n.version,
            n.event_type,
            self._instant_value(n.announced_at),
            n.topic,
            n.state,
        )

    # -- statements --------------------------------------------------------------------

    def _insert(self, c: Any, rows: TableRows) -> None:
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
        if rows.negotiation_events:
            many(_INSERT_NEGOTIATION_EVENT, rows.negotiation_events)

    def _update(self, c: Any, rows: TableRows) -> None:
        """Corrections withdraw earlier rows; extensions raise their suspension's bound.

        Each update depends only on rows inserted before it (a correction names an earlier
        event, an extension an earlier suspension), so they can follow the inserts.
        """
        for table, column in RETRACTABLE:
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

    # -- upkeep ------------------------------------------------------------------------

    def drop_read_indexes(self) -> None:
        """Drop the indexes only queries use (`create_table` creates them again)."""
        with self._writing() as c:
            for index in READ_INDEXES:
                self._exec(c, f"DROP INDEX IF EXISTS {index}")

    def analyze(self) -> None:
        """Refresh the query planner's statistics of the read-model tables (after a rebuild)."""
        with self._writing() as c:
            for table in TABLES:
                self._exec(c, f"ANALYZE {table}")

    def drop(self) -> None:
        """Drop every read-model table and forget the tracking position."""
        with self._writing() as c:
            for table in TABLES:
                self._exec(c, f"DROP TABLE IF EXISTS {table}")
            # The library names the tracking table "tracking" on SQLite and
            # "<application>_tracking" on PostgreSQL.
            tracking = getattr(self, "tracking_table_name", "tracking")
            self._exec(
                c, f"DELETE FROM {tracking} WHERE application_name = ?", (self.application_name,)
            )
