"""The benchmark suite runs end to end and writes a well-formed results file.

A tiny configuration (a few hundred events, one run per figure) on SQLite and
PostgreSQL, as a subprocess exactly as people run it. Timings are not asserted: they
mean nothing at this size; the point is that every group of the suite still works.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import postgres_server_url

ROOT = Path(__file__).resolve().parents[2]

GROUPS = {
    "1 raw limit",
    "2 recorders",
    "3 application",
    "4 HTTP API",
    "5 replay and rebuild",
    "6 queries",
    "7 commit to subscriber",
    "8 hot stream",
}


@pytest.fixture
def store_prefix() -> Iterator[str]:
    """A prefix naming this run's stores; its PostgreSQL databases are dropped afterwards."""
    prefix = f"tl_benchtest_{secrets.token_hex(4)}"
    yield prefix
    with psycopg.connect(postgres_server_url(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{prefix}%",)
        ).fetchall()
        for (name,) in rows:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def run_tiny_suite(tmp_path: Path, store_prefix: str) -> dict[str, Any]:
    results = tmp_path / "results"
    command = [
        sys.executable,
        "-m",
        "bench",
        "--tiny",
        "--backends",
        "sqlite,postgres",
        "--stores-dir",
        str(tmp_path / "stores"),
        "--results-dir",
        str(results),
        "--store-prefix",
        store_prefix,
    ]
    env = {**os.environ, "TRADELEDGER_BENCH_POSTGRES_URL": postgres_server_url()}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    files = list(results.glob("*.json"))
    assert len(files) == 1, done.stdout[-2000:]
    document: dict[str, Any] = json.loads(files[0].read_text())
    document["_stdout"] = done.stdout
    return document


@pytest.mark.postgres
@pytest.mark.slow
def test_a_tiny_run_of_the_suite_writes_every_group_on_both_backends(
    tmp_path: Path, store_prefix: str
) -> None:
    document = run_tiny_suite(tmp_path, store_prefix)

    assert document["mode"] == "tiny"
    assert document["backends"] == ["sqlite", "postgres"]
    machine = document["machine"]
    for field in ("cpu_count", "python", "eventsourcing", "psycopg", "sqlite", "postgresql"):
        assert machine[field], field
    assert {"shared_buffers", "synchronous_commit", "fsync", "wal_level"} <= set(
        machine["postgresql_settings"]
    )
    figures = document["figures"]
    for backend in ("sqlite", "postgres"):
        groups = {f["group"] for f in figures if f["backend"] == backend}
        assert groups == GROUPS, backend
    for figure in figures:
        assert len(figure["runs"]) == 1
        assert figure["min"] <= figure["median"] <= figure["max"]
        assert figure["unit"] in ("events/s", "ms")
        if figure["reference"] is not None and figure["unit"] == "events/s":
            assert figure["ratio"] is not None and figure["ratio"] > 0, figure["name"]
    names = {(f["backend"], f["name"]) for f in figures}
    assert ("postgres", "raw COPY, 1000 rows per transaction") in names
    assert ("sqlite", "duty_on p99") in names
    for backend in ("sqlite", "postgres"):
        for clients in ("1 client", "8 clients"):
            api = (backend, f"POST /v1/measures/{{key}}/events, {clients}")
            assert api in names
        assert (backend, "GET /v1/duty p99") in names
        assert (backend, "SSE client, writer POSTing to the same server p99") in names
        in_process = "recorder.subscribe() in the writer's process (from Ledger.save) p99"
        assert (backend, in_process) in names
        for writers in ("1 writer", "16 writers"):
            for label in ("", " p50", " p99", " max"):
                assert (backend, f"POST to one measure, {writers}{label}") in names
    from_save = "SSE client, writer in another process (from Ledger.save) p99"
    assert ("postgres", from_save) in names
    by_name = {(f["backend"], f["name"]): f for f in figures}
    api_figure = by_name[("postgres", "POST /v1/measures/{key}/events, 8 clients")]
    assert api_figure["reference"] == "postgres:Ledger.append_to_stream, one rate change per call"
    assert {t["name"] for t in document["targets"]}
    assert "== targets" in document["_stdout"]
