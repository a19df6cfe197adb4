"""Idempotency keys: a retried write returns the first result and records nothing new.

A client that sends a write with an `Idempotency-Key` and loses the answer (a timeout, a
dropped connection, a crash of either side) must be able to send it again without
appending the events twice. So the key is stored IN THE STORE, as a stream of its own
holding one event, and the Ledger saves that event in the same `save()` call, hence the
same transaction, as the events the request appended. There is no moment at which the
events exist without the key or the key without the events: after a crash there are
both or neither, and a retry either finds the key or starts afresh.

Two requests racing with one key both try to write version 1 of the key's stream; the
store's unique (id, version) constraint lets exactly one commit, and the loser answers
with the winner's result. A key reused for a different request (another body, path or
expected version) is refused rather than silently answered with an unrelated result.

The record is bookkeeping, not a fact about tariffs or negotiations: it is not a
`LedgerEvent`, and every reader of the log (projections, the event log) skips it.
Keys never expire: the store keeps them as long as the events they protect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import DomainError, InvalidValue
from domain.events import LedgerAggregate

IDEMPOTENCY_NAMESPACE = uuid5(NAMESPACE_URL, "https://tradeledger.example/idempotency-keys")

MAX_KEY_LENGTH = 255


def idempotency_record_id(key: str) -> UUID:
    """The id of the record of `key`: the same key always names the same record."""
    return uuid5(IDEMPOTENCY_NAMESPACE, key)


def check_key(key: str) -> str:
    """A key as clients send it: 1 to 255 visible ASCII characters (no spaces)."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all("!" <= c <= "~" for c in key):
        raise InvalidValue(
            "Idempotency-Key",
            f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters, without spaces",
        )
    return key


@dataclass(frozen=True)
class IdempotencyClaim:
    """A request's claim on a key: the key and a digest of everything the request asked."""

    key: str
    request_digest: str

    def __post_init__(self) -> None:
        check_key(self.key)

    @property
    def record_id(self) -> UUID:
        return idempotency_record_id(self.key)


class IdempotencyKeyReused(DomainError):
    """The key was first used for a different request; its result cannot answer this one."""

    rule = "idempotency_key_reused"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"the Idempotency-Key {key!r} was already used for a different request "
            "(another body, path or expected version); use a new key"
        )
        self.key = key


class IdempotencyRecord(Aggregate):
    """What the first request with a key did: enough to answer its retries identically.

    `log_position_before` is a log position read before the events were saved: every
    event of the write lies after it, so a retry can find their positions by reading
    a short stretch of the log instead of scanning all of it.
    """

    class Recorded(Aggregate.Created):
        """A write was made under `key` (its only event; a record never changes)."""

        key: str
        request_digest: str
        kind: str
        stream_id: UUID
        created: bool
        versions: tuple[int, ...]
        event_ids: tuple[str, ...]
        log_position_before: int

        def apply(self, aggregate: Any) -> None:
            aggregate.write = self

    def __init__(self) -> None:
        self.write: IdempotencyRecord.Recorded
        """The record's only event (Recorded.apply sets it): what the write under the key
        recorded, and where."""

    @classmethod
    def record(
        cls,
        claim: IdempotencyClaim,
        written: LedgerAggregate,
        kind: str,
        loaded_version: int,
        log_position_before: int,
    ) -> IdempotencyRecord:
        """The record of a write made under `claim`, to be saved with the write's events:
        those `written` holds pending on top of its `loaded_version` (any pending below it
        are another write's, saved in the same transaction: see domain.group_commit)."""
        pending = [e for e in written.pending_events if e.originator_version > loaded_version]
        return cls._create(
            cls.Recorded,
            id=claim.record_id,
            key=claim.key,
            request_digest=claim.request_digest,
            kind=kind,
            stream_id=written.id,
            created=loaded_version == 0,
            versions=tuple(range(loaded_version + 1, written.version + 1)),
            event_ids=tuple(str(getattr(event, "event_id", "")) for event in pending),
            log_position_before=log_position_before,
        )

    def answers(self, claim: IdempotencyClaim) -> bool:
        """Whether this record is of the same request as `claim` (else the key was reused)."""
        return self.write.request_digest == claim.request_digest
