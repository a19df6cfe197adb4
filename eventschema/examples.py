"""The example of every event type, as data, for the API documentation and the JSON Schema.

Each event model shows the example of its type, each dataset line model the same example
with the stream it names (`LINE_STREAMS`). Examples reuse the event ids and dates of the
seed timeline (shared/data/tariff-timeline-2025.json) where it has such an event; the
others have ids starting with EXAMPLE- and an "illustrative" source.
"""

from __future__ import annotations

from typing import Any

_BY = "analyst@example.org"
_WHITE_HOUSE = {"publisher": "The White House", "reliability": "official"}
_REUTERS_REPORT = {
    "sources": [
        {
            "citation": "https://www.reuters.com/world/",
            "publisher": "Reuters",
            "reliability": "press",
        }
    ],
    "recorded_by": _BY,
}
_ILLUSTRATIVE = [
    {"citation": "illustrative example", "publisher": "tradeledger", "reliability": "unverified"}
]

MEASURE_EXAMPLES: dict[str, dict[str, Any]] = {
    "imposed": {
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
        "sources": [{"citation": "Executive Order 14195", **_WHITE_HOUSE}],
        "recorded_by": _BY,
    },
    "rate_changed": {
        "type": "rate_changed",
        "event_id": "US-CN-FENT-20",
        "rate_pct": "20",
        "effective_on": "2025-03-04",
        "announced_at": "2025-03-03",
        "sources": [{"citation": "Executive Order 14228", **_WHITE_HOUSE}],
        "recorded_by": _BY,
    },
    "scope_changed": {
        "type": "scope_changed",
        "event_id": "US-232-STEEL-DERIVATIVES",
        "added_hs_prefixes": ["7326.90"],
        "removed_hs_prefixes": [],
        "effective_on": "2025-06-23",
        "announced_at": "2025-06-16",
        "sources": [
            {
                "citation": "Inclusions of derivative steel products",
                "publisher": "Federal Register",
                "reliability": "official",
            }
        ],
        "recorded_by": _BY,
    },
    "exclusion_granted": {
        "type": "exclusion_granted",
        "event_id": "US-RECIP-ELEC-EXCL",
        "hs_prefixes": ["8517.13", "8471.30"],
        "effective_on": "2025-04-05",
        "announced_at": "2025-04-11T21:00:00-04:00",
        "sources": [
            {"citation": "Memorandum 'Clarification of Exceptions Under EO 14257'", **_WHITE_HOUSE}
        ],
        "recorded_by": _BY,
    },
    "exclusion_revoked": {
        "type": "exclusion_revoked",
        "event_id": "EXAMPLE-EXCL-REVOKED",
        "hs_prefixes": ["8471.30"],
        "effective_on": "2025-09-01",
        "announced_at": "2025-08-15",
        "sources": _ILLUSTRATIVE,
        "recorded_by": _BY,
    },
    "suspension_granted": {
        "type": "suspension_granted",
        "event_id": "US-CN-GENEVA",
        "points": "24",
        "ends_on": "2025-08-12",
        "effective_on": "2025-05-14",
        "announced_at": "2025-05-12",
        "sources": [{"citation": "Executive Order 14298", **_WHITE_HOUSE}],
        "recorded_by": _BY,
    },
    "suspension_extended": {
        "type": "suspension_extended",
        "event_id": "US-CN-EXT-NOV10",
        "suspension_event_id": "US-CN-GENEVA",
        "ends_on": "2025-11-10",
        "effective_on": "2025-08-12",
        "announced_at": "2025-08-11",
        "sources": [{"citation": "Executive Order extending the suspension", **_WHITE_HOUSE}],
        "recorded_by": _BY,
    },
    "terminated": {
        "type": "terminated",
        "event_id": "EXAMPLE-TERMINATED",
        "effective_on": "2025-11-10",
        "announced_at": "2025-11-04",
        "sources": _ILLUSTRATIVE,
        "recorded_by": _BY,
    },
    "precedence_declared": {
        "type": "precedence_declared",
        "event_id": "US-STACKING-EO14289",
        "displaces_measure_ids": ["us-ca-fentanyl", "us-mx-fentanyl"],
        "displaces_layers": ["section_232_steel", "section_232_aluminum"],
        "hs_prefixes": [],
        "effective_on": "2025-03-04",
        "announced_at": "2025-04-29",
        "sources": [{"citation": "Executive Order 14289", **_WHITE_HOUSE}],
        "recorded_by": _BY,
    },
    "legal_status_changed": {
        "type": "legal_status_changed",
        "event_id": "US-SCOTUS-IEEPA",
        "status": "ruled_unlawful",
        "collection_stops": True,
        "effective_on": "2026-02-24",
        "announced_at": "2026-02-20",
        "sources": [
            {
                "citation": "Learning Resources, Inc. v. Trump",
                "publisher": "Supreme Court of the United States",
                "reliability": "official",
            }
        ],
        "recorded_by": _BY,
    },
    "record_corrected": {
        "type": "record_corrected",
        "event_id": "EXAMPLE-CORRECTION",
        "corrected_event_id": "US-CN-FENT-20",
        "reason": "effective_on typed as 2025-03-14; re-recorded as US-CN-FENT-20b",
        "effective_on": None,
        "announced_at": "2025-06-02T09:15:00Z",
        "sources": [{"citation": "Executive Order 14228", **_WHITE_HOUSE}],
        "recorded_by": _BY,
    },
}

