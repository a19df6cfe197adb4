"""What the figures were measured on: CPUs, versions, and the PostgreSQL settings that matter."""

from __future__ import annotations

import contextlib
import os
import platform
import sqlite3
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psycopg

POSTGRES_SETTINGS = (
    "shared_buffers",
    "synchronous_commit",
    "fsync",
    "full_page_writes",
    "wal_level",
    "wal_buffers",
    "max_wal_size",
    "checkpoint_timeout",
    "work_mem",
    "maintenance_work_mem",
    "effective_cache_size",
    "random_page_cost",
    "jit",
    "max_connections",
)


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _sqlite_settings() -> dict[str, Any]:
    """The pragmas a file database gets from the library's datastore (WAL) and defaults."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "probe.sqlite"
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            return {
                name: conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "synchronous", "cache_size", "page_size")
            }


def describe(postgres_dsn: str | None) -> dict[str, Any]:
    """The machine and software, as a JSON-able dict."""
    load: list[float] | None = None
    with contextlib.suppress(OSError):
        load = list(os.getloadavg())
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "load_average_at_start": load,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "eventsourcing": _version("eventsourcing"),
        "psycopg": psycopg.__version__,
        "psycopg_impl": psycopg.pq.__impl__,
        "libpq": psycopg.pq.version(),
        "orjson": _version("orjson"),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": None,
        "postgresql_settings": {},
    }
    info["sqlite_settings"] = _sqlite_settings()
    if postgres_dsn is not None:
        with psycopg.connect(postgres_dsn, connect_timeout=5) as conn:
            row = conn.execute("SELECT version()").fetchone()
            info["postgresql"] = None if row is None else row[0]
            rows = conn.execute(
                "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
                (list(POSTGRES_SETTINGS),),
            ).fetchall()
            info["postgresql_settings"] = {
                name: f"{setting}{'' if not unit else ' x ' + unit}" for name, setting, unit in rows
            }
    return info
