"""The commands that keep the read models: `rebuild` (project the whole log into new read
models beside those in use, and switch to them when done) and `project` (the worker that
follows the log, for PostgreSQL deployments)."""

from __future__ import annotations

import signal
import threading
from contextlib import closing
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from storage.bell import LogBell
from storage.undecodable import UndecodableEvent
from tradeledger.bootstrap import open_services


def rebuild() -> None:
    """Rebuild the read models from the event log, beside those in use, and switch to
    the new ones in one transaction once they are complete (resumable).

    Readers, here and in a running server, are answered by the read models in use until
    the switch. A stored event that does not decode stops the rebuild with one `error:`
    line naming it, and the read models in use stay as they were, unless
    TRADELEDGER_ON_UNDECODABLE=skip (then it is skipped, and answers name it).
    """
    with closing(open_services()) as services:
        projector = services.projector
        projector.tell_undecodable = _quiet
        total = projector.log_position()
        try:
            with _progress() as bar:
                task = bar.add_task("projecting", total=total)
                count = projector.rebuild(
                    lambda done, end: bar.update(task, completed=done, total=end)
                )
        except UndecodableEvent as error:
            typer.echo(
                f"error: the rebuild stopped: {error.message}; the read models in use are "
                "unchanged (TRADELEDGER_ON_UNDECODABLE=skip rebuilds past it)",
                err=True,
            )
            raise typer.Exit(1) from None
    skipped = projector.undecodable_seen
    note = f", skipping {skipped} undecodable" if skipped else ""
    typer.echo(f"rebuilt the read models from {count} events{note}")


def _quiet(_: UndecodableEvent) -> None:
    """The CLI reports undecodable events itself, on one line each."""


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
            try:
                projected = projector.catch_up(limit=projector.batch_size)
            except UndecodableEvent as error:
                typer.echo(
                    f"error: the projection stopped at position {error.position}: "
                    f"{error.message} (TRADELEDGER_ON_UNDECODABLE=skip goes on past it)",
                    err=True,
                )
                raise typer.Exit(1) from None
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
