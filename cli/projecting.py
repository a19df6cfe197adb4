"""The commands that keep the read models: `rebuild` (drop them and project the whole log
again) and `project` (the worker that follows the log, for PostgreSQL deployments)."""

from __future__ import annotations

import signal
import threading
from contextlib import closing
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from storage.bell import LogBell
from tradeledger.bootstrap import open_services


def rebuild() -> None:
    """Drop every read model and rebuild it from the event log (resumable)."""
    with closing(open_services()) as services:
        total = services.projector.log_position()
        with _progress() as bar:
            task = bar.add_task("projecting", total=total)
            count = services.projector.rebuild(
                lambda done, end: bar.update(task, completed=done, total=end)
            )
    typer.echo(f"rebuilt the read models from {count} events")


def project(
    once: Annotated[bool, typer.Option(help="Catch up with the log, then exit.")] = False,
    poll_interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 0.5,
) -> None:
    """Run the projection worker: follow the log and keep the read models current.

    It wakes on the store's notifications (LISTEN/NOTIFY on PostgreSQL) and polls
    as a safety net. SIGINT or SIGTERM stop it between two committed batches, also
    during the first catch-up (the handlers are installed before it starts).
    """
    stop, wake = threading.Event(), threading.Event()

    def stop_soon(*_: object) -> None:
        stop.set()
        wake.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop_soon)
    with closing(open_services()) as services:
        projector = services.projector
        done = 0
        while not stop.is_set():
            projected = projector.catch_up(limit=projector.batch_size)
            done += projected
            if projected == 0:
                break
        typer.echo(f"caught up: {done} events, position {projector.position}")
        if once or stop.is_set():
            return
        bell = LogBell(services.ledger)
        bell.add(wake.set)
        try:
            projector.run_until(stop, wake, poll_interval)
        finally:
            bell.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )


def register(app: typer.Typer) -> None:
    """Add `rebuild` and `project` to the `tradeledger` app."""
    app.command()(rebuild)
    app.command()(project)
