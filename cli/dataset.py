"""A dataset: every *.jsonl under a folder, each file recorded entirely or not at all.

Each file goes through the same machinery as `tradeledger append` (cli.records, the
schema, `Ledger.append_batch`), so loading it again adds nothing. Files are taken in
sorted order, so the event log a load produces is the same on every machine. Every file
is read and validated before the first is written: a malformed line anywhere stops the
load before anything is recorded. A file that breaks a domain rule stops the load there;
the files before it stay recorded.

Every line carries its event_id (the schema requires it), and a line whose id its stream
already holds is compared with the recorded event (`check_recorded_content`): the same
content is skipped as already recorded; other content is refused, naming the line, the
field and the stored value, because a recorded event never changes (a correction is a
new event that names the one it corrects). Skipping it, as the domain's batch would,
would report a correction that was never recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

from cli.records import InputError, Record, explain, read_items, stream_and_event_id
from domain.commands import (
    AppendChange,
    BatchItem,
    BatchItemError,
    ImposeMeasure,
    OpenNegotiation,
)
from domain.events import LedgerEvent, type_name
from domain.ledger import Ledger
from domain.values import Provenance, Source, echo, shorten


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


def check_recorded_content(
    ledger: Ledger, items: Sequence[BatchItem], records: Sequence[Record], name: str
) -> None:
    """Refuse a line whose event id its stream holds with other content (InputError naming
    the line, the first field that differs, and both values).

    Decided on the store's state just before the batch: each stream a line names is read
    once (a stream that does not exist yet costs one empty read).
    """
    recorded: dict[UUID, Mapping[str, LedgerEvent]] = {}
    for item, record in zip(items, records, strict=True):
        stream_id, event_id = stream_and_event_id(item)
        if stream_id not in recorded:
            recorded[stream_id] = _recorded_events(ledger, stream_id)
        event = recorded[stream_id].get(event_id)
        if event is None:
            continue
        difference = _first_difference(item, event)
        if difference is not None:
            field, stored, given = difference
            raise InputError(
                f"{name} line {record.line}: event_id {echo(event_id, 40)} is recorded with "
                f"other content ({field} is {stored} in the store, {given} here), so nothing "
                f"of this file was recorded; to correct an event, record a record_corrected "
                "naming it and the right fact under a new event_id"
            )


def _recorded_events(ledger: Ledger, stream_id: UUID) -> dict[str, LedgerEvent]:
    """The events of a stream by event id (empty when the stream does not exist)."""
    return {e.event_id: e for e in ledger.events.get(stream_id) if isinstance(e, LedgerEvent)}


def _first_difference(item: BatchItem, event: LedgerEvent) -> tuple[str, str, str] | None:
    """(field, stored value, given value) of the first field in which `item` would record
    something other than the recorded `event`, as the dataset line names the field; None
    when the two are the same."""
    event_type, given = _fields_of(item)
    stored_type = type_name(type(event))
    if stored_type != event_type:
        return "type", _shown(stored_type), _shown(event_type)
    stored_fields = dict(_line_fields({name: getattr(event, name, None) for name in given}))
    for field, value in _line_fields(given):
        if _comparable(value) != _comparable(stored_fields.get(field)):
            return field, _shown(stored_fields.get(field)), _shown(value)
    return None


def _fields_of(item: BatchItem) -> tuple[str, dict[str, Any]]:
    """The type and the fields of the event `item` records (the verbs record their
    arguments as they are given: see domain.verb_call)."""
    if isinstance(item, AppendChange):
        change = item.change
        return change.event_type, {**change.facts.fields(), **change.arguments}
    if isinstance(item, ImposeMeasure):
        return "imposed", {**item.facts.fields(), "key": item.key, **item.terms.fields()}
    assert isinstance(item, OpenNegotiation)
    return "opened", {
        **item.facts.fields(),
        "key": item.key,
        "title": item.title,
        "parties": item.parties,
        "summary": item.summary,
    }


def _line_fields(event_fields: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """The fields as a dataset line names them: provenance is sources, recorded_by, note."""
    for name, value in event_fields.items():
        if name == "provenance":
            provenance = value if isinstance(value, Provenance) else None
            yield "sources", provenance.sources if provenance else None
            yield "recorded_by", provenance.recorded_by if provenance else None
            yield "note", provenance.note if provenance else None
        else:
            yield name, value


def _comparable(value: Any) -> Any:
    """`value` as it compares: lists and tuples alike, mappings by their items, value
    objects by their fields, enums by their value (a stored event comes back from JSON)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return tuple(_comparable(item) for item in value)
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _comparable(v)) for k, v in value.items()))
    if is_dataclass(value) and not isinstance(value, type):
        return tuple(_comparable(getattr(value, f.name)) for f in fields(value))
    return value


def _shown(value: Any, limit: int = 40) -> str:
    """A value as an error message shows it: short, and in the dataset's notation."""
    return shorten(_notation(value), limit)


def _notation(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _notation(value.value)
    if isinstance(value, Source):
        return _notation(value.citation)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_notation(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_notation(k)}: {_notation(v)}" for k, v in value.items()) + "}"
    return repr(value)


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
