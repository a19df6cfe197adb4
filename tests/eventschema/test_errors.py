"""What is refused, and how the error names the field."""

from __future__ import annotations

import pytest

from tests.eventschema.support import SOURCES, errors_of, imposed, rate_changed

REFUSED = {
    "unknown-type": (
        rate_changed(type="rate_raised"),
        "type: unknown event type 'rate_raised' for a measure; expected one of 'imposed', ",
    ),
    "no-type": (rate_changed(type=...), "type: Field required"),
    "missing-field": (rate_changed(announced_at=...), "announced_at: Field required"),
    "rate-not-a-number": (
        rate_changed(rate_pct="abc"),
        "rate_pct: Input should be a valid decimal (got 'abc')",
    ),
    "bad-reliability": (
        rate_changed(sources=[{**SOURCES[0], "reliability": "gov"}]),
        "sources.0.reliability: Input should be 'official', 'law_firm', 'press' or "
        "'unverified' (got 'gov')",
    ),
    "no-source": (rate_changed(sources=[]), "sources: List should have at least 1 item"),
    "bad-hs-prefix": (rate_changed(hs_prefixes=["85x"]), "hs_prefixes.0: '85x' is not an HS"),
    "extra-field": (rate_changed(surprise=1), "surprise: Extra inputs are not permitted"),
    "no-stream": (rate_changed(measure=...), "a line names its stream with exactly one of"),
    "two-streams": (rate_changed(negotiation="n"), "a line names its stream with exactly one"),
    "bad-stream": (rate_changed(measure="a key!"), "measure: 'a key!' is neither a UUID nor"),
    "bad-country": (imposed(targets=["XX"]), "targets.0: 'XX' is not an ISO 3166 alpha-2"),
    "no-rate": (imposed(rate_pct=None), "give rate_pct, rate_by_prefix, or both"),
    "key-disagrees": (
        imposed(key="other"),
        "key 'other' differs from the measure 'us-cn-fentanyl' this line names",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_errors_name_the_field_without_pydantic_union_tags(case: str) -> None:
    line, expected = REFUSED[case]

    assert errors_of(line).startswith(expected)


def test_several_errors_fit_on_one_line() -> None:
    message = errors_of(rate_changed(rate_pct="x", effective_on="x", announced_at="x", note=1))

    assert "\n" not in message
    assert message.endswith("; and 1 more")
