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

The names below are the package's public ones: import them from `eventschema`. The
modules behind them, one job each:

- `values`: the value types (country codes, HS prefixes, rates, dates, text, identifiers);
- `streams`: references to a measure or a negotiation, by key or UUID;
- `facts`: what every event carries, and the bases of the event models;
- `measures`, `negotiations`: one model per event type of each kind of stream;
- `unions`: the union of each kind's models, told apart by `type`, and their type names;
- `examples`: the example of every event type, as data;
- `lines`: a dataset line, and its conversion to a batch item;
- `recordable`: what the store would take but never give back in one piece;
- `errors`: validation errors as one line of text;
- `json_schema`: the JSON Schema of a dataset line, and its checked-in copy.
"""

from eventschema.errors import describe_errors, error_fields
from eventschema.examples import MEASURE_EXAMPLES, NEGOTIATION_EXAMPLES
from eventschema.facts import (
    EventIn,
    MeasureChangeIn,
    MeasureEventIn,
    NegotiationEventIn,
    NegotiationStepIn,
    SourceIn,
)
from eventschema.json_schema import (
    SCHEMA_ID,
    SCHEMA_PATH,
    dataset_json_schema,
    write_json_schema,
)
from eventschema.lines import (
    DATASET_LINE,
    LINE_MODELS,
    DatasetLine,
    MeasureLine,
    NegotiationLine,
    to_batch_item,
)
from eventschema.measures import (
    MEASURE_CHANGE_MODELS,
    MEASURE_EVENT_MODELS,
    MeasureExclusionGranted,
    MeasureExclusionRevoked,
    MeasureImposed,
    MeasureLegalStatusChanged,
    MeasurePrecedenceDeclared,
    MeasureRateChanged,
    MeasureRecordCorrected,
    MeasureScopeChanged,
    MeasureSuspensionExtended,
    MeasureSuspensionGranted,
    MeasureTerminated,
)
from eventschema.negotiations import (
    NEGOTIATION_EVENT_MODELS,
    NEGOTIATION_STEP_MODELS,
    NegotiationAgreementSigned,
    NegotiationBreachAlleged,
    NegotiationConcessionOffered,
    NegotiationContactMade,
    NegotiationDealAnnounced,
    NegotiationDevelopmentReported,
    NegotiationFrameworkAgreed,
    NegotiationImplementingActionTaken,
    NegotiationInvalidated,
    NegotiationJointStatementIssued,
    NegotiationOpened,
    NegotiationPreconditionMet,
    NegotiationPreconditionStated,
    NegotiationProposalTabled,
    NegotiationRecordCorrected,
    NegotiationRoundHeld,
    NegotiationSuperseded,
    NegotiationTalksCollapsed,
    NegotiationTalksPostponed,
    NegotiationTalksResumed,
    NegotiationTalksScheduled,
    NegotiationTalksSuspended,
    NegotiationTerminated,
    NegotiationThreatIssued,
    NegotiationTruceExtended,
)
from eventschema.recordable import MAX_RATE_PCT, check_recordable
from eventschema.streams import Key, MeasureRef, NegotiationRef, StreamRef
from eventschema.unions import (
    MeasureChange,
    MeasureEvent,
    NegotiationEvent,
    NegotiationStep,
    measure_event_types,
    negotiation_event_types,
)
from eventschema.values import (
    ID_RULE,
    AnnouncedAt,
    Country,
    EventId,
    HsPrefix,
    Identifier,
    IsoDate,
    NonBlank,
    Rate,
    Target,
    Text,
)

__all__ = [
    "DATASET_LINE",
    "ID_RULE",
    "LINE_MODELS",
    "MAX_RATE_PCT",
    "MEASURE_CHANGE_MODELS",
    "MEASURE_EVENT_MODELS",
    "MEASURE_EXAMPLES",
    "NEGOTIATION_EVENT_MODELS",
    "NEGOTIATION_EXAMPLES",
    "NEGOTIATION_STEP_MODELS",
    "SCHEMA_ID",
    "SCHEMA_PATH",
    "AnnouncedAt",
    "Country",
    "DatasetLine",
    "EventId",
    "EventIn",
    "HsPrefix",
    "Identifier",
    "IsoDate",
    "Key",
    "MeasureChange",
    "MeasureChangeIn",
    "MeasureEvent",
    "MeasureEventIn",
    "MeasureExclusionGranted",
    "MeasureExclusionRevoked",
    "MeasureImposed",
    "MeasureLegalStatusChanged",
    "MeasureLine",
    "MeasurePrecedenceDeclared",
    "MeasureRateChanged",
    "MeasureRecordCorrected",
    "MeasureRef",
    "MeasureScopeChanged",
    "MeasureSuspensionExtended",
    "MeasureSuspensionGranted",
    "MeasureTerminated",
    "NegotiationAgreementSigned",
    "NegotiationBreachAlleged",
    "NegotiationConcessionOffered",
    "NegotiationContactMade",
    "NegotiationDealAnnounced",
    "NegotiationDevelopmentReported",
    "NegotiationEvent",
    "NegotiationEventIn",
    "NegotiationFrameworkAgreed",
    "NegotiationImplementingActionTaken",
    "NegotiationInvalidated",
    "NegotiationJointStatementIssued",
    "NegotiationLine",
    "NegotiationOpened",
    "NegotiationPreconditionMet",
    "NegotiationPreconditionStated",
    "NegotiationProposalTabled",
    "NegotiationRecordCorrected",
    "NegotiationRef",
    "NegotiationRoundHeld",
    "NegotiationStep",
    "NegotiationStepIn",
    "NegotiationSuperseded",
    "NegotiationTalksCollapsed",
    "NegotiationTalksPostponed",
    "NegotiationTalksResumed",
    "NegotiationTalksScheduled",
    "NegotiationTalksSuspended",
    "NegotiationTerminated",
    "NegotiationThreatIssued",
    "NegotiationTruceExtended",
    "NonBlank",
    "Rate",
    "SourceIn",
    "StreamRef",
    "Target",
    "Text",
    "check_recordable",
    "dataset_json_schema",
    "describe_errors",
    "error_fields",
    "measure_event_types",
    "negotiation_event_types",
    "to_batch_item",
    "write_json_schema",
]
