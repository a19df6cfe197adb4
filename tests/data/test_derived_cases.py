"""Cases derived from the timeline and the rules of DOMAIN.md, beyond the worked examples.

Each case says why in its id and in the comment above it. Where the timeline is
ambiguous, the comment says so and which reading DOMAIN.md supports. Origins are ISO
3166 codes: the United Kingdom is GB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from pytest import ParameterSet

from domain.ledger import MEASURE, stream_id_for_key
from domain.measure import TariffMeasure
from domain.negotiation_state import Status
from domain.values import Reliability
from projections.evaluation import Reason
from projections.timepoint import TimePoint
from tests.data.conftest import LoadedStore, dataset_lines


@dataclass(frozen=True)
class Case:
    importer: str
    origin: str
    hs: str
    on: str
    known_at: str | None
    total: Decimal
    applied: dict[str, Decimal] | None = None
    """The measures charged, by key, when the case is about which ones (None: total only)."""


FENT, RECIP_CN = "us-cn-ieepa-fentanyl", "us-cn-ieepa-reciprocal"
TOY, PHONE, LAPTOP = "9503.00.0090", "8517.13.0000", "8471.30.0100"
STEEL, CAR, EV, AUTO_PART = "7208.10.15", "8703.23.01", "8703.80.00", "8708.29.50"
SOYBEANS, ETHANE, LNG, CHICKEN, PHARMA = "1201.90", "2901.10", "2711.11", "0207.14", "3004.90"

D = Decimal


def case(
    case_id: str,
    question: str,
    total: Decimal | int | str,
    *,
    known_at: str | None = None,
    applied: dict[str, Decimal] | None = None,
) -> ParameterSet:
    """One case, named by its reasoning: question is "IMPORTER ORIGIN HS ON"."""
    importer, origin, hs, on = question.split()
    return pytest.param(Case(importer, origin, hs, on, known_at, D(total), applied), id=case_id)


CASES = [
    # Hong Kong is named by both EO 14195 (fentanyl) and the China reciprocal rate.
    case(
        "hk_toy_mid_april_pays_like_china",
        "US HK 9503.00.0090 2025-04-15",
        145,
        applied={FENT: D(20), RECIP_CN: D(125)},
    ),
    # Macau is in the China reciprocal rate (EO 14257 Annex I: incl. HK, Macau) but the
    # fentanyl tariff covers only the PRC and Hong Kong.
    case(
        "macau_toy_mid_april_reciprocal_only_no_fentanyl",
        "US MO 9503.00.0090 2025-04-15",
        125,
        applied={RECIP_CN: D(125)},
    ),
    # Apr 5-8: the 10% baseline applies to China too; the China rate starts on Apr 9.
    case(
        "cn_toy_apr_7_fentanyl_plus_baseline_before_the_china_rate",
        "US CN 9503.00.0090 2025-04-07",
        30,
        applied={FENT: D(20), "us-ieepa-reciprocal-baseline": D(10)},
    ),
    # As known on Apr 3, the China rate due on Apr 9 was 34% (US-CN-RECIP-34 note: 54%).
    case(
        "cn_toy_apr_9_as_known_apr_3_expected_34_plus_20",
        "US CN 9503.00.0090 2025-04-09",
        54,
        known_at="2025-04-03",
    ),
    # ... but EO 14259 (Apr 8) replaced 34% by 84% at the same instant: 104%.
    case("cn_toy_apr_9_84_replaced_34_before_it_took_effect", "US CN 9503.00.0090 2025-04-09", 104),
    # Geneva snapback as known before the August extension: from Aug 12 the suspended 24
    # points return, 34 + 20 = 54.
    case(
        "cn_toy_aug_20_as_known_aug_10_snapback_to_34",
        "US CN 9503.00.0090 2025-08-20",
        54,
        known_at="2025-08-10",
    ),
    # ... and with the extension announced on Aug 11, 10% still applies.
    case(
        "cn_toy_aug_20_as_known_aug_11_extension_keeps_10",
        "US CN 9503.00.0090 2025-08-20",
        30,
        known_at="2025-08-11",
    ),
    # The +100% threat of Oct 10 never changes a rate.
    case("cn_toy_nov_1_threatened_100_pct_never_applies", "US CN 9503.00.0090 2025-11-01", 30),
    # The November fentanyl cut 20 -> 10 replaces, from Nov 10 (not Nov 4, its announcement).
    case("cn_toy_nov_9_before_the_fentanyl_cut", "US CN 9503.00.0090 2025-11-09", 30),
    case(
        "cn_toy_nov_10_fentanyl_10_plus_reciprocal_10",
        "US CN 9503.00.0090 2025-11-10",
        20,
        applied={FENT: D(10), RECIP_CN: D(10)},
    ),
    # The IEEPA ruling: entries from Feb 24, 2026 pay no IEEPA duty; the Section 122
    # surcharge (10%, every origin) applies instead.
    case("cn_toy_feb_23_2026_last_day_of_ieepa", "US CN 9503.00.0090 2026-02-23", 20),
    case(
        "cn_toy_march_2026_section_122_only",
        "US CN 9503.00.0090 2026-03-01",
        10,
        applied={"us-s122-surcharge": D(10)},
    ),
    # ... as known on Feb 19, 2026 (before the ruling), 20% was still expected for March.
    case(
        "cn_toy_march_2026_as_known_before_the_ruling",
        "US CN 9503.00.0090 2026-03-01",
        20,
        known_at="2026-02-19",
    ),
    # Section 122 ends after 150 days (terminated from Jul 24, 2026). DE has only the
    # baseline before: the EU's own rates are not in the timeline.
    case("de_toy_jul_23_2026_last_day_of_section_122", "US DE 9503.00.0090 2026-07-23", 10),
    case("de_toy_aug_2026_nothing_left", "US DE 9503.00.0090 2026-08-01", 0),
    case("de_toy_may_2025_baseline_10", "US DE 9503.00.0090 2025-05-01", 10),
    # Steel (ch. 72) from China: fentanyl stacks on 232; the reciprocal tariff does not.
    case(
        "cn_steel_may_2025_fentanyl_plus_232_no_reciprocal",
        "US CN 7208.10.15 2025-05-01",
        45,
        applied={FENT: D(20), "us-s232-steel-aluminium": D(25)},
    ),
    case("cn_steel_jun_4_232_raised_to_50", "US CN 7208.10.15 2025-06-04", 70),
    # From Jun 4 UK steel stays at 25% while German steel pays 50%.
    case(
        "uk_steel_jun_2025_stays_25",
        "US GB 7208.10.15 2025-06-10",
        25,
        applied={"us-s232-steel-aluminium-uk": D(25)},
    ),
    case(
        "de_steel_jun_2025_pays_50",
        "US DE 7208.10.15 2025-06-10",
        50,
        applied={"us-s232-steel-aluminium": D(50)},
    ),
    # Chinese EV: fentanyl 20 + auto 232 25 + Section 301 100 (since 2024-09-27); EO 14289
    # leaves fentanyl and 301 alone; 232 displaces the reciprocal tariff. The autos scope is
    # given at 8 digits (8703.80.00), so the query uses 8 digits.
    case(
        "cn_ev_may_2025_fentanyl_232_and_301_100",
        "US CN 8703.80.00 2025-05-01",
        145,
        applied={FENT: D(20), "us-s232-autos": D(25), "us-s301-china": D(100)},
    ),
    case(
        "cn_ev_march_2026_232_and_301_survive_the_ieepa_ruling", "US CN 8703.80.00 2026-03-01", 125
    ),
    # A Chinese auto part: fentanyl + parts 232 from May 3 (the 301 codes the timeline gives
    # do not include parts).
    case("cn_auto_part_may_2025_fentanyl_plus_232", "US CN 8708.29.50 2025-05-10", 45),
    # Cars from Germany and Mexico pay the 25% auto 232, not the baseline (MX is not
    # charged the baseline at all). The CA/MX IEEPA duties are not in the timeline.
    case(
        "de_car_may_2025_auto_232_only",
        "US DE 8703.23.01 2025-05-01",
        25,
        applied={"us-s232-autos": D(25)},
    ),
    case(
        "mx_car_may_2025_auto_232_only",
        "US MX 8703.23.01 2025-05-01",
        25,
        applied={"us-s232-autos": D(25)},
    ),
    # US-UK: terms announced May 8 change nothing until the EO applies them on Jun 30.
    # In-quota rate (the quota fill is not tracked; out-of-quota cars would pay 25%).
    case("uk_car_may_20_announced_terms_not_yet_in_force", "US GB 8703.23.01 2025-05-20", 25),
    case(
        "uk_car_jul_2025_in_quota_7_5",
        "US GB 8703.23.01 2025-07-01",
        "7.5",
        applied={"us-uk-epd-autos-quota": D("7.5")},
    ),
    case("uk_toy_may_2025_baseline_kept_by_the_deal", "US GB 9503.00.0090 2025-05-20", 10),
    # India: 25% reciprocal from Aug 7 (in lieu of the baseline), +25% Russia oil from Aug 27.
    case("in_toy_aug_10_reciprocal_25", "US IN 9503.00.0090 2025-08-10", 25),
    case("in_toy_sep_2025_reciprocal_plus_russia_oil", "US IN 9503.00.0090 2025-09-01", 50),
    # Feb 7, 2026: Russia-oil duty rescinded. The 18% announced on Feb 2 has no verified
    # implementation date, so the ledger keeps 25% (the timeline says "not verified").
    case(
        "in_toy_feb_10_2026_russia_oil_gone_18_pct_unverified", "US IN 9503.00.0090 2026-02-10", 25
    ),
    # Smartphones from India stay out of both reciprocal-scope duties (Annex II exceptions).
    case("in_smartphone_sep_2025_excluded", "US IN 8517.13.0000 2025-09-01", 0),
    # Laptops 8471.30: excluded from reciprocal (8471) and on the never-imposed List 4B.
    case(
        "cn_laptop_mid_april_fentanyl_only",
        "US CN 8471.30.0100 2025-04-15",
        20,
        applied={FENT: D(20)},
    ),
    # The exclusion was retroactive to Apr 5: as known today a phone on Apr 7 pays 20 ...
    case("cn_phone_apr_7_exclusion_retroactive", "US CN 8517.13.0000 2025-04-07", 20),
    # ... but as known on Apr 10 it paid fentanyl + baseline.
    case(
        "cn_phone_apr_7_as_known_apr_10", "US CN 8517.13.0000 2025-04-07", 30, known_at="2025-04-10"
    ),
    # China's side, "on top of the currently applicable rate".
    case("soybeans_mar_5_before_the_march_list", "CN US 1201.90 2025-03-05", 0),
    case(
        "soybeans_apr_10_as_known_apr_8_10_plus_34",
        "CN US 1201.90 2025-04-10",
        44,
        known_at="2025-04-08",
    ),
    case("soybeans_apr_10_84_replaced_34", "CN US 1201.90 2025-04-10", 94),
    case("soybeans_may_20_10_plus_10_after_geneva", "CN US 1201.90 2025-05-20", 20),
    case("soybeans_nov_15_march_list_lifted", "CN US 1201.90 2025-11-15", 10),
    # Chicken: 15% March tier.
    case("chicken_mid_april_15_plus_125", "CN US 0207.14 2025-04-15", 140),
    case("chicken_nov_15_march_list_lifted", "CN US 0207.14 2025-11-15", 10),
    # LNG: 15% February tier. After Nov 10 the February layer is "reportedly still in
    # force" (medium confidence): the ledger keeps it, as the timeline does.
    case("lng_mid_april_15_plus_125", "CN US 2711.11 2025-04-15", 140),
    case("lng_dec_2025_february_layer_reportedly_kept", "CN US 2711.11 2025-12-01", 25),
    # Ethane: the unofficial waiver has no known start; the engine starts it on the report
    # day (Apr 29). Before that, or as known before the report, 125% applies.
    case("ethane_may_1_waived", "CN US 2901.10 2025-05-01", 0),
    case(
        "ethane_apr_20_waiver_start_unknown_treated_as_report_day", "CN US 2901.10 2025-04-20", 125
    ),
    case(
        "ethane_may_1_as_known_before_the_report",
        "CN US 2901.10 2025-05-01",
        125,
        known_at="2025-04-28",
    ),
    # Pharmaceuticals (ch. 30): the quiet exemptions, unverified, chapter-level.
    case("pharma_may_1_quiet_exemption_unverified", "CN US 3004.90 2025-05-01", 0),
]


@pytest.mark.parametrize("case", CASES)
def test_duty(store: LoadedStore, case: Case) -> None:
    answer = store.services.queries.duty_on(
        case.importer,
        case.origin,
        case.hs,
        at=TimePoint(
            on=date.fromisoformat(case.on),
            known_at=date.fromisoformat(case.known_at) if case.known_at else None,
        ),
    )

    assert answer.total_additional_pct == case.total
    if case.applied is not None:
        assert {a.key: a.rate_pct for a in answer.applied} == case.applied


def test_the_ieepa_ruling_stops_collection_and_says_so(store: LoadedStore) -> None:
    answer = store.services.queries.duty_on("US", "CN", TOY, at=TimePoint(on=date(2026, 3, 1)))

    stopped = {s.key: s for s in answer.not_applied if s.reason is Reason.COLLECTION_STOPPED}
    assert set(stopped) >= {FENT, RECIP_CN}
    assert stopped[FENT].events == ("US-SCOTUS-IEEPA/us-cn-ieepa-fentanyl",)


def test_what_was_assessed_before_the_ruling_stays_on_record(store: LoadedStore) -> None:
    # Asked today about an entry of Feb 2026, before the ruling's effective day.
    answer = store.services.queries.duty_on("US", "CN", TOY, at=TimePoint(on=date(2026, 2, 20)))

    assert {a.key: a.rate_pct for a in answer.applied} == {FENT: D(10), RECIP_CN: D(10)}


def test_a_suspended_rate_shows_its_scheduled_rate_and_end(store: LoadedStore) -> None:
    answer = store.services.queries.duty_on(
        "US", "CN", TOY, at=TimePoint(on=date(2025, 5, 20), known_at=date(2025, 5, 20))
    )

    reciprocal = next(a for a in answer.applied if a.key == RECIP_CN)
    assert (reciprocal.rate_pct, reciprocal.scheduled_rate_pct) == (D(10), D(34))
    assert [s.ends_on for s in reciprocal.suspensions] == [date(2025, 8, 12)]


def test_a_section_232_good_is_not_charged_the_reciprocal_tariff(store: LoadedStore) -> None:
    answer = store.services.queries.duty_on("US", "CN", STEEL, at=TimePoint(on=date(2025, 5, 1)))

    displaced = {s.key: s.events for s in answer.not_applied if s.reason is Reason.DISPLACED}
    assert displaced[RECIP_CN] == ("US-RECIP-EO14257/us-s232-steel-aluminium",)


def test_toys_are_excluded_from_section_301_as_list_4b(store: LoadedStore) -> None:
    answer = store.services.queries.duty_on("US", "CN", TOY, at=TimePoint(on=date(2025, 4, 15)))

    section_301 = next(s for s in answer.not_applied if s.key == "us-s301-china")
    assert (section_301.reason, section_301.events) == (Reason.EXCLUDED, ("US-301-LEGACY",))


def test_before_the_dataset_was_recorded_the_ledger_answered_nothing(store: LoadedStore) -> None:
    answer = store.services.queries.duty_on(
        "US", "CN", TOY, at=TimePoint(on=date(2025, 4, 15), recorded_at=store.before_load)
    )

    assert (answer.total_additional_pct, answer.applied) == (D(0), ())


def test_every_event_a_duty_answer_cites_is_a_dataset_event(store: LoadedStore) -> None:
    event_ids = {line["event_id"] for line in dataset_lines()}
    answers = [
        store.services.queries.duty_on(
            importer, origin, hs, at=TimePoint(on=date.fromisoformat(on))
        )
        for importer, origin, hs, on in [
            ("US", "CN", TOY, "2025-05-20"),
            ("US", "CN", EV, "2025-05-01"),
            ("CN", "US", SOYBEANS, "2025-04-15"),
            ("US", "GB", STEEL, "2025-06-10"),
            ("US", "CN", TOY, "2026-03-01"),
        ]
    ]

    cited = {e for a in answers for applied in a.applied for e in applied.events}
    cited |= {e for a in answers for skipped in a.not_applied for e in skipped.events}
    assert cited <= event_ids


def test_the_unofficial_exemptions_carry_their_low_reliability(store: LoadedStore) -> None:
    stream_id = stream_id_for_key(MEASURE, "cn-us-retaliation-all-goods")
    events = {
        e.event_id: e
        for e in store.services.ledger.events.get(stream_id)
        if isinstance(e, TariffMeasure.Event)
    }

    assert events["CN-US-QUIET-EXEMPTIONS"].provenance.reliability is Reliability.UNVERIFIED
    assert events["CN-US-ETHANE-WAIVER"].provenance.reliability is Reliability.PRESS
    assert events["CN-US-ETHANE-WAIVER"].effective_on is None


def test_an_exclusion_with_an_unknown_start_is_flagged_in_the_answer(store: LoadedStore) -> None:
    answer = store.services.queries.duty_on("CN", "US", ETHANE, at=TimePoint(on=date(2025, 5, 1)))

    waived = next(s for s in answer.not_applied if s.key == "cn-us-retaliation-all-goods")
    assert waived.reason is Reason.EXCLUDED
    assert "unknown" in waived.detail


def test_a_chinese_ev_asked_at_six_digits_names_the_eight_digit_line_charged_differently(
    store: LoadedStore,
) -> None:
    # The auto 232 measure is scoped to the 8-digit line 8703.80.00, so a question about
    # 8703.80 is not one question: lines under it outside that scope pay the reciprocal
    # tariff, 8703.80.00 pays 20 fentanyl + 25 auto 232 + 100 Section 301. The answer
    # must say so rather than silently answer for one of them.
    coarse = store.services.queries.duty_on(
        "US", "CN", "8703.80", at=TimePoint(on=date(2025, 5, 1))
    )
    precise = store.services.queries.duty_on(
        "US", "CN", "8703.80.00", at=TimePoint(on=date(2025, 5, 1))
    )

    assert precise.total_additional_pct == D(145)
    assert precise.finer_lines == ()
    lines = {line.hs_prefix: line for line in coarse.finer_lines}
    assert lines["87038000"].total_additional_pct == D(145)
    assert set(lines["87038000"].applied) == {m.key for m in precise.applied}
    assert coarse.total_additional_pct != D(145)
    assert not coarse.finer_lines_truncated


# -- negotiations -------------------------------------------------------------------------


def test_us_china_talks_on_may_1_2025_are_a_preconditions_standoff(store: LoadedStore) -> None:
    # The seed report: the US reached out through a back channel; China wants
    # "meaningful measures" first.
    state = store.services.queries.negotiation_state(
        "us-cn-trade-talks", at=TimePoint(on=date(2025, 5, 1))
    ).state

    assert state.status is Status.PRECONDITIONS
    assert [p.event_id for p in state.open_preconditions] == ["SEED-2025-04-CN-PRECONDITION"]
    assert "SEED-2025-04-US-CN-BACK-CHANNEL" in [s.event_id for s in state.steps]
    assert state.last_round is None


def test_us_china_talks_on_may_15_2025_are_a_truce_until_august_12(store: LoadedStore) -> None:
    state = store.services.queries.negotiation_state(
        "us-cn-trade-talks", at=TimePoint(on=date(2025, 5, 15))
    ).state

    assert state.status is Status.TRUCE
    assert state.truce_ends_on == date(2025, 8, 12)
    assert state.open_preconditions == ()
    assert state.last_round is not None and state.last_round.event_id == "US-CN-GENEVA-TALKS"
    assert set(state.implementing_measure_ids) == {
        stream_id_for_key(MEASURE, key).hex
        for key in (
            "us-cn-ieepa-reciprocal",
            "us-cn-de-minimis-postal",
            "cn-us-retaliation-all-goods",
        )
    }


def test_us_china_truce_as_known_before_the_august_extension_expires_on_august_12(
    store: LoadedStore,
) -> None:
    queries = store.services.queries

    before = queries.negotiation_state(
        "us-cn-trade-talks", at=TimePoint(on=date(2025, 8, 12), known_at=date(2025, 8, 10))
    )
    after = queries.negotiation_state(
        "us-cn-trade-talks", at=TimePoint(on=date(2025, 8, 12), known_at=date(2025, 8, 11))
    )

    assert before.state.status is Status.TRUCE_EXPIRED
    assert (after.state.status, after.state.truce_ends_on) == (Status.TRUCE, date(2025, 11, 10))


def test_the_october_threat_puts_us_china_talks_under_escalation_until_busan(
    store: LoadedStore,
) -> None:
    queries = store.services.queries

    threatened = queries.negotiation_state(
        "us-cn-trade-talks", at=TimePoint(on=date(2025, 10, 15))
    ).state
    busan = queries.negotiation_state(
        "us-cn-trade-talks", at=TimePoint(on=date(2025, 11, 15))
    ).state

    assert threatened.status is Status.ESCALATION_THREATENED
    assert [t.event_id for t in threatened.threats] == ["US-CN-THREAT-100"]
    assert (busan.status, busan.truce_ends_on) == (Status.TRUCE, date(2026, 11, 10))


def test_us_india_talks_are_postponed_in_august_and_resumed_in_september(
    store: LoadedStore,
) -> None:
    queries = store.services.queries

    statuses = [
        queries.negotiation_state("us-in-bta", at=TimePoint(on=date.fromisoformat(on))).state.status
        for on in ("2025-04-20", "2025-05-10", "2025-09-01", "2025-09-20", "2026-02-10")
    ]

    assert statuses == [
        Status.SCOPING,
        Status.ROUNDS,
        Status.POSTPONED,
        Status.RESUMED,
        Status.IMPLEMENTING,
    ]


def test_the_us_uk_deal_is_announced_in_may_and_implemented_from_june_30(
    store: LoadedStore,
) -> None:
    queries = store.services.queries

    announced = queries.negotiation_state("us-uk-epd", at=TimePoint(on=date(2025, 5, 20))).state
    implemented = queries.negotiation_state("us-uk-epd", at=TimePoint(on=date(2025, 7, 1))).state

    assert announced.status is Status.FRAMEWORK
    assert implemented.status is Status.IMPLEMENTING
    assert implemented.implementing_measure_ids == (
        stream_id_for_key(MEASURE, "us-uk-epd-autos-quota").hex,
    )
