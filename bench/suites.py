"""The measurements: raw limits, recorders, the application, replay, rebuild, queries.

Each function measures one group on one backend and returns Figures; `Settings` says
how much work a run does and how many runs make a figure. Write benchmarks run on
scratch stores (empty, removed afterwards); replay, rebuild and queries on the stores
of synthetic data (see bench.stores).
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from bench.figures import EVENTS_PER_SECOND, MILLISECONDS, Figure, latencies, percentile, rate
from bench.stores import BuiltStore, Place, scratch
from bench.synthetic import (
    IMPOSERS,
    DutyPoint,
    StatePoint,
    Synthetic,
    duty_points,
    measure_points,
    negotiation_points,
)
from domain.commands import ImposeMeasure, MeasureTerms
from domain.events import Facts
from domain.ledger import MEASURE, stream_id_for_key
from domain.measure_changes import ChangeRate, MeasureChange
from domain.values import Provenance, Reliability, Source
from eventschema import DATASET_LINE, to_batch_item
from projections.timepoint import TimePoint
from storage.postgres import LedgerPostgresApplicationRecorder
from storage.sqlite import LedgerSQLiteApplicationRecorder
from tradeledger.bootstrap import open_ledger, open_services
from tradeledger.settings import StoreConfig

RAW = "1 raw limit"
RECORDERS = "2 recorders"
APPLICATION = "3 application"
REPLAY = "5 replay and rebuild"
QUERIES = "6 queries"

RAW_SINGLE = "raw insert, one per transaction"
RAW_BATCH = "raw insert, executemany batches of 100"
RAW_COPY = "raw COPY, 1000 rows per transaction"
RAW_READ = "raw SELECT of the log, pages of 5000"
APP_SINGLE = "Ledger.append_to_stream, one rate change per call"


@dataclass(frozen=True)
class Settings:
    """How much each run does, and how many runs make a figure."""

    runs: int
    singles: int
    """Events appended one per transaction in a run."""
    batched: int
    """Events appended in batches in a run."""
    app_singles: int
    """Ledger.append_to_stream calls in a run."""
    bulk_lines: int
    """Dataset lines imported in a run."""
    bulk_batch: int
    """Lines per append_batch."""
    queries: int
    """Duty queries in a run (p50/p99 are over these)."""
    state_queries: int
    """Measure-state and negotiation-state queries in a run (these cost more at 1M, and
    are not targets)."""
    warm_up: int
    read_page: int = 5000


# -- event rows -------------------------------------------------------------------------


def sample_events(built: BuiltStore, count: int) -> list[StoredEvent]:
    """`count` stored events of the synthetic store (repeated under fresh stream ids when
    the store holds fewer), as they are stored: topic and state bytes."""
    services = open_services(built.config)
    try:
        found = services.ledger.recorder.select_notifications(1, count)
    finally:
        services.close()
    events = [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in found]
    copies = [events]
    while sum(len(c) for c in copies) < count:
        renamed: dict[Any, UUID] = {}
        copies.append(
            [
                StoredEvent(
                    renamed.setdefault(e.originator_id, uuid4()),
                    e.originator_version,
                    e.topic,
                    e.state,
                )
                for e in events
            ]
        )
    return [e for chunk in copies for e in chunk][:count]


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- 1. raw limits ------------------------------------------------------------------------

_PG_RAW_TABLE = (
    "CREATE TABLE raw_events (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
    " topic text NOT NULL, state bytea NOT NULL, notification_id bigserial,"
    " PRIMARY KEY (originator_id, originator_version))",
    "CREATE UNIQUE INDEX raw_events_notification_id ON raw_events (notification_id)",
)
_PG_RAW_INSERT = (
    "INSERT INTO raw_events (originator_id, originator_version, topic, state)"
    " VALUES (%s, %s, %s, %s)"
)
_SQLITE_RAW_TABLE = (
    "CREATE TABLE raw_events (originator_id TEXT, originator_version INTEGER, topic TEXT,"
    " state BLOB, PRIMARY KEY (originator_id, originator_version))"
)
_SQLITE_RAW_INSERT = "INSERT INTO raw_events VALUES (?, ?, ?, ?)"


def raw_postgres(place: Place, events: list[StoredEvent], settings: Settings) -> list[Figure]:
    """psycopg inserting the event rows into a table shaped like the library's."""
    rows = [(e.originator_id, e.originator_version, e.topic, e.state) for e in events]
    single: list[float] = []
    batch: list[float] = []
    copy: list[float] = []
    with scratch(place, "postgres", "raw") as config:
        dsn = place.postgres_dsn(config.env["POSTGRES_DBNAME"])
        with psycopg.connect(dsn, autocommit=True) as conn:
            for statement in _PG_RAW_TABLE:
                conn.execute(statement)

            def truncate() -> None:
                conn.execute("TRUNCATE raw_events")

            def one_per_transaction() -> int:
                with conn.cursor() as cursor:
                    for row in rows[: settings.singles]:
                        cursor.execute(_PG_RAW_INSERT, row, prepare=True)
                return settings.singles

            def batches_of_100() -> int:
                with conn.cursor() as cursor:
                    for chunk in _chunks(rows[: settings.batched], 100):
                        with conn.transaction():
                            cursor.executemany(_PG_RAW_INSERT, chunk)
                return settings.batched

            def copy_1000() -> int:
                statement = (
                    "COPY raw_events (originator_id, originator_version, topic, state)"
                    " FROM STDIN (FORMAT BINARY)"
                )
                with conn.cursor() as cursor:
                    for chunk in _chunks(rows[: settings.batched], 1000):
                        with conn.transaction(), cursor.copy(statement) as copying:
                            copying.set_types(["uuid", "int8", "text", "bytea"])
                            for row in chunk:
                                copying.write_row(row)
                return settings.batched

            for _ in range(settings.runs):
                for runs, work in ((single, one_per_transaction), (batch, batches_of_100)):
                    truncate()
                    runs.append(rate(work))
                truncate()
                copy.append(rate(copy_1000))
    return [
        Figure(RAW, RAW_SINGLE, "postgres", EVENTS_PER_SECOND, single),
        Figure(RAW, RAW_BATCH, "postgres", EVENTS_PER_SECOND, batch),
        Figure(RAW, RAW_COPY, "postgres", EVENTS_PER_SECOND, copy),
    ]


