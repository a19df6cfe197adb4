"""The loader under bad input: every fault ends in one short `error:` line, exit status 1,
and the store as it was (issue #13, items 6 and 7).

Each mutation the audit found is loaded by the real command (`python -m cli.main load
<folder>`, a process of its own) into a store holding the shipped dataset: a recorded
event_id with other content, a line without an id, rates beyond the rate's precision, ids
with invisible or reordering characters, JSON nested thousands deep, instants with no UTC
equivalent, a 1 MB key. Then a fuzzer mutates lines of the shipped dataset (fields
deleted, values of the wrong type, huge or odd strings and numbers, Unicode, unknown
keys) and loads each through `cli.main.main`, the function the `tradeledger` command
runs, in this process for speed (a few through a real process too): either the line
loads cleanly, or the load ends in one bounded error line and an unchanged store; never
an uncaught exception.

The store is compared through SQLite itself (every row of every table: the event log
and the read models), never through the code under test.
"""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import main
from tests.data.conftest import DATA_DIR, dataset_lines
from tests.data.test_load import Dump, dump

pytestmark = pytest.mark.fault

REPO_ROOT = Path(__file__).resolve().parents[2]
ERROR_LINE_LIMIT = 300
LINES = dataset_lines()


class Raw(str):
    """JSON text written into a line as it is: a number literal, or deep nesting."""


def to_json(value: Any) -> str:
    """A line as JSON text, with Raw pieces written as they are (json.dumps would quote
    them, and cannot write 1e-400 or NaN as a number at all)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_json(item) for item in value) + "]"
    return json.dumps(value)


def line_of(event_id: str) -> dict[str, Any]:
    return copy.deepcopy(next(line for line in LINES if line["event_id"] == event_id))


def nested(depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth)


def with_field(event_id: str, /, **fields: Any) -> str:
    """The shipped line of `event_id`, with `fields` changed (event_id among them, maybe)."""
    return to_json({**line_of(event_id), **fields})


def without_id() -> str:
    line = line_of("US-CN-RECIP-125")
    del line["event_id"]
    return to_json(line)


RECIPROCAL_125 = "US-CN-RECIP-125"
"""The rate the audit changed to 77: recorded as 125 by the shipped dataset."""

MUTATIONS: dict[str, tuple[str, str]] = {
    # name: (the line, what the error line must say)
    "changed content": (
        with_field(RECIPROCAL_125, rate_pct=77),
        f"event_id '{RECIPROCAL_125}' is recorded with other content (rate_pct is 125 in "
        "the store, 77 here)",
    ),
    "missing id": (without_id(), "event_id: Field required"),
    "rate 1e-400": (
        with_field(RECIPROCAL_125, event_id="NEW-1", rate_pct=Raw("1e-400")),
        "rate_pct: 1E-400 has more decimal places than a rate's precision (6)",
    ),
    "rate 1e400": (
        with_field(RECIPROCAL_125, event_id="NEW-2", rate_pct=Raw("1e400")),
        "rate_pct: 1E+400 is above the largest rate recorded (1000000)",
    ),
    "zero-width space": (
        with_field(RECIPROCAL_125, event_id="US-CN-FENT-20\u200b"),
        "event_id: must not contain U+200B (a format character, ZERO WIDTH SPACE)",
    ),
    "rtl override": (
        with_field(RECIPROCAL_125, event_id="US-CN-\u202eRECIP-125"),
        "event_id: must not contain U+202E (a format character, RIGHT-TO-LEFT OVERRIDE)",
    ),
    "combining mark": (
        with_field(RECIPROCAL_125, event_id="\u0301US-CN-RECIP-125"),
        "event_id: must not start with the combining mark U+0301",
    ),
    "newline": (
        with_field(RECIPROCAL_125, event_id="US-CN\nRECIP-125"),
        "event_id: must not contain U+000A (a control character)",
    ),
    "depth 2,000": (
        with_field(RECIPROCAL_125, note=nested(2_000)),
        "invalid JSON: nested too deeply",
    ),
    "depth 100,000": (
        with_field(RECIPROCAL_125, note=nested(100_000)),
        "invalid JSON: nested too deeply",
    ),
    "announced in year 0": (
        with_field(RECIPROCAL_125, event_id="NEW-3", announced_at="0001-01-01T00:00:00+14:00"),
        "announced_at: 0001-01-01T00:00:00+14:00 is out of range",
    ),
    "announced in year 10000": (
        with_field(RECIPROCAL_125, event_id="NEW-4", announced_at="9999-12-31T23:59:59-14:00"),
        "announced_at: 9999-12-31T23:59:59-14:00 is out of range",
    ),
    "1 MB key": (
        with_field(RECIPROCAL_125, **{"k" * 1_000_000: 1}),
        "k" * 79 + "\u2026: Extra inputs are not permitted",
    ),
}


def env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "TRADELEDGER_DATABASE_URL": database_url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }


def load_in_a_process(folder: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    """`tradeledger load <folder>` as a user runs it, from the folder's parent."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "load", folder.name],
        cwd=folder.parent,
        env=env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_dataset(folder: Path, *texts: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "lines.jsonl").write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    return folder


