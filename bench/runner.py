"""`python -m bench`: run the suite, print a table, write bench/results/<timestamp>.json.

    python -m bench [--quick | --tiny] [--backends sqlite,postgres] [--sizes 10k,100k,1m]
                    [--runs 5] [--only raw,recorders,app,api,replay,queries,latency,hot]
                    [--stores-dir DIR] [--results-dir DIR]

The full mode measures everything at 10k, 100k and 1M events (the stores are built once,
in bench/.stores/ and PostgreSQL databases tl_bench_*, then reused). `--quick` (CI)
does less work per run at 10k; `--tiny` proves the suite runs. Nothing is asserted: the
targets are reported as met or missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench import hot, served, suites
from bench.figures import Figure
from bench.machine import describe
from bench.report import Target, evaluate_targets, print_table, set_ratios
from bench.stores import Place, ensure_store
from bench.synthetic import Synthetic

RESULTS_DIR = Path(__file__).resolve().parent / "results"
GROUPS = ("raw", "recorders", "app", "api", "replay", "queries", "latency", "hot")
STORE_GROUPS = {"stores", "raw", "recorders", "api", "replay", "queries"}
"""The groups that read the stores of synthetic data (or sample events from them)."""


@dataclass(frozen=True)
class Mode:
    name: str
    sizes: tuple[int, ...]
    settings: suites.Settings
    live: served.LiveSettings


MODES = {
    "full": Mode(
        "full",
        (10_000, 100_000, 1_000_000),
        suites.Settings(
            runs=5, singles=1000, batched=20_000, app_singles=500, bulk_lines=20_000,
            bulk_batch=1000, queries=2000, state_queries=500, warm_up=200,
        ),
        served.LiveSettings(
            api_appends=1000, http_queries=1000, probes=500, warm_up=50, hot_appends=2000
        ),
    ),
    "quick": Mode(
        "quick",
        (10_000,),
        suites.Settings(
            runs=5, singles=150, batched=4000, app_singles=100, bulk_lines=3000,
            bulk_batch=1000, queries=300, state_queries=100, warm_up=50,
        ),
        served.LiveSettings(
            api_appends=200, http_queries=200, probes=100, warm_up=20, hot_appends=800
        ),
    ),
    "tiny": Mode(
        "tiny",
        (300,),
        suites.Settings(
            runs=1, singles=20, batched=200, app_singles=10, bulk_lines=300, bulk_batch=100,
            queries=20, state_queries=10, warm_up=5,
        ),
        served.LiveSettings(
            api_appends=24, http_queries=20, probes=10, warm_up=3, hot_appends=64
        ),
    ),
}  # fmt: skip


def parse_size(text: str) -> int:
    """ "10k" -> 10000, "1m" -> 1000000, "300" -> 300."""
    value = text.strip().lower()
    factor = 1
    if value.endswith("k"):
        factor, value = 1000, value[:-1]
    elif value.endswith("m"):
        factor, value = 1_000_000, value[:-1]
    number = int(float(value) * factor)
    if number < 100:
        msg = f"size {text!r} is too small (at least 100 events)"
        raise argparse.ArgumentTypeError(msg)
    return number


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").split("\n\n")[0]
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="CI mode: 10k events, < 2 minutes")
    mode.add_argument("--tiny", action="store_true", help="a few hundred events, one run")
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--sizes", default=None, help="store sizes, e.g. 10k,100k,1m")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure")
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"groups to run: {','.join(GROUPS)}",
    )
    parser.add_argument(
        "--stores-dir", type=Path, default=None, help="where SQLite stores live (bench/.stores)"
    )
    parser.add_argument(
        "--store-prefix",
        default="tl_bench",
        help="names of store files and PostgreSQL databases start with it",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="bench/results")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for backend in args.backends:
        if backend not in ("sqlite", "postgres"):
            parser.error(f"unknown backend {backend!r}: use sqlite and/or postgres")
    args.only = {g.strip() for g in args.only.split(",") if g.strip()}
    for group in args.only - set(GROUPS) - {"stores"}:
        parser.error(f"unknown group {group!r}: use {','.join(GROUPS)} (or 'stores' to build them)")
    return args


def run(argv: Sequence[str] | None = None, say: Callable[[str], None] = print) -> Path:
    """Run the suite; return the path of the JSON results."""
    args = parse_args(argv)
    mode = MODES["tiny" if args.tiny else "quick" if args.quick else "full"]
    sizes = (
        mode.sizes if args.sizes is None else tuple(parse_size(s) for s in args.sizes.split(","))
    )
    settings = mode.settings if args.runs is None else replace(mode.settings, runs=args.runs)
    place = Place.default(args.stores_dir, args.store_prefix)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    machine = describe(place.postgres_url if "postgres" in args.backends else None)
    say(
        f"tradeledger bench ({mode.name}): backends {', '.join(args.backends)}; sizes "
        f"{', '.join(f'{s:,}' for s in sizes)}; {settings.runs} runs per figure; "
        f"{machine['cpu_count']} CPUs"
    )
    figures: list[Figure] = []
    smallest = min(sizes)
    bulk_lines = suites.dataset_lines(settings.bulk_lines) if "app" in args.only else []
    for backend in args.backends:
        stores = {}
        sample = []
        if args.only & STORE_GROUPS:  # the others write to scratch stores of their own
            for size in sizes:
                stores[size] = ensure_store(place, backend, Synthetic(size), say=say)
            sample = suites.sample_events(stores[smallest], max(settings.batched, settings.singles))
        steps: list[tuple[str, Callable[[], list[Figure]]]] = []
        if "raw" in args.only:
            raw = suites.raw_postgres if backend == "postgres" else suites.raw_sqlite
            steps.append(("raw limits", partial(raw, place, sample, settings)))
        if "recorders" in args.only:
            steps.append(("recorders", partial(suites.recorders, place, backend, sample, settings)))
        if "app" in args.only:
            work = partial(suites.application, place, backend, bulk_lines, settings)
            steps.append(("application", work))
        if "api" in args.only:
            work = partial(served.api_appends, place, backend, settings.runs, mode.live)
            steps.append(("HTTP API appends", work))
            work = partial(served.api_duty, place, stores[smallest], settings.runs, mode.live)
            steps.append((f"HTTP API duty queries at {smallest:,}", work))
        for size in sizes:
            if "replay" in args.only:
                work = partial(suites.replay, place, stores[size], settings)
                steps.append((f"replay and rebuild at {size:,}", work))
            if "queries" in args.only:
                work = partial(suites.queries, place, stores[size], settings)
                steps.append((f"queries at {size:,}", work))
        if "latency" in args.only:
            work = partial(served.subscriber_latency, place, backend, settings.runs, mode.live)
            steps.append(("commit to subscriber latency", work))
        if "hot" in args.only:
            work = partial(hot.hot_stream, place, backend, settings.runs, mode.live)
            steps.append(("hot stream, 1 and 16 writers", work))
        for label, step in steps:
            step_started = time.perf_counter()
            say(f"[{backend}] {label} ...")
            figures += step()
            say(f"[{backend}] {label}: {time.perf_counter() - step_started:.0f} s")
    set_ratios(figures)
    targets = evaluate_targets(figures, sizes)
    elapsed = time.perf_counter() - clock
    print_table(figures, targets, say)
    say(f"total {elapsed:.0f} s")
    path = write_results(args, mode, sizes, settings, machine, figures, targets, started, elapsed)
    say(f"results: {path}")
    return path


def write_results(
    args: argparse.Namespace,
    mode: Mode,
    sizes: tuple[int, ...],
    settings: suites.Settings,
    machine: dict[str, Any],
    figures: list[Figure],
    targets: list[Target],
    started: datetime,
    elapsed: float,
) -> Path:
    results_dir: Path = args.results_dir
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = results_dir / f"{stamp}.json"
    document = {
        "suite": "tradeledger bench",
        "schema_version": 1,
        "started_at": started.isoformat(),
        "elapsed_seconds": elapsed,
        "mode": mode.name,
        "backends": args.backends,
        "sizes": list(sizes),
        "settings": asdict(settings),
        "live_settings": asdict(mode.live),
        "machine": machine,
        "load_average_at_end": _load_average(),
        "source": _source_state(),
        "figures": [figure.as_json() for figure in figures],
        "targets": [asdict(target) for target in targets],
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def _load_average() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def _source_state() -> dict[str, Any]:
    """The commit measured, and whether the work tree had changes on top of it."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "modified": None}
    return {"commit": commit, "modified": bool(status.strip())}


def main(argv: Sequence[str] | None = None) -> None:
    try:
        run(argv)
    except KeyboardInterrupt:
        sys.exit(130)
