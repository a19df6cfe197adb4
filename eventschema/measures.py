"""The events of a tariff measure's stream, one model per event type.

`MeasureImposed` creates a measure; every other model is a change appended to one
(`MeasureChangeIn`). `eventschema.unions.MeasureEvent` is any of them, told apart by `type`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import Field, field_validator, model_validator

from domain.commands import ImposeMeasure, MeasureTerms
from domain.ledger import MEASURE
from domain.values import echo, hs_prefix
from eventschema import facts
from eventschema.streams import Key, MeasureRef, id_of_new_stream
from eventschema.values import (
    HS_PREFIX_PATTERN,
    Country,
    EventId,
    HsPrefix,
    Identifier,
    IsoDate,
    NonBlank,
    Rate,
    Target,
    invalid,
    with_domain_check,
)


class MeasureImposed(facts.MeasureEventIn):
    """A measure comes into existence with its initial rate and scope."""

    model_config = facts.one_or_both_config(("rate_pct", "value"), ("rate_by_prefix", "object"))

    type: Literal["imposed"] = Field(description="The measure is imposed.")
    key: Key | None = facts.stream_key("measure", "us-cn-fentanyl")
    imposer: Country = Field(description="The country imposing the measure.")
    name: NonBlank = Field(description="A readable name.", examples=["Section 232 steel"])
    targets: list[Target] = Field(
        min_length=1, description='Origins charged: country codes, or ["*"] for every origin.'
    )
    excluded_targets: list[Country] = Field(
        default_factory=list,
        description='Origins not charged when targets is ["*"] (e.g. CA and MX).',
        examples=[["CA", "MX"]],
    )
    layer: Identifier = Field(
        description=(
            "The legal authority, used by precedence rules and stacking "
            "(e.g. ieepa_reciprocal, section_232_steel, section_301)."
        ),
        examples=["ieepa_reciprocal"],
    )
    instruments: list[NonBlank] = Field(
        default_factory=list,
        description="Legal instruments (executive orders, notices, HTS chapter 99 lines).",
        examples=[["EO 14257", "9903.01.25"]],
    )
    rate_pct: Rate | None = Field(
        default=None, description="The general rate; null when only rate_by_prefix applies."
    )
    rate_by_prefix: dict[str, Rate] = Field(
        default_factory=dict,
        description="Rates for some HS prefixes, overriding rate_pct on those products.",
        examples=[{"8703.80": 100, "8703.23": 25}],
        json_schema_extra={"propertyNames": {"pattern": HS_PREFIX_PATTERN}},
    )
    hs_prefixes: list[HsPrefix] = Field(
        default_factory=lambda: [""],
        description='Products covered; ["*"] (the default) for every product of the targets.',
        examples=[["*"], ["7206", "7207"]],
    )
    excluded_hs_prefixes: list[HsPrefix] = Field(
        default_factory=list,
        description="Products excluded from the start.",
        examples=[["9503.00.00", "8517.13"]],
    )

    @field_validator("rate_by_prefix")
    @classmethod
    def _normalise_prefixes(cls, rates: dict[str, Decimal]) -> dict[str, Decimal]:
        normalised: dict[str, Decimal] = {}
        check = with_domain_check(hs_prefix)
        for prefix, rate in rates.items():
            digits = check(prefix)
            if digits in normalised:
                raise invalid(f"{echo(prefix)} repeats another prefix of rate_by_prefix")
            normalised[digits] = rate
        return normalised

    @model_validator(mode="after")
    def _has_a_rate(self) -> MeasureImposed:
        return facts.one_or_both(self, "rate_pct", "rate_by_prefix")

    def to_terms(self) -> MeasureTerms:
        """The measure's own fields, apart from the common facts and the key."""
        return MeasureTerms(
            imposer=self.imposer,
            name=self.name,
            targets=tuple(self.targets),
            excluded_targets=tuple(self.excluded_targets),
            layer=self.layer,
            instruments=tuple(self.instruments),
            rate_pct=self.rate_pct,
            rate_by_prefix=dict(self.rate_by_prefix),
            hs_prefixes=tuple(self.hs_prefixes),
            excluded_hs_prefixes=tuple(self.excluded_hs_prefixes),
        )

    def to_command(self, measure_id: UUID | None = None) -> ImposeMeasure:
        """The command creating this measure: its id is given, or derived from the key,
        or (no key) a fresh UUID."""
        key = self.key or ""
        measure_id = id_of_new_stream(MEASURE, key, measure_id)
        return ImposeMeasure(measure_id, key, self.to_facts(), self.to_terms())


class MeasureRateChanged(facts.MeasureChangeIn):
    """The rate is replaced from effective_on: the general rate, or that of some prefixes."""

    type: Literal["rate_changed"] = Field(description="The rate changes.")
    rate_pct: Rate = Field(description="The new rate, replacing the old one (not added to it).")
    hs_prefixes: list[HsPrefix] = Field(
        default_factory=list,
        description="Products whose rate changes; empty (the default) for the general rate.",
        examples=[[], ["8703.80"]],
    )


