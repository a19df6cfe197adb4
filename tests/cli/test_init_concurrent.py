"""Several processes (API workers, a projection worker) may start at once against an
empty PostgreSQL database: schema creation, read models included, must not crash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_four_processes_initialise_an_empty_database_together(postgres_database: Any) -> None:
    env = {**os.environ, "TRADELEDGER_DATABASE_URL": postgres_database.url, "PYTHONPATH": str(ROOT)}

    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "cli.main", "init"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [(p.wait(120), *p.communicate()) for p in processes]

    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert stdout.startswith("ledger ready: PostgreSQL")
    loaded = subprocess.run(
        [sys.executable, "-m", "cli.main", "load", str(ROOT / "data")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
