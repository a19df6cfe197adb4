"""The changes a client may append to a measure: one typed command per public event type.

A change is a call to one of `TariffMeasure`'s verbs, held until the Ledger has loaded
the measure: the common facts of the event, and the verb's own arguments, typed as the
verb types them. `MEASURE_CHANGES` names each by the public type of the event it
records ("rate_changed"), as clients and dataset files name it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar

from domain.events import Facts, type_name
from domain.measure import TariffMeasure


@dataclass(frozen=True)
class MeasureChange(ABC):
    """A change to append to a measure: the facts of its event, and the verb to call."""

    facts: Facts

    event: ClassVar[type[TariffMeasure.Event]]
    """The event the change records."""

    @property
    def event_type(self) -> str:
        """The public name of the event the change records ("rate_changed")."""
        return type_name(self.event)

    @abstractmethod
    def apply_to(self, measure: TariffMeasure) -> None:
        """Call the verb on `measure`: it checks its rules, then records the event."""


@dataclass(frozen=True, kw_only=True)
class ChangeRate(MeasureChange):
    event = TariffMeasure.RateChanged
    rate_pct: Decimal
    hs_prefixes: tuple[str, ...]

    def apply_to(self, measure: TariffMeasure) -> None:
        measure.change_rate(self.facts, rate_pct=self.rate_pct, hs_prefixes=self.hs_prefixes)


@dataclass(frozen=True, kw_only=True)
class ChangeScope(MeasureChange):
    event = TariffMeasure.ScopeChanged
    added_hs_prefixes: tuple[str, ...]
    removed_hs_prefixes: tuple[str, ...]

    def apply_to(self, measure: TariffMeasure) -> None:
        measure.change_scope(
            self.facts,
            added_hs_prefixes=self.added_hs_prefixes,
            removed_hs_prefixes=self.removed_hs_prefixes,
        )


@dataclass(frozen=True, kw_only=True)
class GrantExclusion(MeasureChange):
    event = TariffMeasure.ExclusionGranted
    hs_prefixes: tuple[str, ...]

    def apply_to(self, measure: TariffMeasure) -> None:
        measure.grant_exclusion(self.facts, hs_prefixes=self.hs_prefixes)


@dataclass(frozen=True, kw_only=True)
class RevokeExclusion(MeasureChange):
    event = TariffMeasure.ExclusionRevoked
    hs_prefixes: tuple[str, ...]

    def apply_to(self, measure: TariffMeasure) -> None:
        measure.revoke_exclusion(self.facts, hs_prefixes=self.hs_prefixes)


@dataclass(frozen=True, kw_only=True)
class GrantSuspension(MeasureChange):
    event = TariffMeasure.SuspensionGranted
    points: Decimal | None
    ends_on: date

    def apply_to(self, measure: TariffMeasure) -> None:
        measure.grant_suspension(self.facts, points=self.points, ends_on=self.ends_on)


@dataclass(frozen=True, kw_only=True)
class ExtendSuspension(MeasureChange):
    event = TariffMeasure.SuspensionExtended
    suspension_event_id: str
    ends_on: date

    def apply_to(self, measure: TariffMeasure) -> None:
        measure.extend_suspension(
            self.facts, suspension_event_id=self.suspension_event_id, ends_on=self.ends_on
        )


@dataclass(frozen=True, kw_only=True)
class TerminateMeasure(MeasureChange):
    event = TariffMeasure.Terminated

    def apply_to(self, measure: TariffMeasure) -> None:
        measure.terminate(self.facts)


@dataclass(frozen=True, kw_only=True)
class DeclarePrecedence(MeasureChange):
    event = TariffMeasure.PrecedenceDeclared
    displaces_measure_ids: tuple[str, ...]
    displaces_layers: tuple[str, ...]
    hs_prefixes: tuple[str, ...]

    def apply_to(self, measure: TariffMeasure) -> None:
        measure.declare_precedence(
            self.facts,
            displaces_measure_ids=self.displaces_measure_ids,
            displaces_layers=self.displaces_layers,
            hs_prefixes=self.hs_prefixes,
        )


@dataclass(frozen=True, kw_only=True)
class ChangeLegalStatus(MeasureChange):
    event = TariffMeasure.LegalStatusChanged
    status: str
    collection_stops: bool

    def apply_to(self, measure: TariffMeasure) -> None:
        measure.change_legal_status(
            self.facts, status=self.status, collection_stops=self.collection_stops
        )


@dataclass(frozen=True, kw_only=True)
class CorrectMeasureRecord(MeasureChange):
    event = TariffMeasure.RecordCorrected
    corrected_event_id: str
    reason: str

    def apply_to(self, measure: TariffMeasure) -> None:
        measure.correct_record(
            self.facts, corrected_event_id=self.corrected_event_id, reason=self.reason
        )


MEASURE_CHANGES: Mapping[str, type[MeasureChange]] = {
    type_name(change.event): change
    for change in (
        ChangeRate,
        ChangeScope,
        GrantExclusion,
        RevokeExclusion,
        GrantSuspension,
        ExtendSuspension,
        TerminateMeasure,
        DeclarePrecedence,
        ChangeLegalStatus,
        CorrectMeasureRecord,
    )
}
"""Every change a client may append to a measure, by the public type of its event."""
