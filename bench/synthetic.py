"""A synthetic ledger of any size, in the dataset format, and query points drawn from it.

The mix imitates the 2025-26 timeline at scale: a few hundred measures imposed by the US,
China, the EU (as DE, because "EU" is not an ISO 3166-1 code the domain accepts) and India
on single origins, several origins or every origin ("*", with exclusions of origins),
their rates changed (generally or for some HS prefixes), scopes widened and narrowed,
exclusions granted and revoked on HS prefixes (often retroactively), suspensions granted
and extended, precedence rules between layers, changes of legal status, corrections of
earlier records, and the odd termination; beside them ~100 negotiations moving through
contacts, preconditions, rounds, proposals, joint statements with truces, extensions,
threats, breaches and resumptions.

Events are ~300 bytes once stored (a citation URL, a publisher, a recorder and a short
note, as real entries carry). Everything is deterministic given (events, seed): the same
call gives the same lines, so a store built once can be reused across runs.

Lines come stream by stream ("a dataset file per measure"), each stream in the order its
facts happened. That order keeps `Ledger.append_batch` from reloading long streams again
and again (it loads every stream a batch touches, from the store, once per batch; see the
benchmark report), which would otherwise dominate the time to build a large store.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

START = date(2025, 1, 6)
END = date(2026, 12, 18)
SPAN_DAYS = (END - START).days

NEGOTIATION_SHARE = 0.03
"""Share of the events that are negotiation steps (the domain checks each step against a
fold of its stream's history, so long negotiation streams cost quadratic time to build)."""

IMPOSERS: dict[str, tuple[str, ...]] = {
    "US": ("CN", "MX", "CA", "IN", "VN", "DE", "JP", "KR", "BR", "GB", "TW", "TH"),
    "CN": ("US", "CA", "IN", "JP", "AU", "DE"),
    "DE": ("CN", "US", "IN", "TR", "RU"),  # the EU, as DE
    "IN": ("US", "CN", "VN", "DE", "BD"),
}
IMPOSER_WEIGHTS = {"US": 0.5, "CN": 0.2, "DE": 0.15, "IN": 0.15}

LAYERS = (
    "ieepa_reciprocal",
    "ieepa_fentanyl",
    "section_232_steel",
    "section_232_aluminium",
    "section_232_autos",
    "section_232_copper",
    "section_301",
    "antidumping",
    "countervailing",
    "safeguard",
    "retaliation",
    "baseline",
)

CHAPTERS = (
    "01", "02", "03", "04", "07", "08", "10", "12", "15", "17",
    "22", "27", "28", "29", "30", "38", "39", "40", "44", "48",
    "52", "61", "62", "64", "72", "73", "74", "76", "84", "85",
    "87", "88", "89", "90", "94", "95",
)  # fmt: skip
"""HS chapters the measures cover; headings and subheadings are derived from them."""

PUBLISHERS = (
    ("https://www.federalregister.gov/documents/2025/{m:02d}/{d:02d}/2025-{n:05d}", "official"),
    ("https://www.whitehouse.gov/presidential-actions/2025/{m:02d}/eo-{n:05d}/", "official"),
    ("https://www.mofcom.gov.cn/article/zcfb/2025{m:02d}/{n:08d}.shtml", "official"),
    ("https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=OJ:L_2025{n:05d}", "official"),
    ("https://www.reuters.com/markets/trade/tariff-update-{n:06d}/", "press"),
    ("https://www.law-firm.example/insights/tariff-alert-{n:05d}", "law_firm"),
)
PUBLISHER_NAMES = {
    "federalregister": "Federal Register",
    "whitehouse": "The White House",
    "mofcom": "MOFCOM",
    "eur-lex": "Official Journal of the EU",
    "reuters": "Reuters",
    "law-firm": "Law Firm LLP",
}

PRODUCT_CHANGES: tuple[tuple[str, float], ...] = (
    ("rate_changed", 0.30),
    ("exclusion_granted", 0.30),
    ("exclusion_revoked", 0.12),
    ("scope_changed", 0.16),
    ("record_corrected", 0.05),
)
"""Changes about products (HS prefixes): what a large ledger mostly holds."""


def measure_level_counts(events: int) -> dict[str, int]:
    """How many changes of the measure as a whole a measure with `events` events gets.

    Real measures see a handful of general rate changes, suspensions, precedence rules
    and rulings, however many product lines and exclusions they accumulate; so these
    grow with the stream only up to a cap, and product-level changes take the rest.
    """
    return {
        "general_rate": min(20, max(1, events // 10)),
        "suspension_granted": min(3, events // 30),
        "suspension_extended": min(4, events // 40),
        "precedence_declared": min(2, events // 150),
        "legal_status_changed": min(2, events // 100),
    }


@dataclass(frozen=True)
class MeasurePlan:
    """What the generator decided about one measure (the queries draw from it)."""

    key: str
    imposer: str
    targets: tuple[str, ...]
    excluded_targets: tuple[str, ...]
    layer: str
    chapters: tuple[str, ...]
    """Covered chapters; () means every product ("*")."""
    events: int
    first_day: date


@dataclass(frozen=True)
class NegotiationPlan:
    key: str
    parties: tuple[str, ...]
    events: int
    first_day: date


@dataclass
class Synthetic:
    """A synthetic ledger of `events` events: its streams, and its dataset lines."""

    events: int
    seed: int = 2025
    measures: int = 300
    negotiations: int = 100
    measure_plans: list[MeasurePlan] = field(init=False, repr=False)
    negotiation_plans: list[NegotiationPlan] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rng = random.Random(f"plan-{self.seed}")
        # Small stores get fewer streams, so that every stream has a history.
        n_measures = max(1, min(self.measures, self.events // 8))
        n_negotiations = max(1, min(self.negotiations, self.events // 40))
        negotiation_events = max(n_negotiations * 3, int(self.events * NEGOTIATION_SHARE))
        measure_events = self.events - negotiation_events
        if measure_events < n_measures:
            msg = f"{self.events} events are too few for {n_measures} measures"
            raise ValueError(msg)
        counts = _spread(measure_events, n_measures, rng, floor=1)
        self.measure_plans = [self._measure_plan(i, counts[i], rng) for i in range(n_measures)]
        counts = _spread(negotiation_events, n_negotiations, rng, floor=3)
        self.negotiation_plans = []
        for i in range(n_negotiations):
            imposer = rng.choice(list(IMPOSERS))
            partner = rng.choice(IMPOSERS[imposer])
            parties: tuple[str, ...] = (imposer, partner)
            if rng.random() < 0.15:
                third = rng.choice([c for c in IMPOSERS if c not in parties])
                parties = (*parties, third)
            first = START + timedelta(days=rng.randrange(SPAN_DAYS // 4))
            key = f"talks-{'-'.join(p.lower() for p in parties)}-{i:03d}"
            self.negotiation_plans.append(NegotiationPlan(key, parties, counts[i], first))

    def _measure_plan(self, index: int, count: int, rng: random.Random) -> MeasurePlan:
        imposer = rng.choices(list(IMPOSERS), weights=list(IMPOSER_WEIGHTS.values()))[0]
        origins = IMPOSERS[imposer]
        shape = rng.random()
        excluded: tuple[str, ...] = ()
        if shape < 0.55:
            targets: tuple[str, ...] = (rng.choice(origins),)
        elif shape < 0.75:
            targets = tuple(sorted(rng.sample(origins, k=min(len(origins), rng.randint(2, 4)))))
        else:
            targets = ("*",)
            if rng.random() < 0.5:
                excluded = tuple(sorted(rng.sample(origins, k=2)))
        layer = rng.choice(LAYERS)
        if rng.random() < 0.3:
            chapters: tuple[str, ...] = ()
        else:
            chapters = tuple(sorted(rng.sample(CHAPTERS, k=rng.randint(1, 6))))
        first = START + timedelta(days=rng.randrange(SPAN_DAYS // 3))
        key = f"{imposer.lower()}-{layer.replace('_', '-')}-{index:04d}"
        return MeasurePlan(key, imposer, targets, excluded, layer, chapters, count, first)

    # -- lines -----------------------------------------------------------------------

    def lines(self) -> Iterator[dict[str, Any]]:
        """Every dataset line, stream by stream, streams in the order they start."""
        streams: list[tuple[date, int, MeasurePlan | NegotiationPlan]] = [
            (p.first_day, i, p) for i, p in enumerate(self.measure_plans)
        ]
        streams += [
            (p.first_day, len(self.measure_plans) + i, p)
            for i, p in enumerate(self.negotiation_plans)
        ]
        for _, index, plan in sorted(streams, key=lambda s: (s[0], s[1])):
            rng = random.Random(f"{self.seed}-{self.events}-{index}")
            if isinstance(plan, MeasurePlan):
                yield from _MeasureWriter(plan, rng, self.measure_plans).lines()
            else:
                yield from _NegotiationWriter(plan, rng).lines()


def _spread(total: int, n: int, rng: random.Random, floor: int) -> list[int]:
    """Split `total` over `n` streams, skewed (a few busy streams, many quiet ones)."""
    weights = [1.0 / math.pow(rank + 1, 0.6) for rank in range(n)]
    rng.shuffle(weights)
    scale = (total - floor * n) / sum(weights)
    counts = [floor + int(w * scale) for w in weights]
    for i in range(total - sum(counts)):
        counts[i % n] += 1
    return counts


def _days(rng: random.Random, first: date, n: int) -> list[date]:
    """`n` sorted business days from `first` (the first of them) to the end of the timeline."""
    span = max(1, (END - first).days)
    return [first, *sorted(first + timedelta(days=rng.randrange(span)) for _ in range(n - 1))]


class _Writer:
    """What measure and negotiation lines share: ids, dates and provenance."""

    stream_field: str
    key: str

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.count = 0

    def line(
        self, event_type: str, day: date, *, lead: bool = True, **fields: Any
    ) -> dict[str, Any]:
        """A line of `event_type` happening on `day` (announced a little earlier, usually)."""
        rng = self.rng
        self.count += 1
        roll = rng.random()
        effective: date | None = day
        if not lead or roll < 0.08:
            announced_day = day  # effective when announced (or unknown, below)
            if lead and roll < 0.03:
                effective = None
        elif roll < 0.2:
            announced_day = day + timedelta(days=rng.randint(1, 12))  # retroactive
        else:
            announced_day = day - timedelta(days=rng.randint(0, 20))
        announced = datetime.combine(
            announced_day, time(rng.randrange(24), rng.randrange(60)), tzinfo=UTC
        )
        template, reliability = rng.choice(PUBLISHERS)
        n = rng.randrange(100_000)
        citation = template.format(m=day.month, d=day.day, n=n)
        publisher = next(v for k, v in PUBLISHER_NAMES.items() if k in citation)
        line: dict[str, Any] = {
            self.stream_field: self.key,
            "type": event_type,
            "event_id": f"{self.key}-{self.count:05d}",
            "effective_on": None if effective is None else effective.isoformat(),
            "announced_at": announced.isoformat().replace("+00:00", "Z"),
            "sources": [{"citation": citation, "publisher": publisher, "reliability": reliability}],
            "recorded_by": "loader@bench.tradeledger",
            "note": "" if rng.random() < 0.6 else f"synthetic entry {n}",
        }
        line.update(fields)
        return line


class _MeasureWriter(_Writer):
    stream_field = "measure"

    def __init__(self, plan: MeasurePlan, rng: random.Random, all_plans: list[MeasurePlan]):
        super().__init__(rng)
        self.plan = plan
        self.key = plan.key
        self.others = [p for p in all_plans if p.imposer == plan.imposer and p.key != plan.key]

    def prefix(self, digits: int) -> str:
        """An HS prefix of `digits` digits within the measure's scope."""
        rng = self.rng
        chapter = rng.choice(self.plan.chapters or CHAPTERS)
        code = f"{chapter}{rng.randrange(1, 20):02d}{rng.randrange(1, 10)}{rng.randrange(10)}"
        code += f"{rng.randrange(100):02d}{rng.randrange(100):02d}"
        return code[:digits]

    def kinds(self) -> list[str]:
        """The types of the measure's changes, in the order they happen."""
        rng, n = self.rng, self.plan.events - 1
        counts = measure_level_counts(self.plan.events)
        kinds = [kind for kind, count in counts.items() for _ in range(count)][:n]
        product, weights = zip(*PRODUCT_CHANGES, strict=True)
        kinds += rng.choices(product, weights=weights, k=n - len(kinds))
        rng.shuffle(kinds)
        if n > 4 and rng.random() < 0.05:
            kinds[-1] = "terminated"
        return kinds

    def lines(self) -> Iterator[dict[str, Any]]:
        plan, rng = self.plan, self.rng
        days = _days(rng, plan.first_day, plan.events)
        rate_by_prefix = {}
        if plan.chapters and rng.random() < 0.3:
            rate_by_prefix = {self.prefix(4): str(rng.choice((7.5, 15, 25, 50)))}
        yield self.line(
            "imposed",
            days[0],
            imposer=plan.imposer,
            name=f"{plan.layer.replace('_', ' ').title()} duties of {plan.imposer} ({plan.key})",
            targets=list(plan.targets),
            excluded_targets=list(plan.excluded_targets),
            layer=plan.layer,
            instruments=[f"Notice {rng.randrange(1000, 9999)}"],
            rate_pct=str(rng.choice((10, 20, 25, 34, 50))),
            rate_by_prefix=rate_by_prefix,
            hs_prefixes=list(plan.chapters) or ["*"],
        )
        excluded: list[str] = []
        suspensions: dict[str, date] = {}
        correctable: list[str] = []
        for kind, day in zip(self.kinds(), days[1:], strict=True):
            line = self.change(kind, day, excluded, suspensions, correctable)
            if line is None:  # a change that needs something earlier: a product rate instead
                kind = "rate_changed"
                line = self.change("product_rate", day, excluded, suspensions, correctable)
                assert line is not None
            if kind in ("rate_changed", "exclusion_granted", "scope_changed"):
                correctable.append(line["event_id"])
            yield line

    def change(
        self,
        kind: str,
        day: date,
        excluded: list[str],
        suspensions: dict[str, date],
        correctable: list[str],
    ) -> dict[str, Any] | None:
        """The line of one change, or None when nothing earlier allows it."""
        rng = self.rng
        rates = (0, 10, 15, 20, 25, 34, 50, 84, 125)
        if kind == "general_rate":
            return self.line("rate_changed", day, rate_pct=str(rng.choice(rates)), hs_prefixes=[])
        if kind in ("rate_changed", "product_rate"):
            prefix = self.prefix(rng.choice((4, 6, 6, 8)))
            return self.line(
                "rate_changed", day, rate_pct=str(rng.choice(rates)), hs_prefixes=[prefix]
            )
        if kind == "exclusion_granted":
            prefix = self.prefix(rng.choice((6, 6, 8, 10)))
            excluded.append(prefix)
            return self.line(kind, day, hs_prefixes=[prefix])
        if kind == "exclusion_revoked":
            if not excluded:
                return None
            return self.line(kind, day, hs_prefixes=[excluded.pop(rng.randrange(len(excluded)))])
        if kind == "scope_changed":
            prefixes = [self.prefix(4)]
            added = rng.random() < 0.6
            return self.line(
                kind,
                day,
                added_hs_prefixes=prefixes if added else [],
                removed_hs_prefixes=[] if added else prefixes,
            )
        if kind == "suspension_granted":
            ends = day + timedelta(days=rng.choice((30, 90, 180)))
            points = rng.choice((None, "10", "24"))
            line = self.line(kind, day, lead=False, points=points, ends_on=ends.isoformat())
            suspensions[line["event_id"]] = day
            return line
        if kind == "suspension_extended":
            if not suspensions:
                return None
            sid = rng.choice(list(suspensions))
            ends = max(day, suspensions[sid]) + timedelta(days=rng.choice((30, 90)))
            return self.line(kind, day, suspension_event_id=sid, ends_on=ends.isoformat())
        if kind == "record_corrected":
            if not correctable:
                return None
            target = correctable.pop(rng.randrange(len(correctable)))
            return self.line(kind, day, corrected_event_id=target, reason="data-entry error")
        if kind == "precedence_declared":
            if not self.others:
                return None
            layers = [rng.choice([x for x in LAYERS if x != self.plan.layer])]
            return self.line(
                kind,
                day,
                displaces_measure_ids=[rng.choice(self.others).key],
                displaces_layers=layers if rng.random() < 0.3 else [],
                hs_prefixes=[self.prefix(4)] if rng.random() < 0.5 else [],
            )
        if kind == "legal_status_changed":
            stops = rng.random() < 0.2
            status = "ruled unlawful" if stops else "upheld on appeal"
            return self.line(kind, day, status=status, collection_stops=stops)
        if kind == "terminated":
            return self.line(kind, day)
        msg = f"unknown change {kind!r}"
        raise ValueError(msg)


class _NegotiationWriter(_Writer):
    """Steps from a grammar every prefix of which the domain accepts (dates never go back)."""

    stream_field = "negotiation"

    CYCLE = (
        "round_held",
        "proposal_tabled",
        "concession_offered",
        "development_reported",
        "joint_statement_issued",
        "truce_extended",
        "round_held",
        "threat_issued",
        "talks_resumed",
        "development_reported",
        "breach_alleged",
        "talks_resumed",
        "round_held",
        "talks_postponed",
        "talks_resumed",
        "proposal_tabled",
        "deal_announced",
        "implementing_action_taken",
        "record_corrected",
        "agreement_signed",
    )

    def __init__(self, plan: NegotiationPlan, rng: random.Random):
        super().__init__(rng)
        self.plan = plan
        self.key = plan.key

    def lines(self) -> Iterator[dict[str, Any]]:
        plan, rng = self.plan, self.rng
        days = _days(rng, plan.first_day, plan.events)
        a, b = plan.parties[0], plan.parties[1]
        yield self.line(
            "opened",
            days[0],
            lead=False,
            title=f"Trade talks {' / '.join(plan.parties)} #{plan.key[-3:]}",
            parties=list(plan.parties),
            summary="The ledger starts following these talks.",
        )
        opening: list[tuple[str, dict[str, Any]]] = [
            ("contact_made", {"by_party": a, "channel": "back_channel"}),
            ("precondition_stated", {"by_party": b}),
            ("precondition_met", {}),
            ("talks_scheduled", {"talks_on": None, "location": "Geneva"}),
        ]
        precondition = ""
        notes: list[str] = []
        rounds = 0
        for i, day in enumerate(days[1:]):
            summary = f"Step {i + 1} of the talks between {' and '.join(plan.parties)}."
            fields: dict[str, Any]
            if i < len(opening):
                kind, fields = opening[i][0], dict(opening[i][1])
                if kind == "precondition_met":
                    fields["precondition_event_id"] = precondition
            else:
                kind = self.CYCLE[(i - len(opening)) % len(self.CYCLE)]
                fields = {}
                if kind == "record_corrected":
                    if not notes:
                        kind = "development_reported"
                    else:
                        fields = {"corrected_event_id": notes.pop(), "reason": "misreported"}
                if kind == "round_held":
                    rounds += 1
                    fields = {"location": rng.choice(("Geneva", "London", "Stockholm")),
                              "round_number": rounds}  # fmt: skip
                elif kind in ("proposal_tabled", "concession_offered", "breach_alleged"):
                    fields = {"by_party": rng.choice(plan.parties)}
                elif kind == "threat_issued":
                    fields = {"by_party": a, "threatened_rate_pct": "100", "threatened_from": None}
                elif kind == "joint_statement_issued":
                    fields = {"truce_ends_on": (day + timedelta(days=90)).isoformat()}
                elif kind == "truce_extended":
                    fields = {"truce_ends_on": (day + timedelta(days=180)).isoformat()}
                elif kind in ("deal_announced", "agreement_signed"):
                    fields = {"in_force_on": (day + timedelta(days=30)).isoformat()}
                elif kind == "implementing_action_taken":
                    fields = {"measure_ids": []}
            line = self.line(kind, day, lead=False, summary=summary, **fields)
            if kind == "precondition_stated":
                precondition = line["event_id"]
            elif kind in ("development_reported", "concession_offered"):
                notes.append(line["event_id"])
            yield line


# -- query points -----------------------------------------------------------------------


@dataclass(frozen=True)
class DutyPoint:
    importer: str
    origin: str
    hs: str
    on: date
    known_at: datetime | None


@dataclass(frozen=True)
class StatePoint:
    stream: str
    on: date
    known_at: datetime | None


def _on_and_known(rng: random.Random, first: date) -> tuple[date, datetime | None]:
    """A day within the stream's life, and a publication instant: now (None) for 40% of
    queries, around the day asked about for 30%, anywhere in the timeline for 30%."""
    on = first + timedelta(days=rng.randrange(max(1, (END - first).days + 60)))
    roll = rng.random()
    if roll < 0.4:
        return on, None
    if roll < 0.7:
        moment = on + timedelta(days=rng.randint(-10, 30))
    else:
        moment = START + timedelta(days=rng.randrange(SPAN_DAYS + 30))
    return on, datetime.combine(moment, time(rng.randrange(24)), tzinfo=UTC)


def duty_points(synthetic: Synthetic, n: int, seed: int = 7) -> list[DutyPoint]:
    """Duty questions about what exists: an imposer and one of its measures' origins, a
    product in (or near) that measure's scope, a day and a publication instant."""
    rng = random.Random(f"duty-{seed}")
    points = []
    for _ in range(n):
        plan = rng.choice(synthetic.measure_plans)
        target = rng.choice(plan.targets)
        origin = rng.choice(IMPOSERS[plan.imposer]) if target == "*" else target
        chapter = rng.choice(plan.chapters or CHAPTERS)
        hs = f"{chapter}{rng.randrange(1, 20):02d}{rng.randrange(1, 10)}{rng.randrange(10)}"
        hs += f"{rng.randrange(10_000):04d}"
        on, known_at = _on_and_known(rng, plan.first_day)
        points.append(DutyPoint(plan.imposer, origin, hs, on, known_at))
    return points


def measure_points(synthetic: Synthetic, n: int, seed: int = 8) -> list[StatePoint]:
    rng = random.Random(f"measure-{seed}")
    points = []
    for _ in range(n):
        plan = rng.choice(synthetic.measure_plans)
        on, known_at = _on_and_known(rng, plan.first_day)
        # A measure queried as known before it was announced does not exist yet.
        if known_at is not None and known_at.date() < plan.first_day + timedelta(days=13):
            known_at = None
        points.append(StatePoint(plan.key, on, known_at))
    return points


def negotiation_points(synthetic: Synthetic, n: int, seed: int = 9) -> list[StatePoint]:
    rng = random.Random(f"negotiation-{seed}")
    points = []
    for _ in range(n):
        plan = rng.choice(synthetic.negotiation_plans)
        on, known_at = _on_and_known(rng, plan.first_day)
        # A negotiation queried as known before it was opened does not exist yet.
        if known_at is not None and known_at.date() < plan.first_day + timedelta(days=1):
            known_at = None
        points.append(StatePoint(plan.key, on, known_at))
    return points
