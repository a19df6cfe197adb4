"""The TariffMeasure aggregate: one stream per measure; a tariff schedule is a set of them.

The aggregate guards the consistency of its own stream (ids, references, ranges).
What rate applied on a given day, as known at a given moment, is not its concern:
that is a fold over the events on three time axes, done by the read side.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.errors import InvalidMeasureChange, UnknownEventReference
from domain.events import Facts, LedgerAggregate, LedgerEvent, type_name

MEASURE = "measure"
"""The kind of stream of a tariff measure, as stream ids, errors and the public schema name it."""


@dataclass(frozen=True)
class MeasureTerms:
    """The fields of a measure's `imposed` event, apart from the common facts and its key."""

    imposer: str
    name: str
    targets: tuple[str, ...]
    layer: str
    excluded_targets: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    rate_pct: Decimal | None = None
    rate_by_prefix: dict[str, Decimal] = field(default_factory=dict)
    hs_prefixes: tuple[str, ...] = ("",)
    excluded_hs_prefixes: tuple[str, ...] = ()

    def fields(self) -> dict[str, Any]:
        """The terms as the fields of the `imposed` event, by name."""
        return {term.name: getattr(self, term.name) for term in dataclasses.fields(self)}


class TariffMeasure(LedgerAggregate):
    """A tariff measure of one imposer on some origins, under one legal authority (layer).

    `targets` are origin countries, or "*" for every origin except `excluded_targets`.
    """

    class Event(LedgerEvent):
        def apply(self, aggregate: Any) -> None:
            aggregate.event_types[self.event_id] = type_name(type(self))

    class Imposed(Event, LedgerAggregate.Created):
        """The measure exists, with its initial rate and scope, from `effective_on`."""

        key: str
        imposer: str
        name: str
        targets: tuple[str, ...]
        excluded_targets: tuple[str, ...]
        layer: str
        instruments: tuple[str, ...]
        rate_pct: Decimal | None
        rate_by_prefix: dict[str, Decimal]
        hs_prefixes: tuple[str, ...]
        excluded_hs_prefixes: tuple[str, ...]

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.key = self.key
            aggregate.imposer = self.imposer
            aggregate.name = self.name
            aggregate.targets = tuple(self.targets)
            aggregate.excluded_targets = tuple(self.excluded_targets)
            aggregate.layer = self.layer
            aggregate.instruments = tuple(self.instruments)

    class RateChanged(Event):
        """The rate is replaced from `effective_on`: the general rate, or that of some prefixes.

        Version 2 added `hs_prefixes`; version 1 events always changed the general rate.
        """

        class_version = 2

        rate_pct: Decimal
        hs_prefixes: tuple[str, ...]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["hs_prefixes"] = []

    class ScopeChanged(Event):
        """Products enter or leave the measure's scope from `effective_on`."""

        added_hs_prefixes: tuple[str, ...]
        removed_hs_prefixes: tuple[str, ...]

    class ExclusionGranted(Event):
        """Products are excluded from this measure from `effective_on` (may be retroactive)."""

        hs_prefixes: tuple[str, ...]

    class ExclusionRevoked(Event):
        """Products excluded earlier are charged again from `effective_on`."""

        hs_prefixes: tuple[str, ...]

    class SuspensionGranted(Event):
        """`points` of the rate (all of it when None) are not charged from `effective_on`
        until the day before `ends_on`; on `ends_on` the rate snaps back by itself."""

        points: Decimal | None
        ends_on: date

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.suspension_starts[self.event_id] = self.occurred_on

    class SuspensionExtended(Event):
        """A suspension granted earlier now ends on `ends_on` instead."""

        suspension_event_id: str
        ends_on: date

    class Terminated(Event):
        """The measure is no longer charged from `effective_on`."""

    class PrecedenceDeclared(Event):
        """Where this measure applies, the listed measures and layers do not, from `effective_on`.

        `hs_prefixes` narrows the products concerned; empty means all this measure covers.
        """

        displaces_measure_ids: tuple[str, ...]
        displaces_layers: tuple[str, ...]
        hs_prefixes: tuple[str, ...]

    class LegalStatusChanged(Event):
        """A court or legislature changed the measure's standing (e.g. ruled unlawful).

        When `collection_stops`, the measure is not charged on entries from `effective_on`;
        what was assessed before stays on record.
        """

        status: str
        collection_stops: bool

    class RecordCorrected(Event):
        """An earlier event of this stream was recorded in error and must be disregarded.

        Corrections are ledger facts, not world facts: they apply by record time only,
        so `recorded_at` before the correction still shows the mistaken answer.
        """

        corrected_event_id: str
        reason: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.corrected.add(self.corrected_event_id)

    def __init__(self) -> None:
        super().__init__()
        self.key = ""
        self.imposer = ""
        self.name = ""
        self.targets: tuple[str, ...] = ()
        self.excluded_targets: tuple[str, ...] = ()
        self.layer = ""
        self.instruments: tuple[str, ...] = ()
        self.suspension_starts: dict[str, date] = {}
        self.corrected: set[str] = set()

    @classmethod
    def impose(
        cls, *, measure_id: UUID, facts: Facts, key: str, terms: MeasureTerms
    ) -> TariffMeasure:
        """Open the stream of a new measure."""
        if not terms.targets:
            raise InvalidMeasureChange(measure_id, "imposed", "a measure needs at least one target")
        if not terms.name.strip() or not terms.layer.strip():
            raise InvalidMeasureChange(measure_id, "imposed", "a measure needs a name and a layer")
        if terms.rate_pct is None and not terms.rate_by_prefix:
            raise InvalidMeasureChange(
                measure_id, "imposed", "give rate_pct, rate_by_prefix, or both"
            )
        return cls._create(cls.Imposed, id=measure_id, **facts.fields(), key=key, **terms.fields())

    def change_rate(self, facts: Facts, *, rate_pct: Decimal, hs_prefixes: tuple[str, ...]) -> None:
        self._record(self.RateChanged, facts, rate_pct=rate_pct, hs_prefixes=hs_prefixes)

    def change_scope(
        self,
        facts: Facts,
        *,
        added_hs_prefixes: tuple[str, ...],
        removed_hs_prefixes: tuple[str, ...],
    ) -> None:
        if not added_hs_prefixes and not removed_hs_prefixes:
            raise InvalidMeasureChange(self.id, "scope_changed", "nothing added or removed")
        self._record(
            self.ScopeChanged,
            facts,
            added_hs_prefixes=added_hs_prefixes,
            removed_hs_prefixes=removed_hs_prefixes,
        )

    def grant_exclusion(self, facts: Facts, *, hs_prefixes: tuple[str, ...]) -> None:
        self._require_prefixes("exclusion_granted", hs_prefixes)
        self._record(self.ExclusionGranted, facts, hs_prefixes=hs_prefixes)

    def revoke_exclusion(self, facts: Facts, *, hs_prefixes: tuple[str, ...]) -> None:
        self._require_prefixes("exclusion_revoked", hs_prefixes)
        self._record(self.ExclusionRevoked, facts, hs_prefixes=hs_prefixes)

    def grant_suspension(self, facts: Facts, *, points: Decimal | None, ends_on: date) -> None:
        starts_on = facts.effective_on or facts.announced_at.date()
        if ends_on <= starts_on:
            raise InvalidMeasureChange(
                self.id, "suspension_granted", f"ends_on {ends_on} is not after {starts_on}"
            )
        self._record(self.SuspensionGranted, facts, points=points, ends_on=ends_on)

    def extend_suspension(self, facts: Facts, *, suspension_event_id: str, ends_on: date) -> None:
        starts_on = self.suspension_starts.get(suspension_event_id)
        if starts_on is None or suspension_event_id in self.corrected:
            raise UnknownEventReference(self.id, suspension_event_id, "suspension_granted")
        if ends_on <= starts_on:
            raise InvalidMeasureChange(
                self.id, "suspension_extended", f"ends_on {ends_on} is not after {starts_on}"
            )
        self._record(
            self.SuspensionExtended, facts, suspension_event_id=suspension_event_id, ends_on=ends_on
        )

    def terminate(self, facts: Facts) -> None:
        self._record(self.Terminated, facts)

    def declare_precedence(
        self,
        facts: Facts,
        *,
        displaces_measure_ids: tuple[str, ...],
        displaces_layers: tuple[str, ...],
        hs_prefixes: tuple[str, ...],
    ) -> None:
        if not displaces_measure_ids and not displaces_layers:
            raise InvalidMeasureChange(
                self.id, "precedence_declared", "name the measures or layers displaced"
            )
        own_names = {self.id.hex, str(self.id), self.key} - {""}
        if own_names.intersection(displaces_measure_ids) or self.layer in displaces_layers:
            raise InvalidMeasureChange(
                self.id, "precedence_declared", "a measure cannot displace itself"
            )
        self._record(
            self.PrecedenceDeclared,
            facts,
            displaces_measure_ids=displaces_measure_ids,
            displaces_layers=displaces_layers,
            hs_prefixes=hs_prefixes,
        )

    def change_legal_status(self, facts: Facts, *, status: str, collection_stops: bool) -> None:
        if not status.strip():
            raise InvalidMeasureChange(self.id, "legal_status_changed", "status is empty")
        self._record(
            self.LegalStatusChanged, facts, status=status, collection_stops=collection_stops
        )

    def correct_record(self, facts: Facts, *, corrected_event_id: str, reason: str) -> None:
        corrected_type = self.event_types.get(corrected_event_id)
        if corrected_type is None:
            raise UnknownEventReference(self.id, corrected_event_id, "earlier")
        if corrected_event_id in self.corrected:
            raise InvalidMeasureChange(
                self.id, "record_corrected", f"event {corrected_event_id!r} is already corrected"
            )
        if corrected_type == "record_corrected":
            raise InvalidMeasureChange(
                self.id,
                "record_corrected",
                "a correction cannot be corrected; record the right event again instead",
            )
        if not reason.strip():
            raise InvalidMeasureChange(self.id, "record_corrected", "say why (reason)")
        self._record(
            self.RecordCorrected, facts, corrected_event_id=corrected_event_id, reason=reason
        )

    def _require_prefixes(self, event_type: str, hs_prefixes: tuple[str, ...]) -> None:
        if not hs_prefixes:
            raise InvalidMeasureChange(self.id, event_type, "list at least one HS prefix")