NEGOTIATION_EXAMPLES: dict[str, dict[str, Any]] = {
    "opened": {
        "type": "opened",
        "event_id": "US-CN-TALKS-OPEN",
        "key": "us-cn-trade-talks",
        "title": "US-China trade talks 2025",
        "parties": ["US", "CN"],
        "summary": "Escalating tariffs; both sides say they are open to talks.",
        "effective_on": "2025-04-09",
        "announced_at": "2025-04-09",
        "sources": [
            {"citation": "https://www.reuters.com/", "publisher": "Reuters", "reliability": "press"}
        ],
        "recorded_by": _BY,
    },
    "contact_made": {
        "type": "contact_made",
        "event_id": "US-CN-CONTACT-1",
        "by_party": "US",
        "channel": "back_channel",
        "summary": "The US side reportedly reached out discreetly to open talks.",
        "effective_on": "2025-04-24",
        "announced_at": "2025-04-24",
        **_REUTERS_REPORT,
    },
    "precondition_stated": {
        "type": "precondition_stated",
        "event_id": "CN-PRECONDITION-1",
        "by_party": "CN",
        "summary": "China asks for meaningful measures (tariff cuts) before any talks.",
        "effective_on": "2025-04-17",
        "announced_at": "2025-04-17",
        **_REUTERS_REPORT,
    },
    "precondition_met": {
        "type": "precondition_met",
        "event_id": "CN-PRECONDITION-1-MET",
        "precondition_event_id": "CN-PRECONDITION-1",
        "summary": "China agrees to meet in Geneva.",
        "effective_on": "2025-05-06",
        "announced_at": "2025-05-06",
        **_REUTERS_REPORT,
    },
    "talks_scheduled": {
        "type": "talks_scheduled",
        "event_id": "US-CN-GENEVA-SCHEDULED",
        "talks_on": "2025-05-10",
        "location": "Geneva",
        "summary": "Talks set for Geneva on 10-11 May.",
        "effective_on": "2025-05-06",
        "announced_at": "2025-05-06",
        **_REUTERS_REPORT,
    },
    "round_held": {
        "type": "round_held",
        "event_id": "US-CN-GENEVA-TALKS",
        "location": "Geneva",
        "round_number": 1,
        "summary": "Two days of talks in Geneva.",
        "effective_on": "2025-05-10",
        "announced_at": "2025-05-10",
        **_REUTERS_REPORT,
    },
    "proposal_tabled": {
        "type": "proposal_tabled",
        "event_id": "US-UK-PROPOSAL-1",
        "by_party": "GB",
        "summary": "The UK tables a proposal on car quotas.",
        "effective_on": "2025-04-20",
        "announced_at": "2025-04-20",
        **_REUTERS_REPORT,
    },
    "concession_offered": {
        "type": "concession_offered",
        "event_id": "CN-US-ETHANE-WAIVER",
        "by_party": "CN",
        "summary": "China quietly exempts US ethane from its retaliatory tariff.",
        "effective_on": "2025-04-29",
        "announced_at": "2025-04-29",
        **_REUTERS_REPORT,
    },
    "development_reported": {
        "type": "development_reported",
        "event_id": "US-CN-PHASED-CUT-REPORT",
        "summary": "Report that the US considers phased tariff cuts.",
        "effective_on": "2025-04-23",
        "announced_at": "2025-04-23",
        **_REUTERS_REPORT,
    },
    "joint_statement_issued": {
        "type": "joint_statement_issued",
        "event_id": "US-CN-GENEVA-STATEMENT",
        "truce_ends_on": "2025-08-12",
        "summary": "Geneva joint statement: 90-day truce, reciprocal rates cut to 10%.",
        "effective_on": "2025-05-12",
        "announced_at": "2025-05-12",
        **_REUTERS_REPORT,
    },
    "framework_agreed": {
        "type": "framework_agreed",
        "event_id": "US-CN-LONDON",
        "summary": "London framework to implement the Geneva consensus.",
        "effective_on": "2025-06-10",
        "announced_at": "2025-06-10",
        **_REUTERS_REPORT,
    },
    "deal_announced": {
        "type": "deal_announced",
        "event_id": "US-UK-EPD-ANNOUNCED",
        "in_force_on": "2025-06-30",
        "summary": "US-UK Economic Prosperity Deal terms announced.",
        "effective_on": "2025-05-08",
        "announced_at": "2025-05-08",
        **_REUTERS_REPORT,
    },
    "agreement_signed": {
        "type": "agreement_signed",
        "event_id": "US-UK-EPD-SIGNED",
        "in_force_on": "2025-06-30",
        "summary": "The US and the UK sign the general terms.",
        "effective_on": "2025-06-16",
        "announced_at": "2025-06-16",
        **_REUTERS_REPORT,
    },
    "implementing_action_taken": {
        "type": "implementing_action_taken",
        "event_id": "US-CN-GENEVA-IMPLEMENTED",
        "measure_ids": ["us-cn-reciprocal"],
        "summary": "The US implements the Geneva rate cuts.",
        "effective_on": "2025-05-14",
        "announced_at": "2025-05-14",
        **_REUTERS_REPORT,
    },
    "truce_extended": {
        "type": "truce_extended",
        "event_id": "US-CN-TRUCE-EXT-1",
        "truce_ends_on": "2025-11-10",
        "summary": "The truce is extended by 90 days.",
        "effective_on": "2025-08-11",
        "announced_at": "2025-08-11",
        **_REUTERS_REPORT,
    },
    "breach_alleged": {
        "type": "breach_alleged",
        "event_id": "US-CN-BREACH-1",
        "by_party": "US",
        "summary": "The US says China violated the Geneva agreement.",
        "effective_on": "2025-05-30",
        "announced_at": "2025-05-30",
        **_REUTERS_REPORT,
    },
    "threat_issued": {
        "type": "threat_issued",
        "event_id": "US-CN-THREAT-100",
        "by_party": "US",
        "threatened_rate_pct": "100",
        "threatened_from": "2025-11-01",
        "summary": "The US threatens an additional 100% tariff from 1 November.",
        "effective_on": "2025-10-10",
        "announced_at": "2025-10-10",
        **_REUTERS_REPORT,
    },
    "talks_postponed": {
        "type": "talks_postponed",
        "event_id": "US-IN-ROUND6-POSTPONED",
        "summary": "The sixth round in New Delhi is postponed indefinitely.",
        "effective_on": "2025-08-25",
        "announced_at": "2025-08-25",
        **_REUTERS_REPORT,
    },
    "talks_resumed": {
        "type": "talks_resumed",
        "event_id": "US-IN-RESUMED",
        "summary": "Talks resume in New Delhi.",
        "effective_on": "2025-09-16",
        "announced_at": "2025-09-16",
        **_REUTERS_REPORT,
    },
    "talks_suspended": {
        "type": "talks_suspended",
        "event_id": "US-CA-SUSPENDED",
        "summary": "The US ends talks with Canada.",
        "effective_on": "2025-06-27",
        "announced_at": "2025-06-27",
        **_REUTERS_REPORT,
    },
    "talks_collapsed": {
        "type": "talks_collapsed",
        "event_id": "EXAMPLE-COLLAPSE",
        "summary": "(illustrative) Talks break down.",
        "effective_on": "2025-07-01",
        "announced_at": "2025-07-01",
        **_REUTERS_REPORT,
    },
    "terminated": {
        "type": "terminated",
        "event_id": "EXAMPLE-TERMINATED",
        "summary": "(illustrative) A party withdraws.",
        "effective_on": "2025-07-01",
        "announced_at": "2025-07-01",
        **_REUTERS_REPORT,
    },
    "superseded": {
        "type": "superseded",
        "event_id": "EXAMPLE-SUPERSEDED",
        "by_negotiation_id": "us-cn-trade-talks-2026",
        "summary": "(illustrative) Talks continue under a new framework.",
        "effective_on": "2026-01-15",
        "announced_at": "2026-01-15",
        **_REUTERS_REPORT,
    },
    "invalidated": {
        "type": "invalidated",
        "event_id": "EXAMPLE-INVALIDATED",
        "summary": "(illustrative) The ruling removes the legal basis of what was agreed.",
        "effective_on": "2026-02-20",
        "announced_at": "2026-02-20",
        **_REUTERS_REPORT,
    },
    "record_corrected": {
        "type": "record_corrected",
        "event_id": "EXAMPLE-CORRECTION",
        "corrected_event_id": "US-CN-GENEVA-TALKS",
        "reason": "belongs to the US-UK talks",
        "summary": "(illustrative) Round recorded under the wrong negotiation.",
        "effective_on": "2025-06-02",
        "announced_at": "2025-06-02",
        **_REUTERS_REPORT,
    },
}