class MeasureScopeChanged(facts.MeasureChangeIn):
    """Products enter or leave the measure's scope from effective_on."""

    model_config = facts.one_or_both_config(
        ("added_hs_prefixes", "array"), ("removed_hs_prefixes", "array")
    )

    type: Literal["scope_changed"] = Field(description="The products covered change.")
    added_hs_prefixes: list[HsPrefix] = Field(
        default_factory=list, description="Products that enter the scope."
    )
    removed_hs_prefixes: list[HsPrefix] = Field(
        default_factory=list, description="Products that leave the scope."
    )

    @model_validator(mode="after")
    def _changes_something(self) -> MeasureScopeChanged:
        return facts.one_or_both(self, "added_hs_prefixes", "removed_hs_prefixes")


class MeasureExclusionGranted(facts.MeasureChangeIn):
    """Products are excluded from this measure from effective_on (possibly retroactive)."""

    type: Literal["exclusion_granted"] = Field(description="Products are excluded.")
    hs_prefixes: list[HsPrefix] = Field(min_length=1, description="The products excluded.")


class MeasureExclusionRevoked(facts.MeasureChangeIn):
    """Products excluded earlier are charged again from effective_on."""

    type: Literal["exclusion_revoked"] = Field(description="An exclusion ends.")
    hs_prefixes: list[HsPrefix] = Field(min_length=1, description="The products charged again.")


class MeasureSuspensionGranted(facts.MeasureChangeIn):
    """Part or all of the rate is not charged from effective_on until ends_on."""

    type: Literal["suspension_granted"] = Field(description="The rate is suspended.")
    points: Rate | None = Field(
        default=None,
        description="Percentage points not charged; null (the default) suspends all of it.",
        examples=["24"],
    )
    ends_on: IsoDate = Field(
        description="The day the rate snaps back by itself (the suspension ends the day before)."
    )


class MeasureSuspensionExtended(facts.MeasureChangeIn):
    """A suspension granted earlier now ends on ends_on instead."""

    type: Literal["suspension_extended"] = Field(description="A suspension is extended.")
    suspension_event_id: EventId = Field(
        description="The event_id of the suspension_granted event extended.",
        examples=["US-CN-GENEVA"],
    )
    ends_on: IsoDate = Field(description="The new day the rate snaps back.")


class MeasureTerminated(facts.MeasureChangeIn):
    """The measure is no longer charged from effective_on."""

    type: Literal["terminated"] = Field(description="The measure ends.")


class MeasurePrecedenceDeclared(facts.MeasureChangeIn):
    """Where this measure applies, the listed measures and layers do not."""

    model_config = facts.one_or_both_config(
        ("displaces_measure_ids", "array"), ("displaces_layers", "array")
    )

    type: Literal["precedence_declared"] = Field(description="This measure displaces others.")
    displaces_measure_ids: list[MeasureRef] = Field(
        default_factory=list,
        description="Measures not charged where this one applies (by key or UUID).",
    )
    displaces_layers: list[Identifier] = Field(
        default_factory=list,
        description="Whole layers not charged where this one applies.",
        examples=[["ieepa_reciprocal"]],
    )
    hs_prefixes: list[HsPrefix] = Field(
        default_factory=list,
        description="Products concerned; empty (the default) for all this measure covers.",
    )

    @model_validator(mode="after")
    def _displaces_something(self) -> MeasurePrecedenceDeclared:
        return facts.one_or_both(self, "displaces_measure_ids", "displaces_layers")


class MeasureLegalStatusChanged(facts.MeasureChangeIn):
    """A court or legislature changed the measure's standing."""

    type: Literal["legal_status_changed"] = Field(description="The legal standing changes.")
    status: Identifier = Field(
        description="The new standing, as a short slug.", examples=["ruled_unlawful", "stayed"]
    )
    collection_stops: bool = Field(
        description=(
            "Whether the measure stops being charged on entries from effective_on "
            "(what was assessed before stays on record)."
        )
    )


class MeasureRecordCorrected(facts.RecordCorrectedIn, facts.MeasureChangeIn):
    """An earlier event of this stream was recorded in error and must be disregarded."""


MEASURE_CHANGE_MODELS: tuple[type[facts.MeasureChangeIn], ...] = (
    MeasureRateChanged,
    MeasureScopeChanged,
    MeasureExclusionGranted,
    MeasureExclusionRevoked,
    MeasureSuspensionGranted,
    MeasureSuspensionExtended,
    MeasureTerminated,
    MeasurePrecedenceDeclared,
    MeasureLegalStatusChanged,
    MeasureRecordCorrected,
)

MEASURE_EVENT_MODELS: tuple[type[facts.MeasureEventIn], ...] = (
    MeasureImposed,
    *MEASURE_CHANGE_MODELS,
)
