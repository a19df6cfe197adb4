"""Why a stored stream cannot be replayed: a row that does not decode, or a missing one.

The ledger asks only after replaying a stream has failed, so the normal path pays
nothing; the answer names the stream and the first damaged version, so that a write to a
damaged stream is refused by name (StreamUnreadable) and writes nothing.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, Mapper

from domain.errors import StreamUnreadable

__all__ = ["find_damage"]


def find_damage(
    recorder: AggregateRecorder, mapper: Mapper[UUID], stream_id: UUID, after: int = 0
) -> StreamUnreadable | None:
    """The first gap in the stream's versions after `after`, or its first event there
    that does not decode, if any."""
    expected = after + 1
    for stored in recorder.select_events(stream_id, gt=after or None):
        if stored.originator_version != expected:
            return StreamUnreadable(
                stream_id, expected, "is missing (a gap in the stream's versions)"
            )
        try:
            mapper.to_domain_event(stored)
        except Exception as error:
            cause = error.__cause__ or error
            return StreamUnreadable(
                stream_id, expected, f"does not decode ({type(cause).__name__})"
            )
        expected += 1
    return None
