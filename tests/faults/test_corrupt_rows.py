"""A damaged store: one event's stored bytes overwritten, another event's row deleted,
both directly with SQL under a running server (issue #13, item 3).

The record is written through the product (`tradeledger append`), a real uvicorn server
serves it over HTTP (in the test's process), and the commands run as processes of their
own. What must hold: the log stays
readable around the damaged event and names its position (HTTP, SSE, CLI); a write to a
damaged stream is refused by name and writes nothing; a rebuild in stop mode fails with
one line and leaves the read models in use answering byte for byte as before; a rebuild
in skip mode switches to read models whose answers name the undecodable event, while the
server goes on answering throughout.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn

from api.main import create_app
from api.settings import Settings
from domain.ledger import MEASURE, NEGOTIATION, stream_id_for_key
from tests.api.conftest import KEYS, WRITER, bearer, event
from tests.api.test_sse import REPO_ROOT, free_port, subscribed
from tests.cli.test_cli import DATASET, jsonl, tradeledger
from tradeledger.bootstrap import open_services
from tradeledger.settings import parse_database_url

pytestmark = [pytest.mark.fault, pytest.mark.slow]

RECIPROCAL = stream_id_for_key(MEASURE, "us-cn-reciprocal")
TALKS = stream_id_for_key(NEGOTIATION, "us-cn-trade-talks")
DUTY = {
    "importer": "US",
    "origin": "CN",
    "hs": "9503.00.0090",
    "on": "2025-04-12",
    "known_at": "2026-01-01",
    "recorded_at": "2099-01-01",  # fixed, so that two answers can be compared byte for byte
}
HEADERS = bearer(WRITER)


@dataclass
class Damage:
    corrupted: int
    """Log position of the event whose state was overwritten (RECIPROCAL, version 3)."""
    deleted: int
    """Log position of the event whose row was deleted (TALKS, version 2)."""


def damage_store(url: str) -> Damage:
    """Overwrite the state of RECIPROCAL's version 3 and delete TALKS's version 2."""
    config = parse_database_url(url)
    if config.backend == "sqlite":
        with closing(sqlite3.connect(config.env["SQLITE_DBNAME"])) as lite, lite:
            find = "SELECT rowid FROM stored_events WHERE originator_id = ?"
            find += " AND originator_version = ?"  # ids are stored as hex
            corrupted = lite.execute(find, (RECIPROCAL.hex, 3)).fetchone()[0]
            deleted = lite.execute(find, (TALKS.hex, 2)).fetchone()[0]
            overwrite = "UPDATE stored_events SET state = ? WHERE rowid = ?"
            lite.execute(overwrite, (b"\xff{no", corrupted))
            lite.execute("DELETE FROM stored_events WHERE rowid = ?", (deleted,))
        return Damage(corrupted, deleted)
    with psycopg.connect(url, autocommit=True) as db:
        # The library names the PostgreSQL table after the application.
        find = (
            "SELECT notification_id FROM tradeledger_events"
            " WHERE originator_id = %s AND originator_version = %s"
        )
        corrupted_row = db.execute(find, (RECIPROCAL, 3)).fetchone()
        deleted_row = db.execute(find, (TALKS, 2)).fetchone()
        assert corrupted_row is not None and deleted_row is not None
        db.execute(
            "UPDATE tradeledger_events SET state = %s WHERE notification_id = %s",
            (b"\xff{no", corrupted_row[0]),
        )
        db.execute("DELETE FROM tradeledger_events WHERE notification_id = %s", (deleted_row[0],))
        return Damage(corrupted_row[0], deleted_row[0])


@pytest.fixture
def recorded(durable_database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A store holding DATASET (7 events on two streams), written by `tradeledger append`."""
    (tmp_path / "dataset.jsonl").write_text(jsonl(DATASET))
    result = tradeledger(tmp_path, "append", "dataset.jsonl", database_url=durable_database_url)
    assert result.returncode == 0, result.stderr
    yield durable_database_url, tmp_path


@contextmanager
def serving(url: str) -> Iterator[str]:
    """The API on the store at `url`, served by uvicorn on a thread; its base URL."""
    services = open_services(parse_database_url(url))
    app = create_app(services, Settings.with_keys(KEYS, database_url=url))
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        services.close()


def _duty(server: str) -> httpx.Response:
    return httpx.get(server + "/v1/duty", params=DUTY, headers=HEADERS, timeout=10)


def _read_log(server: str, after: int) -> httpx.Response:
    return httpx.get(server + "/v1/events", params={"after": after}, headers=HEADERS, timeout=10)


