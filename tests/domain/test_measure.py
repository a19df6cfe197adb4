"""The TariffMeasure aggregate: each command, the event it records, and the steps it refuses.

The aggregate keeps only what its guards need (metadata, event ids, suspension starts);
what rate applied on a day is a fold done by the read side, so these tests check the
events in full and the little state the aggregate keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.errors import (
    DuplicateEventId,
    InvalidMeasureChange,
    UnknownEventReference,
)
from domain.events import Facts
from domain.measure import MeasureTerms, TariffMeasure
from domain.values import Provenance, Reliability, Source

FEDERAL_REGISTER = Source(
    "https://www.federalregister.gov/documents/2025/04/07/2025-06063",
    "Federal Register",
    Reliability.OFFICIAL,
)
PROVENANCE = Provenance((FEDERAL_REGISTER,), recorded_by="analyst@tradeledger")


def facts(event_id: str, effective_on: date | None, announced_on: date | None = None) -> Facts:
    """The common facts of an event; announced at midnight UTC on `announced_on`
    (by default the day it takes effect)."""
    announced = announced_on or effective_on
    assert announced is not None, "give announced_on when effective_on is unknown"
    return Facts(
        event_id=event_id,
        effective_on=effective_on,
        announced_at=datetime.combine(announced, time.min, tzinfo=UTC),
        provenance=PROVENANCE,
    )


def impose_reciprocal(measure_id: UUID) -> TariffMeasure:
    """The US reciprocal tariff on China as first imposed: 34% on every product."""
    return TariffMeasure.impose(
        measure_id=measure_id,
        facts=facts("US-CN-RECIP-34", date(2025, 4, 9), announced_on=date(2025, 4, 2)),
        key="us-cn-reciprocal",
        terms=MeasureTerms(
            imposer="US",
            name="Reciprocal tariff on China (EO 14257)",
            targets=("CN",),
            excluded_targets=(),
            layer="ieepa_reciprocal",
            instruments=("EO 14257",),
            rate_pct=Decimal("34"),
            rate_by_prefix={},
            hs_prefixes=("",),
            excluded_hs_prefixes=("2709",),
        ),
    )


@pytest.fixture
def measure() -> TariffMeasure:
    """The reciprocal measure, its creation already saved (nothing pending)."""
    measure = impose_reciprocal(uuid4())
    measure.collect_events()
    return measure


@pytest.fixture
def suspended(measure: TariffMeasure) -> TariffMeasure:
    """The reciprocal measure with Geneva's 24-point suspension saved."""
    measure.change_rate(
        facts("US-CN-GENEVA-RATE", date(2025, 5, 14)), rate_pct=Decimal("34"), hs_prefixes=()
    )
    measure.grant_suspension(
        facts("US-CN-GENEVA-SUSP", date(2025, 5, 14), announced_on=date(2025, 5, 12)),
        points=Decimal("24"),
        ends_on=date(2025, 8, 12),
    )
    measure.collect_events()
    return measure


def only_event(events: Sequence[object]) -> object:
    assert len(events) == 1, events
    return events[0]


def snapshot(measure: TariffMeasure) -> tuple[int, list[Any], dict[str, str], dict[str, date]]:
    """What a refused command must leave untouched."""
    return (
        measure.version,
        list(measure.pending_events),
        dict(measure.event_types),
        dict(measure.suspension_starts),
    )


# -- impose ---------------------------------------------------------------------------


def test_imposing_a_measure_records_its_initial_rate_and_scope() -> None:
    measure_id = uuid4()

    measure = impose_reciprocal(measure_id)

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.Imposed)
    assert event.originator_id == measure_id
    assert event.originator_version == 1
    assert event.event_id == "US-CN-RECIP-34"
    assert event.effective_on == date(2025, 4, 9)
    assert event.announced_at == datetime(2025, 4, 2, tzinfo=UTC)
    assert event.provenance == PROVENANCE
    assert event.key == "us-cn-reciprocal"
    assert event.imposer == "US"
    assert event.name == "Reciprocal tariff on China (EO 14257)"
    assert event.targets == ("CN",)
    assert event.excluded_targets == ()
    assert event.layer == "ieepa_reciprocal"
    assert event.instruments == ("EO 14257",)
    assert event.rate_pct == Decimal("34")
    assert event.rate_by_prefix == {}
    assert event.hs_prefixes == ("",)
    assert event.excluded_hs_prefixes == ("2709",)


