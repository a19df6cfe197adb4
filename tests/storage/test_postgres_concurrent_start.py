"""Several processes starting together on an empty PostgreSQL database.

Each process builds its recorders through the Factory (which creates types, tables,
index and function) at the same moment; with the library's recorders this fails
intermittently ("tuple concurrently updated", duplicate keys in pg_type).
"""

from __future__ import annotations

import subprocess

import psycopg
import pytest

from tests.conftest import PostgresDatabase
from tests.storage.support import PYTHON, subprocess_env

pytestmark = pytest.mark.postgres

NUM_PROCESSES = 4

# Waits for "go" on stdin so that all processes create their schema together.
CHILD = """
import os, sys
from uuid import uuid4
from eventsourcing.persistence import InfrastructureFactory, StoredEvent, Tracking
from eventsourcing.utils import Environment

env = dict(os.environ)
print("ready", flush=True)
sys.stdin.readline()
factory = InfrastructureFactory.construct(Environment(env=env))
recorder = factory.application_recorder()
downstream = InfrastructureFactory.construct(Environment("Downstream", env))
process_recorder = downstream.process_recorder()
recorder.insert_events([StoredEvent(uuid4(), 1, "started", b"{}")])
process_recorder.insert_events(
    [StoredEvent(uuid4(), 1, "processed", b"{}")],
    tracking=Tracking(f"upstream-{os.getpid()}", 1),
)
factory.close()
downstream.close()
"""


def start_together(
    database: PostgresDatabase, persistence_module: str, num_processes: int = NUM_PROCESSES
) -> list[subprocess.CompletedProcess[str]]:
    """Run CHILD in `num_processes` processes released at once; return their results."""
    env = subprocess_env(PERSISTENCE_MODULE=persistence_module, **database.eventsourcing_env())
    children = [
        subprocess.Popen(
            [PYTHON, "-c", CHILD],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(num_processes)
    ]
    results = []
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            stdout, stderr = child.communicate(timeout=60)
            results.append(
                subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
            )
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    return results


def test_processes_can_create_the_schema_together(postgres_database: PostgresDatabase) -> None:
    results = start_together(postgres_database, "storage.postgres")

    failures = [r.stderr for r in results if r.returncode != 0]
    assert not failures, failures[0]
    with psycopg.connect(postgres_database.url) as conn:
        stored = conn.execute("SELECT notification_id FROM stored_events").fetchall()
        processed = conn.execute("SELECT count(*) FROM downstream_events").fetchone()
        tracked = conn.execute(
            "SELECT count(*) FROM downstream_tracking WHERE application_name LIKE 'upstream-%'"
        ).fetchone()
    assert sorted(row[0] for row in stored) == list(range(1, NUM_PROCESSES + 1))
    assert processed == (NUM_PROCESSES,)
    assert tracked == (NUM_PROCESSES,)
