"""Where the benchmark's stores live, and how they are built once and reused.

A *store* is a ledger of the synthetic data at one size on one backend, with its read
models projected: a SQLite file in the stores directory, or a PostgreSQL database named
after the size. Each records what it holds (`bench_store` table: the generator version,
seed and size) when complete, so an interrupted build is redone and a finished one is
reused by later runs. *Scratch* stores are empty ones for the write benchmarks: a fresh
SQLite file, or a fresh PostgreSQL database, dropped afterwards.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from bench.synthetic import Synthetic
from eventschema import DATASET_LINE, to_batch_item
from tradeledger.bootstrap import Services, open_services
from tradeledger.settings import StoreConfig, parse_database_url

GENERATOR_VERSION = 2
"""Bump when the synthetic data changes, so that stores built before are rebuilt."""

DEFAULT_STORES_DIR = Path(__file__).resolve().parent / ".stores"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_URL_VARIABLE = "TRADELEDGER_BENCH_POSTGRES_URL"

STORE_PREFIX = "tl_bench"
"""Names of store files and PostgreSQL databases start with it (tests use another)."""

LOAD_BATCH = 2000
"""Dataset lines per `append_batch` when building a store."""


@dataclass(frozen=True)
class Place:
    """Where the benchmark keeps things: a stores directory and a PostgreSQL server."""

    stores_dir: Path
    postgres_url: str
    """A maintenance URL (any database): scratch and store databases are created beside it."""
    prefix: str = STORE_PREFIX
    """Names of the stores (files, databases) start with it."""

    @classmethod
    def default(cls, stores_dir: Path | None = None, prefix: str = STORE_PREFIX) -> Place:
        url = os.environ.get(POSTGRES_URL_VARIABLE) or DEFAULT_POSTGRES_URL
        return cls(stores_dir or DEFAULT_STORES_DIR, url, prefix)

    def postgres_dsn(self, dbname: str) -> str:
        params = conninfo_to_dict(self.postgres_url)
        params["dbname"] = dbname
        return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items()})

    def postgres_url_for(self, dbname: str) -> str:
        params = conninfo_to_dict(self.postgres_url)
        user = params.get("user") or "postgres"
        password = f":{params['password']}" if params.get("password") else ""
        host = params.get("host") or "127.0.0.1"
        port = params.get("port") or 5432
        return f"postgresql://{user}{password}@{host}:{port}/{dbname}"

    def config(self, backend: str, name: str) -> StoreConfig:
        """The store `name` on `backend` (a SQLite file here, or a PostgreSQL database)."""
        if backend == "sqlite":
            self.stores_dir.mkdir(parents=True, exist_ok=True)
            return parse_database_url(f"sqlite:///{self.stores_dir / f'{name}.sqlite'}")
        return parse_database_url(self.postgres_url_for(name))


def store_name(size: int, seed: int, prefix: str = STORE_PREFIX) -> str:
    """The store's SQLite file stem, or PostgreSQL database name."""
    return f"{prefix}_{size}_s{seed}_v{GENERATOR_VERSION}"


# -- PostgreSQL databases ---------------------------------------------------------------


def create_database(place: Place, dbname: str) -> None:
    with psycopg.connect(place.postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def drop_database(place: Place, dbname: str) -> None:
    with psycopg.connect(place.postgres_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(dbname)))