def test_an_imposed_measure_knows_its_terms_and_its_first_event() -> None:
    measure_id = uuid4()

    measure = impose_reciprocal(measure_id)

    assert measure.id == measure_id
    assert measure.version == 1
    assert measure.key == "us-cn-reciprocal"
    assert measure.imposer == "US"
    assert measure.name == "Reciprocal tariff on China (EO 14257)"
    assert measure.targets == ("CN",)
    assert measure.excluded_targets == ()
    assert measure.layer == "ieepa_reciprocal"
    assert measure.instruments == ("EO 14257",)
    assert measure.event_types == {"US-CN-RECIP-34": "imposed"}
    assert measure.suspension_starts == {}
    assert measure.has_event("US-CN-RECIP-34")


def test_a_measure_may_be_imposed_with_product_specific_rates_only() -> None:
    measure_id = uuid4()

    measure = TariffMeasure.impose(
        measure_id=measure_id,
        facts=facts("US-301-LEGACY", date(2018, 7, 6), announced_on=date(2018, 6, 15)),
        key="us-cn-301",
        terms=MeasureTerms(
            imposer="US",
            name="Section 301 China tariffs",
            targets=("CN",),
            excluded_targets=(),
            layer="section_301",
            instruments=("9903.88.01", "9903.88.03"),
            rate_pct=None,
            rate_by_prefix={"870380": Decimal("100"), "870323": Decimal("25")},
            hs_prefixes=(),
            excluded_hs_prefixes=("95030000", "851713", "847130"),
        ),
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.Imposed)
    assert event.rate_pct is None
    assert event.rate_by_prefix == {"870380": Decimal("100"), "870323": Decimal("25")}
    assert measure.layer == "section_301"


def test_a_measure_on_every_origin_may_exclude_some_origins() -> None:
    measure = TariffMeasure.impose(
        measure_id=uuid4(),
        facts=facts("US-RECIP-BASELINE", date(2025, 4, 5), announced_on=date(2025, 4, 2)),
        key="us-reciprocal-baseline",
        terms=MeasureTerms(
            imposer="US",
            name="Reciprocal baseline tariff (EO 14257)",
            targets=("*",),
            excluded_targets=("CA", "MX"),
            layer="ieepa_reciprocal",
            instruments=("EO 14257",),
            rate_pct=Decimal("10"),
            rate_by_prefix={},
            hs_prefixes=("",),
            excluded_hs_prefixes=(),
        ),
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.Imposed)
    assert event.targets == ("*",)
    assert event.excluded_targets == ("CA", "MX")
    assert measure.excluded_targets == ("CA", "MX")


def test_a_measure_without_a_known_start_takes_effect_when_announced() -> None:
    measure = TariffMeasure.impose(
        measure_id=uuid4(),
        facts=facts("CN-QUIET-EXEMPTIONS", None, announced_on=date(2025, 4, 29)),
        key="cn-us-quiet-exemptions",
        terms=MeasureTerms(
            imposer="CN",
            name="Unofficial exemptions for US goods",
            targets=("US",),
            excluded_targets=(),
            layer="cn_counter",
            instruments=(),
            rate_pct=Decimal("0"),
            rate_by_prefix={},
            hs_prefixes=("290111",),
            excluded_hs_prefixes=(),
        ),
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.Imposed)
    assert event.effective_on is None
    assert event.occurred_on == date(2025, 4, 29)


def test_a_measure_cannot_be_imposed_on_no_target() -> None:
    measure_id = uuid4()

    with pytest.raises(InvalidMeasureChange) as raised:
        TariffMeasure.impose(
            measure_id=measure_id,
            facts=facts("X-1", date(2025, 3, 12)),
            key="us-steel-232",
            terms=MeasureTerms(
                imposer="US",
                name="Section 232 steel",
                targets=(),
                excluded_targets=(),
                layer="section_232_steel",
                instruments=(),
                rate_pct=Decimal("25"),
                rate_by_prefix={},
                hs_prefixes=("72",),
                excluded_hs_prefixes=(),
            ),
        )

    assert raised.value.measure_id == measure_id
    assert raised.value.event_type == "imposed"
    assert "target" in raised.value.message


