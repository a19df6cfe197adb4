"""Single-event appends per second on PostgreSQL: the library's recorder vs ours.

Not a test (pytest does not collect it). Run from the project root::

    .venv/bin/python -m tests.storage.bench_insert_rate [--inserts 2000] [--runs 5]

Each variant gets a database of its own on the server named by
TRADELEDGER_TEST_POSTGRES_URL (dropped afterwards). Runs alternate between variants
so that drift in the machine's load affects all of them alike; the median rate is
reported.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from time import perf_counter
from uuid import uuid4

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from storage.postgres import LedgerPostgresApplicationRecorder
from tests.conftest import PostgresDatabase, create_database, drop_database, postgres_server_url

Variant = tuple[str, type[PostgresApplicationRecorder], bool]

VARIANTS: list[Variant] = [
    ("library (BEGIN, LOCK, NOTIFY, INSERT, COMMIT)", PostgresApplicationRecorder, False),
    ("library POSTGRES_ENABLE_DB_FUNCTIONS (no lock)", PostgresApplicationRecorder, True),
    ("tradeledger (one call: LOCK, INSERT, NOTIFY)", LedgerPostgresApplicationRecorder, False),
]


def _datastore(database: PostgresDatabase, *, enable_db_functions: bool) -> PostgresDatastore:
    return PostgresDatastore(
        dbname=database.dbname,
        host=database.host,
        port=database.port,
        user=database.user,
        password=database.password,
        pool_size=1,
        max_overflow=0,
        enable_db_functions=enable_db_functions,
    )


def _rate(insert: Callable[[], object], n: int) -> float:
    started = perf_counter()
    for _ in range(n):
        insert()
    return n / (perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inserts", type=int, default=2000, help="inserts per run")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    server_url = postgres_server_url()
    databases: list[PostgresDatabase] = []
    datastores: list[PostgresDatastore] = []
    try:
        recorders = []
        for _, recorder_class, db_functions in VARIANTS:
            databases.append(create_database(server_url))
            datastores.append(_datastore(databases[-1], enable_db_functions=db_functions))
            recorder = recorder_class(datastores[-1])
            recorder.create_table()
            recorders.append(recorder)

        def inserter(recorder: ApplicationRecorder) -> Callable[[], object]:
            return lambda: recorder.insert_events([StoredEvent(uuid4(), 1, "bench", b"{}")])

        for recorder in recorders:
            _rate(inserter(recorder), 200)  # Warm up: connect, prepare statements.
        rates: list[list[float]] = [[] for _ in VARIANTS]
        for _ in range(args.runs):
            for i, recorder in enumerate(recorders):
                rates[i].append(_rate(inserter(recorder), args.inserts))

        print(f"single-event inserts/s, median of {args.runs} runs of {args.inserts}:")
        for (name, _, _), variant_rates in zip(VARIANTS, rates, strict=True):
            runs = ", ".join(f"{r:.0f}" for r in variant_rates)
            print(f"  {statistics.median(variant_rates):8.0f}  {name}  [{runs}]")
    finally:
        for datastore in datastores:
            datastore.close()
        for database in databases:
            drop_database(server_url, database)


if __name__ == "__main__":
    main()
