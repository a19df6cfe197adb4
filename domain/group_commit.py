"""One attempt at a group commit: the appends waiting for one stream, each decided on
the state the ones before it left (see domain.stream_queue for the line they waited in).

Nothing is read or saved here: the Ledger hands over the stream's state and saves what
was accepted, all in one transaction. What matters is that each append keeps its own
fate. An append that breaks a rule, names the wrong kind of stream or expects another
version is refused alone: its changes never reach the state the next append is decided
on, and the others are saved. (A verb checks before it records, so a refused single
change leaves the state as it was; an append of several changes refused after the first
has left some behind, *spoiling* the state: the attempt then stops there, the appends
before it are saved without it, and the ones after it wait for a clean state.)

A refusal is final only when the state it was decided on is the store's. A kept state
(domain.stream_cache) may be behind the store; its refusals are confirmed by the save
of the appends accepted beside them (the store took the next version, so it held no
other), or, when none were, by reading the events after the kept version. A batch
holding an append that expects a version brings a kept state up to the store's first,
by the same read: a conflict costs the events after the kept version, never a reload
of the whole stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import Recording

from domain.commands import RecordedEvent, Written
from domain.errors import DomainError, StreamNotFound, VersionConflict, WrongStreamKind
from domain.events import LedgerAggregate
from domain.idempotency import IdempotencyClaim
from domain.receipts import Receipts
from domain.stream_queue import Ticket


@dataclass(frozen=True)
class StreamAppend:
    """One request's changes to one stream (Ledger.append_to_stream)."""

    stream_id: UUID
    kind: str
    cls: type[LedgerAggregate]
    apply: Callable[[Any], None]
    """Applies the changes to the stream, in order (raising the first DomainError)."""
    expected_version: int | None
    claim: IdempotencyClaim | None


AppendTicket = Ticket[StreamAppend, Written]


@dataclass(frozen=True)
class _Accepted:
    ticket: AppendTicket
    loaded_version: int
    version: int


class GroupAttempt:
    """Decides `tickets` in order on `state` (None: the stream does not exist), which is
    the store's when `current`, else a kept state to be confirmed. `catch_up` brings an
    unchanged state up to the store's, saying whether the store was ahead."""

    def __init__(
        self,
        state: LedgerAggregate | None,
        current: bool,
        catch_up: Callable[[LedgerAggregate], bool],
        log_position_before: int,
    ) -> None:
        self.state = state
        self.current = current
        self._catch_up = catch_up
        self._log_position_before = log_position_before
        self.accepted: list[_Accepted] = []
        self.refused: list[tuple[AppendTicket, DomainError]] = []
        self.records: list[Aggregate] = []
        """The idempotency records of the accepted appends, to save with their events."""
        self.left: list[AppendTicket] = []
        """Appends not decided: those after a spoiling refusal, and a second append under
        an idempotency key already claimed in this batch (its twin answers it next time)."""
        self.spoiled = False
        self._events_accepted = 0

    def decide(self, tickets: Sequence[AppendTicket]) -> None:
        """Decide `tickets` in order (see the attributes for where each ends up)."""
        expecting = any(ticket.job.expected_version is not None for ticket in tickets)
        if expecting and not self.current and self.state is not None:
            # A version a client names is checked against the store's, not the kept one.
            self._catch_up(self.state)
            self.current = True
        claimed: set[UUID] = set()
        for index, ticket in enumerate(tickets):
            append = ticket.job
            if append.claim is not None and append.claim.record_id in claimed:
                self.left.append(ticket)
                continue
            try:
                loaded = self._decide(append)
            except DomainError as error:
                self.refused.append((ticket, error))
                if self.spoiled:
                    self.left.extend(tickets[index + 1 :])
                    return
                continue
            state = self.state
            assert state is not None
            self.accepted.append(_Accepted(ticket, loaded, state.version))
            self._events_accepted = len(state.pending_events)
            if append.claim is not None:
                claimed.add(append.claim.record_id)
                self.records += Receipts.claimed(
                    append.claim, state, append.kind, loaded, self._log_position_before
                )

    def _decide(self, append: StreamAppend) -> int:
        """Apply `append` to the state; return the version it was applied at."""
        state = self.state
        if state is None:
            raise StreamNotFound(append.stream_id, append.kind)
        if not isinstance(state, append.cls):
            raise WrongStreamKind(append.stream_id, append.kind)
        expected = append.expected_version
        if expected is not None and expected != state.version:
            raise VersionConflict(append.stream_id, expected, state.version)
        loaded = state.version
        try:
            append.apply(state)
        except DomainError:
            self.spoiled = state.version != loaded
            raise
        return loaded

    @property
    def to_save(self) -> list[CanMutateAggregate[UUID]]:
        """The events of the accepted appends."""
        if self.state is None:
            return []
        return self.state.pending_events[: self._events_accepted]

    def answer(self, recordings: Sequence[Recording[UUID]]) -> None:
        """Answer every decided append, now that the accepted ones were saved as
        `recordings` and every refusal is known to have been decided on the store's state."""
        state = self.state
        recorded = {
            r.domain_event.originator_version: r
            for r in recordings
            if state is not None and r.domain_event.originator_id == state.id
        }
        for accepted in self.accepted:
            assert state is not None
            accepted.ticket.settle(_written(state, accepted, recorded))
        for ticket, error in self.refused:
            if isinstance(error, VersionConflict):
                error = VersionConflict(error.stream_id, error.expected_version, self.version)
            ticket.fail(error)

    @property
    def version(self) -> int:
        """The stream's version once the accepted appends are saved."""
        if self.accepted:
            return self.accepted[-1].version
        if self.state is None:
            return 0
        return self.state.version - len(self.state.pending_events)


def _written(
    state: LedgerAggregate, accepted: _Accepted, recorded: dict[int, Recording[UUID]]
) -> Written:
    """What one append of the batch recorded: its own events, versions and positions."""
    versions = range(accepted.loaded_version + 1, accepted.version + 1)
    return Written(
        kind=accepted.ticket.job.kind,
        stream_id=state.id,
        key=str(getattr(state, "key", "")),
        version=accepted.version,
        created=False,
        events=tuple(
            RecordedEvent(
                str(getattr(recorded[v].domain_event, "event_id", "")),
                v,
                recorded[v].notification.id,
            )
            for v in versions
        ),
    )