def test_a_measure_cannot_be_imposed_without_any_rate() -> None:
    measure_id = uuid4()

    with pytest.raises(InvalidMeasureChange) as raised:
        TariffMeasure.impose(
            measure_id=measure_id,
            facts=facts("X-1", date(2025, 3, 12)),
            key="us-steel-232",
            terms=MeasureTerms(
                imposer="US",
                name="Section 232 steel",
                targets=("*",),
                excluded_targets=(),
                layer="section_232_steel",
                instruments=(),
                rate_pct=None,
                rate_by_prefix={},
                hs_prefixes=("72",),
                excluded_hs_prefixes=(),
            ),
        )

    assert raised.value.measure_id == measure_id
    assert raised.value.event_type == "imposed"
    assert "rate" in raised.value.message


@pytest.mark.parametrize(
    ("name", "layer"), [("  ", "section_232_steel"), ("Section 232 steel", "")]
)
def test_a_measure_cannot_be_imposed_without_a_name_and_a_layer(name: str, layer: str) -> None:
    measure_id = uuid4()

    with pytest.raises(InvalidMeasureChange) as raised:
        TariffMeasure.impose(
            measure_id=measure_id,
            facts=facts("X-1", date(2025, 3, 12)),
            key="us-steel-232",
            terms=MeasureTerms(
                imposer="US",
                name=name,
                targets=("*",),
                excluded_targets=(),
                layer=layer,
                instruments=(),
                rate_pct=Decimal("25"),
                rate_by_prefix={},
                hs_prefixes=("72",),
                excluded_hs_prefixes=(),
            ),
        )

    assert raised.value.measure_id == measure_id


# -- change_rate ----------------------------------------------------------------------


def test_changing_the_rate_records_the_new_general_rate(measure: TariffMeasure) -> None:
    measure.change_rate(
        facts("US-CN-RECIP-84", date(2025, 4, 9)), rate_pct=Decimal("84"), hs_prefixes=()
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.RateChanged)
    assert event.originator_id == measure.id
    assert event.originator_version == 2
    assert event.event_id == "US-CN-RECIP-84"
    assert event.effective_on == date(2025, 4, 9)
    assert event.rate_pct == Decimal("84")
    assert event.hs_prefixes == ()
    assert measure.version == 2
    assert measure.event_types["US-CN-RECIP-84"] == "rate_changed"


def test_changing_the_rate_of_some_prefixes_records_them(measure: TariffMeasure) -> None:
    measure.change_rate(
        facts("US-301-SEMIS-50", date(2025, 1, 1)),
        rate_pct=Decimal("50"),
        hs_prefixes=("8541", "8542"),
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.RateChanged)
    assert event.rate_pct == Decimal("50")
    assert event.hs_prefixes == ("8541", "8542")


def test_successive_rate_changes_are_recorded_in_order(measure: TariffMeasure) -> None:
    measure.change_rate(
        facts("US-CN-RECIP-84", date(2025, 4, 9)), rate_pct=Decimal("84"), hs_prefixes=()
    )
    measure.change_rate(
        facts("US-CN-RECIP-125", date(2025, 4, 10)), rate_pct=Decimal("125"), hs_prefixes=()
    )

    events = measure.collect_events()

    assert [(type(e), e.originator_version) for e in events] == [
        (TariffMeasure.RateChanged, 2),
        (TariffMeasure.RateChanged, 3),
    ]
    assert [e.rate_pct for e in events if isinstance(e, TariffMeasure.RateChanged)] == [
        Decimal("84"),
        Decimal("125"),
    ]
    assert measure.version == 3


def test_rate_changed_is_at_class_version_2() -> None:
    class_version = TariffMeasure.RateChanged.class_version

    assert class_version == 2


# -- change_scope ---------------------------------------------------------------------


def test_changing_the_scope_records_the_prefixes_added_and_removed(measure: TariffMeasure) -> None:
    measure.change_scope(
        facts("US-CN-SCOPE-1", date(2025, 6, 1)),
        added_hs_prefixes=("8703",),
        removed_hs_prefixes=("2709",),
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.ScopeChanged)
    assert event.event_id == "US-CN-SCOPE-1"
    assert event.added_hs_prefixes == ("8703",)
    assert event.removed_hs_prefixes == ("2709",)
    assert measure.event_types["US-CN-SCOPE-1"] == "scope_changed"


def test_a_scope_change_may_only_add(measure: TariffMeasure) -> None:
    measure.change_scope(
        facts("US-CN-SCOPE-1", date(2025, 6, 1)),
        added_hs_prefixes=("8703",),
        removed_hs_prefixes=(),
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.ScopeChanged)
    assert event.removed_hs_prefixes == ()


