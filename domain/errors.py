"""The errors of the domain, each naming the rule it enforces and the ids involved.

The API maps these to HTTP statuses in one table; the CLI prints their message on one
line. None of them is raised after anything was recorded.
"""

from __future__ import annotations

from uuid import UUID


class DomainError(Exception):
    """Base class: `rule` is a stable, machine-readable name for the rule that was broken."""

    rule: str = "domain_rule"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidValue(DomainError):
    """A field holds a value the domain cannot accept (a bad country code, a negative rate)."""

    rule = "invalid_value"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class StreamNotFound(DomainError):
    """No negotiation or measure has this id."""

    rule = "stream_not_found"

    def __init__(self, stream_id: UUID, kind: str = "stream", ref: str = "") -> None:
        named = (
            f"{ref!r} (id {stream_id})" if ref and ref != str(stream_id) else f"with id {stream_id}"
        )
        super().__init__(f"no {kind} {named}")
        self.stream_id = stream_id
        self.kind = kind
        self.ref = ref


class StreamUnreadable(DomainError):
    """A stream's stored events cannot be read back, so nothing can be decided on it: one
    of them does not decode, or a version is missing (a row deleted from the store). Not
    a rule the request broke: the record is damaged, and stays so until an operator
    repairs it, so a retry cannot help. Raised before anything is written."""

    rule = "stream_unreadable"

    def __init__(
        self, stream_id: UUID, version: int, reason: str, position: int | None = None
    ) -> None:
        at = f" (log position {position})" if position is not None else ""
        super().__init__(
            f"stream {stream_id} cannot be read: version {version}{at} {reason}; "
            "nothing was written"
        )
        self.stream_id = stream_id
        self.version = version
        self.reason = reason
        self.position = position


class StreamAlreadyExists(DomainError):
    """A create command named an id (or key) that is already taken."""

    rule = "stream_already_exists"

    def __init__(self, stream_id: UUID) -> None:
        super().__init__(f"a stream with id {stream_id} already exists")
        self.stream_id = stream_id


class WrongStreamKind(DomainError):
    """An event for a negotiation was sent to a measure, or the other way round."""

    rule = "wrong_stream_kind"

    def __init__(self, stream_id: UUID, expected: str) -> None:
        super().__init__(f"stream {stream_id} is not a {expected}")
        self.stream_id = stream_id
        self.expected = expected


class VersionConflict(DomainError):
    """Optimistic concurrency: the caller saw an older version of the stream."""

    rule = "version_conflict"

    def __init__(self, stream_id: UUID, expected_version: int, current_version: int) -> None:
        super().__init__(
            f"stream {stream_id} is at version {current_version}, not {expected_version}"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.current_version = current_version


class DuplicateEventId(DomainError):
    """Each event id is unique within its stream; dataset ids make loading idempotent."""

    rule = "duplicate_event_id"

    def __init__(self, stream_id: UUID, event_id: str) -> None:
        super().__init__(f"stream {stream_id} already has an event with id {event_id!r}")
        self.stream_id = stream_id
        self.event_id = event_id


class UnknownEventReference(DomainError):
    """An event refers to another event (to correct or extend it) that the stream lacks."""

    rule = "unknown_event_reference"

    def __init__(self, stream_id: UUID, event_id: str, expected: str) -> None:
        super().__init__(f"stream {stream_id} has no {expected} event with id {event_id!r}")
        self.stream_id = stream_id
        self.event_id = event_id


class UnknownEventType(DomainError):
    """The event type is not part of the public schema for this kind of stream."""

    rule = "unknown_event_type"

    def __init__(self, event_type: str, kind: str) -> None:
        super().__init__(f"{event_type!r} is not an event type of a {kind}")
        self.event_type = event_type


class InvalidTransition(DomainError):
    """A negotiation step that cannot follow the current state (a round after collapse)."""

    rule = "invalid_transition"

    def __init__(self, negotiation_id: UUID, event_type: str, status: str, why: str) -> None:
        super().__init__(
            f"negotiation {negotiation_id}: cannot record {event_type} while {status}: {why}"
        )
        self.negotiation_id = negotiation_id
        self.event_type = event_type
        self.status = status


class InvalidMeasureChange(DomainError):
    """A change to a tariff measure that contradicts the measure itself."""

    rule = "invalid_measure_change"

    def __init__(self, measure_id: UUID, event_type: str, why: str) -> None:
        super().__init__(f"measure {measure_id}: cannot record {event_type}: {why}")
        self.measure_id = measure_id
        self.event_type = event_type
