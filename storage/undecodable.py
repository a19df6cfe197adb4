"""Stored events whose bytes do not decode: found, named, and never a bare crash.

Nothing the product writes is undecodable; a row becomes so when it is damaged outside
the product (a disk, a hand-made repair, a bad restore). Every reader of the log (the
HTTP feed, `tradeledger events`, the projector) decodes through `decode`, so such a row
is reported the same way everywhere: by its log position, its stream and version, and a
short reason, as an UndecodableEvent that callers can report and step past (the
position is the cursor to go on from). Detecting deliberate tampering is not this
module's job: a well-formed forged event decodes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, Notification

REASON_LIMIT = 160
"""Characters of the decoder's message kept in a reason (it may quote the bad bytes)."""


class UndecodableEvent(Exception):
    """The stored event at `position` (stream `stream_id`, version `version`) does not
    decode; `reason` says why in a few words."""

    def __init__(self, position: int, stream_id: UUID | str, version: int, reason: str) -> None:
        self.position = position
        self.stream_id = str(stream_id)
        self.version = version
        self.reason = reason
        self.message = (
            f"the event at log position {position} (stream {self.stream_id}, "
            f"version {version}) does not decode: {reason}"
        )
        super().__init__(self.message)


def reason_of(error: BaseException) -> str:
    """A one-line, bounded description of why decoding failed."""
    cause = error.__cause__ if error.__cause__ is not None else error
    text = re.sub(r"\s+", " ", str(cause)).strip()
    # The library's wrapper repeats the topic and ids the report already names.
    text = text.split(": ", 1)[-1] if text.startswith("Failed to deserialise") else text
    if len(text) > REASON_LIMIT:
        text = text[: REASON_LIMIT - 1] + "…"
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def decode(mapper: Mapper[Any], notification: Notification) -> Any:
    """The domain event `notification` holds; UndecodableEvent (naming its position,
    stream and version) if its topic or state cannot be turned back into one.

    Any exception of the mapper means the row is unreadable: the mapper reads no store,
    so nothing else can fail in it.
    """
    try:
        return mapper.to_domain_event(notification)
    except Exception as error:
        raise UndecodableEvent(
            notification.id,
            notification.originator_id,
            notification.originator_version,
            reason_of(error),
        ) from error


UndecodableHook = Callable[[UndecodableEvent], None]
"""Told of each undecodable event a reader stepped past (a metric, a log line)."""