def test_a_scope_change_that_adds_and_removes_nothing_is_refused(measure: TariffMeasure) -> None:
    before = snapshot(measure)

    with pytest.raises(InvalidMeasureChange) as raised:
        measure.change_scope(
            facts("US-CN-SCOPE-1", date(2025, 6, 1)), added_hs_prefixes=(), removed_hs_prefixes=()
        )

    assert raised.value.event_type == "scope_changed"
    assert raised.value.measure_id == measure.id
    assert snapshot(measure) == before


# -- grant_exclusion / revoke_exclusion -----------------------------------------------


def test_granting_an_exclusion_records_the_products_excluded(measure: TariffMeasure) -> None:
    measure.grant_exclusion(
        facts("US-CN-ELECTRONICS-EXCL", date(2025, 4, 5), announced_on=date(2025, 4, 11)),
        hs_prefixes=("851713", "847130"),
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.ExclusionGranted)
    assert event.event_id == "US-CN-ELECTRONICS-EXCL"
    assert event.hs_prefixes == ("851713", "847130")
    assert event.effective_on == date(2025, 4, 5)
    assert event.announced_at == datetime(2025, 4, 11, tzinfo=UTC)
    assert measure.event_types["US-CN-ELECTRONICS-EXCL"] == "exclusion_granted"


def test_revoking_an_exclusion_records_the_products_charged_again(measure: TariffMeasure) -> None:
    measure.grant_exclusion(facts("EXCL", date(2025, 4, 5)), hs_prefixes=("851713", "847130"))

    measure.revoke_exclusion(facts("EXCL-REVOKED", date(2025, 9, 1)), hs_prefixes=("847130",))

    events = measure.collect_events()
    assert [type(e) for e in events] == [
        TariffMeasure.ExclusionGranted,
        TariffMeasure.ExclusionRevoked,
    ]
    revoked = events[1]
    assert isinstance(revoked, TariffMeasure.ExclusionRevoked)
    assert revoked.hs_prefixes == ("847130",)
    assert revoked.originator_version == 3
    assert measure.event_types["EXCL-REVOKED"] == "exclusion_revoked"


@pytest.mark.parametrize(
    ("command", "event_type"),
    [("grant_exclusion", "exclusion_granted"), ("revoke_exclusion", "exclusion_revoked")],
)
def test_an_exclusion_without_prefixes_is_refused(
    measure: TariffMeasure, command: str, event_type: str
) -> None:
    before = snapshot(measure)

    with pytest.raises(InvalidMeasureChange) as raised:
        getattr(measure, command)(facts("EXCL", date(2025, 4, 5)), hs_prefixes=())

    assert raised.value.event_type == event_type
    assert snapshot(measure) == before


# -- grant_suspension / extend_suspension ---------------------------------------------


def test_granting_a_suspension_records_the_points_and_the_snapback_day(
    measure: TariffMeasure,
) -> None:
    measure.grant_suspension(
        facts("US-CN-GENEVA-SUSP", date(2025, 5, 14), announced_on=date(2025, 5, 12)),
        points=Decimal("24"),
        ends_on=date(2025, 8, 12),
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.SuspensionGranted)
    assert event.event_id == "US-CN-GENEVA-SUSP"
    assert event.points == Decimal("24")
    assert event.ends_on == date(2025, 8, 12)
    assert measure.suspension_starts == {"US-CN-GENEVA-SUSP": date(2025, 5, 14)}
    assert measure.event_types["US-CN-GENEVA-SUSP"] == "suspension_granted"


def test_a_suspension_of_the_whole_rate_has_no_points(measure: TariffMeasure) -> None:
    measure.grant_suspension(
        facts("SUSP-ALL", date(2019, 12, 15)), points=None, ends_on=date(2026, 1, 1)
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.SuspensionGranted)
    assert event.points is None


def test_a_suspension_with_no_known_start_starts_when_announced(measure: TariffMeasure) -> None:
    measure.grant_suspension(
        facts("SUSP", None, announced_on=date(2025, 5, 12)),
        points=Decimal("24"),
        ends_on=date(2025, 8, 12),
    )

    assert measure.suspension_starts == {"SUSP": date(2025, 5, 12)}


