"""The streams this process last wrote, kept so that its next write to one needs no read.

Loading a stream before appending to it costs a round trip to the store and the
decoding of every event of the stream; for a single-event append that is more than
the insert itself. The Ledger keeps, for the streams it wrote last, the aggregate as
it stood after its last successful save, and appends to that.

This is safe with other processes (or other Ledger objects) writing the same streams
because the store refuses a second event at a version it already holds: if another
writer moved the stream on, the append built on the kept aggregate conflicts, and the
Ledger reloads the stream from the store and decides again. So the cache may be
behind the store, but never ahead of it and never wrong about what it holds: only
committed states go in, and a stream's versions only grow.

A kept aggregate is *taken out* while a write uses it, and put back only when that
write has committed. A failed write (a domain error, a conflict, anything) therefore
never leaves a half-changed aggregate behind, without copying it first; and two
threads of one process never share one aggregate (the second finds nothing and reads
the store).
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from uuid import UUID

from domain.events import LedgerAggregate

DEFAULT_MAXSIZE = 1000
"""Streams kept by default: the working set of a writer, not the whole ledger."""


class StreamCache:
    """The committed state of the `maxsize` streams written last (none when `maxsize` <= 0)."""

    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        self.maxsize = maxsize
        self._streams: OrderedDict[UUID, LedgerAggregate] = OrderedDict()
        self._lock = Lock()

    def take(self, stream_id: UUID) -> LedgerAggregate | None:
        """Remove and return the kept state of a stream (None when it is not kept)."""
        with self._lock:
            return self._streams.pop(stream_id, None)

    def keep(self, aggregate: LedgerAggregate) -> None:
        """Keep `aggregate`, which must be as a save has just committed it.

        A state older than the one kept is ignored: two threads may finish writes to one
        stream in either order, and the later version is the more useful one to keep.
        """
        if self.maxsize <= 0:
            return
        with self._lock:
            kept = self._streams.get(aggregate.id)
            if kept is not None and kept.version > aggregate.version:
                self._streams.move_to_end(aggregate.id)
                return
            self._streams[aggregate.id] = aggregate
            self._streams.move_to_end(aggregate.id)
            while len(self._streams) > self.maxsize:
                self._streams.popitem(last=False)

    def forget(self, stream_id: UUID) -> None:
        """Drop the kept state of a stream, if any."""
        with self._lock:
            self._streams.pop(stream_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._streams)

    def __contains__(self, stream_id: object) -> bool:
        with self._lock:
            return stream_id in self._streams
