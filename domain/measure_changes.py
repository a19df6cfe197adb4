"""The changes a client may append to a measure: one typed command per public event type.

A change is a call to one of `TariffMeasure`'s verbs, held until the Ledger has loaded
the measure (see domain.verb_call): the common facts of the event, and the verb's own
arguments, typed as the verb types them. `MEASURE_CHANGES` names each by the public type
of the event it records ("rate_changed"), as clients and dataset files name it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Concatenate, ParamSpec

from domain.events import Facts
from domain.measure import TariffMeasure
from domain.verb_call import Verb, VerbCall

_P = ParamSpec("_P")


class MeasureChange(VerbCall[TariffMeasure]):
    """A change to append to a measure: the verb to call, the facts of its event, and the
    verb's arguments."""


def _change(
    event: type[TariffMeasure.Event], method: Callable[Concatenate[TariffMeasure, Facts, _P], None]
) -> Verb[MeasureChange, _P]:
    return Verb(MeasureChange, event, method)


ChangeRate = _change(TariffMeasure.RateChanged, TariffMeasure.change_rate)
ChangeScope = _change(TariffMeasure.ScopeChanged, TariffMeasure.change_scope)
GrantExclusion = _change(TariffMeasure.ExclusionGranted, TariffMeasure.grant_exclusion)
RevokeExclusion = _change(TariffMeasure.ExclusionRevoked, TariffMeasure.revoke_exclusion)
GrantSuspension = _change(TariffMeasure.SuspensionGranted, TariffMeasure.grant_suspension)
ExtendSuspension = _change(TariffMeasure.SuspensionExtended, TariffMeasure.extend_suspension)
TerminateMeasure = _change(TariffMeasure.Terminated, TariffMeasure.terminate)
DeclarePrecedence = _change(TariffMeasure.PrecedenceDeclared, TariffMeasure.declare_precedence)
ChangeLegalStatus = _change(TariffMeasure.LegalStatusChanged, TariffMeasure.change_legal_status)
CorrectMeasureRecord = _change(TariffMeasure.RecordCorrected, TariffMeasure.correct_record)

MEASURE_CHANGES: Mapping[str, Verb[MeasureChange, ...]] = {
    verb.event_type: verb
    for verb in (
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
