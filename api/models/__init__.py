"""Request and response models of the HTTP API (the `XCreate` / `XPublic` ladder).

The names below are the package's public ones: import them from `api.models`. The
modules behind them, one job each:

- `public`: the base of the answer models, exact rates as JSON numbers, and `mirrors`
  (a model showing the fields of an answer dataclass);
- `writing`: the bodies a client writes with, and what a write answers;
- `reading`: the answers of the read side, each carrying the point in time it is for;
- `feed`: the global event log as CloudEvents, a page at a time.
"""

from api.models.feed import CloudEventPublic, EventsPagePublic
from api.models.public import Number, Public
from api.models.reading import (
    AppliedMeasurePublic,
    AsOfPublic,
    ChangePublic,
    DiffPublic,
    DutyPublic,
    FinerLinePublic,
    MeasurePublic,
    NegotiationPublic,
    PointPublic,
    PrecedenceRulePublic,
    RateInForcePublic,
    SchedulePublic,
    SchemasPublic,
    ScopeEntryPublic,
    SkippedMeasurePublic,
    StepPublic,
    SuspensionPublic,
    TimelineEntryPublic,
    TimelinePublic,
)
from api.models.writing import (
    MeasureBatchCreate,
    MeasureCreate,
    MeasureEventsCreate,
    NegotiationBatchCreate,
    NegotiationCreate,
    NegotiationEventsCreate,
    RecordedEventPublic,
    WrittenPublic,
    events_of,
)

__all__ = [
    "AppliedMeasurePublic",
    "AsOfPublic",
    "ChangePublic",
    "CloudEventPublic",
    "DiffPublic",
    "DutyPublic",
    "EventsPagePublic",
    "FinerLinePublic",
    "MeasureBatchCreate",
    "MeasureCreate",
    "MeasureEventsCreate",
    "MeasurePublic",
    "NegotiationBatchCreate",
    "NegotiationCreate",
    "NegotiationEventsCreate",
    "NegotiationPublic",
    "Number",
    "PointPublic",
    "PrecedenceRulePublic",
    "Public",
    "RateInForcePublic",
    "RecordedEventPublic",
    "SchedulePublic",
    "SchemasPublic",
    "ScopeEntryPublic",
    "SkippedMeasurePublic",
    "StepPublic",
    "SuspensionPublic",
    "TimelineEntryPublic",
    "TimelinePublic",
    "WrittenPublic",
    "events_of",
]