def raw_sqlite(place: Place, events: list[StoredEvent], settings: Settings) -> list[Figure]:
    """sqlite3 inserting the event rows, in WAL mode like the library's datastore."""
    rows = [(str(e.originator_id).replace("-", ""), e.originator_version, e.topic, e.state)
            for e in events]  # fmt: skip
    single: list[float] = []
    batch: list[float] = []
    with scratch(place, "sqlite", "raw") as config:
        path = config.env["SQLITE_DBNAME"]
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SQLITE_RAW_TABLE)

            def one_per_transaction() -> int:
                for row in rows[: settings.singles]:
                    conn.execute(_SQLITE_RAW_INSERT, row)
                return settings.singles

            def batches_of_100() -> int:
                for chunk in _chunks(rows[: settings.batched], 100):
                    conn.execute("BEGIN")
                    conn.executemany(_SQLITE_RAW_INSERT, chunk)
                    conn.execute("COMMIT")
                return settings.batched

            for _ in range(settings.runs):
                for runs, work in ((single, one_per_transaction), (batch, batches_of_100)):
                    conn.execute("DELETE FROM raw_events")
                    runs.append(rate(work))
    return [
        Figure(RAW, RAW_SINGLE, "sqlite", EVENTS_PER_SECOND, single),
        Figure(RAW, RAW_BATCH, "sqlite", EVENTS_PER_SECOND, batch),
    ]


# -- 2. recorders ---------------------------------------------------------------------------


def _recorders(
    backend: str, config: StoreConfig
) -> Iterator[tuple[str, ApplicationRecorder, Callable[[], None], Callable[[], None]]]:
    """(label, recorder, clear, close) for the library's recorder and ours."""
    if backend == "postgres":
        env = config.env
        for label, cls in (
            ("library PostgresApplicationRecorder", PostgresApplicationRecorder),
            ("tradeledger LedgerPostgresApplicationRecorder", LedgerPostgresApplicationRecorder),
        ):
            datastore = PostgresDatastore(
                dbname=env["POSTGRES_DBNAME"],
                host=env["POSTGRES_HOST"],
                port=env["POSTGRES_PORT"],
                user=env["POSTGRES_USER"],
                password=env["POSTGRES_PASSWORD"],
                pool_size=2,
            )
            table = "lib_events" if cls is PostgresApplicationRecorder else "our_events"
            pg_recorder = cls(datastore, events_table_name=table)
            pg_recorder.create_table()

            def clear_pg(datastore: PostgresDatastore = datastore, table: str = table) -> None:
                with datastore.get_connection() as conn:
                    conn.execute(f"TRUNCATE {table}")
                    conn.commit()

            yield label, pg_recorder, clear_pg, datastore.close
    else:
        path = config.env["SQLITE_DBNAME"]
        for label, sqlite_cls in (
            ("library SQLiteApplicationRecorder", SQLiteApplicationRecorder),
            ("tradeledger LedgerSQLiteApplicationRecorder", LedgerSQLiteApplicationRecorder),
        ):
            sqlite_store = SQLiteDatastore(path)
            table = "lib_events" if sqlite_cls is SQLiteApplicationRecorder else "our_events"
            sqlite_recorder = sqlite_cls(sqlite_store, events_table_name=table)
            sqlite_recorder.create_table()

            def clear_sqlite(datastore: SQLiteDatastore = sqlite_store, table: str = table) -> None:
                with datastore.transaction(commit=True) as cursor:
                    cursor.execute(f"DELETE FROM {table}")

            yield label, sqlite_recorder, clear_sqlite, sqlite_store.close