def _rebuild(
    url: str, cwd: Path, server: str, on_undecodable: str
) -> tuple[subprocess.CompletedProcess[str], list[int]]:
    """Run `tradeledger rebuild` with TRADELEDGER_ON_UNDECODABLE set, asking the server for
    a duty answer all along; the result, and the statuses of those answers."""
    statuses: list[int] = []
    done = threading.Event()

    def ask() -> None:
        while not done.wait(0.05):
            statuses.append(_duty(server).status_code)

    asking = threading.Thread(target=ask)
    asking.start()
    try:
        result = _run(cwd, url, {"TRADELEDGER_ON_UNDECODABLE": on_undecodable}, "rebuild")
    finally:
        done.set()
        asking.join()
    return result, statuses


def _run(cwd: Path, url: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`tradeledger ARGS` as tests/cli runs it, with `env` added to its environment."""
    environ = {
        **os.environ,
        **env,
        "TRADELEDGER_DATABASE_URL": url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_damaged_row_is_named_and_the_read_side_stays_up(recorded: tuple[str, Path]) -> None:
    url, cwd = recorded
    with serving(url) as server:
        before = _duty(server)
        assert before.status_code == 200, before.text

        damage = damage_store(url)

        # The log is served up to the damaged event, which is named; past it, the rest.
        first = _read_log(server, 0)
        assert first.status_code == 200, first.text
        served = first.json()
        assert [e["position"] for e in served["events"]] == list(range(1, damage.corrupted))
        blocked = _read_log(server, served["next_after"])
        assert blocked.status_code == 500
        assert blocked.headers["content-type"] == "application/problem+json"
        problem = blocked.json()
        assert problem["rule"] == "undecodable_event"
        assert (problem["position"], problem["stream_id"], problem["version"]) == (
            damage.corrupted,
            str(RECIPROCAL),
            3,
        )
        rest = _read_log(server, damage.corrupted).json()
        expected_rest = [p for p in range(damage.corrupted + 1, 8) if p != damage.deleted]
        assert [e["position"] for e in rest["events"]] == expected_rest

        # The SSE stream says so in its own message, and goes on past it.
        with subscribed(server) as subscriber:
            messages = subscriber.take(1 + len(served["events"]) + len(expected_rest))
        undecodable = [m for m in messages if m.data.get("rule") == "undecodable_event"]
        assert [m.id for m in undecodable] == [damage.corrupted]
        assert [m.id for m in messages if m not in undecodable] == [
            *range(1, damage.corrupted),
            *expected_rest,
        ]

        # One line per damaged event from `tradeledger events`, and the rest listed.
        listed = tradeledger(cwd, "events", database_url=url)
        assert listed.returncode == 1
        lines = listed.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ")
        assert f"log position {damage.corrupted} (stream {RECIPROCAL}, version 3)" in lines[0]
        assert len(listed.stdout.strip().splitlines()) == 1 + 5  # a header and five events

        # Writes to a damaged stream are refused by name, and write nothing.
        for path, body, stream_id, version in (
            (
                "/v1/measures/us-cn-reciprocal/events",
                event("rate_changed", "US-CN-RECIP-145", "2025-04-20", rate_pct=145),
                RECIPROCAL,
                3,
            ),
            (
                "/v1/negotiations/us-cn-trade-talks/events",
                event("round_held", "LONDON-ROUND", "2025-06-09", location="London",
                      summary="Talks in London."),
                TALKS,
                2,
            ),
        ):  # fmt: skip
            refused = httpx.post(server + path, json=body, headers=HEADERS, timeout=10)
            assert refused.status_code == 500, refused.text
            assert refused.json()["rule"] == "stream_unreadable"
            assert (refused.json()["stream_id"], refused.json()["version"]) == (
                str(stream_id),
                version,
            )
        assert _read_log(server, damage.corrupted).json()["high_water"] == 7

        # Stop mode: the rebuild fails with one line; the read models in use still answer.
        stopped, statuses = _rebuild(url, cwd, server, "stop")
        assert stopped.returncode == 1
        lines = stopped.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: the rebuild stopped")
        assert f"log position {damage.corrupted}" in lines[0]
        assert set(statuses) <= {200}
        after_failure = _duty(server)
        assert after_failure.content == before.content

        # Skip mode: it switches to read models whose answers name what they lack.
        rebuilt, statuses = _rebuild(url, cwd, server, "skip")
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert "skipping 1 undecodable" in rebuilt.stdout
        assert rebuilt.stderr.strip().splitlines() == [
            f"warning: skipping the event at log position {damage.corrupted} (stream "
            f"{RECIPROCAL}, version 3) does not decode: {problem['reason']}"
        ]
        assert statuses and set(statuses) == {200}
        after_rebuild = _duty(server).json()
        assert after_rebuild["undecodable_positions"] == [damage.corrupted]
        assert after_rebuild["position"] == 7
        text = tradeledger(cwd, "duty", *_options(DUTY), database_url=url)
        assert text.returncode == 0, text.stderr
        assert f"undecodable events at positions {damage.corrupted}" in text.stdout


def _options(question: dict[str, str]) -> list[str]:
    return [
        part for name, value in question.items() for part in (f"--{name.replace('_', '-')}", value)
    ]