@pytest.mark.parametrize("ends_on", [date(2025, 5, 13), date(2025, 5, 14)])
def test_a_suspension_must_end_after_it_starts(measure: TariffMeasure, ends_on: date) -> None:
    before = snapshot(measure)

    with pytest.raises(InvalidMeasureChange) as raised:
        measure.grant_suspension(
            facts("SUSP", date(2025, 5, 14)), points=Decimal("24"), ends_on=ends_on
        )

    assert raised.value.event_type == "suspension_granted"
    assert str(ends_on) in raised.value.message
    assert snapshot(measure) == before


def test_a_suspension_announced_without_a_start_must_end_after_its_announcement(
    measure: TariffMeasure,
) -> None:
    before = snapshot(measure)

    with pytest.raises(InvalidMeasureChange):
        measure.grant_suspension(
            facts("SUSP", None, announced_on=date(2025, 5, 12)),
            points=None,
            ends_on=date(2025, 5, 1),
        )

    assert snapshot(measure) == before


def test_extending_a_suspension_records_its_new_end(suspended: TariffMeasure) -> None:
    suspended.extend_suspension(
        facts("US-CN-TRUCE-EXT-1", date(2025, 8, 11)),
        suspension_event_id="US-CN-GENEVA-SUSP",
        ends_on=date(2025, 11, 10),
    )

    event = only_event(suspended.collect_events())
    assert isinstance(event, TariffMeasure.SuspensionExtended)
    assert event.event_id == "US-CN-TRUCE-EXT-1"
    assert event.suspension_event_id == "US-CN-GENEVA-SUSP"
    assert event.ends_on == date(2025, 11, 10)
    assert suspended.event_types["US-CN-TRUCE-EXT-1"] == "suspension_extended"
    assert suspended.suspension_starts == {"US-CN-GENEVA-SUSP": date(2025, 5, 14)}


def test_a_suspension_may_be_extended_more_than_once(suspended: TariffMeasure) -> None:
    suspended.extend_suspension(
        facts("EXT-1", date(2025, 8, 11)),
        suspension_event_id="US-CN-GENEVA-SUSP",
        ends_on=date(2025, 11, 10),
    )
    suspended.extend_suspension(
        facts("EXT-2", date(2025, 11, 10), announced_on=date(2025, 11, 4)),
        suspension_event_id="US-CN-GENEVA-SUSP",
        ends_on=date(2026, 11, 10),
    )

    events = suspended.collect_events()

    assert [e.ends_on for e in events if isinstance(e, TariffMeasure.SuspensionExtended)] == [
        date(2025, 11, 10),
        date(2026, 11, 10),
    ]
    assert suspended.version == 5


def test_a_suspension_granted_in_the_same_batch_can_be_extended(measure: TariffMeasure) -> None:
    measure.grant_suspension(
        facts("SUSP", date(2025, 5, 14)), points=Decimal("24"), ends_on=date(2025, 8, 12)
    )

    measure.extend_suspension(
        facts("EXT", date(2025, 8, 11)), suspension_event_id="SUSP", ends_on=date(2025, 11, 10)
    )

    assert [type(e) for e in measure.pending_events] == [
        TariffMeasure.SuspensionGranted,
        TariffMeasure.SuspensionExtended,
    ]


@pytest.mark.parametrize(
    "reference",
    [
        "NO-SUCH-EVENT",
        "US-CN-RECIP-34",  # exists, but it is the imposition, not a suspension
        "US-CN-GENEVA-RATE",  # exists, but it is a rate change
    ],
)
def test_only_a_suspension_of_this_measure_can_be_extended(
    suspended: TariffMeasure, reference: str
) -> None:
    before = snapshot(suspended)

    with pytest.raises(UnknownEventReference) as raised:
        suspended.extend_suspension(
            facts("EXT", date(2025, 8, 11)),
            suspension_event_id=reference,
            ends_on=date(2025, 11, 10),
        )

    assert raised.value.stream_id == suspended.id
    assert raised.value.event_id == reference
    assert "suspension_granted" in raised.value.message
    assert snapshot(suspended) == before


@pytest.mark.parametrize("ends_on", [date(2025, 5, 1), date(2025, 5, 14)])
def test_an_extension_cannot_end_the_suspension_before_it_starts(
    suspended: TariffMeasure, ends_on: date
) -> None:
    before = snapshot(suspended)

    with pytest.raises(InvalidMeasureChange) as raised:
        suspended.extend_suspension(
            facts("EXT", date(2025, 8, 11)),
            suspension_event_id="US-CN-GENEVA-SUSP",
            ends_on=ends_on,
        )

    assert raised.value.event_type == "suspension_extended"
    assert "2025-05-14" in raised.value.message
    assert snapshot(suspended) == before


