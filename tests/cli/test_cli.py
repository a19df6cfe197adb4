"""The `tradeledger` command, run as users run it: a separate process on a SQLite file.

A failed `append` must leave the store byte for byte as it was, so the store is compared
through SQLite itself (every row of every table), not through the code under test.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from domain.ledger import MEASURE, stream_id_for_key
from tests.conftest import PostgresDatabase

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    {"citation": "Executive Order 14257", "publisher": "The White House", "reliability": "official"}
]


def line(stream: str, event_type: str, event_id: str, on: str, **fields: Any) -> dict[str, Any]:
    """A dataset line; `stream` is "measure:<key>" or "negotiation:<key>"."""
    kind, key = stream.split(":")
    return {
        kind: key,
        "type": event_type,
        "event_id": event_id,
        "effective_on": on,
        "announced_at": on,
        "sources": SOURCES,
        "recorded_by": "analyst@example.org",
        **fields,
    }


RECIPROCAL = "measure:us-cn-reciprocal"
TALKS = "negotiation:us-cn-trade-talks"
DATASET = [
    line(RECIPROCAL, "imposed", "US-CN-RECIP-34", "2025-04-09", imposer="US",
         name="Reciprocal tariff on China", targets=["CN"], layer="ieepa_reciprocal",
         rate_pct=34),
    line(RECIPROCAL, "rate_changed", "US-CN-RECIP-84", "2025-04-10", rate_pct=84),
    line(TALKS, "opened", "US-CN-TALKS", "2025-04-09", title="US-China trade talks",
         parties=["US", "CN"], summary="Both sides say they are open to talks."),
    line(RECIPROCAL, "rate_changed", "US-CN-RECIP-125", "2025-04-10", rate_pct="125"),
    line(TALKS, "round_held", "GENEVA-ROUND", "2025-05-10", location="Geneva",
         summary="Two days of talks in Geneva."),
    line(RECIPROCAL, "suspension_granted", "GENEVA-SUSPEND", "2025-05-14", points=24,
         ends_on="2025-08-12"),
    line(TALKS, "joint_statement_issued", "GENEVA-STATEMENT", "2025-05-12",
         truce_ends_on="2025-08-12", summary="A 90-day truce."),
]  # fmt: skip
"""Seven events on two streams, interleaved as a real file would have them."""

Run = Callable[..., subprocess.CompletedProcess[str]]


def jsonl(lines: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(item) + "\n" for item in lines)


def tradeledger(
    cwd: Path, *args: str, database_url: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m cli.main ARGS` in `cwd` on the store at `database_url`."""
    env = {
        **os.environ,
        "TRADELEDGER_DATABASE_URL": database_url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """`tradeledger ARGS` on the SQLite file tmp_path/ledger.sqlite."""

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
        return tradeledger(tmp_path, *args, database_url=url, stdin=stdin)

    return run


@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store holding DATASET, made once; tests copy it."""
    directory = tmp_path_factory.mktemp("seeded")
    (directory / "dataset.jsonl").write_text(jsonl(DATASET))
    url = f"sqlite:///{directory / 'ledger.sqlite'}"
    result = tradeledger(directory, "append", "dataset.jsonl", database_url=url)
    assert result.returncode == 0, result.stderr
    return directory / "ledger.sqlite"


@pytest.fixture
def seeded(run: Run, seeded_store: Path, tmp_path: Path) -> Run:
    """`run`, on a copy of the seeded store."""
    shutil.copy(seeded_store, tmp_path / "ledger.sqlite")
    return run


def store_contents(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: the whole store, as SQLite sees it.

    Sorted rather than in rowid order, since some tables (tracking) are WITHOUT ROWID.
    """
    with closing(sqlite3.connect(database)) as connection:
        names = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = [row[0] for row in names]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }


def events_json(run: Run, *args: str) -> list[dict[str, Any]]:
    result = run("events", "--json", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(text) for text in result.stdout.splitlines()]


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], starts: str, status: int = 1
) -> str:
    assert result.returncode == status
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(starts), result.stderr
    return result.stderr


# -- init -------------------------------------------------------------------------------


def test_init_creates_the_store_and_says_where(run: Run, tmp_path: Path) -> None:
    result = run("init")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"ledger ready: SQLite file {tmp_path / 'ledger.sqlite'}\n"
    contents = store_contents(tmp_path / "ledger.sqlite")
    assert contents["stored_events"] == []
    assert "tl_events" in contents  # the read models are created with the store


# -- append -----------------------------------------------------------------------------


