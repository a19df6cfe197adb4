"""The `tradeledger` command: create the store, load dataset files, list the event log.

Commands live on `app`. A later module adds its own by defining
`register(app: typer.Typer) -> None` and being named in `COMMAND_MODULES`; `main()`
registers them before running. (Passing `app` in, rather than having modules import it,
keeps one `app` even when this module runs as `python -m cli.main`, where it is
`__main__` and an import would create a second copy.)

Errors a user can cause (bad configuration, a bad file, a broken domain rule) end the
command with one line, `error: ...`, on stderr and exit status 1; never a traceback.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from eventsourcing.persistence import PersistenceError
from pydantic import ValidationError

from domain.errors import DomainError, InvalidValue, StreamNotFound
from domain.ledger import (
    AppendChange,
    BatchItem,
    BatchItemError,
    ImposeMeasure,
)
from eventschema import DATASET_LINE, describe_errors, to_batch_item
from storage.eventlog import EventLog, LogEntry, LogFilter
from tradeledger.bootstrap import open_ledger, open_services, store_location
from tradeledger.errors import ConfigurationError

COMMAND_MODULES: tuple[str, ...] = (
    "cli.audit",
    "cli.dataset",
    "cli.serve",
    "bench.cli",
)
"""Modules that add commands: each defines `register(app: typer.Typer) -> None`."""

app = typer.Typer(
    name="tradeledger",
    help="System of record for tariff measures and trade negotiations.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help, wrapped to the terminal; plain usage errors
    pretty_exceptions_show_locals=False,  # locals may hold a database password
)


class InputError(Exception):
    """An input cannot be used; the message says where and why, on one line."""


# -- init -------------------------------------------------------------------------------


@app.command()
def init() -> None:
    """Create the store's tables, and say where they are.

    The store is the one TRADELEDGER_DATABASE_URL names. Running it again changes nothing.
    """
    services = open_services()
    services.close()
    typer.echo(f"ledger ready: {store_location(services.config)}")


# -- append -----------------------------------------------------------------------------


@app.command()
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
    transaction. Events already recorded (same stream, same event_id) are skipped, so
    loading a file again adds nothing.
    """
    name = "<stdin>" if file == "-" else file
    jsonl = Path(file).suffix.lower() in _JSONL_SUFFIXES
    records = read_records(_read_text(file, name), name, jsonl=jsonl)
    items = [_batch_item(record, name) for record in records]
    _check_event_ids_unique(items, records, name)
    with closing(open_ledger()) as ledger:
        try:
            result = ledger.append_batch(items)
        except BatchItemError as error:
            record = records[error.index]
            raise InputError(
                f"{name} line {record.line}: {_explain(error.error, record)}"
            ) from None
    streams = len(result.versions)
    typer.echo(
        f"added {result.added} events, skipped {result.skipped} already recorded "
        f"({streams} stream{'' if streams == 1 else 's'})"
    )


@dataclass(frozen=True)
class Record:
    """One JSON value of an input, with the line it starts on (for error messages)."""

    line: int
    data: object


_JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})


def read_records(text: str, name: str, *, jsonl: bool = False) -> list[Record]:
    """The values of a JSON Lines text, or of a JSON text (one value, or an array).

    Without `jsonl` the format is guessed: an array, one value over many lines, or one
    value per line. Numbers are read as exact Decimals (a rate of 0.1 stays 0.1); NaN and
    Infinity, which Python's json module would accept, are refused.
    """
    text = text.removeprefix("\ufeff")
    start = len(text) - len(text.lstrip())
    if not jsonl and text.startswith("[", start):
        return _json_array(text, name, start)
    if not jsonl:
        try:
            return [Record(_line_at(text, start), _DECODER.decode(text))]
        except ValueError as error:
            if not _is_json(text.lstrip().split("\n", 1)[0]):  # not one value per line
                raise _json_error(name, error, text, start) from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                records.append(Record(number, _DECODER.decode(line)))
            except ValueError as error:
                raise _json_error(name, error, line, 0, number) from None
    return records


