"""A line whose event id is recorded already: the same event again, or a correction in
disguise.

The domain's batch skips an item whose event id its stream holds (with the same type), so
that loading a file twice adds nothing. Were the line's content different (a rate of 77
where 125 was recorded), skipping it would report a correction that was never recorded:
a recorded event never changes, and a correction is a new event that names the one it
corrects. So before a file's batch each such line is compared with the recorded event,
field by field as the verbs record them (domain.verb_call), and refused at the first
difference, naming the field and both values.

The check reads the store just before the batch; a concurrent writer recording the same
id with other content between the two is not caught (the domain would then skip the line).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from cli.records import InputError, Record, stream_and_event_id
from domain.commands import AppendChange, BatchItem, ImposeMeasure, OpenNegotiation
from domain.events import LedgerEvent, type_name
from domain.ledger import Ledger
from domain.values import Provenance, Source, echo, shorten


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
