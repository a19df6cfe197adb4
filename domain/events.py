"""The fields every ledger event carries, whatever its stream.

An event states a business fact with its own dates (`effective_on`, `announced_at`)
and its provenance. The third date, when this ledger recorded it, is not a field:
the store stamps it (UTC) at insert, so no client clock can fake it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.errors import DuplicateEventId, InvalidValue
from domain.values import Provenance, utc_instant


class LedgerEvent(Aggregate.Event):
    """Base of every event of every aggregate in the ledger.

    `event_id` is unique within its stream and stable across loads (the dataset
    gives one per event), so that corrections and extensions can name the event
    they refer to, and so that loading a file twice adds nothing.
    `effective_on` is the first day the fact applies in the world (valid time);
    it may precede `announced_at` (retroactive) or be unknown (None).
    """

    event_id: str
    effective_on: date | None
    announced_at: datetime
    provenance: Provenance

    @property
    def occurred_on(self) -> date:
        """The day the fact takes effect, or, when that is unknown, the day it became public."""
        return self.effective_on if self.effective_on is not None else self.announced_at.date()


@functools.cache
def type_name(event_class: type[LedgerEvent]) -> str:
    """The public, snake_case name of an event class ("RateChanged" -> "rate_changed").

    Cached: every event applied asks for its class's name (event_types), and spelling it
    out character by character cost more than the rest of applying a rate change.
    """
    name = event_class.__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


@dataclass(frozen=True)
class Facts:
    """The common part of a command: which event, when it applies, when it was public, who says."""

    event_id: str
    effective_on: date | None
    announced_at: datetime
    provenance: Provenance

    def __post_init__(self) -> None:
        if not self.event_id.strip():
            raise InvalidValue("event_id", "must not be empty")
        object.__setattr__(self, "announced_at", utc_instant(self.announced_at, "announced_at"))

    def fields(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "effective_on": self.effective_on,
            "announced_at": self.announced_at,
            "provenance": self.provenance,
        }


class LedgerAggregate(Aggregate):
    """An aggregate whose events all carry Facts, with ids unique within the stream."""

    def __init__(self) -> None:
        self.event_types: dict[str, str] = {}
        """Type name of every event recorded so far, by event id (corrections look here)."""

    def _record(self, event_class: type[LedgerEvent], facts: Facts, **fields: Any) -> None:
        if facts.event_id in self.event_types:
            raise DuplicateEventId(self.id, facts.event_id)
        self.trigger_event(event_class, **facts.fields(), **fields)

    def has_event(self, event_id: str) -> bool:
        return event_id in self.event_types
