"""The wheel, built and installed for real: it holds the product and its data, not the
benchmarks, and `tradeledger` works from an empty folder far from any checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_compose import built_from

ROOT = Path(__file__).resolve().parent.parent
DATASET_EVENTS = 113


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    empty: Path

    def run(
        self, *args: str, program: str = "tradeledger", **env: str
    ) -> subprocess.CompletedProcess[str]:
        """`tradeledger ARGS` (or another program of the venv) in the empty folder."""
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TRADELEDGER_")}
        environ.pop("PYTHONPATH", None)
        return subprocess.run(
            [str(self.venv / "bin" / program), *args],
            cwd=self.empty,
            env={**environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def run(*command: str | Path) -> str:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """The wheel, built from a copy of what it is built from (so that the build leaves
    nothing in the checkout), installed without its dependencies in a fresh venv that
    borrows them from this one."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in built_from():
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    dist = base / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "--quiet", "--wheel-dir", dist, source)  # fmt: skip
    [wheel] = dist.glob("tradeledger-*.whl")

    venv = base / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
        "--quiet", wheel)  # fmt: skip
    site_packages = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site_packages.strip()) / "borrowed-dependencies.pth").write_text("\n".join(ours) + "\n")

    empty = base / "empty"
    empty.mkdir()
    yield Installed(wheel, venv, empty)


@pytest.mark.slow
def test_the_wheel_holds_the_product_and_its_data_and_not_the_benchmarks(
    installed: Installed,
) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    sources = {
        str(path.relative_to(ROOT))
        for package in ("domain", "storage", "projections", "eventschema", "api", "cli")
        for path in (ROOT / package).rglob("*.py")
    } | {str(path.relative_to(ROOT)) for path in (ROOT / "tradeledger").glob("*.py")}

    assert sources <= names
    assert not any(name.startswith("bench/") for name in names)
    assert {"eventschema/events.schema.json", "eventschema/examples.json"} <= names
    assert {
        "tradeledger/data/README.md",
        "tradeledger/data/cn-measures.jsonl",
        "tradeledger/data/negotiations.jsonl",
        "tradeledger/data/us-measures.jsonl",
        "tradeledger/data/sources/tariff-timeline-2025.json",
    } <= names
    text = zipfile.ZipFile(installed.wheel).read(metadata).decode()
    assert "License-Expression: LicenseRef-Proprietary" in text


@pytest.mark.slow
def test_the_installed_command_loads_the_shipped_dataset_from_an_empty_folder(
    installed: Installed,
) -> None:
    store = {"TRADELEDGER_DATABASE_URL": "sqlite:///x.sqlite"}
    imported = installed.run(
        "-c", "import cli.main, tradeledger; print(tradeledger.__file__)", program="python"
    )

    version = installed.run("--version")
    initialised = installed.run("init", **store)
    loaded = installed.run("load", **store)
    listed = installed.run("events", "--json", **store)

    assert Path(imported.stdout.strip()).is_relative_to(installed.venv), imported.stderr
    assert version.stdout == "tradeledger 0.1.0\n", version.stderr
    assert initialised.stdout == f"ledger ready: SQLite file {installed.empty / 'x.sqlite'}\n"
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.splitlines()[-1] == (
        f"total: added {DATASET_EVENTS} events, skipped 0 already recorded, from 3 files"
    )
    assert len(listed.stdout.splitlines()) == DATASET_EVENTS
    assert sorted(p.name for p in installed.empty.iterdir()) == ["x.sqlite"]


@pytest.mark.slow
def test_the_installed_command_says_how_to_run_the_benchmarks(installed: Installed) -> None:
    result = installed.run("bench", "--quick")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "python -m bench" in result.stderr
    assert "Traceback" not in result.stderr
