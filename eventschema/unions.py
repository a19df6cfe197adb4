"""The unions of each kind of stream's event models, told apart by `type`, and the public
type names of its events."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, TypeAlias

from eventschema import facts
from eventschema.measures import MEASURE_CHANGE_MODELS, MEASURE_EVENT_MODELS
from eventschema.negotiations import NEGOTIATION_EVENT_MODELS, NEGOTIATION_STEP_MODELS

# What type checkers can know: each is one of the models (isinstance tells which).
if TYPE_CHECKING:
    MeasureEvent: TypeAlias = facts.MeasureEventIn
    MeasureChange: TypeAlias = facts.MeasureChangeIn
    NegotiationEvent: TypeAlias = facts.NegotiationEventIn
    NegotiationStep: TypeAlias = facts.NegotiationStepIn
else:
    MeasureEvent = facts.one_of(MEASURE_EVENT_MODELS)
    """Any event of a measure's stream (an HTTP body for one measure)."""
    MeasureChange = facts.one_of(MEASURE_CHANGE_MODELS)
    """Any change to an existing measure (an HTTP body appending to one)."""
    NegotiationEvent = facts.one_of(NEGOTIATION_EVENT_MODELS)
    """Any event of a negotiation's stream (an HTTP body for one negotiation)."""
    NegotiationStep = facts.one_of(NEGOTIATION_STEP_MODELS)
    """Any step of an existing negotiation (an HTTP body appending to one)."""


def event_types(models: tuple[type[facts.EventIn], ...]) -> frozenset[str]:
    """The public type names of the events of `models`."""
    return frozenset(facts.event_type_of(model) for model in models)


measure_event_types = functools.partial(event_types, MEASURE_EVENT_MODELS)
"""The public type names of measure events, from the models."""

negotiation_event_types = functools.partial(event_types, NEGOTIATION_EVENT_MODELS)
"""The public type names of negotiation events, from the models."""
