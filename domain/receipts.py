"""What a write to one stream reports (`Written`): the first time, and on every retry.

The first time, from what the save recorded. A write made under an idempotency claim
also saves the key's record (see domain.idempotency) in the same transaction as its
events; a retry of the same request is then answered from that record instead of
being written again: the same events, versions and log positions, marked `replayed`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, Mapper, Recording

from domain.commands import RecordedEvent, Written
from domain.errors import DomainError
from domain.events import LedgerAggregate
from domain.idempotency import IdempotencyClaim, IdempotencyKeyReused, IdempotencyRecord


class Receipts:
    """The Ledger's reports of its writes, read back from its store for a retry."""

    def __init__(
        self, repository: Repository[UUID], recorder: ApplicationRecorder, mapper: Mapper[UUID]
    ) -> None:
        self._repository = repository
        self._recorder = recorder
        self._mapper = mapper

    @staticmethod
    def written(
        recordings: Sequence[Recording[UUID]],
        aggregate: LedgerAggregate,
        kind: str,
        created: bool,
    ) -> Written:
        """What a save of `aggregate` recorded."""
        events = tuple(
            RecordedEvent(
                str(getattr(r.domain_event, "event_id", "")),
                r.domain_event.originator_version,
                r.notification.id,
            )
            for r in recordings
            if r.domain_event.originator_id == aggregate.id
        )
        return Written(
            kind=kind,
            stream_id=aggregate.id,
            key=str(getattr(aggregate, "key", "")),
            version=aggregate.version,
            created=created,
            events=events,
        )

    @staticmethod
    def claimed(
        claim: IdempotencyClaim | None,
        aggregate: LedgerAggregate,
        kind: str,
        loaded_version: int,
        log_position_before: int,
    ) -> list[Aggregate]:
        """The key's record, to save with the aggregate's pending events (none without a
        claim). `log_position_before` is a log position read before the save."""
        if claim is None:
            return []
        return [
            IdempotencyRecord.record(claim, aggregate, kind, loaded_version, log_position_before)
        ]

    def idempotently(self, claim: IdempotencyClaim | None, write: Callable[[], Written]) -> Written:
        """Run `write` unless the claim's key already holds a result; return that result then.

        The key is checked again when the write fails: a concurrent request with the same
        key may have committed meanwhile, which this write then meets as a conflict (the
        key's record, the stream's version, an event id) rather than as its own success.
        """
        if claim is None:
            return write()
        replay = self.replay(claim)
        if replay is not None:
            return replay
        try:
            return write()
        except DomainError:
            replay = self.replay(claim)
            if replay is not None:
                return replay
            raise

    def replay(self, claim: IdempotencyClaim) -> Written | None:
        """The first result of the write made under the claim's key, if there was one;
        IdempotencyKeyReused when the key was used for another request."""
        try:
            record: object = self._repository.get(claim.record_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(record, IdempotencyRecord) or not record.answers(claim):
            raise IdempotencyKeyReused(claim.key)
        write = record.write
        positions = self._positions(write.stream_id, write.versions, write.log_position_before)
        return Written(
            kind=write.kind,
            stream_id=write.stream_id,
            key=self._stream_key(write.stream_id),
            version=max(write.versions),
            created=write.created,
            events=tuple(
                RecordedEvent(event_id, version, positions[version])
                for event_id, version in zip(write.event_ids, write.versions, strict=True)
            ),
            replayed=True,
        )

    def _positions(self, stream_id: UUID, versions: Sequence[int], after: int) -> dict[int, int]:
        """The log positions of some versions of a stream, all recorded after `after`."""
        wanted = set(versions)
        found: dict[int, int] = {}
        position = after
        while wanted - found.keys():
            page = self._recorder.select_notifications(position, 500, inclusive_of_start=False)
            if not page:
                break
            for notification in page:
                if (
                    notification.originator_id == stream_id
                    and notification.originator_version in wanted
                ):
                    found[notification.originator_version] = notification.id
            position = page[-1].id
        if wanted - found.keys():  # pragma: no cover - the record and events commit together
            raise RuntimeError(f"events of stream {stream_id} missing from the log")
        return found

    def _stream_key(self, stream_id: UUID) -> str:
        first = self._recorder.select_events(stream_id, lte=1)
        created = self._mapper.to_domain_event(first[0]) if first else None
        return str(getattr(created, "key", ""))
