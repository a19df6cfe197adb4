"""A dataset: every *.jsonl under a folder, each file recorded entirely or not at all.

Each file goes through the same machinery as `tradeledger append` (cli.records, the
schema, `Ledger.append_batch`), so loading it again adds nothing. Files are taken in
sorted order, so the event log a load produces is the same on every machine. Every file
is read and validated before the first is written: a malformed line anywhere stops the
load before anything is recorded. A file that breaks a domain rule stops the load there;
the files before it stay recorded.

Every line carries its event_id (the schema requires it), and a line whose id its stream
already holds is compared with the recorded event (cli.recorded): the same content is
skipped as already recorded; other content is refused, naming the line, the field and the
stored value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cli.recorded import check_recorded_content
from cli.records import InputError, Record, explain, read_items
from domain.commands import BatchItem, BatchItemError
from domain.ledger import Ledger


@dataclass(frozen=True)
class DatasetFile:
    """One file of the dataset, read and validated: its records and their batch items.

    `shown` is the path messages name (the shipped dataset's files as `data/...`).
    """

    path: Path
    records: tuple[Record, ...]
    items: tuple[BatchItem, ...]
    shown: Path

    @property
    def name(self) -> str:
        return str(self.shown)


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


def read_dataset_file(path: Path, shown: Path | None = None) -> DatasetFile:
    """Read and validate one JSON Lines file (as `tradeledger append` does)."""
    shown = path if shown is None else shown
    records, items = read_items(str(path), str(shown), jsonl=True)
    return DatasetFile(path, tuple(records), tuple(items), shown)


def read_dataset(path: Path, shown: Path | None = None) -> list[DatasetFile]:
    """Every file of the dataset at `path`, read and validated; `shown` names `path`."""
    return [
        read_dataset_file(file, None if shown is None else shown / file.relative_to(path))
        for file in dataset_files(path)
    ]


def load_file(ledger: Ledger, dataset_file: DatasetFile) -> FileLoaded:
    """Record one file in one transaction; InputError (naming the line) if a rule breaks,
    or if a line has the id of a recorded event but not its content."""
    check_recorded_content(ledger, dataset_file.items, dataset_file.records, dataset_file.name)
    try:
        result = ledger.append_batch(dataset_file.items)
    except BatchItemError as error:
        record = dataset_file.records[error.index]
        raise InputError(
            f"{dataset_file.name} line {record.line}: {explain(error.error, record)}; "
            "nothing of this file was recorded"
        ) from None
    return FileLoaded(dataset_file.shown, result.added, result.skipped, len(result.versions))


def load_dataset(
    ledger: Ledger,
    path: Path,
    on_loaded: Callable[[FileLoaded], None] = lambda loaded: None,
) -> list[FileLoaded]:
    """Load every file of the dataset at `path`, in sorted order; `on_loaded` after each."""
    files = read_dataset(path)
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