# -- terminate ------------------------------------------------------------------------


def test_terminating_a_measure_records_when_it_stops(measure: TariffMeasure) -> None:
    measure.terminate(facts("US-CN-RECIP-END", date(2026, 2, 24), announced_on=date(2026, 2, 20)))

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.Terminated)
    assert event.event_id == "US-CN-RECIP-END"
    assert event.effective_on == date(2026, 2, 24)
    assert event.announced_at == datetime(2026, 2, 20, tzinfo=UTC)
    assert measure.event_types["US-CN-RECIP-END"] == "terminated"
    assert measure.version == 2


# -- declare_precedence ---------------------------------------------------------------


@pytest.fixture
def autos_232() -> TariffMeasure:
    measure = TariffMeasure.impose(
        measure_id=uuid4(),
        facts=facts("US-232-AUTOS", date(2025, 4, 3), announced_on=date(2025, 3, 26)),
        key="us-232-autos",
        terms=MeasureTerms(
            imposer="US",
            name="Section 232 automobiles and parts",
            targets=("*",),
            excluded_targets=(),
            layer="section_232_autos",
            instruments=("Proclamation 10908",),
            rate_pct=Decimal("25"),
            rate_by_prefix={},
            hs_prefixes=("8703",),
            excluded_hs_prefixes=(),
        ),
    )
    measure.collect_events()
    return measure


def test_declaring_precedence_records_the_measures_and_layers_displaced(
    autos_232: TariffMeasure,
) -> None:
    steel_232 = uuid4().hex

    autos_232.declare_precedence(
        facts("EO-14289", date(2025, 3, 4), announced_on=date(2025, 4, 29)),
        displaces_measure_ids=(steel_232,),
        displaces_layers=("ieepa_fentanyl_ca_mx",),
        hs_prefixes=("8703",),
    )

    event = only_event(autos_232.collect_events())
    assert isinstance(event, TariffMeasure.PrecedenceDeclared)
    assert event.event_id == "EO-14289"
    assert event.effective_on == date(2025, 3, 4)
    assert event.displaces_measure_ids == (steel_232,)
    assert event.displaces_layers == ("ieepa_fentanyl_ca_mx",)
    assert event.hs_prefixes == ("8703",)
    assert autos_232.event_types["EO-14289"] == "precedence_declared"


def test_precedence_over_a_layer_alone_covers_everything_the_measure_covers(
    autos_232: TariffMeasure,
) -> None:
    autos_232.declare_precedence(
        facts("232-OVER-RECIPROCAL", date(2025, 4, 5)),
        displaces_measure_ids=(),
        displaces_layers=("ieepa_reciprocal",),
        hs_prefixes=(),
    )

    event = only_event(autos_232.collect_events())
    assert isinstance(event, TariffMeasure.PrecedenceDeclared)
    assert event.displaces_measure_ids == ()
    assert event.hs_prefixes == ()


def test_precedence_that_displaces_nothing_is_refused(autos_232: TariffMeasure) -> None:
    before = snapshot(autos_232)

    with pytest.raises(InvalidMeasureChange) as raised:
        autos_232.declare_precedence(
            facts("EO-14289", date(2025, 3, 4)),
            displaces_measure_ids=(),
            displaces_layers=(),
            hs_prefixes=("8703",),
        )

    assert raised.value.event_type == "precedence_declared"
    assert snapshot(autos_232) == before


def test_a_measure_cannot_displace_itself_by_id(autos_232: TariffMeasure) -> None:
    before = snapshot(autos_232)

    with pytest.raises(InvalidMeasureChange) as raised:
        autos_232.declare_precedence(
            facts("EO-14289", date(2025, 3, 4)),
            displaces_measure_ids=(uuid4().hex, autos_232.id.hex),
            displaces_layers=(),
            hs_prefixes=(),
        )

    assert "itself" in raised.value.message
    assert snapshot(autos_232) == before


@pytest.mark.parametrize("spelling", ["canonical uuid", "key"])
def test_a_measure_cannot_displace_itself_however_it_is_named(
    autos_232: TariffMeasure, spelling: str
) -> None:
    itself = str(autos_232.id) if spelling == "canonical uuid" else autos_232.key
    before = snapshot(autos_232)

    with pytest.raises(InvalidMeasureChange):
        autos_232.declare_precedence(
            facts("EO-14289", date(2025, 3, 4)),
            displaces_measure_ids=(itself,),
            displaces_layers=(),
            hs_prefixes=(),
        )

    assert snapshot(autos_232) == before