def assert_one_bounded_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    assert stderr.endswith("\n")
    (line,) = stderr.splitlines()
    assert line.startswith("error: ")
    assert len(line) <= ERROR_LINE_LIMIT
    return line


@dataclass(frozen=True)
class Store:
    """A SQLite store holding the shipped dataset."""

    path: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("loaded") / "ledger.sqlite")
    status, _, stderr = run_main(["load", str(DATA_DIR)], store.url)
    assert status == 0, stderr
    return store


# -- each mutation the audit found, through the real command ---------------------------


@dataclass(frozen=True)
class Outcome:
    before: Dump
    results: dict[str, subprocess.CompletedProcess[str]]
    after: Dump


@pytest.fixture(scope="module")
def mutations_loaded(loaded: Store, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """Every mutation loaded by its own process into the loaded store, a few at a time
    (none of them may write, so they cannot disturb each other)."""
    root = tmp_path_factory.mktemp("mutations")
    folders = {
        name: write_dataset(root / f"case{index}", text)
        for index, (name, (text, _)) in enumerate(MUTATIONS.items())
    }
    before = dump(loaded.path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(load_in_a_process, folder, loaded.url)
            for name, folder in folders.items()
        }
        results = {name: future.result() for name, future in futures.items()}
    return Outcome(before, results, dump(loaded.path))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MUTATIONS))
def test_each_mutation_ends_in_one_short_error_line_and_an_unchanged_store(
    mutations_loaded: Outcome, name: str
) -> None:
    result = mutations_loaded.results[name]

    line = assert_one_bounded_error_line(result.stderr)

    assert result.returncode == 1
    assert result.stdout == ""
    assert line.startswith("error: case")
    assert MUTATIONS[name][1] in line
    assert mutations_loaded.after == mutations_loaded.before


def test_the_error_for_changed_content_says_a_correction_is_a_new_event(
    mutations_loaded: Outcome,
) -> None:
    line = assert_one_bounded_error_line(mutations_loaded.results["changed content"].stderr)

    assert line.startswith("error: case0/lines.jsonl line 1: ")
    assert "record a record_corrected naming it and the right fact under a new event_id" in line


@pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_recorded_line_is_skipped_and_a_changed_one_refused_on_postgresql(
    database_url: str, tmp_path: Path
) -> None:
    """The content check reads the recorded events back from the store: on PostgreSQL too
    (the mutations above run on SQLite)."""
    folder = write_dataset(tmp_path / "once", json.dumps(line_of("US-CN-FENT-10")))
    changed = write_dataset(tmp_path / "changed", with_field("US-CN-FENT-10", note="edited"))

    first = run_main(["load", str(folder)], database_url)
    again = load_in_a_process(folder, database_url)
    refused = load_in_a_process(changed, database_url)

    assert first[1].splitlines()[-1] == (
        "total: added 1 events, skipped 0 already recorded, from 1 file"
    )
    assert again.stdout.splitlines()[-1] == (
        "total: added 0 events, skipped 1 already recorded, from 1 file"
    )
    assert refused.returncode == 1
    assert "event_id 'US-CN-FENT-10' is recorded with other content (note is" in (
        assert_one_bounded_error_line(refused.stderr)
    )


# -- a fuzzer of dataset lines ----------------------------------------------------------


@contextmanager
def database(url: str) -> Iterator[None]:
    saved = os.environ.get("TRADELEDGER_DATABASE_URL")
    os.environ["TRADELEDGER_DATABASE_URL"] = url
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TRADELEDGER_DATABASE_URL"]
        else:
            os.environ["TRADELEDGER_DATABASE_URL"] = saved


def run_main(args: list[str], url: str) -> tuple[int, str, str]:
    """`tradeledger ARGS` in this process: (exit status, standard output, standard error)."""
    out, err = io.StringIO(), io.StringIO()
    status: int | str | None = 0
    with database(url), redirect_stdout(out), redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exit_:
            status = exit_.code
    assert isinstance(status, int | None), status
    return status or 0, out.getvalue(), err.getvalue()


