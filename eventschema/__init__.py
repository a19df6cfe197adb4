"""The public event schema: what clients write, in HTTP bodies and in dataset files.

Pydantic lives here, at the edge, and nowhere in the domain. Each model is one event
type of the public schema, discriminated on `type` (the snake_case names the domain
uses). A model validates and normalises what a client sent (country codes upper-cased,
HS prefixes as digit strings, rates as exact Decimals, instants in UTC), then produces
the domain's own objects: `Facts`, `MeasureTerms`, `Change`, or a batch item for
`Ledger.append_batch`. The domain checks its rules again; the models exist so that a
bad file is rejected, naming line and field, before anything is written.

A dataset file (JSON Lines) holds one `DatasetLine` per line: an event plus exactly
one of `"measure"` or `"negotiation"` naming its stream by key or UUID. The JSON Schema
of a line is checked in as `eventschema/events.schema.json` (see `write_json_schema`).

Every model carries an example for the API documentation. Examples reuse the event ids
and dates of the seed timeline (shared/data/tariff-timeline-2025.json) where it has such
an event; the others have ids starting with EXAMPLE- and an "illustrative" source.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeAlias, TypeVar, Union, cast
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from domain.commands import AppendChange, BatchItem, ImposeMeasure, MeasureTerms, OpenNegotiation
from domain.errors import InvalidValue
from domain.events import Facts
from domain.ledger import MEASURE, NEGOTIATION, stream_id_for_key
from domain.measure_changes import (
    ChangeLegalStatus,
    ChangeRate,
    ChangeScope,
    CorrectMeasureRecord,
    DeclarePrecedence,
    ExtendSuspension,
    GrantExclusion,
    GrantSuspension,
    MeasureChange,
    RevokeExclusion,
    TerminateMeasure,
)
from domain.negotiation_steps import (
    AgreeFramework,
    AllegeBreach,
    AnnounceDeal,
    CollapseTalks,
    CorrectNegotiationRecord,
    ExtendTruce,
    HoldRound,
    Invalidate,
    IssueJointStatement,
    IssueThreat,
    MakeContact,
    MeetPrecondition,
    NegotiationStep,
    OfferConcession,
    PostponeTalks,
    ReportDevelopment,
    ResumeTalks,
    ScheduleTalks,
    SignAgreement,
    StatePrecondition,
    Supersede,
    SuspendTalks,
    TableProposal,
    TakeImplementingAction,
    TerminateNegotiation,
)
from domain.values import (
    Provenance,
    Reliability,
    Source,
    country_code,
    hs_prefix,
    start_of_day,
    target_code,
    utc_instant,
)

SCHEMA_ID = "https://tradeledger.example/schema/events.schema.json"
SCHEMA_PATH = Path(__file__).resolve().parent / "events.schema.json"
"""The checked-in JSON Schema (in a source checkout); `python -m eventschema` rewrites it."""

# -- value types ------------------------------------------------------------------------
#
# Each type validates with the domain's own function, so that the edge and the domain
# cannot disagree about what a country code or an HS prefix is; the JSON Schema is
# written out by hand because a validator function has none.


def _invalid(message: str) -> PydanticCustomError:
    # A custom error type keeps pydantic's "Value error, " prefix out of one-line messages.
    return PydanticCustomError("invalid_value", "{reason}", {"reason": message})


def _with_domain_check(check: Callable[[str, str], str]) -> Callable[[str], str]:
    """Run a domain normaliser as a pydantic validator, turning InvalidValue into an error."""

    def validate(value: str) -> str:
        try:
            return check(value, "value")
        except InvalidValue as error:
            raise _invalid(error.message.removeprefix(f"{error.field}: ")) from None

    return validate


def _stream_ref(value: str) -> str:
    """A stream named by UUID (canonical form) or by key (a case-insensitive slug)."""
    text = value.strip()
    if _may_be_uuid(text):
        try:
            return str(UUID(text))
        except ValueError:
            pass
    key = text.lower()
    if not _KEY.fullmatch(key):
        raise _invalid(
            f"{value!r} is neither a UUID nor a key (letters, digits, '.', '_', '-'; "
            "at most 100 characters, starting with a letter or digit)"
        )
    return key


@functools.lru_cache(maxsize=4096)
def _stream_id(kind: str, ref: str) -> UUID:
    """The id of the stream a normalised reference names (see `_stream_ref`).

    Cached: a dataset names the same few streams on thousands of lines, and a key's id
    is a SHA-1 (uuid5), asked for several times per line.
    """
    return UUID(ref) if _is_uuid(ref) else stream_id_for_key(kind, ref)


def _is_uuid(ref: str) -> bool:
    if not _may_be_uuid(ref):
        return False
    try:
        UUID(ref)
    except ValueError:
        return False
    return True


def _may_be_uuid(text: str) -> bool:
    """False for text that `UUID()` certainly refuses, without paying for its exception.

    `UUID()` drops braces, "urn:" and "uuid:" and hyphens, then wants 32 hex digits, so
    text with fewer than 32 characters left after removing hyphens is never a UUID (the
    usual stream key); anything else is left to `UUID()` to decide.
    """
    return len(text) - text.count("-") >= 32


def _measure_id(value: str) -> str:
    # Measures refer to each other by id as hex, the form TariffMeasure compares with.
    return _stream_id(MEASURE, _stream_ref(value)).hex


def _negotiation_id(value: str) -> str:
    return _stream_id(NEGOTIATION, _stream_ref(value)).hex


def _reject_non_numbers(value: object) -> object:
    # Python's bool is an int: without this `true` would be a rate of 1%.
    if isinstance(value, bool):
        raise _invalid("a rate is a number (or a numeric string), not true/false")
    return value


def _iso_date(value: object) -> object:
    # Pydantic would also take a Unix timestamp or a midnight datetime for a date;
    # in a dataset either is a mistake, so only YYYY-MM-DD (or a date object) passes.
    if isinstance(value, datetime):
        raise _invalid("give a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as error:
            raise _invalid(f"{value!r} is not a valid date: {error}") from None
    raise _invalid(f"{value!r} is not a date; give YYYY-MM-DD")


def _announced_at(value: object) -> datetime:
    """A date (meaning 00:00 UTC that day) or a datetime with a zone, as a UTC instant."""
    if isinstance(value, str):
        text = value.strip()
        if _DATE.fullmatch(text):
            value = _iso_date(text)
        else:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise _invalid(
                    f"{text!r} is neither a date (YYYY-MM-DD) nor an ISO 8601 date and time"
                ) from None
    if isinstance(value, datetime):
        try:
            return utc_instant(value, "announced_at")
        except InvalidValue as error:
            raise _invalid(error.message.removeprefix("announced_at: ")) from None
    if isinstance(value, date):
        return start_of_day(value)
    raise _invalid(f"{value!r} is not a date or an ISO 8601 date and time")


_KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Country = Annotated[
    str,
    AfterValidator(_with_domain_check(country_code)),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z]{2}$",
            "description": "ISO 3166-1 alpha-2 country code (upper-cased on input).",
            "examples": ["US", "CN"],
        }
    ),
]
"""An ISO 3166-1 alpha-2 code, normalised to upper case."""

Target = Annotated[
    str,
    AfterValidator(_with_domain_check(target_code)),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^([A-Za-z]{2}|\\*)$",
            "description": 'An origin: ISO 3166-1 alpha-2 code, or "*" for every origin.',
            "examples": ["CN", "*"],
        }
    ),
]
"""An origin a measure targets: a country code, or "*" (every origin)."""

HsPrefix = Annotated[
    str,
    AfterValidator(_with_domain_check(hs_prefix)),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^(\\*|[0-9][0-9. ]*)$",
            "description": (
                'An HS/HTS code prefix: 2 to 12 digits, dots allowed ("8517.13"), '
                'or "*" for every product. Stored as digits ("851713"; "*" as "").'
            ),
            "examples": ["8517.13", "9503.00.00", "*"],
        }
    ),
]
"""An HS prefix, normalised to digits; "*" (every product) becomes ""."""

Rate = Annotated[
    Decimal,
    BeforeValidator(_reject_non_numbers),
    Field(ge=0, allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"},
            ],
            "description": (
                "Additional ad valorem duty in percent (not including MFN): a JSON number "
                "or a numeric string (exact), finite and >= 0."
            ),
            "examples": ["125", 7.5],
        }
    ),
]
"""A rate in percent, exact (Decimal), finite and non-negative."""

IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2025-04-05"]}),
]
"""A calendar date written YYYY-MM-DD."""

AnnouncedAt = Annotated[
    datetime,
    BeforeValidator(_announced_at),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
            ],
            "description": (
                "When the fact became public: a date (00:00 UTC that day) or an ISO 8601 "
                "date and time with a zone ('Z' or an offset); a time without zone is an error."
            ),
            "examples": ["2025-04-11", "2025-04-11T21:30:00-04:00"],
        }
    ),
]
"""When a fact became public, as a UTC instant."""

StreamRef = Annotated[
    str,
    AfterValidator(_stream_ref),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
            "description": (
                "A stream, by key (a slug, case-insensitive) or by UUID. A key names the "
                "same stream everywhere: its id is derived from the key and the stream kind."
            ),
            "examples": ["us-cn-fentanyl", "0b5f4a5e-2c55-5e43-9d0e-6a4c1f3f2b10"],
        }
    ),
]
"""A stream named by key or UUID; keys are lower-cased, UUIDs put in canonical form."""

Key = Annotated[
    str,
    AfterValidator(_stream_ref),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
            "description": "A human key for the stream (case-insensitive slug).",
            "examples": ["us-cn-fentanyl"],
        }
    ),
]

MeasureRef = Annotated[
    str,
    AfterValidator(_measure_id),
    WithJsonSchema(
        {
            "type": "string",
            "description": "A measure, by key or UUID (stored as the measure's UUID in hex).",
            "examples": ["us-auto-232"],
        }
    ),
]

NegotiationRef = Annotated[
    str,
    AfterValidator(_negotiation_id),
    WithJsonSchema(
        {
            "type": "string",
            "description": "A negotiation, by key or UUID (stored as its UUID in hex).",
            "examples": ["us-cn-trade-talks-2026"],
        }
    ),
]


def _not_blank(value: str) -> str:
    text = value.strip()
    if not text:
        raise _invalid("must not be empty or blank")
    return text


NonBlank = Annotated[
    str,
    AfterValidator(_not_blank),
    WithJsonSchema({"type": "string", "minLength": 1, "pattern": "\\S"}),
]
"""Text that says something: surrounding blanks are removed, and blank text is refused."""

EventId = Annotated[
    str,
    Field(max_length=200),
    AfterValidator(_not_blank),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"}),
]


# -- common fields ----------------------------------------------------------------------


class SourceIn(BaseModel):
    """Where a fact comes from; auditors follow every number back to these."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "citation": "Executive Order 14195",
                    "publisher": "The White House",
                    "reliability": "official",
                }
            ]
        },
    )

    citation: NonBlank = Field(
        description="A URL or a precise reference (document number, page).",
        examples=["https://www.federalregister.gov/", "Executive Order 14289, sec. 2"],
    )
    publisher: NonBlank = Field(
        description="Who published the source.", examples=["Federal Register", "Reuters"]
    )
    reliability: Reliability = Field(
        description=(
            "How far an auditor may trust it: official (government text), law_firm, press, "
            "unverified."
        ),
        examples=["official"],
    )

    def to_source(self) -> Source:
        return Source(self.citation, self.publisher, self.reliability)