def test_append_records_every_line_in_file_order(run: Run, tmp_path: Path) -> None:
    (tmp_path / "dataset.jsonl").write_text(jsonl(DATASET))

    result = run("append", "dataset.jsonl")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "added 7 events, skipped 0 already recorded (2 streams)\n"
    listed = events_json(run)
    assert [(e["position"], e["event_id"]) for e in listed] == [
        (position, item["event_id"]) for position, item in enumerate(DATASET, start=1)
    ]
    assert listed[0] == {
        "position": 1,
        "stream": str(stream_id_for_key(MEASURE, "us-cn-reciprocal")),
        "kind": "measure",
        "key": "us-cn-reciprocal",
        "version": 1,
        "type": "imposed",
        "event_id": "US-CN-RECIP-34",
        "effective_on": "2025-04-09",
        "announced_at": "2025-04-09T00:00:00Z",
        "recorded_at": listed[0]["recorded_at"],
    }
    assert listed[0]["recorded_at"].endswith("Z")


def test_loading_the_same_file_twice_adds_nothing(seeded: Run, tmp_path: Path) -> None:
    (tmp_path / "dataset.jsonl").write_text(jsonl(DATASET))
    before = store_contents(tmp_path / "ledger.sqlite")

    result = seeded("append", "dataset.jsonl")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "added 0 events, skipped 7 already recorded (2 streams)\n"
    assert store_contents(tmp_path / "ledger.sqlite") == before


def test_append_reads_a_json_array_from_standard_input(run: Run) -> None:
    result = run("append", "-", stdin=json.dumps(DATASET[:3], indent=2))

    assert result.returncode == 0, result.stderr
    assert result.stdout == "added 3 events, skipped 0 already recorded (2 streams)\n"


NEW_RATE = line(RECIPROCAL, "rate_changed", "US-CN-RECIP-10", "2025-05-14", rate_pct=10)
NEW_STEP = line(TALKS, "truce_extended", "TRUCE-EXT", "2025-08-11", truce_ends_on="2025-11-10",
                summary="The truce is extended.")  # fmt: skip
LATER_RATE = line(RECIPROCAL, "rate_changed", "US-CN-RECIP-34-AGAIN", "2025-08-12", rate_pct=34)
LATER_STEP = line(TALKS, "development_reported", "REPORT", "2025-08-13", summary="A report.")