def test_a_measure_cannot_displace_its_own_layer(autos_232: TariffMeasure) -> None:
    before = snapshot(autos_232)

    with pytest.raises(InvalidMeasureChange) as raised:
        autos_232.declare_precedence(
            facts("EO-14289", date(2025, 3, 4)),
            displaces_measure_ids=(),
            displaces_layers=("section_232_autos",),
            hs_prefixes=(),
        )

    assert "itself" in raised.value.message
    assert snapshot(autos_232) == before


# -- change_legal_status --------------------------------------------------------------


def test_a_ruling_that_stops_collection_is_recorded_as_a_legal_status_change(
    measure: TariffMeasure,
) -> None:
    measure.change_legal_status(
        facts("SCOTUS-IEEPA", date(2026, 2, 24), announced_on=date(2026, 2, 20)),
        status="ruled_unlawful",
        collection_stops=True,
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.LegalStatusChanged)
    assert event.event_id == "SCOTUS-IEEPA"
    assert event.status == "ruled_unlawful"
    assert event.collection_stops is True
    assert event.effective_on == date(2026, 2, 24)
    assert measure.event_types["SCOTUS-IEEPA"] == "legal_status_changed"


def test_a_challenge_may_change_the_status_without_stopping_collection(
    measure: TariffMeasure,
) -> None:
    measure.change_legal_status(
        facts("CIT-RULING", date(2025, 5, 28)),
        status="ruled_unlawful_stayed",
        collection_stops=False,
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.LegalStatusChanged)
    assert event.collection_stops is False


def test_a_legal_status_change_needs_a_status(measure: TariffMeasure) -> None:
    before = snapshot(measure)

    with pytest.raises(InvalidMeasureChange) as raised:
        measure.change_legal_status(
            facts("CIT-RULING", date(2025, 5, 28)), status=" ", collection_stops=False
        )

    assert raised.value.event_type == "legal_status_changed"
    assert snapshot(measure) == before


# -- correct_record -------------------------------------------------------------------


def test_correcting_a_record_names_the_event_to_disregard_and_why(measure: TariffMeasure) -> None:
    measure.change_rate(facts("TYPO", date(2025, 4, 9)), rate_pct=Decimal("48"), hs_prefixes=())
    measure.collect_events()

    measure.correct_record(
        facts("TYPO-CORRECTED", date(2025, 4, 9), announced_on=date(2025, 4, 12)),
        corrected_event_id="TYPO",
        reason="84 was typed as 48",
    )

    event = only_event(measure.collect_events())
    assert isinstance(event, TariffMeasure.RecordCorrected)
    assert event.event_id == "TYPO-CORRECTED"
    assert event.corrected_event_id == "TYPO"
    assert event.reason == "84 was typed as 48"
    assert measure.event_types["TYPO-CORRECTED"] == "record_corrected"
    assert measure.event_types["TYPO"] == "rate_changed"


def test_an_unknown_event_cannot_be_corrected(measure: TariffMeasure) -> None:
    before = snapshot(measure)

    with pytest.raises(UnknownEventReference) as raised:
        measure.correct_record(
            facts("FIX", date(2025, 4, 12)), corrected_event_id="NO-SUCH-EVENT", reason="typo"
        )

    assert raised.value.event_id == "NO-SUCH-EVENT"
    assert raised.value.stream_id == measure.id
    assert snapshot(measure) == before


def test_a_correction_cannot_be_corrected(measure: TariffMeasure) -> None:
    measure.change_rate(facts("TYPO", date(2025, 4, 9)), rate_pct=Decimal("48"), hs_prefixes=())
    measure.correct_record(
        facts("FIX", date(2025, 4, 12)), corrected_event_id="TYPO", reason="typo"
    )
    before = snapshot(measure)

    with pytest.raises(InvalidMeasureChange) as raised:
        measure.correct_record(
            facts("UNFIX", date(2025, 4, 13)), corrected_event_id="FIX", reason="oops"
        )

    assert raised.value.event_type == "record_corrected"
    assert "cannot be corrected" in raised.value.message
    assert snapshot(measure) == before


