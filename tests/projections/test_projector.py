"""The projector is exactly-once and resumable: a process killed in the middle of a
rebuild, or of following the log, leaves read models that, once it is restarted, are
identical to those of a clean rebuild. A rebuild never touches the read models in use
until it switches to the new ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.commands import AppendChange, BatchItem, Change, ImposeMeasure, MeasureTerms
from domain.errors import StreamNotFound
from domain.events import Facts
from domain.ledger import stream_id_for_key
from domain.measure_changes import ChangeRate, GrantExclusion, GrantSuspension
from domain.values import Provenance, Reliability, Source
from projections.progress import ReadModelBehind
from projections.tables import TABLES
from projections.timepoint import TimePoint
from tradeledger.bootstrap import Services, open_ledger, open_services
from tradeledger.settings import StoreConfig, parse_database_url

PROVENANCE = Provenance((Source("EO 14257", "The White House", Reliability.OFFICIAL),), "tests")
ROOT = Path(__file__).resolve().parents[2]


def _facts(event_id: str, day: date) -> Facts:
    announced = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=1)
    return Facts(event_id, day, announced, PROVENANCE)


def _history(measures: int, changes: int) -> list[BatchItem]:
    """A store's worth of events: measures with rate changes, exclusions and suspensions."""
    items: list[BatchItem] = []
    start = date(2025, 1, 1)
    for m in range(measures):
        key = f"crash-measure-{m}"
        measure_id = stream_id_for_key("measure", key)
        items.append(
            ImposeMeasure(
                measure_id,
                key,
                _facts(f"{key}-imposed", start),
                MeasureTerms(
                    imposer="US",
                    name=f"measure {m}",
                    targets=("CN",),
                    layer=f"layer.{m}",
                    rate_pct=Decimal(10),
                ),
            )
        )
        for c in range(changes):
            day = start + timedelta(days=c + 1)
            if c % 3 == 0:
                change: Change = GrantExclusion(
                    _facts(f"{key}-x{c}", day), hs_prefixes=(f"{85 + c % 5}",)
                )
            elif c % 7 == 0:
                change = GrantSuspension(
                    _facts(f"{key}-s{c}", day), points=Decimal(5), ends_on=day + timedelta(days=30)
                )
            else:
                change = ChangeRate(
                    _facts(f"{key}-r{c}", day), rate_pct=Decimal(10 + c), hs_prefixes=()
                )
            items.append(AppendChange(measure_id, change))
    return items


