"""`tradeledger bench`: run the benchmark suite, which lives beside the source, not in it.

The benchmarks are no part of the installed product (the wheel has no `bench` package,
and the product never imports it). From a source checkout (an editable install, or the
checkout on PYTHONPATH) this runs `python -m bench` there; anywhere else it says in one
line how to run them, and exits with status 2.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

CHECKOUT = Path(__file__).resolve().parent.parent
"""The folder holding the `cli` package: a source checkout when it also holds `bench`."""

UNAVAILABLE = (
    "error: the benchmarks are not installed with tradeledger: run `python -m bench` "
    "from a source checkout with the dev extras (pip install -e '.[dev]')"
)


def bench(
    ctx: typer.Context,
    quick: Annotated[bool, typer.Option(help="CI mode: 10k events, < 2 minutes.")] = False,
) -> None:
    """Run the benchmark suite (python -m bench), print a table, write bench/results/.

    Other options (--backends, --sizes, --runs, --tiny, ...) are passed on; see
    `python -m bench --help`. Needs a source checkout with the dev extras.
    """
    if not (CHECKOUT / "bench" / "__main__.py").is_file():
        typer.echo(UNAVAILABLE, err=True)
        raise typer.Exit(2)
    command = [sys.executable, "-m", "bench", *(["--quick"] if quick else []), *ctx.args]
    raise typer.Exit(subprocess.call(command, cwd=CHECKOUT))


def register(app: typer.Typer) -> None:
    """Add `bench` to the `tradeledger` app."""
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(bench)
