"""The `tradeledger` app itself: its version, and how it stops on settings that cannot
work (status 2, one line naming the variable) before any command does anything."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def tradeledger(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m cli.main ARGS` in `cwd`, with `env` added to the environment."""
    environ = {
        **os.environ,
        "TRADELEDGER_DATABASE_URL": f"sqlite:///{cwd / 'ledger.sqlite'}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        **env,
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


def test_version_prints_the_installed_distributions_version(tmp_path: Path) -> None:
    result = tradeledger(tmp_path, "--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"tradeledger {importlib.metadata.version('tradeledger')}\n"


@pytest.mark.parametrize(
    "args",
    [
        ("duty", "--importer", "US", "--origin", "CN", "--hs", "9503", "--on", "2025-04-15"),
        ("serve", "--port", "0"),
        ("init",),
    ],
)
def test_a_projection_batch_below_one_stops_the_command_with_status_2(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = tradeledger(tmp_path, *args, TRADELEDGER_PROJECTION_BATCH="0")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == ("error: TRADELEDGER_PROJECTION_BATCH: must be at least 1, not '0'\n")
    assert not (tmp_path / "ledger.sqlite").exists()


def test_bench_runs_the_suite_of_the_source_checkout(tmp_path: Path) -> None:
    result = tradeledger(tmp_path, "bench", "--no-such-option")

    assert result.returncode == 2
    assert "python -m bench: error: unrecognized arguments: --no-such-option" in result.stderr
