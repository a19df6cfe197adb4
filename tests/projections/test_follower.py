"""Projection happens right after commits, never in a read: the process that commits
projects what it committed, and the follower of a serving process projects what other
processes commit, woken by the store's notifications, surviving lost connections."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from domain.commands import ImposeMeasure, MeasureTerms
from domain.events import Facts
from domain.ledger import stream_id_for_key
from domain.values import Provenance, Reliability, Source
from projections.follower import Follower
from storage.bell import LogBell
from tradeledger.bootstrap import Services, follow_commits, open_services
from tradeledger.settings import StoreConfig, parse_database_url

ROOT = Path(__file__).resolve().parents[2]

WRITE_ELSEWHERE = """
import sys
from datetime import UTC, date, datetime
from decimal import Decimal

from domain.commands import ImposeMeasure, MeasureTerms
from domain.events import Facts
from domain.ledger import stream_id_for_key
from domain.values import Provenance, Reliability, Source
from tradeledger.bootstrap import open_ledger
from tradeledger.settings import parse_database_url

key = sys.argv[2]
provenance = Provenance((Source("EO 14257", "The White House", Reliability.OFFICIAL),), "tests")
ledger = open_ledger(parse_database_url(sys.argv[1]))
ledger.create_stream(
    ImposeMeasure(
        measure_id=stream_id_for_key("measure", key),
        key=key,
        facts=Facts(key, date(2025, 6, 1), datetime(2025, 5, 30, tzinfo=UTC), provenance),
        terms=MeasureTerms("US", key, ("CN",), "elsewhere", rate_pct=Decimal(9)),
    )
)
print(ledger.recorder.max_notification_id())
ledger.close()
"""
"""Another process writing with a bare Ledger (no read models): it projects nothing."""


def write_elsewhere(url: str, key: str) -> int:
    """Impose a measure from another process; the log position it reached."""
    done = subprocess.run(
        [sys.executable, "-c", WRITE_ELSEWHERE, url, key],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(done.stdout.strip())


@pytest.fixture
def url(durable_database_url: str) -> str:
    return durable_database_url


@pytest.fixture
def serving(url: str) -> Iterator[tuple[Services, Follower]]:
    """Services with a follower running, as an API process has them."""
    services = open_services(parse_database_url(url), read_wait_timeout=30)
    bell = LogBell(services.ledger, restart_delay=0.1)
    follower = follow_commits(services, bell)
    try:
        yield services, follower
    finally:
        follower.stop()
        bell.close()
        services.close()


PROVENANCE = Provenance((Source("EO 14257", "The White House", Reliability.OFFICIAL),), "tests")


def impose(services: Services, key: str) -> None:
    services.ledger.create_stream(
        ImposeMeasure(
            measure_id=stream_id_for_key("measure", key),
            key=key,
            facts=Facts(key, date(2025, 6, 1), datetime(2025, 5, 30, tzinfo=UTC), PROVENANCE),
            terms=MeasureTerms("US", key, ("CN",), "here", rate_pct=Decimal(4)),
        )
    )


def test_a_write_is_projected_by_its_process_before_it_returns(url: str) -> None:
    config: StoreConfig = parse_database_url(url)
    services = open_services(config)
    try:
        impose(services, "projected-at-once")
        log_at = services.projector.log_position()
        view_at = services.view.current_position()
    finally:
        services.close()

    assert view_at == log_at == 1


def test_a_write_stands_when_projecting_it_fails(url: str) -> None:
    services = open_services(parse_database_url(url))
    try:

        def broken(batch: Any, tracking: Any, undecodable: Any = ()) -> None:
            raise RuntimeError("the read models are unwell")

        services.view.project = broken  # type: ignore[method-assign]
        impose(services, "written-anyway")
        log_at = services.projector.log_position()
        view_at = services.view.current_position()
    finally:
        services.close()

    assert (log_at, view_at) == (1, 0)


def test_the_follower_projects_another_processes_commit_without_any_read(
    serving: tuple[Services, Follower], url: str
) -> None:
    services, follower = serving

    position = write_elsewhere(url, "written-elsewhere")
    reached = services.projector.reached.wait_for(position, timeout=30)

    assert reached == services.view.current_position() == position
    assert follower.running


def test_the_cli_append_projects_what_it_wrote_before_it_exits(url: str, tmp_path: Path) -> None:
    services = open_services(parse_database_url(url))
    impose(services, "us-cn-fentanyl")
    line = (
        '{"measure": "us-cn-fentanyl", "type": "rate_changed", "event_id": "FENT-20",'
        ' "effective_on": "2025-03-04", "announced_at": "2025-03-03", "rate_pct": 20,'
        ' "sources": [{"citation": "EO 14228", "publisher": "The White House",'
        ' "reliability": "official"}], "recorded_by": "tests"}'
    )
    (tmp_path / "append.jsonl").write_text(line + "\n", encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "append", str(tmp_path / "append.jsonl")],
            env={**os.environ, "PYTHONPATH": str(ROOT), "TRADELEDGER_DATABASE_URL": url},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        positions = (services.view.current_position(), services.projector.log_position())
    finally:
        services.close()

    assert done.returncode == 0, done.stderr
    assert positions == (2, 2)


@pytest.mark.postgres
def test_the_follower_carries_on_after_its_connections_are_cut(
    postgres_database: Any,
) -> None:
    url = postgres_database.url
    services = open_services(parse_database_url(url), read_wait_timeout=30)
    bell = LogBell(services.ledger, restart_delay=0.1)
    follower = Follower(services.projector, bell, first_backoff=0.05).start()
    try:
        first = write_elsewhere(url, "before-the-cut")
        services.projector.reached.wait_for(first, timeout=30)
        with psycopg.connect(url, autocommit=True) as admin:
            cut = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()

        second = write_elsewhere(url, "after-the-cut")
        reached = services.projector.reached.wait_for(second, timeout=30)
        follower.stop()
        stopped_cleanly = not follower.running
    finally:
        follower.stop()
        bell.close()
        services.close()

    assert cut
    assert reached == second
    assert stopped_cleanly
