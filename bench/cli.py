"""`tradeledger bench`: the benchmark suite as a command of the tradeledger CLI.

Add "bench.cli" to COMMAND_MODULES in cli.main to register it.
"""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the `bench` command to `app`."""

    @app.command(
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def bench(
        ctx: typer.Context,
        quick: Annotated[bool, typer.Option(help="CI mode: 10k events, < 2 minutes.")] = False,
    ) -> None:
        """Run the benchmark suite (python -m bench), print a table, write bench/results/.

        Other options (--backends, --sizes, --runs, --tiny, ...) are passed on; see
        `python -m bench --help`.
        """
        from bench.runner import run

        run([*(["--quick"] if quick else []), *ctx.args])