def database_exists(place: Place, dbname: str) -> bool:
    with psycopg.connect(place.postgres_url, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
    return row is not None


@contextlib.contextmanager
def scratch(place: Place, backend: str, label: str) -> Iterator[StoreConfig]:
    """An empty store on `backend`, removed afterwards."""
    name = f"{place.prefix}_scratch_{label}_{os.getpid()}_{secrets.token_hex(3)}"
    if backend == "postgres":
        create_database(place, name)
        try:
            yield place.config(backend, name)
        finally:
            drop_database(place, name)
    else:
        config = place.config(backend, name)
        try:
            yield config
        finally:
            path = Path(config.env["SQLITE_DBNAME"])
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{path}{suffix}").unlink()


# -- the stores of synthetic data -------------------------------------------------------


def _fingerprint(synthetic: Synthetic) -> str:
    return json.dumps(
        {"generator": GENERATOR_VERSION, "seed": synthetic.seed, "events": synthetic.events},
        sort_keys=True,
    )


def _recorded_fingerprint(backend: str, config: StoreConfig, place: Place) -> str | None:
    query = "SELECT fingerprint FROM bench_store"
    try:
        if backend == "sqlite":
            path = config.env["SQLITE_DBNAME"]
            if not Path(path).exists():
                return None
            with contextlib.closing(sqlite3.connect(path)) as conn:
                row = conn.execute(query).fetchone()
        else:
            dbname = config.env["POSTGRES_DBNAME"]
            if not database_exists(place, dbname):
                return None
            with psycopg.connect(place.postgres_dsn(dbname)) as pg:
                row = pg.execute(query).fetchone()
    except (sqlite3.Error, psycopg.Error):
        return None
    return None if row is None else str(row[0])


def _record_fingerprint(services: Services, fingerprint: str) -> None:
    view: Any = services.view
    with view._cursor(commit=True) as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_store (fingerprint TEXT NOT NULL)")
        cursor.execute("DELETE FROM bench_store")
        statement = "INSERT INTO bench_store VALUES (?)"
        cursor.execute(view.dialect.sql(statement), [fingerprint])


def _remove(backend: str, config: StoreConfig, place: Place) -> None:
    if backend == "postgres":
        drop_database(place, config.env["POSTGRES_DBNAME"])
        return
    path = config.env["SQLITE_DBNAME"]
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


@dataclass(frozen=True)
class BuiltStore:
    config: StoreConfig
    synthetic: Synthetic
    built_now: bool
    build_seconds: float | None
    """Seconds to load (append_batch) and project the store, when built by this run."""


def load_lines(
    services: Services,
    lines: Iterator[dict[str, Any]],
    batch: int = LOAD_BATCH,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Validate dataset lines and append them in batches; return how many were added."""
    added = 0
    items = []
    for line in lines:
        items.append(to_batch_item(DATASET_LINE.validate_python(line)))
        if len(items) >= batch:
            added += services.ledger.append_batch(items).added
            items = []
            if progress:
                progress(added)
    if items:
        added += services.ledger.append_batch(items).added
    return added


def ensure_store(
    place: Place,
    backend: str,
    synthetic: Synthetic,
    say: Callable[[str], None] = print,
) -> BuiltStore:
    """The store of `synthetic` on `backend`, built (and projected) unless already there."""
    name = store_name(synthetic.events, synthetic.seed, place.prefix)
    with _exclusively(place, f"{name}.{backend}"):
        return _ensure_store(place, backend, synthetic, name, say)


@contextlib.contextmanager
def _exclusively(place: Place, name: str) -> Iterator[None]:
    """Hold a lock file in the stores directory, so that two benchmark processes never
    build the same store at once (each would remove what the other had loaded)."""
    place.stores_dir.mkdir(parents=True, exist_ok=True)
    with (place.stores_dir / f"{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ensure_store(
    place: Place, backend: str, synthetic: Synthetic, name: str, say: Callable[[str], None]
) -> BuiltStore:
    config = place.config(backend, name)
    fingerprint = _fingerprint(synthetic)
    if _recorded_fingerprint(backend, config, place) == fingerprint:
        return BuiltStore(config, synthetic, built_now=False, build_seconds=None)
    _remove(backend, config, place)
    if backend == "postgres":
        create_database(place, name)
    say(f"building the {synthetic.events:,}-event store on {backend} (once; kept in {name})")
    started = time.perf_counter()
    services = open_services(config)
    try:
        step = max(LOAD_BATCH, synthetic.events // 10)
        marks = iter(range(step, synthetic.events + step, step))
        next_mark = next(marks)

        def progress(done: int) -> None:
            nonlocal next_mark
            if done >= next_mark:
                say(f"  {done:,} events loaded ({time.perf_counter() - started:.0f} s)")
                next_mark = next(marks, synthetic.events + 1)

        added = load_lines(services, synthetic.lines(), progress=progress)
        if added != synthetic.events:
            msg = f"loaded {added} events of {synthetic.events}"
            raise RuntimeError(msg)
        services.projector.catch_up()
        _record_fingerprint(services, fingerprint)
    finally:
        services.close()
    seconds = time.perf_counter() - started
    say(f"  built in {seconds:.0f} s")
    return BuiltStore(config, synthetic, built_now=True, build_seconds=seconds)
