"""The commands that keep the read models: `rebuild` (drop them and project the whole log
again) and `project` (the worker that follows the log, for PostgreSQL deployments)."""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import closing
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from projections.follower import Follower
from storage.backoff import one_line
from storage.bell import LogBell
from tradeledger.bootstrap import open_services
from tradeledger.settings import Settings


def rebuild() -> None:
    """Drop every read model and rebuild it from the event log (resumable)."""
    # Without a statement timeout: building an index over a large log may take minutes.
    settings = Settings.from_env().model_copy(update={"statement_timeout_seconds": 0.0})
    with closing(open_services(settings)) as services:
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