LINE_STREAMS: dict[str, str] = {"measure": "us-cn-fentanyl", "negotiation": "us-cn-trade-talks"}
"""The stream a dataset line names in its example, by kind, unless STORY_STREAMS has another."""

STORY_STREAMS: dict[tuple[str, str], str] = {
    # (kind, event type): the stream whose story the example tells.
    ("measure", "exclusion_granted"): "us-cn-reciprocal",
    ("measure", "exclusion_revoked"): "us-cn-reciprocal",
    ("measure", "suspension_granted"): "us-cn-reciprocal",
    ("measure", "suspension_extended"): "us-cn-reciprocal",
    ("measure", "scope_changed"): "us-steel-232",
    ("measure", "precedence_declared"): "us-auto-232",
    ("measure", "legal_status_changed"): "us-cn-reciprocal",
    ("negotiation", "proposal_tabled"): "us-uk-trade-talks",
    ("negotiation", "deal_announced"): "us-uk-trade-talks",
    ("negotiation", "agreement_signed"): "us-uk-trade-talks",
    ("negotiation", "talks_postponed"): "us-in-trade-talks",
    ("negotiation", "talks_resumed"): "us-in-trade-talks",
    ("negotiation", "talks_suspended"): "us-ca-trade-talks",
    ("negotiation", "superseded"): "us-cn-trade-talks",
}
