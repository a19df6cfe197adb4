"""The commands that write: `init` (create the store), `append` (events from a file) and
`load` (a dataset folder, by default the dataset shipped with tradeledger)."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.dataset import FileLoaded, describe, describe_total, load_file, read_dataset
from cli.recorded import check_recorded_content
from cli.records import JSONL_SUFFIXES, InputError, explain, read_items
from domain.commands import BatchItemError
from tradeledger import shipped_dataset
from tradeledger.bootstrap import open_services, store_location


def init() -> None:
    """Create the store's tables, and say where they are.

    The store is the one TRADELEDGER_DATABASE_URL names. Running it again changes nothing.
    """
    services = open_services()
    services.close()
    typer.echo(f"ledger ready: {store_location(services.config)}")


def append(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="JSON Lines (one dataset line per line) or JSON (one line, or an array of "
            "them); '-' reads standard input.",
            show_default=False,
        ),
    ],
) -> None:
    """Record every event of FILE, or none of them.

    The whole file is validated first, then applied in order and written in one
    transaction. Events already recorded (same stream, same event_id, same content) are
    skipped, so loading a file again adds nothing; an event_id recorded with other
    content is an error (a correction is a new event).
    """
    name = "<stdin>" if file == "-" else file
    jsonl = Path(file).suffix.lower() in JSONL_SUFFIXES
    records, items = read_items(file, name, jsonl=jsonl)
    # Opened with the read models, so that they have projected the events on return.
    with closing(open_services()) as services:
        check_recorded_content(services.ledger, items, records, name)
        try:
            result = services.ledger.append_batch(items)
        except BatchItemError as error:
            record = records[error.index]
            raise InputError(f"{name} line {record.line}: {explain(error.error, record)}") from None
    streams = len(result.versions)
    typer.echo(
        f"added {result.added} events, skipped {result.skipped} already recorded "
        f"({streams} stream{'' if streams == 1 else 's'})"
    )


def load(
    path: Annotated[
        str | None,
        typer.Argument(
            metavar="[PATH]",
            help="A folder (every *.jsonl under it, in sorted order) or one file; by default "
            "the dataset shipped with tradeledger (data/ in a checkout).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Record the dataset at PATH: each file entirely or not at all.

    Every file is validated before anything is written. Events already recorded (same
    stream, same event_id, same content) are skipped, so loading the dataset again adds
    nothing; an event_id recorded with other content is an error (a correction is a new
    event).
    """
    if path is None:
        files = read_dataset(shipped_dataset(), shown=Path("data"))
    else:
        files = read_dataset(Path(path))
    loaded: list[FileLoaded] = []
    total = sum(len(f.items) for f in files)
    # Opened with the read models, so that they have projected each file once loaded.
    with closing(open_services()) as services, _progress() as bar:
        ledger = services.ledger
        task = bar.add_task("loading", total=total)
        for dataset_file in files:
            bar.update(task, description=dataset_file.name)
            try:
                loaded.append(load_file(ledger, dataset_file))
            except InputError:
                bar.stop()
                for earlier in loaded:
                    typer.echo(describe(earlier))
                raise
            bar.advance(task, len(dataset_file.items))
    for done in loaded:
        typer.echo(describe(done))
    typer.echo(describe_total(loaded))


def _progress() -> Progress:
    # On stderr, so that standard output carries only the report; shown on terminals only.
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def register(app: typer.Typer) -> None:
    """Add `init`, `load` and `append` to the `tradeledger` app."""
    app.command()(init)
    app.command()(load)
    app.command()(append)
