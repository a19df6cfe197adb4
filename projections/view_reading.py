"""The read-model view's reading half: SELECTs only, each filtered by a log position (so
each answers for one consistent prefix of the log) and served by an index."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from projections.answers import AsOf
from projections.facts import ALL_ROWS_KINDS, LATEST_PER_KEY_KINDS, FactRow, MeasureRow, frozen_row
from projections.view_base import ViewBase


def visible(alias: str) -> str:
    """Rows announced by `known_at`, recorded by the position, not yet retracted by then
    (the parameters are `visible_at(point)`)."""
    return (
        f"{alias}announced_at <= ? AND {alias}position <= ?"
        f" AND ({alias}retracted_at IS NULL OR {alias}retracted_at > ?)"
    )


def visible_at(point: AsOf) -> list[Any]:
    """The parameters of `visible()` for the rows visible at `point`."""
    return [point.known_at, point.position, point.position]


@lru_cache(maxsize=4096)
def _uuid(hex_id: str) -> UUID:
    """A stream id from its stored hex; the same few hundred measures come back on every
    query, and UUID() parses its argument each time."""
    return UUID(hex_id)


@lru_cache(maxsize=4096)
def _strings(stored: str) -> tuple[str, ...]:
    """A stored JSON list of strings (targets, instruments), decoded once per distinct value."""
    return tuple(json.loads(stored))


@dataclass(frozen=True)
class StoredNegotiationEvent:
    """A negotiation's event as the store encoded it, and whether the question knows it."""

    known: bool
    version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class UnkeptEvent:
    """A negotiation's event projected before the table of negotiations' events existed."""

    position: int
    negotiation_id: UUID
    version: int
    event_type: str
    announced_at: datetime