def _refuse_constant(constant: str) -> object:
    raise ValueError(f"{constant} is not a JSON number")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_refuse_constant)


def _json_array(text: str, name: str, start: int) -> list[Record]:
    records = []
    position = _skip_space(text, start + 1)
    closed = text.startswith("]", position)
    while not closed:
        try:
            value, end = _DECODER.raw_decode(text, position)
        except ValueError as error:
            raise _json_error(name, error, text, position) from None
        records.append(Record(_line_at(text, position), value))
        position = _skip_space(text, end)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
        elif text.startswith("]", position):
            closed = True
        else:
            line = _line_at(text, position)
            raise InputError(f"{name} line {line}: invalid JSON: expected ',' or ']'")
    if text[position + 1 :].strip():
        line = _line_at(text, _skip_space(text, position + 1))
        raise InputError(f"{name} line {line}: invalid JSON: text after the closing ']'")
    return records


def _skip_space(text: str, position: int) -> int:
    return len(text) - len(text[position:].lstrip())


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _is_json(text: str) -> bool:
    try:
        _DECODER.decode(text)
    except ValueError:
        return False
    return True


def _json_error(
    name: str, error: ValueError, text: str, position: int, line: int | None = None
) -> InputError:
    """Where a JSON text is malformed: line `line` (for one line of a file) or in `text`."""
    if isinstance(error, json.JSONDecodeError):
        where = line if line is not None else error.lineno
        return InputError(f"{name} line {where}: invalid JSON: {error.msg} (column {error.colno})")
    where = line if line is not None else _line_at(text, position)
    return InputError(f"{name} line {where}: invalid JSON: {error}")


def _read_text(file: str, name: str) -> str:
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {name}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(f"{name} line {line}: not UTF-8 text") from None


def _batch_item(record: Record, name: str) -> BatchItem:
    if not isinstance(record.data, dict):
        kind = type(record.data).__name__
        raise InputError(f"{name} line {record.line}: expected a JSON object, not {kind}")
    try:
        return to_batch_item(DATASET_LINE.validate_python(record.data))
    except ValidationError as error:
        raise InputError(f"{name} line {record.line}: {describe_errors(error)}") from None
    except DomainError as error:
        raise InputError(f"{name} line {record.line}: {error.message}") from None


def _check_event_ids_unique(
    items: Sequence[BatchItem], records: Sequence[Record], name: str
) -> None:
    """Refuse a file that uses one event id twice in one stream.

    Across loads a known id means "already recorded" and is skipped; inside one file it
    can only be a copy-and-paste slip, which skipping would hide.
    """
    seen: dict[tuple[UUID, str], int] = {}
    for item, record in zip(items, records, strict=True):
        if isinstance(item, AppendChange):
            stream_id, event_id = item.stream_id, item.change.facts.event_id
        elif isinstance(item, ImposeMeasure):
            stream_id, event_id = item.measure_id, item.facts.event_id
        else:
            stream_id, event_id = item.negotiation_id, item.facts.event_id
        first = seen.setdefault((stream_id, event_id), record.line)
        if first != record.line:
            raise InputError(
                f"{name} line {record.line}: event_id {event_id!r} is already used on "
                f"line {first} for the same stream"
            )


def _explain(error: DomainError, record: Record) -> str:
    """The domain's message, plus the key the line used when the domain only knows ids."""
    if isinstance(error, StreamNotFound) and isinstance(record.data, dict):
        ref = record.data.get(error.kind)
        if isinstance(ref, str) and ref.strip().lower() != str(error.stream_id):
            return f"no {error.kind} {ref.strip()!r} (id {error.stream_id}) in the ledger"
    return error.message


# -- events -----------------------------------------------------------------------------