def recorders(
    place: Place, backend: str, events: list[StoredEvent], settings: Settings
) -> list[Figure]:
    """The library's recorder and ours appending the same stored events."""
    figures = []
    with scratch(place, backend, "recorders") as config:
        for label, recorder, clear, close in _recorders(backend, config):
            single, batch = [], []

            def one_at_a_time(recorder: ApplicationRecorder = recorder) -> int:
                for event in events[: settings.singles]:
                    recorder.insert_events([event])
                return settings.singles

            def batches_of_100(recorder: ApplicationRecorder = recorder) -> int:
                for chunk in _chunks(events[: settings.batched], 100):
                    recorder.insert_events(list(chunk))
                return settings.batched

            try:
                for _ in range(settings.runs):
                    clear()
                    single.append(rate(one_at_a_time))
                    clear()
                    batch.append(rate(batches_of_100))
            finally:
                close()
            figures += [
                Figure(RECORDERS, f"{label}, one event per call", backend, EVENTS_PER_SECOND,
                       single, reference=f"{backend}:{RAW_SINGLE}"),
                Figure(RECORDERS, f"{label}, 100 events per call", backend, EVENTS_PER_SECOND,
                       batch, reference=f"{backend}:{RAW_BATCH}"),
            ]  # fmt: skip
    return figures


# -- 3. the application ---------------------------------------------------------------------

BENCH_PROVENANCE = Provenance(
    (
        Source(
            "https://www.federalregister.gov/documents/2025/04/09/2025-06063",
            "Federal Register",
            Reliability.OFFICIAL,
        ),
    ),
    recorded_by="loader@bench.tradeledger",
    note="benchmark event",
)
"""The provenance of every event the benchmark writes through the domain."""


def _rate_change(n: int) -> MeasureChange:
    announced = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
    facts = Facts(f"bench-rate-{n:07d}", date(2025, 4, 9), announced, BENCH_PROVENANCE)
    return ChangeRate(facts, rate_pct=Decimal(10 + n % 50), hs_prefixes=())


def application(
    place: Place, backend: str, synthetic_lines: list[str], settings: Settings
) -> list[Figure]:
    """Ledger.append_to_stream one change per call, and bulk import of dataset lines: the
    application alone (open_ledger), as before the read models were projected after
    commits, so that the figures compare across releases."""
    single: list[float] = []
    bulk: list[float] = []
    bulk_append_only: list[float] = []
    validate_only: list[float] = []
    lines = synthetic_lines[: settings.bulk_lines]
    with scratch(place, backend, "app") as config:
        ledger = open_ledger(config)
        try:
            for run in range(settings.runs):
                measures = []
                for i in range(50):
                    measure_id = uuid4()
                    ledger.create_stream(
                        ImposeMeasure(
                            measure_id=measure_id,
                            key=f"bench-{run}-{i}",
                            facts=Facts(
                                f"bench-impose-{run}-{i}",
                                date(2025, 3, 4),
                                datetime(2025, 3, 1, 9, 0, tzinfo=UTC),
                                BENCH_PROVENANCE,
                            ),
                            terms=MeasureTerms(
                                "US", f"Bench {run}-{i}", ("CN",), "bench", rate_pct=Decimal(10)
                            ),
                        )
                    )
                    measures.append(measure_id)

                def one_change_per_call(measures: list[UUID] = measures) -> int:
                    for n in range(settings.app_singles):
                        ledger.append_to_stream(measures[n % len(measures)], [_rate_change(n)])
                    return settings.app_singles

                single.append(rate(one_change_per_call))
        finally:
            ledger.close()
    for _ in range(settings.runs):
        with scratch(place, backend, "bulk") as config:
            ledger = open_ledger(config)
            try:

                def import_lines(ledger: Any = ledger) -> int:
                    added = 0
                    for chunk in _chunks(lines, settings.bulk_batch):
                        items = [to_batch_item(DATASET_LINE.validate_json(line)) for line in chunk]
                        added += ledger.append_batch(items).added
                    return added

                bulk.append(rate(import_lines))
            finally:
                ledger.close()
        with scratch(place, backend, "bulk") as config:
            ledger = open_ledger(config)
            try:
                started = time.perf_counter()
                items = [to_batch_item(DATASET_LINE.validate_json(line)) for line in lines]
                validate_only.append(len(items) / (time.perf_counter() - started))

                def append_items(ledger: Any = ledger, items: list[Any] = items) -> int:
                    added = 0
                    for chunk in _chunks(items, settings.bulk_batch):
                        added += ledger.append_batch(chunk).added
                    return added

                bulk_append_only.append(rate(append_items))
            finally:
                ledger.close()
    raw_single, raw_batch = f"{backend}:{RAW_SINGLE}", f"{backend}:{RAW_BATCH}"
    batch_note = f"batches of {settings.bulk_batch} lines, {len(lines)} lines per run, fresh store"
    return [
        Figure(APPLICATION, APP_SINGLE, backend,
               EVENTS_PER_SECOND, single, reference=raw_single,
               note="round-robin over 50 measures (each call loads its stream)"),
        Figure(APPLICATION, "bulk import of dataset lines (parse, validate, append_batch)",
               backend, EVENTS_PER_SECOND, bulk, reference=raw_batch, note=batch_note),
        Figure(APPLICATION, "  of which: parse and validate lines only", backend,
               EVENTS_PER_SECOND, validate_only, reference=raw_batch),
        Figure(APPLICATION, "  of which: Ledger.append_batch only (items ready)", backend,
               EVENTS_PER_SECOND, bulk_append_only, reference=raw_batch, note=batch_note),
    ]  # fmt: skip