ODD_STRINGS = st.sampled_from(
    [
        "",
        "   ",
        "x" * 100_000,
        "US-CN-FENT-20\u200b",
        "\u202eRECIP",
        "\u0301",
        "e\u0301",
        "a\nb",
        "a\u2028b",
        "\x00",
        "\ud800",
        "\U0001f980",
        "*",
        "2025-02-30",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1e-400",
        "us-cn-ieepa-fentanyl",
        "US-CN-GENEVA",
    ]
)
ODD_NUMBERS = st.sampled_from(
    [
        Raw(text)
        for text in [
            "1e-400",
            "1e400",
            "-0",
            "-1",
            "1e308",
            "1e-7",
            "0.1234567",
            "123456789012345678901234567890",
            "1" * 5_000,
            "1E+999999999",
            "NaN",
            "-Infinity",
        ]
    ]
)
ODD_VALUES = st.one_of(
    ODD_STRINGS,
    ODD_NUMBERS,
    st.sampled_from([None, True, False, 0, [], {}, [None], {"a": 1}, ["*"], ["CN", "CN"]]),
    st.sampled_from([nested(50), nested(2_000), nested(100_000)]),
    st.text(max_size=40),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)
PLAUSIBLE_VALUES = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["C"]), max_size=30),
    st.integers(min_value=0, max_value=500),
    st.decimals(min_value=0, max_value=1000, places=2).map(lambda d: Raw(str(d))),
    st.sampled_from(["2025-05-01", "2025-05-01T12:00:00+08:00", None, ["*"], ["CN"], ["8517.13"]]),
)
"""Values that may well be valid for the field they land in: some mutated lines load."""

NEW_IDS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/", min_size=1, max_size=12)

ODD_KEYS = st.one_of(st.text(max_size=20), st.sampled_from(["k" * 1_000_000, "\u200b", "type "]))
SOURCE_FIELDS = ("citation", "publisher", "reliability")
MUTATION_KINDS = ("delete", "replace", "plausible", "plausible", "source", "add")


@st.composite
def mutated_lines(draw: st.DrawFn) -> str:
    """A line of the shipped dataset, maybe under a new id, changed up to twice."""
    line = copy.deepcopy(draw(st.sampled_from(LINES)))
    if draw(st.booleans()):  # a new event, or the recorded one changed
        line["event_id"] = f"FUZZ-{draw(NEW_IDS)}"
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        how = draw(st.sampled_from(MUTATION_KINDS))
        fields = sorted(line)
        if how == "delete" and fields:
            del line[draw(st.sampled_from(fields))]
        elif how == "replace" and fields:
            line[draw(st.sampled_from(fields))] = draw(ODD_VALUES)
        elif how == "plausible" and fields:
            line[draw(st.sampled_from(fields))] = draw(PLAUSIBLE_VALUES)
        elif how == "source" and isinstance(line.get("sources"), list) and line["sources"]:
            source = line["sources"][0]
            if isinstance(source, dict):
                source[draw(st.sampled_from(SOURCE_FIELDS))] = draw(ODD_VALUES)
        else:
            line[draw(ODD_KEYS)] = draw(ODD_VALUES)
    return to_json(line)


FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check_outcome(status: int, stdout: str, stderr: str, before: Dump, after: Dump) -> None:
    """Loaded cleanly, or one bounded error line and the store as it was."""
    if status == 0:
        assert stderr == ""
        assert stdout.splitlines()[-1].startswith("total: added ")
    else:
        assert status == 1
        assert_one_bounded_error_line(stderr)
        assert after == before


@FUZZ
@given(texts=st.lists(mutated_lines(), min_size=1, max_size=2))
def test_a_fuzzed_file_loads_cleanly_or_ends_in_one_short_error_line(
    loaded: Store, tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    folder = write_dataset(tmp_path_factory.mktemp("fuzz") / "dataset", *texts)
    before = dump(loaded.path)

    status, stdout, stderr = run_main(["load", str(folder)], loaded.url)

    check_outcome(status, stdout, stderr, before, dump(loaded.path))


@pytest.mark.slow
@settings(FUZZ, max_examples=2)
@given(texts=st.lists(mutated_lines(), min_size=1, max_size=2))
def test_a_fuzzed_file_through_a_real_process_ends_the_same_way(
    loaded: Store, tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    folder = write_dataset(tmp_path_factory.mktemp("fuzz") / "dataset", *texts)
    before = dump(loaded.path)

    result = load_in_a_process(folder, loaded.url)

    check_outcome(result.returncode, result.stdout, result.stderr, before, dump(loaded.path))
