"""The changes a client may append to a measure: one typed command per public event type.

A change is a call to one of `TariffMeasure`'s verbs, held until the Ledger has loaded
the measure (see domain.verb_call): the common facts of the event, and the verb's own
arguments, typed as the verb types them. `MEASURE_CHANGES` names each by the public type
of the event it records ("rate_changed"), as clients and dataset files name it.
"""

from __future__ import annotations

from domain.measure import TariffMeasure
from domain.verb_call import VerbCall, Verbs


class MeasureChange(VerbCall[TariffMeasure]):
    """A change to append to a measure: the verb to call, the facts of its event, and the
    verb's arguments."""


MEASURE_CHANGES = Verbs(TariffMeasure, MeasureChange)
"""Every change a client may append to a measure, by the public type of its event."""

_change = MEASURE_CHANGES.enter

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