def dataset_lines(count: int, seed: int = 11) -> list[str]:
    """Dataset lines (JSON text) for the bulk import, from a synthetic store of `count`."""
    return [json.dumps(line) for line in Synthetic(count, seed=seed).lines()]


# -- 4. replay and rebuild ------------------------------------------------------------------


@contextlib.contextmanager
def _raw_reader(config: StoreConfig, place: Place, page: int) -> Iterator[Callable[[], int]]:
    """A function reading the whole log with the driver alone (its connection is opened
    outside the timed calls), in pages of `page` rows."""
    if config.backend == "postgres":
        statement = (
            "SELECT notification_id, originator_id, originator_version, topic, state"
            " FROM tradeledger_events WHERE notification_id > %s ORDER BY notification_id"
            " LIMIT %s"
        )
        with psycopg.connect(place.postgres_dsn(config.env["POSTGRES_DBNAME"])) as conn:

            def read_postgres() -> int:
                done, position = 0, 0
                with conn.cursor() as cursor:
                    while True:
                        cursor.execute(statement, (position, page), prepare=True)
                        rows = cursor.fetchall()
                        if not rows:
                            conn.rollback()
                            return done
                        done += len(rows)
                        position = rows[-1][0]

            yield read_postgres
        return
    sqlite_statement = (
        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"
        " WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    with contextlib.closing(sqlite3.connect(config.env["SQLITE_DBNAME"])) as sqlite_conn:

        def read_sqlite() -> int:
            done, position = 0, 0
            while True:
                rows = sqlite_conn.execute(sqlite_statement, (position, page)).fetchall()
                if not rows:
                    return done
                done += len(rows)
                position = rows[-1][0]

        yield read_sqlite


def replay(place: Place, built: BuiltStore, settings: Settings) -> list[Figure]:
    """Read the whole log (raw, as notifications, decoded), and rebuild the read models."""
    backend, size = built.config.backend, built.synthetic.events
    services = open_services(built.config)
    recorder = services.ledger.recorder
    mapper = services.ledger.mapper
    page = settings.read_page

    def notifications(decode: bool) -> int:
        done, start = 0, 1
        while True:
            batch = recorder.select_notifications(start, page)
            if not batch:
                return done
            if decode:
                for notification in batch:
                    mapper.to_domain_event(notification)
            done += len(batch)
            start = batch[-1].id + 1

    raw, plain, decoded, rebuild = [], [], [], []
    try:
        for _ in range(settings.runs):
            with _raw_reader(built.config, place, settings.read_page) as raw_read:
                raw.append(rate(raw_read))
            plain.append(rate(lambda: notifications(decode=False)))
            decoded.append(rate(lambda: notifications(decode=True)))
            rebuild.append(rate(services.projector.rebuild))
    finally:
        services.close()
    reference = f"{backend}:{RAW_READ}@{size}"
    return [
        Figure(REPLAY, RAW_READ, backend, EVENTS_PER_SECOND, raw, size),
        Figure(REPLAY, "library select_notifications, pages of 5000", backend,
               EVENTS_PER_SECOND, plain, size, reference),
        Figure(REPLAY, "  ... decoded to domain events (mapper)", backend, EVENTS_PER_SECOND,
               decoded, size, reference),
        Figure(REPLAY, "Projector.rebuild (beside, then swap)", backend,
               EVENTS_PER_SECOND, rebuild, size, reference,
               note=f"batches of {services.projector.batch_size}"),
    ]  # fmt: skip


# -- 5. queries ---------------------------------------------------------------------------


def _activity_points(services: Any, synthetic: Synthetic, n: int, seed: int) -> list[DutyPoint]:
    """Duty questions about products that have rows of their own: a prefix some rate,
    exclusion or scope fact names, extended to a 10-digit code."""
    rng = random.Random(f"activity-{seed}")
    plans = {stream_id_for_key(MEASURE, p.key).hex: p for p in synthetic.measure_plans}
    view = services.view
    rows = view._select(
        "SELECT measure_id, key FROM tl_fact_keys WHERE kind IN ('rate', 'exclusion', 'coverage')"
        " AND key <> '' ORDER BY measure_id, kind, key"
    )
    keys = [(str(r["measure_id"]), str(r["key"])) for r in rows]
    if not keys:
        return []
    base = duty_points(synthetic, n, seed)
    points = []
    for point in base:
        measure_hex, prefix = rng.choice(keys)
        plan = plans.get(measure_hex)
        if plan is None:
            continue
        target = rng.choice(plan.targets)
        origin = rng.choice(IMPOSERS[plan.imposer]) if target == "*" else target
        hs = prefix + "".join(str(rng.randrange(10)) for _ in range(10 - len(prefix)))
        points.append(DutyPoint(plan.imposer, origin, hs[:10], point.on, point.known_at))
    return points


def duty_question_mix(services: Any, synthetic: Synthetic, total: int) -> list[DutyPoint]:
    """`total` duty questions: half about random products, half about products that have
    rows of their own (the costlier answers), shuffled."""
    half = total // 2 + 1
    duty = duty_points(synthetic, half) + _activity_points(services, synthetic, half, seed=3)
    random.Random(5).shuffle(duty)
    return duty


def queries(place: Place, built: BuiltStore, settings: Settings) -> list[Figure]:
    """p50/p99 of duty, measure-state and negotiation-state queries on a projected store."""
    backend, size, synthetic = built.config.backend, built.synthetic.events, built.synthetic
    services = open_services(built.config)
    try:
        services.projector.catch_up()
        total = settings.warm_up + max(settings.queries, settings.state_queries)
        duty = duty_question_mix(services, synthetic, total)
        measures = measure_points(synthetic, total)
        talks = negotiation_points(synthetic, total)
        q = services.queries

        def ask_duty(point: DutyPoint) -> object:
            at = TimePoint(point.on, point.known_at)
            return q.duty_on(point.importer, point.origin, point.hs, at=at)

        def ask_measure(point: StatePoint) -> object:
            return q.measure_state(point.stream, at=TimePoint(point.on, point.known_at))

        def ask_negotiation(point: StatePoint) -> object:
            return q.negotiation_state(point.stream, at=TimePoint(point.on, point.known_at))

        figures = []
        kinds: list[tuple[str, Sequence[Any], Callable[[Any], object]]] = [
            ("duty_on", duty, ask_duty),
            ("measure_state", measures, ask_measure),
            ("negotiation_state", talks, ask_negotiation),
        ]
        for name, points, ask in kinds:
            count = settings.queries if name == "duty_on" else settings.state_queries
            p50, p99 = [], []
            for run in range(settings.runs):
                offset = run * 7919

                def call(
                    i: int,
                    points: Sequence[Any] = points,
                    offset: int = offset,
                    ask: Callable[[Any], object] = ask,
                ) -> object:
                    return ask(points[(i + offset) % len(points)])

                values = latencies(call, count, settings.warm_up)
                p50.append(percentile(values, 0.50))
                p99.append(percentile(values, 0.99))
            note = f"{count} queries per run after {settings.warm_up} to warm up"
            figures += [
                Figure(QUERIES, f"{name} p50", backend, MILLISECONDS, p50, size, note=note),
                Figure(QUERIES, f"{name} p99", backend, MILLISECONDS, p99, size, note=note),
            ]
        return figures
    finally:
        services.close()


def store_path(config: StoreConfig) -> Path | None:
    return Path(config.env["SQLITE_DBNAME"]) if config.backend == "sqlite" else None