_COMMON_FIELDS = frozenset(
    {
        "type",
        "event_id",
        "effective_on",
        "announced_at",
        "sources",
        "recorded_by",
        "note",
        # The stream a dataset line names is not a field of its event.
        "measure",
        "negotiation",
    }
)


class EventIn(BaseModel):
    """Fields every event carries, whatever its stream: identity, two dates, provenance."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="The event type.")
    event_id: EventId | None = Field(
        default=None,
        description=(
            "Unique within the stream and stable across loads: loading a file twice adds "
            "nothing, and corrections refer to events by it. A fresh id is generated when "
            "absent (so such an event is added again on every load)."
        ),
        examples=["US-CN-FENT-10"],
    )
    effective_on: IsoDate | None = Field(
        description=(
            "First day the fact applies in the world (valid time), in the imposer's time "
            "zone; earlier than announced_at means retroactive; null means unknown."
        ),
        examples=["2025-04-05", None],
    )
    announced_at: AnnouncedAt = Field(
        description="When the fact became public (a date means 00:00 UTC that day)."
    )
    sources: list[SourceIn] = Field(min_length=1, description="At least one source for the fact.")
    recorded_by: NonBlank = Field(
        description="Who entered the fact (a person or a loader).",
        examples=["analyst@example.org"],
    )
    note: str = Field(default="", description="Free text for auditors.", examples=[""])

    def to_facts(self) -> Facts:
        """The common part of the domain command (generates the event id when absent)."""
        return Facts(
            event_id=self.event_id or uuid4().hex,
            effective_on=self.effective_on,
            announced_at=self.announced_at,
            provenance=Provenance(
                tuple(source.to_source() for source in self.sources),
                self.recorded_by,
                self.note,
            ),
        )

    def event_fields(self) -> dict[str, Any]:
        """The event's own fields, as the domain's event class names and types them."""
        values = self.__dict__
        return {name: _domain_value(values[name]) for name in _own_fields(type(self))}


@functools.cache
def _own_fields(model: type[EventIn]) -> tuple[str, ...]:
    """The names of an event model's own fields (asked once per line, answered once)."""
    return tuple(name for name in model.model_fields if name not in _COMMON_FIELDS)


def _domain_value(value: object) -> object:
    # Domain events hold tuples (immutable, hashable), never lists.
    if isinstance(value, list):
        return tuple([_domain_value(item) if isinstance(item, list) else item for item in value])
    return value


class MeasureEventIn(EventIn):
    """An event of a tariff measure's stream."""


class MeasureChangeIn(MeasureEventIn):
    """An event appended to an existing measure."""

    def to_change(self) -> MeasureChange:
        """The domain's change: the call of the measure's verb that records this event."""
        return _measure_change(self)


class NegotiationEventIn(EventIn):
    """An event of a negotiation's stream: every step carries a summary."""

    summary: NonBlank = Field(
        description="What happened, in one or two sentences.",
        examples=["Both sides agree to cut the reciprocal increments for 90 days."],
    )


class NegotiationStepIn(NegotiationEventIn):
    """An event appended to an existing negotiation."""

    def to_change(self) -> NegotiationStep:
        """The domain's step: the call of the negotiation's verb that records this event."""
        return _negotiation_step(self)


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