BAD_LINES = {
    "malformed-json": ('{"measure": "us-cn-reciprocal", "type": ', "invalid JSON: Expecting value"),
    "unknown-event-type": (
        {**NEW_RATE, "type": "rate_raised"},
        "type: unknown event type 'rate_raised' for a measure",
    ),
    "missing-field": (
        {k: v for k, v in NEW_RATE.items() if k != "announced_at"},
        "announced_at: Field required",
    ),
    "rate-not-a-number": (
        {**NEW_RATE, "rate_pct": "ten"},
        "rate_pct: Input should be a valid decimal (got 'ten')",
    ),
    "bad-reliability": (
        {**NEW_RATE, "sources": [{**SOURCES[0], "reliability": "gov"}]},
        "sources.0.reliability: Input should be 'official', 'law_firm', 'press' or 'unverified'",
    ),
    "unknown-measure-key": (
        {**NEW_RATE, "measure": "us-xx-nothing"},
        f"no measure 'us-xx-nothing' (id {stream_id_for_key(MEASURE, 'us-xx-nothing')})",
    ),
    "unknown-measure-id": (
        {**NEW_RATE, "measure": "0b5f4a5e-2c55-4e43-9d0e-6a4c1f3f2b10"},
        "no measure with id 0b5f4a5e-2c55-4e43-9d0e-6a4c1f3f2b10",
    ),
    "domain-rule-broken": (
        line(RECIPROCAL, "suspension_extended", "EXT", "2025-08-12",
             suspension_event_id="NO-SUCH-SUSPENSION", ends_on="2025-11-10"),
        "has no suspension_granted event with id 'NO-SUCH-SUSPENSION'",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_LINES)
def test_a_bad_line_in_the_middle_of_a_file_changes_nothing_and_is_named(
    seeded: Run, tmp_path: Path, case: str
) -> None:
    bad, expected = BAD_LINES[case]
    bad_text = bad if isinstance(bad, str) else json.dumps(bad)
    before_bad, after_bad = jsonl([NEW_RATE, NEW_STEP]), jsonl([LATER_RATE, LATER_STEP])
    (tmp_path / "update.jsonl").write_text(before_bad + bad_text + "\n" + after_bad)
    before = store_contents(tmp_path / "ledger.sqlite")

    result = seeded("append", "update.jsonl")

    message = assert_one_line_error(result, "error: update.jsonl line 3: ")
    assert expected in message
    assert store_contents(tmp_path / "ledger.sqlite") == before


def test_an_error_in_a_json_array_names_the_line_its_object_starts_on(run: Run) -> None:
    text = json.dumps([DATASET[0], {**DATASET[1], "rate_pct": -1}], indent=2)
    object_lines = [number for number, text in enumerate(text.splitlines(), 1) if text == "  {"]
    second_object_line = object_lines[1]

    result = run("append", "-", stdin=text)

    assert_one_line_error(result, f"error: <stdin> line {second_object_line}: rate_pct: ")


def test_an_event_id_used_twice_in_one_file_is_refused(run: Run, tmp_path: Path) -> None:
    (tmp_path / "twice.jsonl").write_text(jsonl([DATASET[0], DATASET[1], DATASET[1]]))

    result = run("append", "twice.jsonl")

    assert_one_line_error(
        result,
        "error: twice.jsonl line 3: event_id 'US-CN-RECIP-84' is already used on line 2",
    )


def test_a_missing_file_is_a_one_line_error(run: Run) -> None:
    result = run("append", "no-such-file.jsonl")

    assert_one_line_error(result, "error: cannot read no-such-file.jsonl: No such file")


# -- events -----------------------------------------------------------------------------


def test_events_lists_one_stream_by_key(seeded: Run) -> None:
    listed = events_json(seeded, "--stream", "us-cn-trade-talks")

    assert [(e["position"], e["version"], e["type"]) for e in listed] == [
        (3, 1, "opened"),
        (5, 2, "round_held"),
        (7, 3, "joint_statement_issued"),
    ]


def test_events_pages_by_position(seeded: Run) -> None:
    listed = events_json(seeded, "--after", "2", "--limit", "2")

    assert [e["event_id"] for e in listed] == ["US-CN-TALKS", "US-CN-RECIP-125"]


def test_events_prints_a_table_by_default(seeded: Run) -> None:
    result = seeded("events", "--limit", "1")

    header, row = result.stdout.splitlines()
    assert header.split() == [
        "position",
        "stream",
        "version",
        "type",
        "event_id",
        "effective_on",
        "announced_at",
        "recorded_at",
    ]
    assert row.split()[:8] == [
        "1",
        "measure",
        "us-cn-reciprocal",
        "1",
        "imposed",
        "US-CN-RECIP-34",
        "2025-04-09",
        "2025-04-09T00:00:00Z",
    ]


def test_events_refuses_an_unknown_stream(seeded: Run) -> None:
    result = seeded("events", "--stream", "us-xx-nothing")

    assert_one_line_error(result, "error: --stream: no measure or negotiation has the key")


# -- configuration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("sqlite:///no-such-directory/ledger.sqlite", "error: TRADELEDGER_DATABASE_URL: directory"),
        ("postgresql://nobody@127.0.0.1:1/ledger", "error: cannot connect to PostgreSQL at"),
    ],
)
def test_a_store_that_cannot_be_opened_is_a_one_line_error(
    tmp_path: Path, database_url: str, expected: str
) -> None:
    result = tradeledger(tmp_path, "events", database_url=database_url)

    assert_one_line_error(result, expected)


def test_a_database_url_that_cannot_work_is_a_one_line_usage_error(tmp_path: Path) -> None:
    result = tradeledger(tmp_path, "events", database_url="mysql://localhost/ledger")

    assert_one_line_error(
        result, "error: TRADELEDGER_DATABASE_URL: unsupported scheme 'mysql'", status=2
    )


@pytest.mark.postgres
def test_the_same_commands_work_on_postgresql(
    postgres_database: PostgresDatabase, tmp_path: Path
) -> None:
    (tmp_path / "dataset.jsonl").write_text(jsonl(DATASET))
    url = postgres_database.url

    initialised = tradeledger(tmp_path, "init", database_url=url)
    appended = tradeledger(tmp_path, "append", "dataset.jsonl", database_url=url)
    again = tradeledger(tmp_path, "append", "dataset.jsonl", database_url=url)
    listed = tradeledger(tmp_path, "events", "--json", database_url=url)

    assert initialised.returncode == 0, initialised.stderr
    assert appended.stdout == "added 7 events, skipped 0 already recorded (2 streams)\n"
    assert again.stdout == "added 0 events, skipped 7 already recorded (2 streams)\n"
    assert [json.loads(text)["event_id"] for text in listed.stdout.splitlines()] == [
        item["event_id"] for item in DATASET
    ]


def test_a_fresh_uuid_is_not_a_key(seeded: Run) -> None:
    result = seeded("events", "--stream", str(uuid4()))

    assert_one_line_error(result, "error: --stream: no stream has the id")
