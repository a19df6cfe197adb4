"""The commands that keep the read models: `rebuild` (project the whole log into new read
models beside those in use, and switch to them when done) and `project` (the worker that
follows the log, for PostgreSQL deployments)."""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import closing
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from projections.follower import Follower
from projections.projector import SKIP, Projector
from storage.backoff import one_line
from storage.bell import LogBell
from storage.undecodable import UndecodableEvent, UndecodableHook
from tradeledger.bootstrap import open_services
from tradeledger.settings import Settings


def rebuild() -> None:
    """Rebuild the read models from the event log, beside those in use, and switch to
    the new ones in one transaction once they are complete (resumable).

    Readers, here and in a running server, are answered by the read models in use until
    the switch. A stored event that does not decode stops the rebuild with one `error:`
    line naming it, and the read models in use stay as they were, unless
    TRADELEDGER_ON_UNDECODABLE=skip (then it is skipped, and answers name it).
    """
    # Without a statement timeout: building an index over a large log may take minutes.
    settings = Settings.from_env().model_copy(update={"statement_timeout_seconds": 0.0})
    with closing(open_services(settings)) as services:
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


def _told(projector: Projector, worker: bool = False) -> UndecodableHook:
    """How a command tells of an undecodable event as the projector meets it (once per
    event): in skip mode one `warning:` line each; in stop mode, for `rebuild` nothing
    (its `error:` line names it), for the `project` worker one `error:` line, as it stays
    up and tries again every few seconds, going on once the row is repaired."""

    def tell(error: UndecodableEvent) -> None:
        if projector.on_undecodable == SKIP:
            typer.echo(f"warning: skipping {error.message}", err=True)
        elif worker:
            typer.echo(
                f"error: the projection is stopped before {error.message}; it tries again "
                "every few seconds (TRADELEDGER_ON_UNDECODABLE=skip goes on past it)",
                err=True,
            )

    return tell


def project(
    once: Annotated[bool, typer.Option(help="Catch up with the log, then exit.")] = False,
    poll_interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 0.5,
) -> None:
    """Run the projection worker: follow the log and keep the read models current.

    It wakes on the store's notifications (LISTEN/NOTIFY on PostgreSQL) and polls
    as a safety net. When the database goes away (a restart, an outage) it reconnects
    with backoff (0.1 s doubling to 5 s) and resumes from its tracked position; it stops
    on SIGINT or SIGTERM, between two committed batches (also during the first catch-up:
    the handlers are installed before it starts), and exits with status 1 on any error
    other than the database being unreachable, named in one line.
    """
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def stop_soon(*_: object) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop_soon)
    with closing(open_services()) as services:
        projector = services.projector
        projector.tell_undecodable = _told(projector, worker=True)
        bell = LogBell(services.ledger)
        follower = Follower(
            projector,
            bell,
            poll_interval=poll_interval,
            batch_limit=projector.batch_size,
            name="the projection worker",
        )
        try:
            follower.start()
            _wait(stop, follower, until=follower.caught_up)
            if follower.caught_up.is_set():
                typer.echo(
                    f"caught up: {follower.projected} events, position {projector.reached.position}"
                )
                if not once:
                    _wait(stop, follower)
        finally:
            follower.stop(timeout=None)
            bell.close()
    if follower.error is not None:
        typer.echo(f"error: the projection worker stopped: {one_line(follower.error)}", err=True)
        raise typer.Exit(1)


def _wait(stop: threading.Event, follower: Follower, until: threading.Event | None = None) -> None:
    """Until a signal, the follower's end, or `until` is set."""
    while not stop.is_set() and follower.running and not (until and until.is_set()):
        # Short waits: the main thread must come back to run the signal handlers.
        stop.wait(0.1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )


def register(app: typer.Typer) -> None:
    """Add `rebuild` and `project` to the `tradeledger` app."""
    app.command()(rebuild)
    app.command()(project)