class ViewReading(ViewBase):
    """Backend-independent SQL reading the read models."""

    def position_at(self, recorded_at: datetime) -> int:
        """The last position the ledger had recorded at `recorded_at` (0 before anything)."""
        rows = self._select(
            "SELECT MAX(position) AS p FROM tl_events WHERE recorded_at <= ?", (recorded_at,)
        )
        return int(rows[0]["p"] or 0)

    def undecodable_positions(self, position: int, limit: int = 100) -> tuple[int, ...]:
        """The positions up to `position` of the events the projection skipped because
        they do not decode (TRADELEDGER_ON_UNDECODABLE=skip): what an answer standing on
        `position` does not know. The first `limit` of them."""
        rows = self._select(
            "SELECT position FROM tl_undecodable WHERE position <= ? ORDER BY position LIMIT ?",
            (position, limit),
        )
        return tuple(int(r["position"]) for r in rows)

    def stream_version(self, stream_id: UUID, position: int) -> int:
        """The version a stream had reached at `position` (0 before it existed)."""
        rows = self._select(
            "SELECT MAX(version) AS v FROM tl_events WHERE stream_id = ? AND position <= ?",
            (stream_id, position),
        )
        return int(rows[0]["v"] or 0)

    def measures_for(
        self, imposer: str, origin: str, known_at: datetime, position: int
    ) -> list[MeasureRow]:
        rows = self._select(
            "SELECT m.* FROM tl_measure_targets t JOIN tl_measures m ON m.measure_id = t.measure_id"
            " WHERE t.imposer = ? AND t.origin IN (?, '*') AND m.announced_at <= ?"
            " AND m.position <= ? AND (m.retracted_at IS NULL OR m.retracted_at > ?)",
            (imposer, origin, known_at, position, position),
        )
        # A measure targeting both `origin` and "*" has two target rows: list it once.
        measures = {r["measure_id"]: r for r in rows}
        return [self._measure(r) for r in measures.values()]

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
        self, measure_ids: Sequence[UUID], prefixes: Sequence[str] | None, point: AsOf
    ) -> dict[UUID, list[FactRow]]:
        """The facts visible at `point` that can matter on `point.on`: the latest per key
        of the latest-wins kinds (one index probe each), every row of the sparse kinds
        still in force, and the extensions of the suspensions among them."""
        found: dict[UUID, list[FactRow]] = {m: [] for m in measure_ids}
        if not measure_ids:
            return found
        ids = {m.hex: m for m in measure_ids}
        latest, latest_params = self._latest_per_key(list(ids), prefixes, point)
        marks = ",".join("?" * len(ids))
        sparse = ",".join(f"'{k}'" for k in ALL_ROWS_KINDS if k != "extension")
        # Extensions matter only through the suspension they extend (evaluation looks them
        # up by the suspension's event id), so only those of the suspensions returned.
        statement = (
            f"{latest}"
            " UNION ALL"
            " SELECT * FROM tl_measure_facts"
            f" WHERE measure_id IN ({marks}) AND kind IN ({sparse})"
            f" AND {visible('')} AND occurred_on <= ? AND (until_bound IS NULL OR until_bound > ?)"
            " UNION ALL"
            " SELECT e.* FROM tl_measure_facts s JOIN tl_measure_facts e"
            " ON e.measure_id = s.measure_id AND e.kind = 'extension' AND e.key = s.event_id"
            f" WHERE s.measure_id IN ({marks}) AND s.kind = 'suspension' AND {visible('s.')}"
            f" AND s.occurred_on <= ? AND s.until_bound > ? AND {visible('e.')}"
        )
        on, seen = point.on, visible_at(point)
        params: list[Any] = [*latest_params, *ids, *seen, on, on]
        params += [*ids, *seen, on, on, *seen]
        fact = self._fact
        for row in self._select(statement, params):
            measure_id = ids[row["measure_id"]]
            found[measure_id].append(fact(row, measure_id))
        return found

    def _latest_per_key(
        self, ids: list[str], prefixes: Sequence[str] | None, point: AsOf
    ) -> tuple[str, list[Any]]:
        """SQL selecting, per (measure, kind, key) of the latest-wins kinds (with a key
        among `prefixes`, if given), the latest row visible at `point` on or before its day.

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
            f"  AND f.occurred_on <= ? AND {visible('f.')}"
            "  ORDER BY f.occurred_on DESC, f.position DESC LIMIT 1)"
            f" FROM tl_fact_keys k WHERE k.measure_id IN ({','.join('?' * len(ids))})"
            f" AND +k.kind IN ({kinds}){key_filter})"
        )
        return statement, [point.on, *visible_at(point), *ids, *key_params]

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

    # -- negotiations ------------------------------------------------------------------

    def negotiation_events(
        self, negotiation_id: UUID, known_at: datetime, position: int
    ) -> list[StoredNegotiationEvent]:
        """A negotiation's events recorded by `position`, in log order, each saying whether
        it was announced by `known_at` (corrections count whenever they were announced:
        they apply by record time only)."""
        rows = self._select(
            "SELECT (announced_at <= ? OR event_type = 'record_corrected') AS known,"
            " version, topic, state FROM tl_negotiation_events"
            " WHERE negotiation_id = ? AND position <= ? ORDER BY position",
            (known_at, negotiation_id, position),
        )
        return [
            StoredNegotiationEvent(
                bool(r["known"]), int(r["version"]), r["topic"], bytes(r["state"])
            )
            for r in rows
        ]

    def unkept_negotiation_events(self) -> list[UnkeptEvent]:
        """Negotiations' events projected before their table existed (a read model written
        by an earlier release); none once the table has any row."""
        found = self._select(
            "SELECT EXISTS (SELECT 1 FROM tl_negotiation_parties) AS negotiations,"
            " EXISTS (SELECT 1 FROM tl_negotiation_events) AS kept"
        )[0]
        if not found["negotiations"] or found["kept"]:
            return []
        rows = self._select(
            "SELECT position, stream_id, version, event_type, announced_at FROM tl_events"
            " WHERE stream_kind = 'negotiation' ORDER BY position"
        )
        return [
            UnkeptEvent(
                int(r["position"]),
                UUID(r["stream_id"]),
                int(r["version"]),
                r["event_type"],
                self._instant(r["announced_at"]),
            )
            for r in rows
        ]

    # -- decoding ----------------------------------------------------------------------

    def _measure(self, r: Any) -> MeasureRow:
        return frozen_row(
            MeasureRow,
            measure_id=_uuid(r["measure_id"]),
            key=r["key"],
            name=r["name"],
            imposer=r["imposer"],
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
