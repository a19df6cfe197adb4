"""The `tradeledger load` command: record the shipped dataset, every *.jsonl under a folder.

Each file goes through the same machinery as `tradeledger append` (read_records, the
schema, `Ledger.append_batch`), so each file is recorded entirely or not at all, and
loading it again adds nothing. Files are taken in sorted order, so the event log a load
produces is the same on every machine. Every file is read and validated before the first
is written: a malformed line anywhere stops the load before anything is recorded. A file
that breaks a domain rule stops the load there; the files before it stay recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.main import (
    InputError,
    Record,
    _batch_item,
    _check_event_ids_unique,
    _explain,
    _read_text,
    read_records,
)
from domain.ledger import BatchItem, BatchItemError, Ledger
from tradeledger.bootstrap import open_ledger

DEFAULT_PATH = "data"
"""Where the dataset lives in a source checkout, relative to the working directory."""


@dataclass(frozen=True)
class DatasetFile:
    """One file of the dataset, read and validated: its records and their batch items."""

    path: Path
    records: tuple[Record, ...]
    items: tuple[BatchItem, ...]

    @property
    def name(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class FileLoaded:
    """What loading one file did."""

    path: Path
    added: int
    skipped: int
    streams: int


def dataset_files(path: Path) -> list[Path]:
    """The files to load: `path` itself, or every *.jsonl under it, in sorted order."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"{path}: no such file or directory")
    files = sorted(p for p in path.rglob("*.jsonl") if p.is_file())
    if not files:
        raise InputError(f"{path}: no *.jsonl files to load")
    return files


def read_dataset_file(path: Path) -> DatasetFile:
    """Read and validate one JSON Lines file (as `tradeledger append` does)."""
    name = str(path)
    records = read_records(_read_text(name, name), name, jsonl=True)
    items = [_batch_item(record, name) for record in records]
    _check_event_ids_unique(items, records, name)
    return DatasetFile(path, tuple(records), tuple(items))


def load_file(ledger: Ledger, dataset_file: DatasetFile) -> FileLoaded:
    """Record one file in one transaction; InputError (naming the line) if a rule breaks."""
    try:
        result = ledger.append_batch(dataset_file.items)
    except BatchItemError as error:
        record = dataset_file.records[error.index]
        raise InputError(
            f"{dataset_file.name} line {record.line}: {_explain(error.error, record)}; "
            f"nothing of {dataset_file.name} was recorded"
        ) from None
    return FileLoaded(dataset_file.path, result.added, result.skipped, len(result.versions))


def load_dataset(
    ledger: Ledger,
    path: Path,
    on_loaded: Callable[[FileLoaded], None] = lambda loaded: None,
) -> list[FileLoaded]:
    """Load every file of the dataset at `path`, in sorted order; `on_loaded` after each."""
    files = [read_dataset_file(file) for file in dataset_files(path)]
    done = []
    for dataset_file in files:
        loaded = load_file(ledger, dataset_file)
        on_loaded(loaded)
        done.append(loaded)
    return done


def describe(loaded: FileLoaded) -> str:
    streams = f"{loaded.streams} stream{'' if loaded.streams == 1 else 's'}"
    return (
        f"{loaded.path}: added {loaded.added} events, skipped {loaded.skipped} "
        f"already recorded ({streams})"
    )


def describe_total(loaded: Sequence[FileLoaded]) -> str:
    added = sum(f.added for f in loaded)
    skipped = sum(f.skipped for f in loaded)
    files = f"{len(loaded)} file{'' if len(loaded) == 1 else 's'}"
    return f"total: added {added} events, skipped {skipped} already recorded, from {files}"


def register(app: typer.Typer) -> None:
    """Add `tradeledger load` to the `tradeledger` app."""

    @app.command()
    def load(
        path: Annotated[
            str,
            typer.Argument(
                metavar="[PATH]",
                help="A folder (every *.jsonl under it, in sorted order) or one file.",
            ),
        ] = DEFAULT_PATH,
    ) -> None:
        """Record the dataset at PATH: each file entirely or not at all.

        Every file is validated before anything is written. Events already recorded (same
        stream, same event_id) are skipped, so loading the dataset again adds nothing.
        """
        # Errors are reported here rather than raised to `main`: when the CLI runs as
        # `python -m cli.main`, its InputError class is not the one imported here.
        try:
            files = [read_dataset_file(file) for file in dataset_files(Path(path))]
        except InputError as error:
            _fail(str(error))
        loaded: list[FileLoaded] = []
        total = sum(len(f.items) for f in files)
        with closing(open_ledger()) as ledger, _progress() as bar:
            task = bar.add_task("loading", total=total)
            for dataset_file in files:
                bar.update(task, description=dataset_file.name)
                try:
                    done = load_file(ledger, dataset_file)
                except InputError as error:
                    bar.stop()
                    for earlier in loaded:
                        typer.echo(describe(earlier))
                    _fail(str(error))
                loaded.append(done)
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


def _fail(message: str) -> NoReturn:
    one_line = re.sub(r"\s+", " ", message).strip()
    typer.echo(f"error: {one_line}", err=True)
    raise typer.Exit(1)
