"""Reading events from files: JSON or JSON Lines into the domain's batch items, with the
line each came from, so that every error names the file, the line and the field.

Used by `tradeledger append` and `tradeledger load` (see cli.dataset); nothing here
writes. An input that cannot be used raises InputError, whose message fits on one line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from uuid import UUID

from pydantic import ValidationError

from domain.commands import AppendChange, BatchItem, ImposeMeasure
from domain.errors import DomainError, StreamNotFound
from domain.values import echo, shorten
from eventschema import DATASET_LINE, describe_errors, to_batch_item


class InputError(Exception):
    """An input cannot be used; the message says where and why, on one line."""


@dataclass(frozen=True)
class Record:
    """One JSON value of an input, with the line it starts on (for error messages)."""

    line: int
    data: object


JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})


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
        except RecursionError as error:
            raise _json_error(name, error, text, start) from None
        except ValueError as error:
            if not _is_json(text.lstrip().split("\n", 1)[0]):  # not one value per line
                raise _json_error(name, error, text, start) from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                records.append(Record(number, _DECODER.decode(line)))
            except (ValueError, RecursionError) as error:
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
        except (ValueError, RecursionError) as error:
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
    except (ValueError, RecursionError):
        return False
    return True


def _json_error(
    name: str,
    error: ValueError | RecursionError,
    text: str,
    position: int,
    line: int | None = None,
) -> InputError:
    """Where a JSON text is malformed: line `line` (for one line of a file) or in `text`.

    Python's JSON parser recurses once per level of nesting: arrays nested thousands deep
    end in RecursionError, which is the input's fault, not the program's. No event nests
    deeper than a few levels."""
    if isinstance(error, RecursionError):
        where = line if line is not None else _line_at(text, position)
        return InputError(f"{name} line {where}: invalid JSON: nested too deeply")
    if isinstance(error, json.JSONDecodeError):
        where = line if line is not None else error.lineno
        return InputError(f"{name} line {where}: invalid JSON: {error.msg} (column {error.colno})")
    where = line if line is not None else _line_at(text, position)
    return InputError(f"{name} line {where}: invalid JSON: {shorten(str(error), 120)}")


def read_text(file: str, name: str) -> str:
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {name}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(f"{name} line {line}: not UTF-8 text") from None


def batch_item(record: Record, name: str) -> BatchItem:
    if not isinstance(record.data, dict):
        kind = type(record.data).__name__
        raise InputError(f"{name} line {record.line}: expected a JSON object, not {kind}")
    try:
        return to_batch_item(DATASET_LINE.validate_python(record.data))
    except ValidationError as error:
        raise InputError(f"{name} line {record.line}: {describe_errors(error)}") from None
    except DomainError as error:
        raise InputError(f"{name} line {record.line}: {error.message}") from None


def stream_and_event_id(item: BatchItem) -> tuple[UUID, str]:
    """The stream a batch item records to, and the id of the event it records."""
    if isinstance(item, AppendChange):
        return item.stream_id, item.change.facts.event_id
    if isinstance(item, ImposeMeasure):
        return item.measure_id, item.facts.event_id
    return item.negotiation_id, item.facts.event_id


def check_event_ids_unique(
    items: Sequence[BatchItem], records: Sequence[Record], name: str
) -> None:
    """Refuse a file that uses one event id twice in one stream.

    Across loads a known id means "already recorded" and is skipped; inside one file it
    can only be a copy-and-paste slip, which skipping would hide.
    """
    seen: dict[tuple[UUID, str], int] = {}
    for item, record in zip(items, records, strict=True):
        first = seen.setdefault(stream_and_event_id(item), record.line)
        if first != record.line:
            event_id = stream_and_event_id(item)[1]
            raise InputError(
                f"{name} line {record.line}: event_id {echo(event_id)} is already used on "
                f"line {first} for the same stream"
            )


def explain(error: DomainError, record: Record) -> str:
    """The domain's message, plus the key the line used when the domain only knows ids."""
    if isinstance(error, StreamNotFound) and isinstance(record.data, dict):
        ref = record.data.get(error.kind)
        if isinstance(ref, str) and ref.strip().lower() != str(error.stream_id):
            return f"no {error.kind} {echo(ref.strip())} (id {error.stream_id}) in the ledger"
    return error.message


def read_items(file: str, name: str, *, jsonl: bool) -> tuple[list[Record], list[BatchItem]]:
    """Every record of a file ('-': standard input) and its batch item, all validated."""
    records = read_records(read_text(file, name), name, jsonl=jsonl)
    items = [batch_item(record, name) for record in records]
    check_event_ids_unique(items, records, name)
    return records, items
