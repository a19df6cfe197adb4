"""The commands that keep the read models: `rebuild` (project the whole log into new read
models beside those in use, and switch to them when done) and `project` (the worker that
follows the log, for PostgreSQL deployments)."""

from __future__ import annotations

import signal
import threading
from contextlib import closing
from typing import Annotated, NoReturn

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from projections.projector import SKIP, Projector
from storage.bell import LogBell
from storage.undecodable import UndecodableEvent, UndecodableHook
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
        projector.tell_undecodable = _told(projector)
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


def _told(projector: Projector) -> UndecodableHook:
    """How a command tells of an undecodable event as the projector meets it: in skip
    mode one `warning:` line each; in stop mode nothing (the command's `error:` line
    names it)."""

    def warn(error: UndecodableEvent) -> None:
        if projector.on_undecodable == SKIP:
            typer.echo(f"warning: skipping {error.message}", err=True)

    return warn


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
        projector.tell_undecodable = _told(projector)
        done = 0
        while not stop.is_set():
            try:
                projected = projector.catch_up(limit=projector.batch_size)
            except UndecodableEvent as error:
                _stopped_at(error)
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
        except UndecodableEvent as error:
            _stopped_at(error)
        finally:
            bell.close()


def _stopped_at(error: UndecodableEvent) -> NoReturn:
    """End `project` with one line: stop mode met an event that does not decode."""
    typer.echo(
        f"error: the projection stopped before {error.message} "
        "(TRADELEDGER_ON_UNDECODABLE=skip goes on past it)",
        err=True,
    )
    raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )


def register(app: typer.Typer) -> None:
    """Add `rebuild` and `project` to the `tradeledger` app."""
    app.command()(rebuild)
    app.command()(project)
