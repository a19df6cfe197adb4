"""`tradeledger load`: every file all or nothing, and loading again adds nothing.

A failed load must leave the store as it was, so the store is compared through SQLite
itself (every row of every table), not through the code under test.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from cli.dataset import load_dataset
from cli.records import InputError
from tests.data.conftest import DATA_DIR, LoadedStore, dataset_files, tradeledger
from tradeledger.bootstrap import open_ledger
from tradeledger.settings import parse_database_url

Dump = dict[str, list[tuple[Any, ...]]]


def dump(path: Path) -> Dump:
    """Every row of every table of a SQLite file."""
    with closing(sqlite3.connect(path)) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }


def event_log(url: str) -> list[tuple[Any, ...]]:
    """The global event log: position, stream, version, topic and state of every event."""
    with closing(open_ledger(parse_database_url(url))) as ledger:
        return [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state)
            for n in ledger.recorder.select_notifications(start=1, limit=1_000_000)
        ]


def count(name: str) -> int:
    """The number of events (lines) of a dataset file."""
    return len((DATA_DIR / name).read_text(encoding="utf-8").splitlines())


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, lines: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


@pytest.fixture
def half_loaded(tmp_path: Path) -> tuple[str, Path]:
    """A store holding only the Chinese measures (the first file), and its SQLite path."""
    path = tmp_path / "ledger.sqlite"
    url = f"sqlite:///{path}"
    with closing(open_ledger(parse_database_url(url))) as ledger:
        load_dataset(ledger, DATA_DIR / "cn-measures.jsonl")
    return url, path


def us_measures_with(tmp_path: Path, index: int, **changes: Any) -> Path:
    """A copy of data/us-measures.jsonl in its own folder, line `index` changed."""
    lines = lines_of(DATA_DIR / "us-measures.jsonl")
    lines[index] = {**lines[index], **changes}
    folder = tmp_path / "bad"
    folder.mkdir()
    write_lines(folder / "us-measures.jsonl", lines)
    return folder


def test_the_dataset_loads_every_event_of_every_file(store: LoadedStore) -> None:
    counts = {loaded.path.name: loaded.added for loaded in store.loaded}

    assert counts == {
        path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in dataset_files()
    }
    assert all(loaded.skipped == 0 for loaded in store.loaded)


def test_loading_the_dataset_twice_adds_nothing(store: LoadedStore) -> None:
    before = event_log(store.url)

    again = load_dataset(store.services.ledger, DATA_DIR)

    assert [(f.added, f.skipped) for f in again] == [(0, f.added) for f in store.loaded]
    assert event_log(store.url) == before


def test_loading_twice_from_the_command_line_adds_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    total = sum(count(path.name) for path in dataset_files())

    first = tradeledger("load", database_url=url)
    log = event_log(url)
    second = tradeledger("load", "data", database_url=url)

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1] == (
        f"total: added {total} events, skipped 0 already recorded, from 3 files"
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == [
        *(
            f"data/{name}: added 0 events, skipped {count(name)} already recorded ({streams})"
            for name, streams in [
                ("cn-measures.jsonl", "3 streams"),
                ("negotiations.jsonl", "3 streams"),
                ("us-measures.jsonl", "13 streams"),
            ]
        ),
        f"total: added 0 events, skipped {total} already recorded, from 3 files",
    ]
    assert event_log(url) == log


def test_a_file_breaking_a_domain_rule_on_its_last_lines_records_nothing(
    half_loaded: tuple[str, Path], tmp_path: Path
) -> None:
    url, path = half_loaded
    before = dump(path)
    # Late in the file, an extension of a suspension the stream does not have: the domain
    # refuses it only after every earlier line was applied in memory.
    lines = lines_of(DATA_DIR / "us-measures.jsonl")
    index = max(i for i, line in enumerate(lines) if line["type"] == "suspension_extended")
    folder = us_measures_with(tmp_path, index, suspension_event_id="US-CN-GENEVA-TYPO")

    with (
        closing(open_ledger(parse_database_url(url))) as ledger,
        pytest.raises(InputError) as raised,
    ):
        load_dataset(ledger, folder)

    assert f"line {index + 1}: " in str(raised.value)
    assert "US-CN-GENEVA-TYPO" in str(raised.value)
    assert dump(path) == before


def test_a_file_with_a_malformed_line_records_nothing(
    half_loaded: tuple[str, Path], tmp_path: Path
) -> None:
    url, path = half_loaded
    before = dump(path)
    lines = lines_of(DATA_DIR / "us-measures.jsonl")
    index = max(i for i, line in enumerate(lines) if line["type"] == "rate_changed")
    folder = us_measures_with(tmp_path, index, rate_pct="forty")

    with (
        closing(open_ledger(parse_database_url(url))) as ledger,
        pytest.raises(InputError) as raised,
    ):
        load_dataset(ledger, folder)

    assert str(raised.value).startswith(f"{folder / 'us-measures.jsonl'} line {index + 1}: ")
    assert "rate_pct" in str(raised.value)
    assert dump(path) == before


def test_a_failed_load_from_the_command_line_leaves_the_store_as_it_was(
    half_loaded: tuple[str, Path], tmp_path: Path
) -> None:
    url, path = half_loaded
    before = dump(path)
    lines = lines_of(DATA_DIR / "us-measures.jsonl")
    index = len(lines) - 1
    folder = us_measures_with(tmp_path, index, effective_on="2026-13-01")

    result = tradeledger("load", str(folder), database_url=url)

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {folder / 'us-measures.jsonl'} line {index + 1}: ")
    assert "Traceback" not in result.stderr
    assert dump(path) == before


def test_files_before_a_failing_file_stay_recorded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    folder = tmp_path / "dataset"
    shutil.copytree(DATA_DIR, folder)
    lines = lines_of(folder / "us-measures.jsonl")
    index = next(i for i, line in enumerate(lines) if line["type"] == "suspension_extended")
    lines[index] = {**lines[index], "suspension_event_id": "NO-SUCH-SUSPENSION"}
    write_lines(folder / "us-measures.jsonl", lines)

    result = tradeledger("load", str(folder), database_url=url)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{folder / name}: added {count(name)} events, skipped 0 already recorded (3 streams)"
        for name in ("cn-measures.jsonl", "negotiations.jsonl")
    ]
    assert result.stderr.startswith(f"error: {folder / 'us-measures.jsonl'} line ")
    assert "; nothing of this file was recorded" in result.stderr
    assert len(event_log(url)) == count("cn-measures.jsonl") + count("negotiations.jsonl")


def test_loading_a_folder_without_dataset_files_is_an_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"

    result = tradeledger("load", str(tmp_path), database_url=url)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {tmp_path}: no *.jsonl files to load\n"


def test_a_malformed_line_in_any_file_stops_the_load_before_anything_is_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    url = f"sqlite:///{path}"
    assert tradeledger("init", database_url=url).returncode == 0
    before = dump(path)
    folder = tmp_path / "dataset"
    shutil.copytree(DATA_DIR, folder)
    lines = lines_of(folder / "us-measures.jsonl")
    lines[-1] = {**lines[-1], "type": "rate_doubled"}
    write_lines(folder / "us-measures.jsonl", lines)

    result = tradeledger("load", str(folder), database_url=url)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(f"error: {folder / 'us-measures.jsonl'} line {len(lines)}: ")
    assert dump(path) == before


def cn_measures_with(tmp_path: Path, index: int, **changes: Any) -> Path:
    """A copy of data/cn-measures.jsonl in its own folder, line `index` changed."""
    lines = lines_of(DATA_DIR / "cn-measures.jsonl")
    lines[index] = {**lines[index], **changes}
    folder = tmp_path / "changed"
    folder.mkdir()
    write_lines(folder / "cn-measures.jsonl", lines)
    return folder


@pytest.mark.parametrize(
    ("changes", "difference"),
    [
        ({"rate_pct": 77}, "rate_pct is 84 in the store, 77 here"),
        ({"announced_at": "2025-04-10"}, "announced_at is 2025-04-09T00:00:00+00:00 in the store"),
        ({"note": "typo fixed"}, "note is 'Replaces 34% at the same"),
        ({"type": "terminated", "rate_pct": ...}, "type is 'rate_changed' in the store"),
    ],
)
def test_a_line_with_a_recorded_id_and_other_content_is_refused(
    half_loaded: tuple[str, Path], tmp_path: Path, changes: dict[str, Any], difference: str
) -> None:
    url, path = half_loaded
    before = dump(path)
    lines = lines_of(DATA_DIR / "cn-measures.jsonl")
    index = next(i for i, line in enumerate(lines) if line.get("rate_pct") == 84)
    changed = {key: value for key, value in changes.items() if value is not ...}
    folder = cn_measures_with(tmp_path, index, **changed)
    if ... in changes.values():
        lines = lines_of(folder / "cn-measures.jsonl")
        del lines[index]["rate_pct"]
        write_lines(folder / "cn-measures.jsonl", lines)

    with (
        closing(open_ledger(parse_database_url(url))) as ledger,
        pytest.raises(InputError) as raised,
    ):
        load_dataset(ledger, folder)

    message = str(raised.value)
    assert message.startswith(
        f"{folder / 'cn-measures.jsonl'} line {index + 1}: event_id "
        f"{lines[index]['event_id']!r} is recorded with other content ({difference}"
    )
    assert "record a record_corrected naming it" in message
    assert dump(path) == before


def test_a_line_with_a_recorded_id_and_the_same_content_is_skipped(
    half_loaded: tuple[str, Path], tmp_path: Path
) -> None:
    url, path = half_loaded
    before = dump(path)
    # The same content, written differently: a rate as a string, a prefix with dots, a
    # date-time for a date.
    lines = lines_of(DATA_DIR / "cn-measures.jsonl")
    index = next(i for i, line in enumerate(lines) if line.get("rate_pct") == 84)
    folder = cn_measures_with(
        tmp_path, index, rate_pct="84.0", announced_at=f"{lines[index]['announced_at']}T00:00Z"
    )

    with closing(open_ledger(parse_database_url(url))) as ledger:
        (loaded,) = load_dataset(ledger, folder)

    assert (loaded.added, loaded.skipped) == (0, len(lines))
    assert dump(path) == before


def test_a_dataset_line_without_an_event_id_is_refused(
    half_loaded: tuple[str, Path], tmp_path: Path
) -> None:
    url, path = half_loaded
    before = dump(path)
    lines = lines_of(DATA_DIR / "us-measures.jsonl")
    del lines[3]["event_id"]
    folder = tmp_path / "no-id"
    folder.mkdir()
    write_lines(folder / "us-measures.jsonl", lines)

    with (
        closing(open_ledger(parse_database_url(url))) as ledger,
        pytest.raises(InputError) as raised,
    ):
        load_dataset(ledger, folder)

    assert str(raised.value) == (
        f"{folder / 'us-measures.jsonl'} line 4: event_id: Field required: a dataset line "
        "carries its event_id, so that loading the file again adds nothing"
    )
    assert dump(path) == before