def test_a_correction_must_say_why(measure: TariffMeasure) -> None:
    before = snapshot(measure)

    with pytest.raises(InvalidMeasureChange) as raised:
        measure.correct_record(
            facts("FIX", date(2025, 4, 12)), corrected_event_id="US-CN-RECIP-34", reason=""
        )

    assert raised.value.event_type == "record_corrected"
    assert snapshot(measure) == before


# -- event ids ------------------------------------------------------------------------

COMMANDS: dict[str, Callable[[TariffMeasure, Facts], None]] = {
    "change_rate": lambda m, f: m.change_rate(f, rate_pct=Decimal("20"), hs_prefixes=()),
    "change_scope": lambda m, f: m.change_scope(
        f, added_hs_prefixes=("8703",), removed_hs_prefixes=()
    ),
    "grant_exclusion": lambda m, f: m.grant_exclusion(f, hs_prefixes=("851713",)),
    "revoke_exclusion": lambda m, f: m.revoke_exclusion(f, hs_prefixes=("851713",)),
    "grant_suspension": lambda m, f: m.grant_suspension(
        f, points=Decimal("24"), ends_on=date(2026, 1, 1)
    ),
    "extend_suspension": lambda m, f: m.extend_suspension(
        f, suspension_event_id="US-CN-GENEVA-SUSP", ends_on=date(2026, 1, 1)
    ),
    "terminate": lambda m, f: m.terminate(f),
    "declare_precedence": lambda m, f: m.declare_precedence(
        f, displaces_measure_ids=(), displaces_layers=("section_301",), hs_prefixes=()
    ),
    "change_legal_status": lambda m, f: m.change_legal_status(
        f, status="ruled_unlawful", collection_stops=True
    ),
    "correct_record": lambda m, f: m.correct_record(
        f, corrected_event_id="US-CN-GENEVA-RATE", reason="typo"
    ),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("taken_id", ["US-CN-RECIP-34", "US-CN-GENEVA-SUSP"])
def test_every_command_refuses_an_event_id_the_stream_already_has(
    suspended: TariffMeasure, command: str, taken_id: str
) -> None:
    before = snapshot(suspended)

    with pytest.raises(DuplicateEventId) as raised:
        COMMANDS[command](suspended, facts(taken_id, date(2025, 9, 1)))

    assert raised.value.stream_id == suspended.id
    assert raised.value.event_id == taken_id
    assert snapshot(suspended) == before


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_records_one_event_under_a_fresh_id(
    suspended: TariffMeasure, command: str
) -> None:
    COMMANDS[command](suspended, facts("FRESH", date(2025, 9, 1)))

    event = only_event(suspended.collect_events())
    assert getattr(event, "event_id", None) == "FRESH"
    assert suspended.version == 4
    assert suspended.has_event("FRESH")


def test_an_event_id_used_earlier_in_the_same_unsaved_batch_is_refused(
    measure: TariffMeasure,
) -> None:
    measure.change_rate(
        facts("US-CN-RECIP-84", date(2025, 4, 9)), rate_pct=Decimal("84"), hs_prefixes=()
    )
    before = snapshot(measure)

    with pytest.raises(DuplicateEventId):
        measure.change_rate(
            facts("US-CN-RECIP-84", date(2025, 4, 10)), rate_pct=Decimal("125"), hs_prefixes=()
        )

    assert snapshot(measure) == before
    assert len(measure.pending_events) == 1


# -- replay ---------------------------------------------------------------------------


def test_replaying_the_events_rebuilds_the_same_state() -> None:
    measure = impose_reciprocal(uuid4())
    measure.change_rate(
        facts("US-CN-RECIP-125", date(2025, 4, 10)), rate_pct=Decimal("125"), hs_prefixes=()
    )
    measure.grant_suspension(
        facts("SUSP", date(2025, 5, 14)), points=Decimal("24"), ends_on=date(2025, 8, 12)
    )
    measure.extend_suspension(
        facts("EXT", date(2025, 8, 11)), suspension_event_id="SUSP", ends_on=date(2025, 11, 10)
    )
    events = measure.collect_events()

    replayed: TariffMeasure | None = None
    for event in events:
        replayed = event.mutate(replayed)

    assert isinstance(replayed, TariffMeasure)
    assert replayed.id == measure.id
    assert replayed.version == measure.version == 4
    assert replayed.event_types == measure.event_types
    assert replayed.suspension_starts == {"SUSP": date(2025, 5, 14)}
    assert (replayed.key, replayed.layer, replayed.targets) == (
        measure.key,
        measure.layer,
        measure.targets,
    )
