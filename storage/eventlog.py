"""The global event log, read in commit order: the one reader shared by the HTTP API
(`GET /v1/events`, the SSE stream) and the CLI (`tradeledger events`).

Every event of every stream has a position in one log, issued by the store at insert.
Our recorders commit in position order (PostgreSQL appends under a table lock, SQLite
serialises writers, the in-memory store holds a lock), so once position p is visible,
every event that will ever have a position below p is visible too. A cursor is then
just the last position a reader has passed: reading "after the cursor" never skips an
event that commits later with a lower position, and never repeats one.

The log also holds the ledger's bookkeeping (idempotency keys, see domain.idempotency);
it has positions but is not a fact, so readers here skip it silently.

A stored event that does not decode (a damaged row) is never skipped silently and never
crashes a reader: a page ends before it, and reading from there raises UndecodableEvent
naming its position and stream (storage.undecodable); a reader goes past it by reading
after that position (`entries` can do so, telling a hook of each one).

What wakes a reader when the log grows is `storage.bell.LogBell`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from domain.errors import InvalidValue, UnknownEventType
from domain.events import LedgerEvent, type_name
from domain.ledger import MEASURE, NEGOTIATION, Ledger, stream_id_for_key
from domain.measure import TariffMeasure
from domain.negotiation import Negotiation
from domain.values import ALL_PRODUCTS
from storage import RecordTimeRecorder
from storage.undecodable import UndecodableEvent, UndecodableHook, decode

logger = logging.getLogger(__name__)

EventType = tuple[str, str]
"""(stream kind, public type name): ("measure", "rate_changed")."""


def _event_classes(aggregate: type[Any], base: type[LedgerEvent]) -> dict[str, type[LedgerEvent]]:
    return {
        type_name(value): value
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, base) and value is not base
    }


EVENT_CLASSES: Mapping[EventType, type[LedgerEvent]] = {
    **{
        (MEASURE, name): cls
        for name, cls in _event_classes(TariffMeasure, TariffMeasure.Event).items()
    },
    **{
        (NEGOTIATION, name): cls
        for name, cls in _event_classes(Negotiation, Negotiation.Event).items()
    },
}
"""Every event class of the ledger, by kind and public type name."""

TYPE_PREFIX = "tradeledger"
"""Full type names read `tradeledger.<kind>.<type>` (the CloudEvents `type`)."""


def full_type(kind: str, event_type: str) -> str:
    return f"{TYPE_PREFIX}.{kind}.{event_type}"


def parse_event_types(names: Iterable[str]) -> frozenset[EventType]:
    """The event types a filter names, each as `tradeledger.measure.rate_changed`,
    `measure.rate_changed` or `rate_changed` (the last matching either kind).

    Raises UnknownEventType for a name that matches nothing.
    """
    found: set[EventType] = set()
    for name in names:
        parts = name.strip().removeprefix(f"{TYPE_PREFIX}.").split(".")
        if len(parts) == 1:
            matches = {(kind, parts[0]) for kind in (MEASURE, NEGOTIATION)} & EVENT_CLASSES.keys()
        elif len(parts) == 2:
            matches = {(parts[0], parts[1])} & EVENT_CLASSES.keys()
        else:
            matches = set()
        if not matches:
            raise UnknownEventType(name, "measure or negotiation")
        found |= matches
    return frozenset(found)


@dataclass(frozen=True)
class LogFilter:
    """Which entries a reader wants: some event types (none = all), one stream (None = all)."""

    event_types: frozenset[EventType] = frozenset()
    stream_id: UUID | None = None

    @property
    def topics(self) -> tuple[str, ...]:
        """The stored topics of the wanted types, so that the store filters, not Python."""
        return tuple(sorted(get_topic(EVENT_CLASSES[t]) for t in self.event_types))

    def admits(self, entry: LogEntry) -> bool:
        if self.stream_id is not None and entry.stream_id != self.stream_id:
            return False
        return not self.event_types or (entry.kind, entry.type) in self.event_types


@dataclass(frozen=True)
class LogEntry:
    """One event of the log, with its place in it and the event's public fields in `data`.

    `data` holds the fields a client would send to record the event (eventschema),
    as Python values (dates, Decimals, tuples): presentation turns them into JSON.
    """

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
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def full_type(self) -> str:
        return full_type(self.kind, self.type)


@dataclass(frozen=True)
class LogPage:
    """A page of the log: entries in position order, where to go on, and how far it goes.

    `next_after` is the position to read after next time: the last position this read
    passed, which may be past the last entry (filtered-out events, bookkeeping) and up to
    `high_water`, the last position in the log when the page was read. A reader is caught
    up when `next_after == high_water`.
    """

    entries: tuple[LogEntry, ...]
    next_after: int
    high_water: int

    @property
    def caught_up(self) -> bool:
        return self.next_after >= self.high_water


_LIBRARY_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic"}
)
_COMMON_FIELDS = frozenset({"event_id", "effective_on", "announced_at", "provenance"})


def _public_prefix(prefix: str) -> str:
    # The domain stores "every product" as the empty prefix; clients write "*".
    return "*" if prefix == ALL_PRODUCTS else prefix


def _public_value(name: str, value: Any) -> Any:
    if name.endswith("hs_prefixes"):
        return [_public_prefix(prefix) for prefix in value]
    if name == "rate_by_prefix":
        return {_public_prefix(prefix): rate for prefix, rate in value.items()}
    return value


def public_fields(event: LedgerEvent) -> dict[str, Any]:
    """The event as the public schema writes it: type, common facts, own fields, provenance.

    Posting these fields back would record the same fact (the schema accepts every value
    in the form written here: HS prefixes as digits or "*", measure ids as hex UUIDs).
    """
    provenance = event.provenance
    own = {
        name: _public_value(name, value)
        for name, value in vars(event).items()
        if name not in _LIBRARY_FIELDS and name not in _COMMON_FIELDS
    }
    return {
        "type": type_name(type(event)),
        "event_id": event.event_id,
        "effective_on": event.effective_on,
        "announced_at": event.announced_at,
        **own,
        "sources": [
            {
                "citation": source.citation,
                "publisher": source.publisher,
                "reliability": source.reliability,
            }
            for source in provenance.sources
        ],
        "recorded_by": provenance.recorded_by,
        "note": provenance.note,
    }


class EventLog:
    """Reads the ledger's global log as public entries, page by page, in commit order."""

    def __init__(self, ledger: Ledger, page_size: int = 500, scan_limit: int = 5000) -> None:
        self.ledger = ledger
        self.page_size = page_size
        self.scan_limit = scan_limit
        """At most this many events are examined per `read`, so that a filter matching
        nothing cannot make one request scan the whole log (the cursor still advances)."""
        self._keys: dict[UUID, str] = {}

    def high_water(self) -> int:
        """The last position in the log (0 when it is empty)."""
        return self.ledger.recorder.max_notification_id() or 0

    def read(self, after: int = 0, limit: int = 100, where: LogFilter | None = None) -> LogPage:
        """Up to `limit` entries after position `after` that `where` admits.

        The high-water mark is read first and the page stops there, so a page describes
        one consistent prefix of the log; whatever commits meanwhile is for the next read.

        A page stops before an undecodable event that `where` may admit (one of another
        stream than the one asked for is passed over): a page with entries ends there,
        and a read that meets it first raises UndecodableEvent.
        """
        where = where or LogFilter()
        high_water = self.high_water()
        entries: list[LogEntry] = []
        position = after
        scanned = 0
        while len(entries) < limit and position < high_water and scanned < self.scan_limit:
            size = min(self.page_size, self.scan_limit - scanned)
            page = self._select(position, size, high_water, where.topics)
            for notification in page:
                try:
                    entry = self._entry(notification)
                except UndecodableEvent:
                    if not _may_admit(where, notification):
                        position = notification.id
                        continue
                    if entries:
                        return LogPage(tuple(entries), max(position, after), high_water)
                    raise
                position = notification.id
                if entry is not None and where.admits(entry):
                    entries.append(entry)
                    if len(entries) == limit:
                        break
            scanned += len(page)
            if len(page) < size and len(entries) < limit:
                # The store has nothing more (of these topics) up to the high-water mark.
                position = high_water
        return LogPage(tuple(entries), max(position, after), high_water)

    def entries(
        self,
        after: int = 0,
        where: LogFilter | None = None,
        limit: int | None = None,
        on_undecodable: UndecodableHook | None = None,
    ) -> Iterator[LogEntry]:
        """Every entry after `after` that `where` admits (up to `limit`), up to the end of
        the log as it is when each page is read.

        An undecodable event raises UndecodableEvent, unless `on_undecodable` is given:
        it is then told of the event, and the listing goes on after it.
        """
        listed = 0
        while limit is None or listed < limit:
            size = self.page_size if limit is None else min(self.page_size, limit - listed)
            try:
                page = self.read(after, size, where)
            except UndecodableEvent as error:
                if on_undecodable is None:
                    raise
                on_undecodable(error)
                after = error.position
                continue
            yield from page.entries
            listed += len(page.entries)
            if page.caught_up:
                return
            after = page.next_after

    def resolve_stream(self, ref: str) -> UUID:
        """The stream a filter names: a UUID, or the key of exactly one measure or negotiation.

        Raises InvalidValue (field "stream") when it names no stream, or two.
        """
        text = ref.strip()
        try:
            stream_id = UUID(text)
        except ValueError:
            key = text.lower()
            found = [
                stream_id_for_key(kind, key)
                for kind in (MEASURE, NEGOTIATION)
                if self._is_ledger_stream(stream_id_for_key(kind, key))
            ]
            if not found:
                raise InvalidValue(
                    "stream", f"no measure or negotiation has the key {key!r}"
                ) from None
            if len(found) > 1:
                raise InvalidValue(
                    "stream", f"{key!r} is the key of a measure and of a negotiation; give the UUID"
                ) from None
            return found[0]
        if not self._is_ledger_stream(stream_id):
            raise InvalidValue("stream", f"no stream has the id {stream_id}")
        return stream_id

    # -- internals -------------------------------------------------------------------

    def _select(
        self, after: int, limit: int, stop: int, topics: Sequence[str]
    ) -> Sequence[Notification]:
        recorder = self.ledger.recorder
        if isinstance(recorder, RecordTimeRecorder):
            return recorder.select_notifications_with_record_time(
                after, limit, stop, topics, inclusive_of_start=False
            )
        return recorder.select_notifications(after, limit, stop, topics, inclusive_of_start=False)

    def _entry(self, notification: Notification) -> LogEntry | None:
        event = decode(self.ledger.mapper, notification)
        if not isinstance(event, LedgerEvent):
            return None
        stream_id = UUID(str(notification.originator_id))
        kind = MEASURE if isinstance(event, TariffMeasure.Event) else NEGOTIATION
        return LogEntry(
            position=notification.id,
            stream_id=stream_id,
            kind=kind,
            key=self._key(stream_id, event),
            version=notification.originator_version,
            type=type_name(type(event)),
            event_id=event.event_id,
            effective_on=event.effective_on,
            announced_at=event.announced_at,
            recorded_at=getattr(notification, "recorded_at", None),
            data=public_fields(event),
        )

    def _key(self, stream_id: UUID, event: LedgerEvent) -> str:
        """The key the stream was created with (its first event holds it; keys never change)."""
        key = self._keys.get(stream_id)
        if key is None:
            if event.originator_version == 1:
                key = str(getattr(event, "key", ""))
            else:
                key = self._stored_key(stream_id)
            if len(self._keys) >= 10_000:
                self._keys.clear()
            self._keys[stream_id] = key
        return key

    def _stored_key(self, stream_id: UUID) -> str:
        """The key in the stream's first event; empty when that event does not decode
        (the log reports it at its own position: a later event stays readable)."""
        first = self.ledger.recorder.select_events(stream_id, lte=1)
        try:
            created = self.ledger.mapper.to_domain_event(first[0]) if first else None
        except Exception:
            logger.warning("stream %s: its first event does not decode; key unknown", stream_id)
            return ""
        return str(getattr(created, "key", ""))

    def _is_ledger_stream(self, stream_id: UUID) -> bool:
        first = self.ledger.recorder.select_events(stream_id, lte=1)
        if not first:
            return False
        try:
            return isinstance(self.ledger.mapper.to_domain_event(first[0]), LedgerEvent)
        except Exception:
            # Damaged, but a stream: reading it reports the damage by position.
            return True


def _may_admit(where: LogFilter, notification: Notification) -> bool:
    """Whether an event that does not decode could be one `where` admits: its stream is
    in the row (its type is not, but the store has already filtered by topic)."""
    return where.stream_id is None or str(notification.originator_id) == str(where.stream_id)