@app.command()
def events(
    stream: Annotated[
        str | None,
        typer.Option(help="Only this stream: its UUID, or the key of a measure or negotiation."),
    ] = None,
    after: Annotated[int, typer.Option(min=0, help="Only events after this position.")] = 0,
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most this many events.", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the global event log, in the order events were recorded.

    Columns: position, stream, version, type, event_id, effective_on, announced_at (and
    recorded_at, when the store keeps record times).
    """
    with closing(open_ledger()) as ledger:
        log = EventLog(ledger)
        where = LogFilter(stream_id=_stream_id(log, stream) if stream is not None else None)
        rows = (LogRow.of(entry) for entry in log.entries(after, where, limit))
        if as_json:
            for row in rows:
                typer.echo(json.dumps(row.as_json(), ensure_ascii=False))
        else:
            _print_table([row.as_text() for row in rows])


@dataclass(frozen=True)
class LogRow:
    """One event of the global log, as listed by `tradeledger events`."""

    position: int
    stream_id: UUID
    kind: str
    key: str
    version: int
    type: str
    event_id: str
    effective_on: date | None
    announced_at: datetime
    recorded_at: datetime | None

    @classmethod
    def of(cls, entry: LogEntry) -> LogRow:
        return cls(
            position=entry.position,
            stream_id=entry.stream_id,
            kind=entry.kind,
            key=entry.key,
            version=entry.version,
            type=entry.type,
            event_id=entry.event_id,
            effective_on=entry.effective_on,
            announced_at=entry.announced_at,
            recorded_at=entry.recorded_at,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "stream": str(self.stream_id),
            "kind": self.kind,
            "key": self.key,
            "version": self.version,
            "type": self.type,
            "event_id": self.event_id,
            "effective_on": self.effective_on.isoformat() if self.effective_on else None,
            "announced_at": _instant(self.announced_at),
            "recorded_at": _instant(self.recorded_at) if self.recorded_at else None,
        }

    def as_text(self) -> dict[str, str]:
        row = {
            "position": str(self.position),
            "stream": f"{self.kind} {self.key or self.stream_id}",
            "version": str(self.version),
            "type": self.type,
            "event_id": self.event_id,
            "effective_on": self.effective_on.isoformat() if self.effective_on else "-",
            "announced_at": _instant(self.announced_at),
        }
        if self.recorded_at is not None:
            row["recorded_at"] = _instant(self.recorded_at)
        return row


def _stream_id(log: EventLog, ref: str) -> UUID:
    """The stream `--stream` names: a UUID, or a key of exactly one measure or negotiation."""
    try:
        return log.resolve_stream(ref)
    except InvalidValue as error:
        raise InputError(f"--stream: {error.message.removeprefix('stream: ')}") from None


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _print_table(rows: Sequence[dict[str, str]]) -> None:
    if not rows:
        typer.echo("no events", err=True)
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(row.get(c, "")) for row in rows)) for c in columns}
    typer.echo("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        typer.echo("  ".join(row.get(c, "").ljust(widths[c]) for c in columns).rstrip())


# -- entry point ------------------------------------------------------------------------

_registered: set[str] = set()


def register_command_modules() -> None:
    """Let each module of COMMAND_MODULES add its commands to `app` (once)."""
    for module_name in COMMAND_MODULES:
        if module_name not in _registered:
            importlib.import_module(module_name).register(app)
            _registered.add(module_name)


def main(args: Sequence[str] | None = None) -> None:
    """Run the command line; errors a user can cause become one line on stderr, status 1."""
    register_command_modules()
    try:
        app(args=args, prog_name="tradeledger")
    except ValidationError as error:
        _fail(describe_errors(error))
    except DomainError as error:
        _fail(error.message)
    except (InputError, ConfigurationError) as error:
        _fail(str(error))
    except PersistenceError as error:
        _fail(f"the store failed: {error}")


def _fail(message: str) -> None:
    one_line = re.sub(r"\s+", " ", message).strip()
    typer.echo(f"error: {one_line}", err=True)
    raise SystemExit(1)


if __name__ == "__main__":
    main()
