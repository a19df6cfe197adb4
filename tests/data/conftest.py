"""The shipped dataset (data/*.jsonl), loaded once per test module into a fresh SQLite file.

The sourced timeline the dataset is made from ships with it, in
``data/sources/tariff-timeline-2025.json``; the tests derive their cases from it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cli.dataset import FileLoaded, load_dataset
from tradeledger.bootstrap import Services, open_services
from tradeledger.settings import parse_database_url

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
TIMELINE_PATH = DATA_DIR / "sources" / "tariff-timeline-2025.json"


def timeline() -> list[dict[str, Any]]:
    """The 54 facts of the timeline."""
    facts: list[dict[str, Any]] = json.loads(TIMELINE_PATH.read_text(encoding="utf-8"))
    return facts


def dataset_files() -> list[Path]:
    return sorted(DATA_DIR.glob("*.jsonl"))


def dataset_lines() -> list[dict[str, Any]]:
    """Every line of every dataset file, in load order."""
    lines: list[dict[str, Any]] = []
    for path in dataset_files():
        for text in path.read_text(encoding="utf-8").splitlines():
            if text.strip():
                lines.append(json.loads(text))
    return lines


@dataclass(frozen=True)
class LoadedStore:
    """A SQLite store holding the whole dataset, with its services and when it was loaded."""

    url: str
    services: Services
    loaded: tuple[FileLoaded, ...]
    before_load: datetime


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedStore]:
    """The dataset in a fresh SQLite file (one per test module), read models caught up."""
    path = tmp_path_factory.mktemp("dataset") / "ledger.sqlite"
    url = f"sqlite:///{path}"
    services = open_services(parse_database_url(url))
    before_load = datetime.now(UTC) - timedelta(seconds=1)
    try:
        loaded = load_dataset(services.ledger, DATA_DIR)
        services.projector.catch_up()
        yield LoadedStore(url, services, tuple(loaded), before_load)
    finally:
        services.close()


def tradeledger(
    *args: str, database_url: str, cwd: Path = REPO_ROOT
) -> subprocess.CompletedProcess[str]:
    """`python -m cli.main ARGS`, as a user runs it, on the store at `database_url`."""
    env = {
        **os.environ,
        "TRADELEDGER_DATABASE_URL": database_url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
