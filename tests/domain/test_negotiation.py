"""The Negotiation aggregate and its fold: the effect of each step, and the steps refused.

Each step is recorded by its verb (`hold_round`, `collapse_talks`, ...), mostly through
`record`, which names it by its public type as clients do (domain.negotiation_steps);
its effect is read back through `state_on(day)`, which folds the stream with
`fold_negotiation`. Every element of the state carries the `Step` behind it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.errors import (
    DuplicateEventId,
    InvalidTransition,
    InvalidValue,
    UnknownEventReference,
)
from domain.events import Facts
from domain.negotiation import Negotiation
from domain.negotiation_state import Status, Step, fold_negotiation
from domain.negotiation_steps import NEGOTIATION_STEPS
from domain.values import Provenance, Reliability, Source, end_of_day

WHITE_HOUSE = Source(
    "https://www.whitehouse.gov/briefings-statements/", "White House", Reliability.OFFICIAL
)
PROVENANCE = Provenance((WHITE_HOUSE,), recorded_by="analyst@tradeledger")

OPENED_ON = date(2025, 4, 1)


def facts(event_id: str, effective_on: date | None, announced_on: date | None = None) -> Facts:
    """Common facts, announced at midnight UTC on `announced_on` (default: `effective_on`)."""
    announced = announced_on or effective_on
    assert announced is not None, "give announced_on when effective_on is unknown"
    return Facts(
        event_id=event_id,
        effective_on=effective_on,
        announced_at=datetime.combine(announced, time.min, tzinfo=UTC),
        provenance=PROVENANCE,
    )


def record(
    negotiation: Negotiation,
    event_type: str,
    event_id: str,
    on: date | None,
    *,
    announced_on: date | None = None,
    summary: str | None = None,
    **fields: Any,
) -> None:
    """Record one step, named by its public type, with a summary that defaults to the type."""
    step = NEGOTIATION_STEPS[event_type](
        facts(event_id, on, announced_on),
        summary=summary if summary is not None else event_type.replace("_", " "),
        **fields,
    )
    step.apply_to(negotiation)


def open_talks(
    negotiation_id: UUID, parties: tuple[str, ...] = ("US", "CN"), on: date | None = OPENED_ON
) -> Negotiation:
    return Negotiation.open(
        negotiation_id=negotiation_id,
        facts=facts("OPEN", on, announced_on=on or OPENED_ON),
        key="us-cn-2025",
        title="US-China trade talks 2025",
        parties=parties,
        summary="The ledger follows the US-China talks",
    )


@pytest.fixture
def talks() -> Negotiation:
    """US-China talks, opened on 2025-04-01 and saved (nothing pending)."""
    negotiation = open_talks(uuid4())
    negotiation.collect_events()
    return negotiation


@pytest.fixture
def in_rounds(talks: Negotiation) -> Negotiation:
    """Talks with a first round held in Geneva on 2025-05-10, saved."""
    talks.hold_round(
        facts("ROUND-1", date(2025, 5, 10)),
        summary="round held",
        location="Geneva",
        round_number=1,
    )
    talks.collect_events()
    return talks


@pytest.fixture
def in_truce(in_rounds: Negotiation) -> Negotiation:
    """Talks in a 90-day truce from the Geneva joint statement of 2025-05-12, saved."""
    in_rounds.issue_joint_statement(
        facts("GENEVA-JS", date(2025, 5, 12)),
        summary="joint statement issued",
        truce_ends_on=date(2025, 8, 12),
    )
    in_rounds.collect_events()
    return in_rounds


def snapshot(negotiation: Negotiation) -> tuple[int, list[Any], dict[str, str], int]:
    """What a refused step must leave untouched."""
    return (
        negotiation.version,
        list(negotiation.pending_events),
        dict(negotiation.event_types),
        len(negotiation.history),
    )


def last_event(negotiation: Negotiation) -> object:
    events = negotiation.collect_events()
    assert len(events) >= 1
    return events[-1]


def event_ids(steps: tuple[Step, ...]) -> list[str]:
    return [s.event_id for s in steps]


# -- opening --------------------------------------------------------------------------


def test_opening_a_negotiation_records_its_title_and_parties() -> None:
    negotiation_id = uuid4()

    negotiation = open_talks(negotiation_id)

    events = negotiation.collect_events()
    assert len(events) == 1
    opened = events[0]
    assert isinstance(opened, Negotiation.Opened)
    assert opened.originator_id == negotiation_id
    assert opened.event_id == "OPEN"
    assert opened.key == "us-cn-2025"
    assert opened.title == "US-China trade talks 2025"
    assert opened.parties == ("US", "CN")
    assert opened.summary == "The ledger follows the US-China talks"
    assert negotiation.version == 1
    assert (negotiation.key, negotiation.title, negotiation.parties) == (
        "us-cn-2025",
        "US-China trade talks 2025",
        ("US", "CN"),
    )
    assert negotiation.event_types == {"OPEN": "opened"}


def test_a_newly_opened_negotiation_is_exploratory(talks: Negotiation) -> None:
    state = talks.state_on(OPENED_ON)

    assert state.negotiation_id == talks.id
    assert state.title == "US-China trade talks 2025"
    assert state.parties == ("US", "CN")
    assert state.status is Status.EXPLORATORY
    assert state.status_set_by == Step(
        "OPEN", "opened", OPENED_ON, "The ledger follows the US-China talks"
    )
    assert state.open_preconditions == ()
    assert state.last_round is None
    assert state.proposals_on_table == ()
    assert state.agreements == ()
    assert state.truce_ends_on is None
    assert state.truce_steps == ()
    assert state.threats == ()
    assert state.implementing_measure_ids == ()
    assert event_ids(state.steps) == ["OPEN"]


@pytest.mark.parametrize("parties", [("US",), ("US", "US"), ()])
def test_a_negotiation_needs_two_distinct_parties(parties: tuple[str, ...]) -> None:
    with pytest.raises(InvalidValue) as raised:
        open_talks(uuid4(), parties=parties)

    assert raised.value.field == "parties"


def test_a_negotiation_may_have_more_than_two_parties() -> None:
    negotiation = open_talks(uuid4(), parties=("US", "MX", "CA"))

    assert negotiation.state_on(OPENED_ON).parties == ("US", "MX", "CA")


def test_a_negotiation_needs_a_title() -> None:
    with pytest.raises(InvalidValue) as raised:
        Negotiation.open(
            negotiation_id=uuid4(),
            facts=facts("OPEN", OPENED_ON),
            key="us-cn-2025",
            title=" ",
            parties=("US", "CN"),
            summary="",
        )

    assert raised.value.field == "title"


# -- early steps ----------------------------------------------------------------------


def test_a_back_channel_contact_keeps_the_talks_exploratory(talks: Negotiation) -> None:
    record(
        talks,
        "contact_made",
        "US-CN-BACKCHANNEL",
        date(2025, 4, 25),
        announced_on=date(2025, 5, 2),
        summary="The US discreetly reached out through intermediaries",
        by_party="US",
        channel="back_channel",
    )

    event = last_event(talks)
    assert isinstance(event, Negotiation.ContactMade)
    assert event.by_party == "US"
    assert event.channel == "back_channel"
    assert event.effective_on == date(2025, 4, 25)
    state = talks.state_on(date(2025, 4, 30))
    assert state.status is Status.EXPLORATORY
    assert state.status_set_by == Step(
        "US-CN-BACKCHANNEL",
        "contact_made",
        date(2025, 4, 25),
        "The US discreetly reached out through intermediaries",
        "US",
    )


def test_a_stated_precondition_opens_a_stand_off(talks: Negotiation) -> None:
    record(talks, "precondition_stated", "CN-PRECONDITION", date(2025, 4, 28), by_party="CN")

    event = last_event(talks)
    assert isinstance(event, Negotiation.PreconditionStated)
    assert event.by_party == "CN"
    state = talks.state_on(date(2025, 4, 28))
    assert state.status is Status.PRECONDITIONS
    assert state.open_preconditions == (
        Step(
            "CN-PRECONDITION", "precondition_stated", date(2025, 4, 28), "precondition stated", "CN"
        ),
    )
    assert state.status_set_by == state.open_preconditions[0]


def test_meeting_the_last_open_precondition_ends_the_stand_off(talks: Negotiation) -> None:
    record(talks, "precondition_stated", "CN-PRECONDITION", date(2025, 4, 28), by_party="CN")

    record(
        talks,
        "precondition_met",
        "CN-PRECONDITION-MET",
        date(2025, 5, 6),
        precondition_event_id="CN-PRECONDITION",
    )

    event = last_event(talks)
    assert isinstance(event, Negotiation.PreconditionMet)
    assert event.precondition_event_id == "CN-PRECONDITION"
    state = talks.state_on(date(2025, 5, 6))
    assert state.status is Status.EXPLORATORY
    assert state.status_set_by is not None
    assert state.status_set_by.event_id == "CN-PRECONDITION-MET"
    assert state.open_preconditions == ()


def test_the_stand_off_lasts_while_a_precondition_is_open(talks: Negotiation) -> None:
    record(talks, "precondition_stated", "CN-PRE-1", date(2025, 4, 28), by_party="CN")
    record(talks, "precondition_stated", "US-PRE-1", date(2025, 4, 29), by_party="US")

    record(
        talks,
        "precondition_met",
        "CN-PRE-1-MET",
        date(2025, 5, 6),
        precondition_event_id="CN-PRE-1",
    )

    state = talks.state_on(date(2025, 5, 6))
    assert state.status is Status.PRECONDITIONS
    assert event_ids(state.open_preconditions) == ["US-PRE-1"]


def test_scheduling_talks_moves_to_scoping(talks: Negotiation) -> None:
    record(
        talks,
        "talks_scheduled",
        "GENEVA-SCHEDULED",
        date(2025, 5, 6),
        talks_on=date(2025, 5, 10),
        location="Geneva",
    )

    event = last_event(talks)
    assert isinstance(event, Negotiation.TalksScheduled)
    assert (event.talks_on, event.location) == (date(2025, 5, 10), "Geneva")
    state = talks.state_on(date(2025, 5, 6))
    assert state.status is Status.SCOPING
    assert state.status_set_by is not None
    assert state.status_set_by.event_id == "GENEVA-SCHEDULED"


def test_scheduling_ends_a_stand_off_but_leaves_the_precondition_on_record(
    talks: Negotiation,
) -> None:
    record(talks, "precondition_stated", "CN-PRE", date(2025, 4, 28), by_party="CN")

    record(
        talks,
        "talks_scheduled",
        "SCHEDULED",
        date(2025, 5, 6),
        talks_on=None,
        location="Switzerland",
    )

    state = talks.state_on(date(2025, 5, 6))
    assert state.status is Status.SCOPING
    assert event_ids(state.open_preconditions) == ["CN-PRE"]


# -- rounds and proposals -------------------------------------------------------------


def test_a_round_held_puts_talks_in_rounds_and_becomes_the_last_round(talks: Negotiation) -> None:
    record(
        talks, "round_held", "GENEVA-ROUND", date(2025, 5, 10), location="Geneva", round_number=1
    )

    event = last_event(talks)
    assert isinstance(event, Negotiation.RoundHeld)
    assert (event.location, event.round_number) == ("Geneva", 1)
    state = talks.state_on(date(2025, 5, 11))
    assert state.status is Status.ROUNDS
    assert state.last_round == Step("GENEVA-ROUND", "round_held", date(2025, 5, 10), "round held")
    assert state.status_set_by == state.last_round


def test_the_last_round_is_the_latest_one_held(in_rounds: Negotiation) -> None:
    record(
        in_rounds, "round_held", "LONDON-ROUND", date(2025, 6, 9), location="London", round_number=2
    )

    before_london = in_rounds.state_on(date(2025, 6, 1)).last_round
    after_london = in_rounds.state_on(date(2025, 6, 10)).last_round

    assert before_london == Step("ROUND-1", "round_held", date(2025, 5, 10), "round held")
    assert after_london == Step("LONDON-ROUND", "round_held", date(2025, 6, 9), "round held")


def test_a_tabled_proposal_is_on_the_table_with_its_party(in_rounds: Negotiation) -> None:
    record(in_rounds, "proposal_tabled", "US-OFFER", date(2025, 5, 11), by_party="US")

    event = last_event(in_rounds)
    assert isinstance(event, Negotiation.ProposalTabled)
    assert event.by_party == "US"
    state = in_rounds.state_on(date(2025, 5, 11))
    assert state.proposals_on_table == (
        Step("US-OFFER", "proposal_tabled", date(2025, 5, 11), "proposal tabled", "US"),
    )
    assert state.status is Status.ROUNDS


def test_proposals_leave_the_table_when_something_is_agreed(in_rounds: Negotiation) -> None:
    record(in_rounds, "proposal_tabled", "US-OFFER", date(2025, 5, 11), by_party="US")
    record(in_rounds, "proposal_tabled", "CN-OFFER", date(2025, 5, 11), by_party="CN")

    record(in_rounds, "joint_statement_issued", "JS", date(2025, 5, 12), truce_ends_on=None)

    the_day_before = in_rounds.state_on(date(2025, 5, 11)).proposals_on_table
    assert event_ids(the_day_before) == ["US-OFFER", "CN-OFFER"]
    assert in_rounds.state_on(date(2025, 5, 12)).proposals_on_table == ()


def test_a_proposal_in_early_talks_starts_the_rounds(talks: Negotiation) -> None:
    record(talks, "proposal_tabled", "US-OFFER", date(2025, 4, 20), by_party="US")

    state = talks.state_on(date(2025, 4, 20))

    assert state.status is Status.ROUNDS
    assert event_ids(state.proposals_on_table) == ["US-OFFER"]


@pytest.mark.parametrize(
    ("event_type", "fields"),
    [("concession_offered", {"by_party": "CN"}), ("development_reported", {})],
)
def test_concessions_and_reports_are_steps_that_change_no_status(
    in_rounds: Negotiation, event_type: str, fields: dict[str, Any]
) -> None:
    record(in_rounds, event_type, "NOTE", date(2025, 5, 11), **fields)

    event = last_event(in_rounds)
    assert type(event) is NEGOTIATION_STEPS[event_type].event
    state = in_rounds.state_on(date(2025, 5, 11))
    assert state.status is Status.ROUNDS
    assert state.status_set_by is not None
    assert state.status_set_by.event_id == "ROUND-1"
    assert event_ids(state.steps) == ["OPEN", "ROUND-1", "NOTE"]


# -- agreements and truces ------------------------------------------------------------


def test_a_joint_statement_with_a_truce_end_starts_a_truce(in_rounds: Negotiation) -> None:
    record(
        in_rounds,
        "joint_statement_issued",
        "GENEVA-JS",
        date(2025, 5, 12),
        summary="Joint Statement on the Geneva meeting: 90-day pause",
        truce_ends_on=date(2025, 8, 12),
    )

    event = last_event(in_rounds)
    assert isinstance(event, Negotiation.JointStatementIssued)
    assert event.truce_ends_on == date(2025, 8, 12)
    state = in_rounds.state_on(date(2025, 5, 12))
    statement = Step(
        "GENEVA-JS",
        "joint_statement_issued",
        date(2025, 5, 12),
        "Joint Statement on the Geneva meeting: 90-day pause",
    )
    assert state.status is Status.TRUCE
    assert state.status_set_by == statement
    assert state.truce_ends_on == date(2025, 8, 12)
    assert state.truce_steps == (statement,)
    assert state.agreements == (statement,)


def test_a_joint_statement_without_a_truce_is_a_framework(in_rounds: Negotiation) -> None:
    record(in_rounds, "joint_statement_issued", "JS", date(2025, 5, 12), truce_ends_on=None)

    state = in_rounds.state_on(date(2025, 5, 12))

    assert state.status is Status.FRAMEWORK
    assert event_ids(state.agreements) == ["JS"]
    assert state.truce_ends_on is None
    assert state.truce_steps == ()


def test_a_framework_may_start_a_truce(in_rounds: Negotiation) -> None:
    record(
        in_rounds,
        "framework_agreed",
        "LONDON-FW",
        date(2025, 6, 10),
        truce_ends_on=date(2025, 8, 12),
    )

    event = last_event(in_rounds)
    assert isinstance(event, Negotiation.FrameworkAgreed)
    state = in_rounds.state_on(date(2025, 6, 10))
    assert state.status is Status.TRUCE
    assert event_ids(state.agreements) == ["LONDON-FW"]
    assert event_ids(state.truce_steps) == ["LONDON-FW"]


def test_a_framework_without_a_truce_is_a_framework(in_rounds: Negotiation) -> None:
    record(in_rounds, "framework_agreed", "LONDON-FW", date(2025, 6, 10), truce_ends_on=None)

    state = in_rounds.state_on(date(2025, 6, 10))

    assert state.status is Status.FRAMEWORK
    assert state.status_set_by is not None
    assert state.status_set_by.event_id == "LONDON-FW"


def test_an_announced_deal_is_a_framework(talks: Negotiation) -> None:
    record(
        talks,
        "deal_announced",
        "US-UK-EPD-ANNOUNCED",
        date(2025, 5, 8),
        summary="General Terms of the Economic Prosperity Deal",
        in_force_on=date(2025, 6, 30),
    )

    event = last_event(talks)
    assert isinstance(event, Negotiation.DealAnnounced)
    assert event.in_force_on == date(2025, 6, 30)
    state = talks.state_on(date(2025, 5, 8))
    assert state.status is Status.FRAMEWORK
    assert event_ids(state.agreements) == ["US-UK-EPD-ANNOUNCED"]


def test_the_truce_is_active_until_the_day_before_it_ends(in_truce: Negotiation) -> None:
    statuses = {
        day: in_truce.state_on(day).status
        for day in (date(2025, 5, 12), date(2025, 8, 11), date(2025, 8, 12), date(2025, 9, 1))
    }

    assert statuses == {
        date(2025, 5, 12): Status.TRUCE,
        date(2025, 8, 11): Status.TRUCE,
        date(2025, 8, 12): Status.TRUCE_EXPIRED,
        date(2025, 9, 1): Status.TRUCE_EXPIRED,
    }
    assert in_truce.state_on(date(2025, 9, 1)).truce_ends_on == date(2025, 8, 12)


def test_extending_a_truce_moves_its_end(in_truce: Negotiation) -> None:
    record(
        in_truce,
        "truce_extended",
        "TRUCE-EXT-1",
        date(2025, 8, 11),
        summary="Suspension extended to 10 November",
        truce_ends_on=date(2025, 11, 10),
    )

    event = last_event(in_truce)
    assert isinstance(event, Negotiation.TruceExtended)
    assert event.truce_ends_on == date(2025, 11, 10)
    state = in_truce.state_on(date(2025, 9, 1))
    assert state.status is Status.TRUCE
    assert state.truce_ends_on == date(2025, 11, 10)
    assert event_ids(state.truce_steps) == ["GENEVA-JS", "TRUCE-EXT-1"]
    assert state.status_set_by is not None
    assert state.status_set_by.event_id == "TRUCE-EXT-1"
    assert in_truce.state_on(date(2025, 11, 10)).status is Status.TRUCE_EXPIRED


def test_an_expired_truce_can_still_be_extended(in_truce: Negotiation) -> None:
    record(
        in_truce, "truce_extended", "LATE-EXT", date(2025, 8, 20), truce_ends_on=date(2025, 11, 10)
    )

    state = in_truce.state_on(date(2025, 8, 20))

    assert state.status is Status.TRUCE
    assert state.truce_ends_on == date(2025, 11, 10)


def test_a_round_during_a_truce_keeps_the_truce(in_truce: Negotiation) -> None:
    record(
        in_truce, "round_held", "LONDON-ROUND", date(2025, 6, 9), location="London", round_number=2
    )

    state = in_truce.state_on(date(2025, 6, 10))

    assert state.status is Status.TRUCE
    assert state.last_round is not None
    assert state.last_round.event_id == "LONDON-ROUND"


def test_a_signed_agreement_enters_into_force_on_its_day(in_rounds: Negotiation) -> None:
    record(
        in_rounds,
        "agreement_signed",
        "SIGNED",
        date(2025, 6, 16),
        summary="Agreement signed",
        in_force_on=date(2025, 6, 30),
    )

    event = last_event(in_rounds)
    assert isinstance(event, Negotiation.AgreementSigned)
    assert event.in_force_on == date(2025, 6, 30)
    assert in_rounds.state_on(date(2025, 6, 16)).status is Status.AGREEMENT_SIGNED
    assert in_rounds.state_on(date(2025, 6, 29)).status is Status.AGREEMENT_SIGNED
    assert in_rounds.state_on(date(2025, 6, 30)).status is Status.IN_FORCE
    assert in_rounds.state_on(date(2026, 1, 1)).status is Status.IN_FORCE
    assert event_ids(in_rounds.state_on(date(2025, 6, 30)).agreements) == ["SIGNED"]


def test_an_agreement_signed_without_a_date_of_entry_into_force_stays_signed(
    in_rounds: Negotiation,
) -> None:
    record(in_rounds, "agreement_signed", "SIGNED", date(2025, 6, 16), in_force_on=None)

    state = in_rounds.state_on(date(2030, 1, 1))

    assert state.status is Status.AGREEMENT_SIGNED


def test_an_implementing_action_names_the_measures_that_implement_the_deal(
    in_rounds: Negotiation,
) -> None:
    record(in_rounds, "framework_agreed", "FW", date(2025, 6, 10), truce_ends_on=None)

    record(
        in_rounds,
        "implementing_action_taken",
        "EO-IMPLEMENTS",
        date(2025, 6, 30),
        measure_ids=("us-uk-autos-quota", "us-uk-aerospace"),
    )

    event = last_event(in_rounds)
    assert isinstance(event, Negotiation.ImplementingActionTaken)
    assert event.measure_ids == ("us-uk-autos-quota", "us-uk-aerospace")
    state = in_rounds.state_on(date(2025, 6, 30))
    assert state.status is Status.IMPLEMENTING
    assert state.implementing_measure_ids == ("us-uk-autos-quota", "us-uk-aerospace")
    assert state.status_set_by is not None
    assert state.status_set_by.event_id == "EO-IMPLEMENTS"


def test_implementing_during_a_truce_keeps_the_truce(in_truce: Negotiation) -> None:
    record(
        in_truce,
        "implementing_action_taken",
        "EO-GENEVA",
        date(2025, 5, 14),
        measure_ids=("us-cn-reciprocal",),
    )

    state = in_truce.state_on(date(2025, 5, 14))

    assert state.status is Status.TRUCE
    assert state.implementing_measure_ids == ("us-cn-reciprocal",)


# -- trouble and pauses ---------------------------------------------------------------


def test_alleging_a_breach_is_recorded_with_its_party(in_truce: Negotiation) -> None:
    record(in_truce, "breach_alleged", "US-ALLEGES", date(2025, 5, 30), by_party="US")

    event = last_event(in_truce)
    assert isinstance(event, Negotiation.BreachAlleged)
    state = in_truce.state_on(date(2025, 5, 30))
    assert state.status is Status.BREACH_ALLEGED
    assert state.status_set_by == Step(
        "US-ALLEGES", "breach_alleged", date(2025, 5, 30), "breach alleged", "US"
    )


def test_a_threat_puts_the_talks_under_threat_of_escalation(in_truce: Negotiation) -> None:
    record(
        in_truce,
        "threat_issued",
        "US-CN-THREAT-100",
        date(2025, 10, 10),
        summary="Additional 100% on China from 2025-11-01",
        by_party="US",
        threatened_rate_pct=Decimal("100"),
        threatened_from=date(2025, 11, 1),
    )

    event = last_event(in_truce)
    assert isinstance(event, Negotiation.ThreatIssued)
    assert event.threatened_rate_pct == Decimal("100")
    assert event.threatened_from == date(2025, 11, 1)
    state = in_truce.state_on(date(2025, 10, 10))
    threat = Step(
        "US-CN-THREAT-100",
        "threat_issued",
        date(2025, 10, 10),
        "Additional 100% on China from 2025-11-01",
        "US",
    )
    assert state.status is Status.ESCALATION_THREATENED
    assert state.threats == (threat,)
    assert state.status_set_by == threat


@pytest.mark.parametrize(
    ("event_type", "status"),
    [("talks_postponed", Status.POSTPONED), ("talks_suspended", Status.SUSPENDED)],
)
def test_talks_may_be_postponed_or_suspended(
    in_rounds: Negotiation, event_type: str, status: Status
) -> None:
    record(in_rounds, event_type, "PAUSE", date(2025, 8, 25))

    event = last_event(in_rounds)
    assert type(event) is NEGOTIATION_STEPS[event_type].event
    state = in_rounds.state_on(date(2025, 8, 25))
    assert state.status is status
    assert state.status_set_by is not None
    assert state.status_set_by.event_id == "PAUSE"


@pytest.mark.parametrize(
    ("event_type", "fields"),
    [
        ("talks_postponed", {}),
        ("talks_suspended", {}),
        ("breach_alleged", {"by_party": "CN"}),
        ("threat_issued", {"by_party": "US", "threatened_rate_pct": None, "threatened_from": None}),
    ],
)
def test_troubled_talks_can_resume(
    in_rounds: Negotiation, event_type: str, fields: dict[str, Any]
) -> None:
    record(in_rounds, event_type, "TROUBLE", date(2025, 8, 25), **fields)

    record(in_rounds, "talks_resumed", "US-IN-RESUMED", date(2025, 9, 16))

    event = last_event(in_rounds)
    assert isinstance(event, Negotiation.TalksResumed)
    state = in_rounds.state_on(date(2025, 9, 16))
    assert state.status is Status.RESUMED
    assert state.status_set_by is not None
    assert state.status_set_by.event_id == "US-IN-RESUMED"


def test_a_round_after_resumption_puts_talks_back_in_rounds(in_rounds: Negotiation) -> None:
    record(in_rounds, "talks_postponed", "POSTPONED", date(2025, 8, 25))
    record(in_rounds, "talks_resumed", "RESUMED", date(2025, 9, 16))

    record(
        in_rounds, "round_held", "ROUND-6", date(2025, 10, 1), location="New Delhi", round_number=6
    )

    assert in_rounds.state_on(date(2025, 10, 1)).status is Status.ROUNDS


@pytest.mark.parametrize(
    ("event_type", "fields", "status"),
    [
        ("talks_collapsed", {}, Status.COLLAPSED),
        ("terminated", {}, Status.TERMINATED),
        ("superseded", {"by_negotiation_id": "us-cn-2026"}, Status.SUPERSEDED),
        ("invalidated", {}, Status.INVALIDATED),
    ],
)
def test_a_negotiation_can_end_in_four_ways(
    in_rounds: Negotiation, event_type: str, fields: dict[str, Any], status: Status
) -> None:
    record(in_rounds, event_type, "THE-END", date(2025, 12, 1), **fields)

    event = last_event(in_rounds)
    assert type(event) is NEGOTIATION_STEPS[event_type].event
    state = in_rounds.state_on(date(2025, 12, 1))
    assert state.status is status
    assert state.status_set_by is not None
    assert state.status_set_by.event_id == "THE-END"


def test_a_superseded_negotiation_names_its_successor(in_rounds: Negotiation) -> None:
    record(in_rounds, "superseded", "SUPERSEDED", date(2025, 12, 1), by_negotiation_id="us-cn-2026")

    event = last_event(in_rounds)

    assert isinstance(event, Negotiation.Superseded)
    assert event.by_negotiation_id == "us-cn-2026"


# -- impossible steps -----------------------------------------------------------------


def test_a_round_cannot_be_held_after_talks_collapse(in_rounds: Negotiation) -> None:
    record(in_rounds, "talks_collapsed", "COLLAPSE", date(2025, 6, 1))
    in_rounds.collect_events()
    before = snapshot(in_rounds)

    with pytest.raises(InvalidTransition) as raised:
        record(
            in_rounds, "round_held", "ROUND-2", date(2025, 6, 15), location="London", round_number=2
        )

    assert raised.value.negotiation_id == in_rounds.id
    assert raised.value.event_type == "round_held"
    assert raised.value.status == "collapsed"
    assert "ended" in raised.value.message
    assert snapshot(in_rounds) == before


@pytest.mark.parametrize(
    ("ending", "ending_fields"),
    [
        ("terminated", {}),
        ("invalidated", {}),
        ("superseded", {"by_negotiation_id": "us-cn-2026"}),
        ("talks_collapsed", {}),
    ],
)
@pytest.mark.parametrize(
    ("event_type", "fields"),
    [
        ("contact_made", {"by_party": "US", "channel": "official"}),
        ("round_held", {"location": "Geneva", "round_number": 2}),
        ("joint_statement_issued", {"truce_ends_on": None}),
        ("talks_resumed", {}),
        ("threat_issued", {"by_party": "US", "threatened_rate_pct": None, "threatened_from": None}),
        ("development_reported", {}),
        ("terminated", {}),
    ],
)
def test_no_step_can_follow_the_end_of_a_negotiation(
    in_rounds: Negotiation,
    ending: str,
    ending_fields: dict[str, Any],
    event_type: str,
    fields: dict[str, Any],
) -> None:
    record(in_rounds, ending, "THE-END", date(2025, 6, 1), **ending_fields)
    before = snapshot(in_rounds)

    with pytest.raises(InvalidTransition) as raised:
        record(in_rounds, event_type, "AFTER", date(2025, 7, 1), **fields)

    assert raised.value.event_type == event_type
    assert raised.value.status == in_rounds.state_on(date(2025, 6, 1)).status.value
    assert snapshot(in_rounds) == before


def test_an_agreement_cannot_be_signed_before_any_talks(talks: Negotiation) -> None:
    record(talks, "contact_made", "CONTACT", date(2025, 4, 25), by_party="US", channel="official")
    before = snapshot(talks)

    with pytest.raises(InvalidTransition) as raised:
        record(talks, "agreement_signed", "SIGNED", date(2025, 5, 1), in_force_on=None)

    assert raised.value.event_type == "agreement_signed"
    assert "no talks" in raised.value.message
    assert snapshot(talks) == before


def test_an_agreement_cannot_be_signed_before_the_first_round_even_if_recorded_after_it(
    in_rounds: Negotiation,
) -> None:
    before = snapshot(in_rounds)

    with pytest.raises(InvalidTransition):
        record(in_rounds, "agreement_signed", "SIGNED", date(2025, 5, 9), in_force_on=None)

    assert snapshot(in_rounds) == before


def test_nothing_can_be_implemented_before_something_is_agreed(in_rounds: Negotiation) -> None:
    before = snapshot(in_rounds)

    with pytest.raises(InvalidTransition) as raised:
        record(in_rounds, "implementing_action_taken", "EO", date(2025, 5, 14), measure_ids=("m",))

    assert raised.value.event_type == "implementing_action_taken"
    assert "nothing has been agreed" in raised.value.message
    assert snapshot(in_rounds) == before


def test_a_truce_cannot_be_extended_when_there_is_none(in_rounds: Negotiation) -> None:
    record(in_rounds, "joint_statement_issued", "JS", date(2025, 5, 12), truce_ends_on=None)
    before = snapshot(in_rounds)

    with pytest.raises(InvalidTransition) as raised:
        record(
            in_rounds, "truce_extended", "EXT", date(2025, 8, 11), truce_ends_on=date(2025, 11, 10)
        )

    assert raised.value.event_type == "truce_extended"
    assert raised.value.status == "framework_agreed"
    assert snapshot(in_rounds) == before


@pytest.mark.parametrize("fixture", ["talks", "in_rounds", "in_truce"])
def test_talks_that_are_not_paused_or_troubled_cannot_resume(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    negotiation: Negotiation = request.getfixturevalue(fixture)
    before = snapshot(negotiation)

    with pytest.raises(InvalidTransition) as raised:
        record(negotiation, "talks_resumed", "RESUMED", date(2025, 6, 1))

    assert raised.value.event_type == "talks_resumed"
    assert snapshot(negotiation) == before


def test_talks_cannot_resume_twice(in_rounds: Negotiation) -> None:
    record(in_rounds, "talks_postponed", "POSTPONED", date(2025, 8, 25))
    record(in_rounds, "talks_resumed", "RESUMED", date(2025, 9, 16))
    before = snapshot(in_rounds)

    with pytest.raises(InvalidTransition) as raised:
        record(in_rounds, "talks_resumed", "RESUMED-AGAIN", date(2025, 9, 17))

    assert raised.value.status == "resumed"
    assert snapshot(in_rounds) == before


@pytest.mark.parametrize("pause", ["talks_postponed", "talks_suspended"])
def test_a_round_cannot_be_held_while_talks_are_paused(in_rounds: Negotiation, pause: str) -> None:
    record(in_rounds, pause, "PAUSE", date(2025, 8, 25))
    before = snapshot(in_rounds)

    with pytest.raises(InvalidTransition) as raised:
        record(
            in_rounds,
            "round_held",
            "ROUND-6",
            date(2025, 8, 26),
            location="New Delhi",
            round_number=6,
        )

    assert raised.value.event_type == "round_held"
    assert "resumed" in raised.value.message
    assert snapshot(in_rounds) == before


@pytest.mark.parametrize(
    ("event_type", "fields"),
    [
        ("contact_made", {"by_party": "IN", "channel": "official"}),
        ("precondition_stated", {"by_party": "GB"}),
        ("proposal_tabled", {"by_party": "EU"}),
        ("threat_issued", {"by_party": "MX", "threatened_rate_pct": None, "threatened_from": None}),
    ],
)
def test_a_step_by_a_party_that_is_not_in_the_negotiation_is_refused(
    talks: Negotiation, event_type: str, fields: dict[str, Any]
) -> None:
    before = snapshot(talks)

    with pytest.raises(InvalidValue) as raised:
        record(talks, event_type, "STRANGER", date(2025, 4, 25), **fields)

    assert raised.value.field == "by_party"
    assert fields["by_party"] in raised.value.message
    assert snapshot(talks) == before


def test_an_unknown_precondition_cannot_be_met(talks: Negotiation) -> None:
    record(talks, "precondition_stated", "CN-PRE", date(2025, 4, 28), by_party="CN")
    before = snapshot(talks)

    with pytest.raises(InvalidTransition) as raised:
        record(
            talks, "precondition_met", "MET", date(2025, 5, 6), precondition_event_id="NO-SUCH-PRE"
        )

    assert raised.value.event_type == "precondition_met"
    assert "NO-SUCH-PRE" in raised.value.message
    assert snapshot(talks) == before


def test_a_precondition_cannot_be_met_before_it_was_stated(talks: Negotiation) -> None:
    record(talks, "precondition_stated", "CN-PRE", date(2025, 4, 28), by_party="CN")
    before = snapshot(talks)

    with pytest.raises(InvalidTransition):
        record(talks, "precondition_met", "MET", date(2025, 4, 27), precondition_event_id="CN-PRE")

    assert snapshot(talks) == before


def test_a_step_reusing_an_event_id_is_refused(in_rounds: Negotiation) -> None:
    before = snapshot(in_rounds)

    with pytest.raises(DuplicateEventId) as raised:
        record(
            in_rounds, "round_held", "ROUND-1", date(2025, 6, 9), location="London", round_number=2
        )

    assert raised.value.event_id == "ROUND-1"
    assert snapshot(in_rounds) == before


# -- order of steps -------------------------------------------------------------------


def test_a_step_recorded_late_lands_on_its_own_day(in_rounds: Negotiation) -> None:
    record(
        in_rounds,
        "precondition_stated",
        "CN-PRE",
        date(2025, 4, 28),
        announced_on=date(2025, 5, 20),
        by_party="CN",
    )

    before_the_round = in_rounds.state_on(date(2025, 5, 1))
    after_the_round = in_rounds.state_on(date(2025, 5, 11))

    assert before_the_round.status is Status.PRECONDITIONS
    assert event_ids(before_the_round.steps) == ["OPEN", "CN-PRE"]
    assert after_the_round.status is Status.ROUNDS
    assert event_ids(after_the_round.steps) == ["OPEN", "CN-PRE", "ROUND-1"]


def test_a_step_is_checked_against_the_state_on_its_own_day(in_rounds: Negotiation) -> None:
    record(in_rounds, "talks_collapsed", "COLLAPSE", date(2025, 6, 1))

    record(in_rounds, "round_held", "ROUND-2", date(2025, 5, 20), location="London", round_number=2)

    state = in_rounds.state_on(date(2025, 6, 1))
    assert in_rounds.version == 4
    assert state.status is Status.COLLAPSED
    assert state.last_round is not None
    assert state.last_round.event_id == "ROUND-2"


def test_steps_on_the_same_day_apply_in_the_order_they_were_recorded(
    in_rounds: Negotiation,
) -> None:
    record(
        in_rounds,
        "joint_statement_issued",
        "JS",
        date(2025, 5, 12),
        truce_ends_on=date(2025, 8, 12),
    )
    record(
        in_rounds,
        "threat_issued",
        "THREAT",
        date(2025, 5, 12),
        by_party="US",
        threatened_rate_pct=None,
        threatened_from=None,
    )

    state = in_rounds.state_on(date(2025, 5, 12))

    assert state.status is Status.ESCALATION_THREATENED
    assert event_ids(state.steps) == ["OPEN", "ROUND-1", "JS", "THREAT"]


def test_a_step_whose_day_is_unknown_counts_from_its_announcement(in_rounds: Negotiation) -> None:
    record(in_rounds, "talks_postponed", "POSTPONED", None, announced_on=date(2025, 8, 25))

    assert in_rounds.state_on(date(2025, 8, 24)).status is Status.ROUNDS
    assert in_rounds.state_on(date(2025, 8, 25)).status is Status.POSTPONED


def test_the_state_on_a_day_ignores_later_steps(in_truce: Negotiation) -> None:
    state = in_truce.state_on(date(2025, 5, 11))

    assert state.status is Status.ROUNDS
    assert state.agreements == ()
    assert state.truce_ends_on is None
    assert event_ids(state.steps) == ["OPEN", "ROUND-1"]


def test_a_step_dated_before_the_ledger_opened_the_negotiation_still_counts() -> None:
    negotiation = open_talks(uuid4(), on=None)  # announced (opened) on 2025-04-01
    record(
        negotiation,
        "precondition_stated",
        "CN-PRE",
        date(2025, 3, 20),
        announced_on=date(2025, 4, 2),
        by_party="CN",
    )

    state = negotiation.state_on(date(2025, 4, 2))

    assert state.status is Status.PRECONDITIONS


# -- corrections ----------------------------------------------------------------------


def test_a_corrected_step_is_removed_from_the_fold(in_rounds: Negotiation) -> None:
    record(in_rounds, "talks_collapsed", "COLLAPSE", date(2025, 6, 1))

    record(
        in_rounds,
        "record_corrected",
        "COLLAPSE-CORRECTED",
        date(2025, 6, 1),
        announced_on=date(2025, 6, 3),
        corrected_event_id="COLLAPSE",
        reason="the press report was about other talks",
    )

    event = last_event(in_rounds)
    assert isinstance(event, Negotiation.RecordCorrected)
    assert (event.corrected_event_id, event.reason) == (
        "COLLAPSE",
        "the press report was about other talks",
    )
    state = in_rounds.state_on(date(2025, 6, 5))
    assert state.status is Status.ROUNDS
    assert "COLLAPSE" not in event_ids(state.steps)
    assert in_rounds.event_types["COLLAPSE"] == "talks_collapsed"


def test_a_corrected_collapse_no_longer_blocks_a_round_on_a_day_before_the_correction(
    in_rounds: Negotiation,
) -> None:
    record(in_rounds, "talks_collapsed", "COLLAPSE", date(2025, 6, 1))
    record(
        in_rounds,
        "record_corrected",
        "FIX",
        date(2025, 6, 3),
        corrected_event_id="COLLAPSE",
        reason="error",
    )

    record(in_rounds, "round_held", "ROUND-2", date(2025, 6, 5), location="London", round_number=2)

    assert in_rounds.state_on(date(2025, 6, 5)).status is Status.ROUNDS


def test_a_corrected_collapse_no_longer_blocks_a_round_whatever_the_day_of_the_correction(
    in_rounds: Negotiation,
) -> None:
    record(in_rounds, "talks_collapsed", "COLLAPSE", date(2025, 6, 1))
    record(
        in_rounds,
        "record_corrected",
        "FIX",
        date(2025, 7, 1),
        corrected_event_id="COLLAPSE",
        reason="error",
    )
    assert in_rounds.state_on(date(2025, 6, 15)).status is Status.ROUNDS

    record(in_rounds, "round_held", "ROUND-2", date(2025, 6, 15), location="London", round_number=2)

    assert in_rounds.version == 5


def test_fold_negotiation_applies_corrections_among_the_events_given(
    in_rounds: Negotiation,
) -> None:
    record(in_rounds, "talks_collapsed", "COLLAPSE", date(2025, 6, 1))
    record(
        in_rounds,
        "record_corrected",
        "FIX",
        date(2025, 6, 3),
        corrected_event_id="COLLAPSE",
        reason="error",
    )
    history = list(in_rounds.history)

    without_the_correction = fold_negotiation(in_rounds.id, history[:-1], date(2025, 6, 5))
    with_the_correction = fold_negotiation(in_rounds.id, history, date(2025, 6, 5))

    assert without_the_correction.status is Status.COLLAPSED
    assert with_the_correction.status is Status.ROUNDS


def test_an_unknown_event_cannot_be_corrected(in_rounds: Negotiation) -> None:
    before = snapshot(in_rounds)

    with pytest.raises(UnknownEventReference) as raised:
        record(
            in_rounds,
            "record_corrected",
            "FIX",
            date(2025, 6, 3),
            corrected_event_id="NOPE",
            reason="error",
        )

    assert raised.value.event_id == "NOPE"
    assert raised.value.stream_id == in_rounds.id
    assert snapshot(in_rounds) == before


def test_a_correction_cannot_be_corrected(in_rounds: Negotiation) -> None:
    record(
        in_rounds,
        "record_corrected",
        "FIX",
        date(2025, 6, 3),
        corrected_event_id="ROUND-1",
        reason="error",
    )
    before = snapshot(in_rounds)

    with pytest.raises(InvalidTransition) as raised:
        record(
            in_rounds,
            "record_corrected",
            "UNFIX",
            date(2025, 6, 4),
            corrected_event_id="FIX",
            reason="oops",
        )

    assert raised.value.event_type == "record_corrected"
    assert "record_corrected event cannot be corrected" in raised.value.message
    assert snapshot(in_rounds) == before


def test_the_opening_of_a_negotiation_cannot_be_corrected(in_rounds: Negotiation) -> None:
    before = snapshot(in_rounds)

    with pytest.raises(InvalidTransition) as raised:
        record(
            in_rounds,
            "record_corrected",
            "FIX",
            date(2025, 6, 3),
            corrected_event_id="OPEN",
            reason="error",
        )

    assert raised.value.event_type == "record_corrected"
    assert "opened event cannot be corrected" in raised.value.message
    assert snapshot(in_rounds) == before


def test_a_step_of_an_ended_negotiation_can_still_be_corrected(in_rounds: Negotiation) -> None:
    record(in_rounds, "terminated", "TERMINATED", date(2025, 6, 1))

    record(
        in_rounds,
        "record_corrected",
        "FIX",
        date(2025, 6, 2),
        corrected_event_id="TERMINATED",
        reason="error",
    )

    assert in_rounds.state_on(date(2025, 6, 2)).status is Status.ROUNDS


# -- replay ---------------------------------------------------------------------------


def test_replaying_the_events_rebuilds_the_same_state(in_truce: Negotiation) -> None:
    record(in_truce, "truce_extended", "EXT", date(2025, 8, 11), truce_ends_on=date(2025, 11, 10))
    events = [*in_truce.history]

    replayed: Negotiation | None = None
    for event in events:
        replayed = event.mutate(replayed)

    assert isinstance(replayed, Negotiation)
    assert replayed.version == in_truce.version == 4
    assert replayed.event_types == in_truce.event_types
    assert replayed.state_on(date(2025, 9, 1)) == in_truce.state_on(date(2025, 9, 1))


# -- a realistic sequence: US-China, 2025 ---------------------------------------------


@pytest.fixture
def us_china_2025() -> Negotiation:
    """The US-China talks of 2025, each step as the ledger would record it."""
    talks = Negotiation.open(
        negotiation_id=uuid4(),
        facts=facts("US-CN-2025-OPEN", date(2025, 4, 24)),
        key="us-cn-2025",
        title="US-China economic and trade talks",
        parties=("US", "CN"),
        summary="Talks after the April 2025 escalation",
    )
    record(
        talks,
        "contact_made",
        "US-CN-BACKCHANNEL",
        date(2025, 4, 25),
        announced_on=date(2025, 4, 30),
        summary="The US discreetly reached out to Beijing through intermediaries",
        by_party="US",
        channel="back_channel",
    )
    record(
        talks,
        "precondition_stated",
        "CN-MEANINGFUL-MEASURES",
        date(2025, 4, 28),
        summary="China: the US must first take meaningful measures, cancelling unilateral tariffs",
        by_party="CN",
    )
    record(
        talks,
        "talks_scheduled",
        "US-CN-GENEVA-SCHEDULED",
        date(2025, 5, 6),
        summary="Bessent and Greer to meet He Lifeng in Geneva",
        talks_on=date(2025, 5, 10),
        location="Geneva",
    )
    record(
        talks,
        "round_held",
        "US-CN-GENEVA-TALKS",
        date(2025, 5, 10),
        announced_on=date(2025, 5, 11),
        summary="Geneva talks, May 10-11",
        location="Geneva",
        round_number=1,
    )
    record(
        talks,
        "joint_statement_issued",
        "US-CN-GENEVA-JS",
        date(2025, 5, 12),
        summary="Joint statement: 24 points suspended for 90 days",
        truce_ends_on=date(2025, 8, 12),
    )
    record(
        talks,
        "truce_extended",
        "US-CN-TRUCE-EXT-1",
        date(2025, 8, 11),
        summary="Suspension extended to 10 November",
        truce_ends_on=date(2025, 11, 10),
    )
    record(
        talks,
        "threat_issued",
        "US-CN-THREAT-100",
        date(2025, 10, 10),
        summary="Additional 100% on China from 1 November 'or sooner'",
        by_party="US",
        threatened_rate_pct=Decimal("100"),
        threatened_from=date(2025, 11, 1),
    )
    record(
        talks,
        "framework_agreed",
        "US-CN-BUSAN",
        date(2025, 10, 30),
        summary="Trump-Xi arrangement at Busan: truce extended by a year",
        truce_ends_on=date(2026, 11, 10),
    )
    return talks


def test_us_china_2025_stand_off_before_geneva(us_china_2025: Negotiation) -> None:
    state = us_china_2025.state_on(date(2025, 5, 1))

    assert state.status is Status.PRECONDITIONS
    assert event_ids(state.open_preconditions) == ["CN-MEANINGFUL-MEASURES"]
    assert state.open_preconditions[0].party == "CN"
    assert event_ids(state.steps) == [
        "US-CN-2025-OPEN",
        "US-CN-BACKCHANNEL",
        "CN-MEANINGFUL-MEASURES",
    ]
    assert state.last_round is None


def test_us_china_2025_truce_after_geneva(us_china_2025: Negotiation) -> None:
    state = us_china_2025.state_on(date(2025, 5, 15))

    assert state.status is Status.TRUCE
    assert state.status_set_by is not None
    assert state.status_set_by.event_id == "US-CN-GENEVA-JS"
    assert state.truce_ends_on == date(2025, 8, 12)
    assert state.last_round is not None
    assert state.last_round.event_id == "US-CN-GENEVA-TALKS"
    assert event_ids(state.agreements) == ["US-CN-GENEVA-JS"]


def test_us_china_2025_truce_extended_through_the_summer(us_china_2025: Negotiation) -> None:
    state = us_china_2025.state_on(date(2025, 8, 12))

    assert state.status is Status.TRUCE
    assert state.truce_ends_on == date(2025, 11, 10)
    assert event_ids(state.truce_steps) == ["US-CN-GENEVA-JS", "US-CN-TRUCE-EXT-1"]


def test_us_china_2025_escalation_threatened_in_october(us_china_2025: Negotiation) -> None:
    state = us_china_2025.state_on(date(2025, 10, 15))

    assert state.status is Status.ESCALATION_THREATENED
    assert state.status_set_by is not None
    assert state.status_set_by.event_id == "US-CN-THREAT-100"
    assert event_ids(state.threats) == ["US-CN-THREAT-100"]
    assert state.truce_ends_on == date(2025, 11, 10)


def test_us_china_2025_truce_renewed_at_busan(us_china_2025: Negotiation) -> None:
    state = us_china_2025.state_on(date(2025, 11, 1))

    assert state.status is Status.TRUCE
    assert state.status_set_by is not None
    assert state.status_set_by.event_id == "US-CN-BUSAN"
    assert state.truce_ends_on == date(2026, 11, 10)
    assert event_ids(state.truce_steps) == ["US-CN-GENEVA-JS", "US-CN-TRUCE-EXT-1", "US-CN-BUSAN"]
    assert event_ids(state.agreements) == ["US-CN-GENEVA-JS", "US-CN-BUSAN"]
    assert event_ids(state.threats) == ["US-CN-THREAT-100"]
    assert us_china_2025.state_on(date(2026, 11, 10)).status is Status.TRUCE_EXPIRED


def test_us_china_2025_as_known_before_the_first_extension(us_china_2025: Negotiation) -> None:
    known_at = end_of_day(date(2025, 8, 10))
    known_on_10_august = [e for e in us_china_2025.history if e.announced_at <= known_at]

    expected_then = fold_negotiation(us_china_2025.id, known_on_10_august, date(2025, 8, 12))
    known_now = fold_negotiation(us_china_2025.id, us_china_2025.history, date(2025, 8, 12))

    assert expected_then.status is Status.TRUCE_EXPIRED
    assert expected_then.truce_ends_on == date(2025, 8, 12)
    assert known_now.status is Status.TRUCE
