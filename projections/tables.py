"""The read-model tables, the same on SQLite and PostgreSQL but for column types.

Rows are keyed by the three time axes: `occurred_on` (effective day), `announced_at`
(publication instant) and `position` (record order, with `retracted_at` the position of
the correction that withdrew the row, if any). Record instants map to positions through
tl_events.recorded_at, which the store stamped.

A rebuild writes a second set of the same tables beside these, each name carrying
SHADOW_SUFFIX (`renamed`), and puts them in place of these in one transaction once it
has finished (see projections.views_sqlite / views_postgres `replace_with`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TABLES = (
    "tl_events",
    "tl_measures",
    "tl_measure_targets",
    "tl_measure_facts",
    "tl_fact_keys",
    "tl_negotiation_parties",
    "tl_negotiation_events",
    "tl_undecodable",
)

INDEXES = (
    "tl_events_stream",
    "tl_events_recorded",
    "tl_events_event",
    "tl_measures_key",
    "tl_facts_latest",
    "tl_facts_event",
    "tl_negotiation_events_stream",
)
"""Every index created by `create_statements`, by name."""

SHADOW_SUFFIX = "__next"
"""What a rebuild's tables and indexes add to their names until they are put in place."""

_NAMES = re.compile(
    r"\b(?:" + "|".join(sorted((*TABLES, *INDEXES), key=len, reverse=True)) + r")\b"
)


def renamed(statement: str, suffix: str) -> str:
    """`statement` with every read-model table and index name given `suffix`."""
    if not suffix:
        return statement
    return _NAMES.sub(lambda name: name.group(0) + suffix, statement)


@dataclass(frozen=True)
class Dialect:
    name: str
    date: str
    instant: str
    number: str
    serial_key: str
    placeholder: str
    blob: str

    def sql(self, statement: str) -> str:
        """Statements are written with `?`; PostgreSQL wants `%s`."""
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)


SQLITE = Dialect("sqlite", "TEXT", "TEXT", "TEXT", "INTEGER PRIMARY KEY", "?", "BLOB")
POSTGRES = Dialect(
    "postgres",
    "DATE",
    "TIMESTAMPTZ",
    "NUMERIC",
    "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    "%s",
    "BYTEA",
)


READ_INDEXES = ("tl_events_stream", "tl_events_recorded", "tl_measures_key", "tl_facts_latest")
"""Indexes only queries use: a rebuild drops them and creates them after loading the rows,
which is cheaper than maintaining them row by row. Projecting itself (the updates made by
corrections and extensions) uses the others."""


def create_statements(d: Dialect) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS tl_events (
            position BIGINT PRIMARY KEY,
            stream_id TEXT NOT NULL,
            stream_kind TEXT NOT NULL,
            version BIGINT NOT NULL,
            event_type TEXT NOT NULL,
            event_id TEXT NOT NULL,
            effective_on {d.date},
            occurred_on {d.date} NOT NULL,
            announced_at {d.instant} NOT NULL,
            recorded_at {d.instant} NOT NULL,
            summary TEXT NOT NULL,
            retracted_at BIGINT)""",
        "CREATE INDEX IF NOT EXISTS tl_events_stream ON tl_events (stream_id, version)",
        "CREATE INDEX IF NOT EXISTS tl_events_recorded ON tl_events (recorded_at, position)",
        # Corrections name the event they withdraw by (stream, event id).
        "CREATE INDEX IF NOT EXISTS tl_events_event ON tl_events (stream_id, event_id)",
        f"""CREATE TABLE IF NOT EXISTS tl_measures (
            measure_id TEXT PRIMARY KEY,
            key TEXT NOT NULL,
            imposer TEXT NOT NULL,
            name TEXT NOT NULL,
            layer TEXT NOT NULL,
            targets TEXT NOT NULL,
            excluded_targets TEXT NOT NULL,
            instruments TEXT NOT NULL,
            event_id TEXT NOT NULL,
            position BIGINT NOT NULL,
            occurred_on {d.date} NOT NULL,
            effective_known BOOLEAN NOT NULL,
            announced_at {d.instant} NOT NULL,
            retracted_at BIGINT)""",
        "CREATE INDEX IF NOT EXISTS tl_measures_key ON tl_measures (key)",
        """CREATE TABLE IF NOT EXISTS tl_measure_targets (
            imposer TEXT NOT NULL,
            origin TEXT NOT NULL,
            measure_id TEXT NOT NULL,
            PRIMARY KEY (imposer, origin, measure_id))""",
        f"""CREATE TABLE IF NOT EXISTS tl_measure_facts (
            fact_id {d.serial_key},
            measure_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            event_id TEXT NOT NULL,
            position BIGINT NOT NULL,
            occurred_on {d.date} NOT NULL,
            announced_at {d.instant} NOT NULL,
            state TEXT NOT NULL,
            rate_pct {d.number},
            ends_on {d.date},
            until_bound {d.date},
            detail TEXT NOT NULL,
            retracted_at BIGINT)""",
        """CREATE INDEX IF NOT EXISTS tl_facts_latest
            ON tl_measure_facts (measure_id, kind, key, occurred_on, position)""",
        "CREATE INDEX IF NOT EXISTS tl_facts_event ON tl_measure_facts (measure_id, event_id)",
        # Keyed by key before kind: a duty query asks, per measure, for the ten or so
        # prefixes of one HS code, whatever their kind.
        """CREATE TABLE IF NOT EXISTS tl_fact_keys (
            measure_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            PRIMARY KEY (measure_id, key, kind))""",
        *_negotiation_statements(d),
    ]


def _negotiation_statements(d: Dialect) -> list[str]:
    return [
        """CREATE TABLE IF NOT EXISTS tl_negotiation_parties (
            party TEXT NOT NULL,
            negotiation_id TEXT NOT NULL,
            PRIMARY KEY (party, negotiation_id))""",
        # A negotiation's state is a fold of its events (domain.negotiation): they are
        # kept here as stored, so that it is folded from the read models.
        f"""CREATE TABLE IF NOT EXISTS tl_negotiation_events (
            position BIGINT PRIMARY KEY,
            negotiation_id TEXT NOT NULL,
            version BIGINT NOT NULL,
            event_type TEXT NOT NULL,
            announced_at {d.instant} NOT NULL,
            topic TEXT NOT NULL,
            state {d.blob} NOT NULL)""",
        """CREATE INDEX IF NOT EXISTS tl_negotiation_events_stream
            ON tl_negotiation_events (negotiation_id, position)""",
        # Events a projection stepped past because they do not decode
        # (TRADELEDGER_ON_UNDECODABLE=skip): every answer names those it stands on.
        """CREATE TABLE IF NOT EXISTS tl_undecodable (
            position BIGINT PRIMARY KEY,
            stream_id TEXT NOT NULL,
            version BIGINT NOT NULL,
            reason TEXT NOT NULL)""",
    ]