def _official(citation: str, publisher: str = "The White House") -> list[dict[str, str]]:
    return [{"citation": citation, "publisher": publisher, "reliability": "official"}]


def _press(citation: str, publisher: str) -> list[dict[str, str]]:
    return [{"citation": citation, "publisher": publisher, "reliability": "press"}]


_BY = "analyst@example.org"
_ILLUSTRATIVE = [
    {"citation": "illustrative example", "publisher": "tradeledger", "reliability": "unverified"}
]

# -- measure events ---------------------------------------------------------------------


class MeasureImposed(MeasureEventIn):
    """A measure comes into existence with its initial rate and scope."""

    model_config = _examples(
        {
            "type": "imposed",
            "event_id": "US-CN-FENT-10",
            "key": "us-cn-fentanyl",
            "imposer": "US",
            "name": "IEEPA fentanyl tariff on China",
            "targets": ["CN"],
            "layer": "ieepa_fentanyl",
            "instruments": ["EO 14195"],
            "rate_pct": "10",
            "hs_prefixes": ["*"],
            "effective_on": "2025-02-04",
            "announced_at": "2025-02-01",
            "sources": _official("Executive Order 14195"),
            "recorded_by": _BY,
        }
    )

    type: Literal["imposed"] = Field(description="The measure is imposed.")
    key: Key | None = Field(
        default=None,
        description=(
            "A human key for the measure; its id is derived from it. In a dataset line it "
            "defaults to the key naming the stream, and must agree with it."
        ),
        examples=["us-cn-fentanyl"],
    )
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
    layer: NonBlank = Field(
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
        json_schema_extra={"propertyNames": {"pattern": "^(\\*|[0-9][0-9. ]*)$"}},
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
        check = _with_domain_check(hs_prefix)
        for prefix, rate in rates.items():
            digits = check(prefix)
            if digits in normalised:
                raise _invalid(f"{prefix!r} repeats another prefix of rate_by_prefix")
            normalised[digits] = rate
        return normalised

    @model_validator(mode="after")
    def _has_a_rate(self) -> MeasureImposed:
        if self.rate_pct is None and not self.rate_by_prefix:
            raise _invalid("give rate_pct, rate_by_prefix, or both")
        return self

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
        if measure_id is None:
            measure_id = stream_id_for_key(MEASURE, key) if key else uuid4()
        return ImposeMeasure(measure_id, key, self.to_facts(), self.to_terms())


class MeasureRateChanged(MeasureChangeIn):
    """The rate is replaced from effective_on: the general rate, or that of some prefixes."""

    model_config = _examples(
        {
            "type": "rate_changed",
            "event_id": "US-CN-FENT-20",
            "rate_pct": "20",
            "effective_on": "2025-03-04",
            "announced_at": "2025-03-03",
            "sources": _official("Executive Order 14228"),
            "recorded_by": _BY,
        }
    )

    type: Literal["rate_changed"] = Field(description="The rate changes.")
    rate_pct: Rate = Field(description="The new rate, replacing the old one (not added to it).")
    hs_prefixes: list[HsPrefix] = Field(
        default_factory=list,
        description="Products whose rate changes; empty (the default) for the general rate.",
        examples=[[], ["8703.80"]],
    )


class MeasureScopeChanged(MeasureChangeIn):
    """Products enter or leave the measure's scope from effective_on."""

    model_config = _examples(
        {
            "type": "scope_changed",
            "event_id": "US-232-STEEL-DERIVATIVES",
            "added_hs_prefixes": ["7326.90"],
            "removed_hs_prefixes": [],
            "effective_on": "2025-06-23",
            "announced_at": "2025-06-16",
            "sources": _official("Inclusions of derivative steel products", "Federal Register"),
            "recorded_by": _BY,
        }
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
        if not self.added_hs_prefixes and not self.removed_hs_prefixes:
            raise _invalid("give added_hs_prefixes, removed_hs_prefixes, or both")
        return self


class MeasureExclusionGranted(MeasureChangeIn):
    """Products are excluded from this measure from effective_on (possibly retroactive)."""

    model_config = _examples(
        {
            "type": "exclusion_granted",
            "event_id": "US-RECIP-ELEC-EXCL",
            "hs_prefixes": ["8517.13", "8471.30"],
            "effective_on": "2025-04-05",
            "announced_at": "2025-04-11T21:00:00-04:00",
            "sources": _official("Memorandum 'Clarification of Exceptions Under EO 14257'"),
            "recorded_by": _BY,
        }
    )

    type: Literal["exclusion_granted"] = Field(description="Products are excluded.")
    hs_prefixes: list[HsPrefix] = Field(min_length=1, description="The products excluded.")


class MeasureExclusionRevoked(MeasureChangeIn):
    """Products excluded earlier are charged again from effective_on."""

    model_config = _examples(
        {
            "type": "exclusion_revoked",
            "event_id": "EXAMPLE-EXCL-REVOKED",
            "hs_prefixes": ["8471.30"],
            "effective_on": "2025-09-01",
            "announced_at": "2025-08-15",
            "sources": _ILLUSTRATIVE,
            "recorded_by": _BY,
        }
    )

    type: Literal["exclusion_revoked"] = Field(description="An exclusion ends.")
    hs_prefixes: list[HsPrefix] = Field(min_length=1, description="The products charged again.")


class MeasureSuspensionGranted(MeasureChangeIn):
    """Part or all of the rate is not charged from effective_on until ends_on."""

    model_config = _examples(
        {
            "type": "suspension_granted",
            "event_id": "US-CN-GENEVA",
            "points": "24",
            "ends_on": "2025-08-12",
            "effective_on": "2025-05-14",
            "announced_at": "2025-05-12",
            "sources": _official("Executive Order 14298"),
            "recorded_by": _BY,
        }
    )

    type: Literal["suspension_granted"] = Field(description="The rate is suspended.")
    points: Rate | None = Field(
        default=None,
        description="Percentage points not charged; null (the default) suspends all of it.",
        examples=["24"],
    )
    ends_on: IsoDate = Field(
        description="The day the rate snaps back by itself (the suspension ends the day before)."
    )


class MeasureSuspensionExtended(MeasureChangeIn):
    """A suspension granted earlier now ends on ends_on instead."""

    model_config = _examples(
        {
            "type": "suspension_extended",
            "event_id": "US-CN-EXT-NOV10",
            "suspension_event_id": "US-CN-GENEVA",
            "ends_on": "2025-11-10",
            "effective_on": "2025-08-12",
            "announced_at": "2025-08-11",
            "sources": _official("Executive Order extending the suspension"),
            "recorded_by": _BY,
        }
    )

    type: Literal["suspension_extended"] = Field(description="A suspension is extended.")
    suspension_event_id: NonBlank = Field(
        description="The event_id of the suspension_granted event extended.",
        examples=["US-CN-GENEVA"],
    )
    ends_on: IsoDate = Field(description="The new day the rate snaps back.")


class MeasureTerminated(MeasureChangeIn):
    """The measure is no longer charged from effective_on."""

    model_config = _examples(
        {
            "type": "terminated",
            "event_id": "EXAMPLE-TERMINATED",
            "effective_on": "2025-11-10",
            "announced_at": "2025-11-04",
            "sources": _ILLUSTRATIVE,
            "recorded_by": _BY,
        }
    )

    type: Literal["terminated"] = Field(description="The measure ends.")


class MeasurePrecedenceDeclared(MeasureChangeIn):
    """Where this measure applies, the listed measures and layers do not."""

    model_config = _examples(
        {
            "type": "precedence_declared",
            "event_id": "US-STACKING-EO14289",
            "displaces_measure_ids": ["us-ca-fentanyl", "us-mx-fentanyl"],
            "displaces_layers": ["section_232_steel", "section_232_aluminum"],
            "hs_prefixes": [],
            "effective_on": "2025-03-04",
            "announced_at": "2025-04-29",
            "sources": _official("Executive Order 14289"),
            "recorded_by": _BY,
        }
    )

    type: Literal["precedence_declared"] = Field(description="This measure displaces others.")
    displaces_measure_ids: list[MeasureRef] = Field(
        default_factory=list,
        description="Measures not charged where this one applies (by key or UUID).",
    )
    displaces_layers: list[NonBlank] = Field(
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
        if not self.displaces_measure_ids and not self.displaces_layers:
            raise _invalid("give displaces_measure_ids, displaces_layers, or both")
        return self


class MeasureLegalStatusChanged(MeasureChangeIn):
    """A court or legislature changed the measure's standing."""

    model_config = _examples(
        {
            "type": "legal_status_changed",
            "event_id": "US-SCOTUS-IEEPA",
            "status": "ruled_unlawful",
            "collection_stops": True,
            "effective_on": "2026-02-24",
            "announced_at": "2026-02-20",
            "sources": _official(
                "Learning Resources, Inc. v. Trump", "Supreme Court of the United States"
            ),
            "recorded_by": _BY,
        }
    )

    type: Literal["legal_status_changed"] = Field(description="The legal standing changes.")
    status: NonBlank = Field(
        description="The new standing, as a short slug.", examples=["ruled_unlawful", "stayed"]
    )
    collection_stops: bool = Field(
        description=(
            "Whether the measure stops being charged on entries from effective_on "
            "(what was assessed before stays on record)."
        )
    )


class MeasureRecordCorrected(MeasureChangeIn):
    """An earlier event of this stream was recorded in error and must be disregarded."""

    model_config = _examples(
        {
            "type": "record_corrected",
            "event_id": "EXAMPLE-CORRECTION",
            "corrected_event_id": "US-CN-FENT-20",
            "reason": "effective_on typed as 2025-03-14; re-recorded as US-CN-FENT-20b",
            "effective_on": None,
            "announced_at": "2025-06-02T09:15:00Z",
            "sources": _official("Executive Order 14228"),
            "recorded_by": _BY,
        }
    )

    type: Literal["record_corrected"] = Field(description="An earlier record is withdrawn.")
    corrected_event_id: NonBlank = Field(description="The event_id of the event withdrawn.")
    reason: NonBlank = Field(description="Why it was wrong.")


# -- negotiation events -----------------------------------------------------------------

_TALKS = "us-cn-trade-talks"


class NegotiationOpened(NegotiationEventIn):
    """The ledger starts following talks between two or more parties."""

    model_config = _examples(
        {
            "type": "opened",
            "event_id": "US-CN-TALKS-OPEN",
            "key": _TALKS,
            "title": "US-China trade talks 2025",
            "parties": ["US", "CN"],
            "summary": "Escalating tariffs; both sides say they are open to talks.",
            "effective_on": "2025-04-09",
            "announced_at": "2025-04-09",
            "sources": _press("https://www.reuters.com/", "Reuters"),
            "recorded_by": _BY,
        }
    )

    type: Literal["opened"] = Field(description="The negotiation is opened.")
    key: Key | None = Field(
        default=None,
        description=(
            "A human key for the negotiation; its id is derived from it. In a dataset line "
            "it defaults to the key naming the stream, and must agree with it."
        ),
        examples=[_TALKS],
    )
    title: NonBlank = Field(description="A readable title.", examples=["US-UK trade talks"])
    parties: list[Country] = Field(
        min_length=2, description="The parties, at least two distinct countries."
    )

    @field_validator("parties")
    @classmethod
    def _distinct(cls, parties: list[str]) -> list[str]:
        if len(set(parties)) != len(parties):
            raise _invalid("each party may appear only once")
        return parties

    def to_command(self, negotiation_id: UUID | None = None) -> OpenNegotiation:
        """The command opening this negotiation: its id is given, or derived from the key,
        or (no key) a fresh UUID."""
        key = self.key or ""
        if negotiation_id is None:
            negotiation_id = stream_id_for_key(NEGOTIATION, key) if key else uuid4()
        return OpenNegotiation(
            negotiation_id=negotiation_id,
            key=key,
            facts=self.to_facts(),
            title=self.title,
            parties=tuple(self.parties),
            summary=self.summary,
        )


def _step(event_type: str, event_id: str, on: str, summary: str, **fields: Any) -> ConfigDict:
    """The example of a negotiation step, as reported by the press on the day."""
    return _examples(
        {
            "type": event_type,
            "event_id": event_id,
            **fields,
            "summary": summary,
            "effective_on": on,
            "announced_at": on,
            "sources": _press("https://www.reuters.com/world/", "Reuters"),
            "recorded_by": _BY,
        }
    )


_BY_PARTY: Any = Field(description="The party acting (one of the negotiation's parties).")


class NegotiationContactMade(NegotiationStepIn):
    """First or renewed contact, official or through a back channel."""

    model_config = _step(
        "contact_made",
        "US-CN-CONTACT-1",
        "2025-04-24",
        "The US side reportedly reached out discreetly to open talks.",
        by_party="US",
        channel="back_channel",
    )

    type: Literal["contact_made"] = Field(description="The parties are in contact.")
    by_party: Country = _BY_PARTY
    channel: Literal["official", "back_channel"] = Field(
        description="How the contact was made.", examples=["back_channel"]
    )


class NegotiationPreconditionStated(NegotiationStepIn):
    """A party says what must happen before it talks."""

    model_config = _step(
        "precondition_stated",
        "CN-PRECONDITION-1",
        "2025-04-17",
        "China asks for meaningful measures (tariff cuts) before any talks.",
        by_party="CN",
    )

    type: Literal["precondition_stated"] = Field(description="A precondition is stated.")
    by_party: Country = _BY_PARTY


class NegotiationPreconditionMet(NegotiationStepIn):
    """A precondition stated earlier no longer stands in the way."""

    model_config = _step(
        "precondition_met",
        "CN-PRECONDITION-1-MET",
        "2025-05-06",
        "China agrees to meet in Geneva.",
        precondition_event_id="CN-PRECONDITION-1",
    )

    type: Literal["precondition_met"] = Field(description="A precondition is met.")
    precondition_event_id: NonBlank = Field(
        description="The event_id of the precondition_stated event.",
        examples=["CN-PRECONDITION-1"],
    )


class NegotiationTalksScheduled(NegotiationStepIn):
    """Talks are scheduled."""

    model_config = _step(
        "talks_scheduled",
        "US-CN-GENEVA-SCHEDULED",
        "2025-05-06",
        "Talks set for Geneva on 10-11 May.",
        talks_on="2025-05-10",
        location="Geneva",
    )

    type: Literal["talks_scheduled"] = Field(description="Talks are scheduled.")
    talks_on: IsoDate | None = Field(
        default=None, description="The day the talks are to start, if known."
    )
    location: str = Field(default="", description="Where.", examples=["Geneva"])


class NegotiationRoundHeld(NegotiationStepIn):
    """A round of talks took place."""

    model_config = _step(
        "round_held",
        "US-CN-GENEVA-TALKS",
        "2025-05-10",
        "Two days of talks in Geneva.",
        location="Geneva",
        round_number=1,
    )

    type: Literal["round_held"] = Field(description="A round of talks is held.")
    location: str = Field(default="", description="Where.", examples=["London"])
    round_number: Annotated[int, Field(strict=True, ge=1)] | None = Field(
        default=None, description="The round's number, if the parties number them."
    )


class NegotiationProposalTabled(NegotiationStepIn):
    """A party puts a proposal on the table."""

    model_config = _step(
        "proposal_tabled",
        "US-UK-PROPOSAL-1",
        "2025-04-20",
        "The UK tables a proposal on car quotas.",
        by_party="GB",
    )

    type: Literal["proposal_tabled"] = Field(description="A proposal is tabled.")
    by_party: Country = _BY_PARTY


class NegotiationConcessionOffered(NegotiationStepIn):
    """A party offers a concession (changes no status)."""

    model_config = _step(
        "concession_offered",
        "CN-US-ETHANE-WAIVER",
        "2025-04-29",
        "China quietly exempts US ethane from its retaliatory tariff.",
        by_party="CN",
    )

    type: Literal["concession_offered"] = Field(description="A concession is offered.")
    by_party: Country = _BY_PARTY


class NegotiationDevelopmentReported(NegotiationStepIn):
    """Something reported about the talks that changes no status (press, market data)."""

    model_config = _step(
        "development_reported",
        "US-CN-PHASED-CUT-REPORT",
        "2025-04-23",
        "Report that the US considers phased tariff cuts.",
    )

    type: Literal["development_reported"] = Field(description="Something is reported.")


class NegotiationJointStatementIssued(NegotiationStepIn):
    """A joint statement; with truce_ends_on it starts a truce ending that day."""

    model_config = _step(
        "joint_statement_issued",
        "US-CN-GENEVA-STATEMENT",
        "2025-05-12",
        "Geneva joint statement: 90-day truce, reciprocal rates cut to 10%.",
        truce_ends_on="2025-08-12",
    )

    type: Literal["joint_statement_issued"] = Field(description="A joint statement.")
    truce_ends_on: IsoDate | None = Field(
        default=None,
        description="The first day a truce agreed here is no longer in force, if any.",
    )


class NegotiationFrameworkAgreed(NegotiationStepIn):
    """A framework is agreed; with truce_ends_on it starts a truce ending that day."""

    model_config = _step(
        "framework_agreed",
        "US-CN-LONDON",
        "2025-06-10",
        "London framework to implement the Geneva consensus.",
    )

    type: Literal["framework_agreed"] = Field(description="A framework is agreed.")
    truce_ends_on: IsoDate | None = Field(
        default=None,
        description="The first day a truce agreed here is no longer in force, if any.",
    )


class NegotiationDealAnnounced(NegotiationStepIn):
    """Terms are announced (often non-binding); rates change only when implemented."""

    model_config = _step(
        "deal_announced",
        "US-UK-EPD-ANNOUNCED",
        "2025-05-08",
        "US-UK Economic Prosperity Deal terms announced.",
        in_force_on="2025-06-30",
    )

    type: Literal["deal_announced"] = Field(description="A deal is announced.")
    in_force_on: IsoDate | None = Field(
        default=None, description="The day the terms are to apply, if announced."
    )


class NegotiationAgreementSigned(NegotiationStepIn):
    """An agreement is signed; it is in force from in_force_on."""

    model_config = _step(
        "agreement_signed",
        "US-UK-EPD-SIGNED",
        "2025-06-16",
        "The US and the UK sign the general terms.",
        in_force_on="2025-06-30",
    )

    type: Literal["agreement_signed"] = Field(description="An agreement is signed.")
    in_force_on: IsoDate | None = Field(
        default=None, description="The day the agreement enters into force, if known."
    )


class NegotiationImplementingActionTaken(NegotiationStepIn):
    """A step implementing what was agreed, linked to the tariff measures it changed."""

    model_config = _step(
        "implementing_action_taken",
        "US-CN-GENEVA-IMPLEMENTED",
        "2025-05-14",
        "The US implements the Geneva rate cuts.",
        measure_ids=["us-cn-reciprocal"],
    )

    type: Literal["implementing_action_taken"] = Field(description="Agreed terms are applied.")
    measure_ids: list[MeasureRef] = Field(
        default_factory=list,
        description="The tariff measures changed by this step (by key or UUID).",
    )


class NegotiationTruceExtended(NegotiationStepIn):
    """A truce now ends on truce_ends_on."""

    model_config = _step(
        "truce_extended",
        "US-CN-TRUCE-EXT-1",
        "2025-08-11",
        "The truce is extended by 90 days.",
        truce_ends_on="2025-11-10",
    )

    type: Literal["truce_extended"] = Field(description="A truce is extended.")
    truce_ends_on: IsoDate = Field(
        description="The new end of the truce: the first day it is no longer in force."
    )


class NegotiationBreachAlleged(NegotiationStepIn):
    """A party says the other broke what was agreed."""

    model_config = _step(
        "breach_alleged",
        "US-CN-BREACH-1",
        "2025-05-30",
        "The US says China violated the Geneva agreement.",
        by_party="US",
    )

    type: Literal["breach_alleged"] = Field(description="A breach is alleged.")
    by_party: Country = _BY_PARTY


class NegotiationThreatIssued(NegotiationStepIn):
    """A party threatens escalation; a threat never changes a rate."""

    model_config = _step(
        "threat_issued",
        "US-CN-THREAT-100",
        "2025-10-10",
        "The US threatens an additional 100% tariff from 1 November.",
        by_party="US",
        threatened_rate_pct="100",
        threatened_from="2025-11-01",
    )

    type: Literal["threat_issued"] = Field(description="Escalation is threatened.")
    by_party: Country = _BY_PARTY
    threatened_rate_pct: Rate | None = Field(
        default=None, description="The rate threatened, if stated."
    )
    threatened_from: IsoDate | None = Field(default=None, description="From when, if stated.")


class NegotiationTalksPostponed(NegotiationStepIn):
    """Talks are postponed."""

    model_config = _step(
        "talks_postponed",
        "US-IN-ROUND6-POSTPONED",
        "2025-08-25",
        "The sixth round in New Delhi is postponed indefinitely.",
    )

    type: Literal["talks_postponed"] = Field(description="Talks are postponed.")


class NegotiationTalksResumed(NegotiationStepIn):
    """Talks resume after a pause or trouble."""

    model_config = _step(
        "talks_resumed", "US-IN-RESUMED", "2025-09-16", "Talks resume in New Delhi."
    )

    type: Literal["talks_resumed"] = Field(description="Talks resume.")


class NegotiationTalksSuspended(NegotiationStepIn):
    """Talks are suspended."""

    model_config = _step(
        "talks_suspended", "US-CA-SUSPENDED", "2025-06-27", "The US ends talks with Canada."
    )

    type: Literal["talks_suspended"] = Field(description="Talks are suspended.")


class NegotiationTalksCollapsed(NegotiationStepIn):
    """Talks collapse (terminal)."""

    model_config = _step(
        "talks_collapsed", "EXAMPLE-COLLAPSE", "2025-07-01", "(illustrative) Talks break down."
    )

    type: Literal["talks_collapsed"] = Field(description="Talks collapse.")


class NegotiationTerminated(NegotiationStepIn):
    """The negotiation ends by decision of a party (terminal)."""

    model_config = _step(
        "terminated", "EXAMPLE-TERMINATED", "2025-07-01", "(illustrative) A party withdraws."
    )

    type: Literal["terminated"] = Field(description="The negotiation is terminated.")


class NegotiationSuperseded(NegotiationStepIn):
    """The negotiation continues as another one (terminal)."""

    model_config = _step(
        "superseded",
        "EXAMPLE-SUPERSEDED",
        "2026-01-15",
        "(illustrative) Talks continue under a new framework.",
        by_negotiation_id="us-cn-trade-talks-2026",
    )

    type: Literal["superseded"] = Field(description="Another negotiation takes over.")
    by_negotiation_id: NegotiationRef = Field(
        description="The negotiation that takes over (by key or UUID)."
    )


class NegotiationInvalidated(NegotiationStepIn):
    """What the negotiation produced lost its legal basis (terminal)."""

    model_config = _step(
        "invalidated",
        "EXAMPLE-INVALIDATED",
        "2026-02-20",
        "(illustrative) The ruling removes the legal basis of what was agreed.",
    )

    type: Literal["invalidated"] = Field(description="The negotiation is invalidated.")


class NegotiationRecordCorrected(NegotiationStepIn):
    """An earlier event of this stream was recorded in error and must be disregarded."""

    model_config = _step(
        "record_corrected",
        "EXAMPLE-CORRECTION",
        "2025-06-02",
        "(illustrative) Round recorded under the wrong negotiation.",
        corrected_event_id="US-CN-GENEVA-TALKS",
        reason="belongs to the US-UK talks",
    )

    type: Literal["record_corrected"] = Field(description="An earlier record is withdrawn.")
    corrected_event_id: NonBlank = Field(description="The event_id of the event withdrawn.")
    reason: NonBlank = Field(description="Why it was wrong.")


MEASURE_EVENT_MODELS: tuple[type[MeasureEventIn], ...] = (
    MeasureImposed,
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

NEGOTIATION_EVENT_MODELS: tuple[type[NegotiationEventIn], ...] = (
    NegotiationOpened,
    NegotiationContactMade,
    NegotiationPreconditionStated,
    NegotiationPreconditionMet,
    NegotiationTalksScheduled,
    NegotiationRoundHeld,
    NegotiationProposalTabled,
    NegotiationConcessionOffered,
    NegotiationDevelopmentReported,
    NegotiationJointStatementIssued,
    NegotiationFrameworkAgreed,
    NegotiationDealAnnounced,
    NegotiationAgreementSigned,
    NegotiationImplementingActionTaken,
    NegotiationTruceExtended,
    NegotiationBreachAlleged,
    NegotiationThreatIssued,
    NegotiationTalksPostponed,
    NegotiationTalksResumed,
    NegotiationTalksSuspended,
    NegotiationTalksCollapsed,
    NegotiationTerminated,
    NegotiationSuperseded,
    NegotiationInvalidated,
    NegotiationRecordCorrected,
)

MeasureEvent = Annotated[
    MeasureImposed
    | MeasureRateChanged
    | MeasureScopeChanged
    | MeasureExclusionGranted
    | MeasureExclusionRevoked
    | MeasureSuspensionGranted
    | MeasureSuspensionExtended
    | MeasureTerminated
    | MeasurePrecedenceDeclared
    | MeasureLegalStatusChanged
    | MeasureRecordCorrected,
    Field(discriminator="type"),
]
"""Any event of a measure's stream (an HTTP body for one measure)."""

NegotiationEvent = Annotated[
    NegotiationOpened
    | NegotiationContactMade
    | NegotiationPreconditionStated
    | NegotiationPreconditionMet
    | NegotiationTalksScheduled
    | NegotiationRoundHeld
    | NegotiationProposalTabled
    | NegotiationConcessionOffered
    | NegotiationDevelopmentReported
    | NegotiationJointStatementIssued
    | NegotiationFrameworkAgreed
    | NegotiationDealAnnounced
    | NegotiationAgreementSigned
    | NegotiationImplementingActionTaken
    | NegotiationTruceExtended
    | NegotiationBreachAlleged
    | NegotiationThreatIssued
    | NegotiationTalksPostponed
    | NegotiationTalksResumed
    | NegotiationTalksSuspended
    | NegotiationTalksCollapsed
    | NegotiationTerminated
    | NegotiationSuperseded
    | NegotiationInvalidated
    | NegotiationRecordCorrected,
    Field(discriminator="type"),
]
"""Any event of a negotiation's stream (an HTTP body for one negotiation)."""


def measure_event_types() -> frozenset[str]:
    """The public type names of measure events, from the models."""
    return frozenset(_type_of(model) for model in MEASURE_EVENT_MODELS)


def negotiation_event_types() -> frozenset[str]:
    """The public type names of negotiation events, from the models."""
    return frozenset(_type_of(model) for model in NEGOTIATION_EVENT_MODELS)


def _type_of(model: type[EventIn]) -> str:
    literal = model.model_fields["type"].annotation  # Literal["rate_changed"]
    args: tuple[object, ...] = getattr(literal, "__args__", ())
    return cast(str, args[0])


# -- the domain's changes ---------------------------------------------------------------
#
# Each event appended to a stream becomes the domain's typed change, the call of the
# aggregate's verb that records it; the type checker holds each model to its verb.


def _measure_change(event: MeasureChangeIn) -> MeasureChange:
    facts = event.to_facts()
    match event:
        case MeasureRateChanged():
            return ChangeRate(facts, rate_pct=event.rate_pct, hs_prefixes=tuple(event.hs_prefixes))
        case MeasureScopeChanged():
            return ChangeScope(
                facts,
                added_hs_prefixes=tuple(event.added_hs_prefixes),
                removed_hs_prefixes=tuple(event.removed_hs_prefixes),
            )
        case MeasureExclusionGranted():
            return GrantExclusion(facts, hs_prefixes=tuple(event.hs_prefixes))
        case MeasureExclusionRevoked():
            return RevokeExclusion(facts, hs_prefixes=tuple(event.hs_prefixes))
        case MeasureSuspensionGranted():
            return GrantSuspension(facts, points=event.points, ends_on=event.ends_on)
        case MeasureSuspensionExtended():
            return ExtendSuspension(
                facts, suspension_event_id=event.suspension_event_id, ends_on=event.ends_on
            )
        case MeasureTerminated():
            return TerminateMeasure(facts)
        case MeasurePrecedenceDeclared():
            return DeclarePrecedence(
                facts,
                displaces_measure_ids=tuple(event.displaces_measure_ids),
                displaces_layers=tuple(event.displaces_layers),
                hs_prefixes=tuple(event.hs_prefixes),
            )
        case MeasureLegalStatusChanged():
            return ChangeLegalStatus(
                facts, status=event.status, collection_stops=event.collection_stops
            )
        case MeasureRecordCorrected():
            return CorrectMeasureRecord(
                facts, corrected_event_id=event.corrected_event_id, reason=event.reason
            )
    raise TypeError(f"no domain change for {type(event).__name__}")  # pragma: no cover


def _negotiation_step(event: NegotiationStepIn) -> NegotiationStep:
    facts, summary = event.to_facts(), event.summary
    match event:
        case NegotiationContactMade():
            return MakeContact(
                facts, summary=summary, by_party=event.by_party, channel=event.channel
            )
        case NegotiationPreconditionStated():
            return StatePrecondition(facts, summary=summary, by_party=event.by_party)
        case NegotiationPreconditionMet():
            return MeetPrecondition(
                facts, summary=summary, precondition_event_id=event.precondition_event_id
            )
        case NegotiationTalksScheduled():
            return ScheduleTalks(
                facts, summary=summary, talks_on=event.talks_on, location=event.location
            )
        case NegotiationRoundHeld():
            return HoldRound(
                facts, summary=summary, location=event.location, round_number=event.round_number
            )
        case NegotiationProposalTabled():
            return TableProposal(facts, summary=summary, by_party=event.by_party)
        case NegotiationConcessionOffered():
            return OfferConcession(facts, summary=summary, by_party=event.by_party)
        case NegotiationDevelopmentReported():
            return ReportDevelopment(facts, summary=summary)
        case NegotiationJointStatementIssued():
            return IssueJointStatement(facts, summary=summary, truce_ends_on=event.truce_ends_on)
        case NegotiationFrameworkAgreed():
            return AgreeFramework(facts, summary=summary, truce_ends_on=event.truce_ends_on)
        case NegotiationDealAnnounced():
            return AnnounceDeal(facts, summary=summary, in_force_on=event.in_force_on)
        case NegotiationAgreementSigned():
            return SignAgreement(facts, summary=summary, in_force_on=event.in_force_on)
        case NegotiationImplementingActionTaken():
            return TakeImplementingAction(
                facts, summary=summary, measure_ids=tuple(event.measure_ids)
            )
        case NegotiationTruceExtended():
            return ExtendTruce(facts, summary=summary, truce_ends_on=event.truce_ends_on)
        case NegotiationBreachAlleged():
            return AllegeBreach(facts, summary=summary, by_party=event.by_party)
        case NegotiationThreatIssued():
            return IssueThreat(
                facts,
                summary=summary,
                by_party=event.by_party,
                threatened_rate_pct=event.threatened_rate_pct,
                threatened_from=event.threatened_from,
            )
        case NegotiationTalksPostponed():
            return PostponeTalks(facts, summary=summary)
        case NegotiationTalksResumed():
            return ResumeTalks(facts, summary=summary)
        case NegotiationTalksSuspended():
            return SuspendTalks(facts, summary=summary)
        case NegotiationTalksCollapsed():
            return CollapseTalks(facts, summary=summary)
        case NegotiationTerminated():
            return TerminateNegotiation(facts, summary=summary)
        case NegotiationSuperseded():
            return Supersede(facts, summary=summary, by_negotiation_id=event.by_negotiation_id)
        case NegotiationInvalidated():
            return Invalidate(facts, summary=summary)
        case NegotiationRecordCorrected():
            return CorrectNegotiationRecord(
                facts,
                summary=summary,
                corrected_event_id=event.corrected_event_id,
                reason=event.reason,
            )
    raise TypeError(f"no domain step for {type(event).__name__}")  # pragma: no cover


# -- dataset lines ----------------------------------------------------------------------


class _StreamLine(BaseModel):
    """What the two kinds of dataset line share: a stream reference and its id."""

    stream_kind: ClassVar[str]

    @property
    def stream_ref(self) -> str:
        raise NotImplementedError  # pragma: no cover

    @property
    def stream_key(self) -> str | None:
        """The key naming the stream, or None when the line names it by UUID."""
        ref = self.stream_ref
        return None if _is_uuid(ref) else ref

    @property
    def stream_id(self) -> UUID:
        return _stream_id(self.stream_kind, self.stream_ref)

    @model_validator(mode="after")
    def _key_agrees_with_stream(self) -> _StreamLine:
        # A key always maps to the same id, so a stream created under a key must live
        # at that id; otherwise a later line naming the key would miss it.
        # Only creating lines have a key; read from __dict__, as getattr would pay for
        # pydantic's AttributeError on every other line.
        key = self.__dict__.get("key")
        kind, ref = self.stream_kind, self.stream_ref
        if key is None or _stream_id(kind, key) == self.stream_id:
            return self
        if self.stream_key is not None:
            raise _invalid(f"key {key!r} differs from the {kind} {ref!r} this line names")
        raise _invalid(
            f"key {key!r} belongs to {kind} {_stream_id(kind, key)}, not {ref}; "
            f"name the {kind} by its key, or drop the key"
        )


class MeasureLine(_StreamLine):
    """A dataset line about a measure: the event, plus the measure it belongs to."""

    measure: StreamRef = Field(
        description="The measure (by key or UUID) this event belongs to or creates.",
        examples=["us-cn-fentanyl"],
    )

    stream_kind = MEASURE

    @property
    def stream_ref(self) -> str:
        return self.measure


class NegotiationLine(_StreamLine):
    """A dataset line about a negotiation: the event, plus the negotiation it belongs to."""

    negotiation: StreamRef = Field(
        description="The negotiation (by key or UUID) this event belongs to or opens.",
        examples=[_TALKS],
    )

    stream_kind = NEGOTIATION

    @property
    def stream_ref(self) -> str:
        return self.negotiation


_E = TypeVar("_E", bound=EventIn)


def _line_model(event_model: type[_E], stream: type[_StreamLine], ref: str) -> type[_E]:
    """The dataset line of one event type: the event's fields plus the stream's.

    Generated rather than written out (thirty-six near-identical classes); each is a
    subclass of both its event model and of MeasureLine or NegotiationLine.
    """
    extra = event_model.model_config.get("json_schema_extra")
    examples = cast(Mapping[str, list[dict[str, Any]]], extra)["examples"]
    field = "measure" if stream is MeasureLine else "negotiation"
    ref = _EXAMPLE_STREAMS.get(event_model, ref)
    namespace = {
        "__module__": __name__,
        "__qualname__": f"{event_model.__name__}Line",
        "__doc__": f"A dataset line: {(event_model.__doc__ or '').strip()}",
        "model_config": _examples(*({field: ref, **example} for example in examples)),
    }
    return cast(type[_E], type(f"{event_model.__name__}Line", (event_model, stream), namespace))


def _kind_of_line(value: object) -> str | None:
    if isinstance(value, dict):
        has_measure, has_negotiation = "measure" in value, "negotiation" in value
        if has_measure == has_negotiation:
            return None
        return MEASURE if has_measure else NEGOTIATION
    if isinstance(value, MeasureLine):
        return MEASURE
    if isinstance(value, NegotiationLine):
        return NEGOTIATION
    return None


_EXAMPLE_STREAMS: dict[type[EventIn], str] = {
    # The examples of these tell the story of other streams than the default ones.
    MeasureExclusionGranted: "us-cn-reciprocal",
    MeasureExclusionRevoked: "us-cn-reciprocal",
    MeasureSuspensionGranted: "us-cn-reciprocal",
    MeasureSuspensionExtended: "us-cn-reciprocal",
    MeasureScopeChanged: "us-steel-232",
    MeasurePrecedenceDeclared: "us-auto-232",
    MeasureLegalStatusChanged: "us-cn-reciprocal",
    NegotiationProposalTabled: "us-uk-trade-talks",
    NegotiationDealAnnounced: "us-uk-trade-talks",
    NegotiationAgreementSigned: "us-uk-trade-talks",
    NegotiationTalksPostponed: "us-in-trade-talks",
    NegotiationTalksResumed: "us-in-trade-talks",
    NegotiationTalksSuspended: "us-ca-trade-talks",
    NegotiationSuperseded: "us-cn-trade-talks",
}

_MEASURE_LINE_MODELS = tuple(
    _line_model(model, MeasureLine, "us-cn-fentanyl") for model in MEASURE_EVENT_MODELS
)
_NEGOTIATION_LINE_MODELS = tuple(
    _line_model(model, NegotiationLine, _TALKS) for model in NEGOTIATION_EVENT_MODELS
)

if TYPE_CHECKING:
    # What type checkers can know: each line is one of these, and also one of the event
    # models (which `to_batch_item` finds out with isinstance).
    DatasetLine: TypeAlias = MeasureLine | NegotiationLine
else:
    DatasetLine = Annotated[
        Union[  # noqa: UP007 - built from tuples at run time
            Annotated[
                Union[_MEASURE_LINE_MODELS],  # noqa: UP007
                Field(discriminator="type"),
                Tag(MEASURE),
            ],
            Annotated[
                Union[_NEGOTIATION_LINE_MODELS],  # noqa: UP007
                Field(discriminator="type"),
                Tag(NEGOTIATION),
            ],
        ],
        Discriminator(
            _kind_of_line,
            custom_error_type="stream_missing",
            custom_error_message=(
                "a line names its stream with exactly one of 'measure' or 'negotiation' "
                "(a key or a UUID)"
            ),
        ),
    ]
"""One line of a dataset file: an event plus `"measure"` or `"negotiation"` naming its stream.

Discriminated first by which of the two stream fields is present, then by `type` (both
kinds have `terminated` and `record_corrected`, so `type` alone cannot tell).
"""

DATASET_LINE: TypeAdapter[DatasetLine] = TypeAdapter(DatasetLine)
"""Validates one dataset line (a dict from JSON, or a JSON string with validate_json)."""


MAX_RATE_PCT = Decimal(1_000_000)
"""No plausible rate (or number of points) in percent is higher; a bigger number is a typo."""

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL (PostgreSQL text cannot hold it) and lone surrogates (not encodable as UTF-8)."""


def check_recordable(value: object, path: str = "body") -> None:
    """Refuse what the store would take but never give back in one piece.

    A NUL character or a lone surrogate would be recorded (event state is bytes) and then
    make every projection, and so every read, fail; a rate like 1E+999999 would be
    recorded and make every answer mentioning it take minutes to print. Both are refused
    here, before anything is written, naming the field.
    """
    if not _holds_unrecordable(value):
        return
    _check_recordable(value, path)


def _holds_unrecordable(value: object) -> bool:
    """Whether `value` may hold something `_check_recordable` refuses.

    Nearly every value passes, and building a path for each of its fields, as the walk
    that names the culprit must, cost more than validating the line did. This walk looks
    at the same strings and decimals (and maybe more: a model's whole __dict__), without
    paths; only when it finds something does the naming walk run.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif type(item) in _INERT:
            continue
        elif isinstance(item, Decimal):
            if item > MAX_RATE_PCT:
                return True
        elif isinstance(item, BaseModel):
            pending.extend(item.__dict__.values())
            if item.__pydantic_extra__:
                pending.extend(item.__pydantic_extra__.values())
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


_INERT = frozenset({type(None), bool, int, date, datetime})
"""Types of value with nothing in them to refuse."""


def _check_recordable(value: object, path: str) -> None:
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise InvalidValue(path, "text must not hold NUL characters or lone surrogates")
    elif isinstance(value, Decimal):
        if value > MAX_RATE_PCT:
            raise InvalidValue(path, f"{value} is not a plausible rate (at most {MAX_RATE_PCT})")
    elif isinstance(value, BaseModel):
        for name, item in value:
            _check_recordable(item, f"{path}.{name}" if path else name)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_recordable(key, path)
            _check_recordable(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_recordable(item, f"{path}.{index}" if path else str(index))


def to_batch_item(line: DatasetLine) -> BatchItem:
    """The `Ledger.append_batch` item for a validated line.

    A creating line (imposed, opened) takes its key from the line's stream when it names
    the stream by key and gives none itself.
    """
    check_recordable(line, "")
    stream_id = line.stream_id
    if isinstance(line, MeasureImposed | NegotiationOpened):
        if line.key is None and line.stream_key is not None:
            line = line.model_copy(update={"key": line.stream_key})
        return line.to_command(stream_id)
    if isinstance(line, MeasureChangeIn | NegotiationStepIn):
        return AppendChange(stream_id, line.to_change())
    raise TypeError(f"not a dataset line: {line!r}")  # pragma: no cover


# -- errors and JSON Schema -------------------------------------------------------------

_KINDS = frozenset({MEASURE, NEGOTIATION})
_OWN_MESSAGES = frozenset({"invalid_value", "stream_missing", "missing"})
"""Error types whose message already says what was wrong, without echoing the input."""


def error_fields(error: ValidationError) -> list[tuple[str, str]]:
    """(field path, message) for each error, without the union tags pydantic puts in paths.

    Validating a dataset line puts the stream kind and the event type at the head of each
    location ("measure", "rate_changed", "sources", 0, ...); validating a MeasureEvent or
    NegotiationEvent puts the event type. Readers want "sources.0.reliability".
    """
    measure_types, negotiation_types = measure_event_types(), negotiation_event_types()
    described: list[tuple[str, str]] = []
    for detail in error.errors(include_url=False):
        loc = list(detail["loc"])
        kind = loc[0] if loc and loc[0] in _KINDS else None
        message = detail["msg"]
        if detail["type"] == "union_tag_not_found":
            loc, message = ["type"], "Field required"
        elif detail["type"] == "union_tag_invalid":
            context = detail.get("ctx") or {}
            loc = ["type"]
            message = (
                f"unknown event type {context.get('tag')!r}"
                + (f" for a {kind}" if kind else "")
                + f"; expected one of {context.get('expected_tags')}"
            )
        elif kind is not None and len(loc) >= 2:
            types = measure_types if kind == MEASURE else negotiation_types
            loc = loc[2:] if loc[1] in types else loc
        elif loc and loc[0] in measure_types | negotiation_types:
            loc = loc[1:]
        given = detail.get("input")
        if detail["type"] not in _OWN_MESSAGES and isinstance(given, str | int | Decimal):
            shown = str(given) if isinstance(given, Decimal) else repr(given)
            if len(shown) <= 60 and not message.startswith("unknown event type"):
                message = f"{message} (got {shown})"
        described.append((".".join(str(part) for part in loc), message))
    return described


def describe_errors(error: ValidationError, limit: int = 3) -> str:
    """The errors on one line: "sources.0.reliability: Input should be ...; ..."."""
    fields = error_fields(error)
    parts = [f"{path}: {message}" if path else message for path, message in fields[:limit]]
    if len(fields) > limit:
        parts.append(f"and {len(fields) - limit} more")
    return "; ".join(parts)


def dataset_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one dataset line."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "tradeledger dataset line",
        "description": (
            "One line of a tradeledger dataset file (JSON Lines): an event of a tariff "
            "measure or of a negotiation, plus exactly one of 'measure' or 'negotiation' "
            "naming its stream by key or UUID. Lines are applied in order; a file is "
            "recorded entirely or not at all, and loading it again adds nothing "
            "(events are matched by event_id)."
        ),
        **DATASET_LINE.json_schema(),
    }


def write_json_schema(path: Path | str) -> None:
    """Write the dataset line schema (stable output, so the checked-in copy can be diffed)."""
    text = json.dumps(dataset_json_schema(), indent=2, ensure_ascii=False) + "\n"
    Path(path).write_text(text, encoding="utf-8")