def _dump(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, without surrogate keys, in a stable order."""
    view: Any = services.view
    dumped = {}
    for table in TABLES:
        with view._cursor(commit=False) as cursor:
            cursor.execute(f"SELECT * FROM {table}")
            rows = [dict(r) for r in cursor.fetchall()]
        dumped[table] = sorted(
            tuple(str(v) for k, v in sorted(r.items()) if k != "fact_id") for r in rows
        )
    return dumped


@dataclass
class Store:
    url: str
    config: StoreConfig


@pytest.fixture
def store(durable_database_url: str) -> Iterator[Store]:
    url = durable_database_url
    config = parse_database_url(url)
    services = open_services(config)
    try:
        services.ledger.append_batch(_history(measures=20, changes=150))
    finally:
        services.close()
    yield Store(url, config)


def _cli(url: str, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "TRADELEDGER_DATABASE_URL": url,
        "TRADELEDGER_PROJECTION_BATCH": "50",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    """Wait for a process and read (and close) its stderr."""
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr


def _kill_when_partway(
    process: subprocess.Popen[str], reached: Callable[[], int], total: int
) -> int:
    """SIGKILL the process once it has committed some batches but not all (as `reached`
    says); the position then."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        position = reached()
        if 0 < position < total:
            process.send_signal(signal.SIGKILL)
            _finish(process, 10)
            return reached()
        if process.poll() is not None:
            break
        time.sleep(0.01)
    code, stderr = _finish(process, 10)
    pytest.fail(f"the process ended (status {code}) before it was killed part-way: {stderr}")


def _clean_rebuild(store: Store, tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    services = open_services(store.config)
    try:
        services.projector.rebuild()
        return _dump(services)
    finally:
        services.close()


def test_a_rebuild_killed_part_way_leaves_the_read_models_in_use_and_resumes(
    store: Store, tmp_path: Path
) -> None:
    services = open_services(store.config)
    total = services.projector.log_position()
    before = _dump(services)
    shadow = services.view.shadow()

    rebuild = _cli(store.url, "rebuild")
    killed_at = _kill_when_partway(rebuild, shadow.current_position, total)
    untouched = _dump(services)
    code, stderr = _finish(_cli(store.url, "rebuild"))
    assert code == 0, stderr
    after_resume = _dump(services)
    services.close()

    assert 0 < killed_at < total
    assert untouched == before
    assert len(after_resume["tl_events"]) == total
    assert after_resume == _clean_rebuild(store, tmp_path)


def test_a_projection_worker_killed_part_way_resumes_to_the_same_read_models(
    store: Store, tmp_path: Path
) -> None:
    services = open_services(store.config)
    total = services.projector.log_position()
    services.view.drop()
    services.view.create_table()

    worker = _cli(store.url, "project")
    killed_at = _kill_when_partway(worker, services.view.current_position, total)
    restarted = _cli(store.url, "project")
    deadline = time.monotonic() + 120
    while services.view.current_position() < total and time.monotonic() < deadline:
        time.sleep(0.05)
    restarted.send_signal(signal.SIGTERM)
    code, stderr = _finish(restarted, 30)
    assert code == 0, stderr
    after_restart = _dump(services)
    services.close()

    assert 0 < killed_at < total
    assert after_restart == _clean_rebuild(store, tmp_path)


def test_rebuild_is_idempotent_when_nothing_changed(store: Store) -> None:
    services = open_services(store.config)
    services.projector.catch_up()
    before = _dump(services)

    services.projector.rebuild()
    after = _dump(services)
    services.close()

    assert before == after


def test_a_query_answers_where_the_read_models_are_and_never_projects(store: Store) -> None:
    reader = open_services(store.config, read_wait_timeout=0.2)
    writer = open_ledger(store.config)  # a ledger without read models, as in another process
    try:
        reader.projector.catch_up()
        projected = reader.view.current_position()
        writer.create_stream(
            ImposeMeasure(
                measure_id=stream_id_for_key("measure", "late-arrival"),
                key="late-arrival",
                facts=_facts("LATE-1", date(2025, 6, 1)),
                terms=MeasureTerms("US", "Late arrival", ("CN",), "late", rate_pct=Decimal(7)),
            )
        )
        on = TimePoint(on=date(2025, 6, 2))

        with pytest.raises(StreamNotFound):
            reader.queries.measure_state("late-arrival", at=on)
        with pytest.raises(ReadModelBehind) as behind:
            reader.queries.measure_state("late-arrival", at=on, min_position=projected + 1)
        still = reader.view.current_position()
        reader.projector.catch_up()
        answer = reader.queries.measure_state("late-arrival", at=on, min_position=projected + 1)
    finally:
        writer.close()
        reader.close()

    assert still == projected
    assert (behind.value.asked, behind.value.reached) == (projected + 1, projected)
    assert (answer.charged_rate_pct, answer.as_of.position) == (Decimal(7), projected + 1)


def test_the_projection_worker_wakes_on_the_stores_notification_not_its_poll(
    store: Store,
) -> None:
    services = open_services(store.config)
    writer = open_ledger(store.config)  # writes as another process would: no read models
    worker = _cli(store.url, "project", "--poll-interval", "120")
    try:
        total = services.projector.log_position()
        deadline = time.monotonic() + 120
        while services.view.current_position() < total and time.monotonic() < deadline:
            time.sleep(0.05)
        assert services.view.current_position() == total
        time.sleep(0.5)  # the worker is now waiting for a notification, or its 120 s poll

        writer.create_stream(
            ImposeMeasure(
                measure_id=stream_id_for_key("measure", "woken-by-notification"),
                key="woken-by-notification",
                facts=_facts("WOKEN-1", date(2025, 6, 1)),
                terms=MeasureTerms("US", "Woken", ("CN",), "woken", rate_pct=Decimal(3)),
            )
        )
        written = time.monotonic()
        while services.view.current_position() <= total and time.monotonic() < written + 30:
            time.sleep(0.01)

        assert services.view.current_position() == total + 1
        assert time.monotonic() - written < 30
    finally:
        worker.send_signal(signal.SIGTERM)
        code, stderr = _finish(worker, 30)
        writer.close()
        services.close()
    assert code == 0, stderr


def test_a_catch_up_in_many_batches_writes_what_one_batch_writes(
    store: Store, tmp_path: Path
) -> None:
    services = open_services(store.config, batch_size=50)
    total = services.projector.log_position()
    services.view.drop()
    services.view.create_table()

    first = services.projector.catch_up(limit=120)
    rest = services.projector.catch_up()
    in_batches = _dump(services)
    services.close()

    assert (first, first + rest) == (120, total)
    assert in_batches == _clean_rebuild(store, tmp_path)


def test_a_batch_another_process_projected_first_is_skipped(store: Store, tmp_path: Path) -> None:
    ours = open_services(store.config, batch_size=50)
    theirs = open_services(store.config, batch_size=50)
    total = ours.projector.log_position()
    ours.view.drop()
    ours.view.create_table()
    project = ours.view.project
    calls = 0

    def overtaken(batch: Any, tracking: Any, undecodable: Any = ()) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:  # the other process projects this batch and the next meanwhile
            theirs.projector.catch_up(limit=100)
        project(batch, tracking, undecodable)

    ours.view.project = overtaken  # type: ignore[method-assign]
    done = ours.projector.catch_up()
    projected = _dump(ours)
    ours.close()
    theirs.close()

    assert done == total - 100
    assert projected == _clean_rebuild(store, tmp_path)
