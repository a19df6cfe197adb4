"""The table printed at the end of a run, the ratios to raw limits, and the targets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.figures import MILLISECONDS, Figure
from bench.hot import rate_name
from bench.served import SSE_FROM_SAVE
from bench.suites import APP_SINGLE, RAW_BATCH


@dataclass(frozen=True)
class Target:
    """A target of issues 3, 6 and 13, as met or missed by this run (None: not measured)."""

    name: str
    wanted: str
    measured: str
    met: bool | None


def set_ratios(figures: Sequence[Figure]) -> None:
    """Give each figure with a reference its ratio to that figure's median."""
    by_key = {figure.key: figure for figure in figures}
    for figure in figures:
        if figure.reference and figure.reference in by_key:
            figure.ratio = figure.median / by_key[figure.reference].median


def _find(figures: Sequence[Figure], backend: str, name: str, size: int | None) -> Figure | None:
    return next(
        (f for f in figures if f.backend == backend and f.name == name and f.size == size), None
    )


def evaluate_targets(figures: Sequence[Figure], sizes: Sequence[int]) -> list[Target]:
    targets: list[Target] = []
    largest, smallest = max(sizes), min(sizes)
    for backend in ("sqlite", "postgres"):
        p99 = _find(figures, backend, "duty_on p99", largest)
        base = _find(figures, backend, "duty_on p99", smallest)
        if p99 is not None:
            targets.append(
                Target(
                    f"{backend}: duty query p99 at {largest:,} events",
                    "< 5 ms",
                    f"{p99.median:.2f} ms",
                    p99.median < 5,
                )
            )
        if p99 is not None and base is not None and largest != smallest:
            growth = p99.median / base.median
            targets.append(
                Target(
                    f"{backend}: duty p99 at {largest:,} vs {smallest:,}",
                    "<= 1.5x",
                    f"{growth:.2f}x ({p99.median:.2f} vs {base.median:.2f} ms)",
                    growth <= 1.5,
                )
            )
        bulk = _find(
            figures, backend, "bulk import of dataset lines (parse, validate, append_batch)", None
        )
        if bulk is not None and bulk.ratio is not None:
            targets.append(
                Target(
                    f"{backend}: bulk import vs raw batches of 100",
                    ">= 0.5x",
                    f"{bulk.ratio:.2f}x ({bulk.median:,.0f} events/s)",
                    bulk.ratio >= 0.5,
                )
            )
    for backend, wanted in (("postgres", 0.45), ("sqlite", 0.6)):
        single = _find(figures, backend, APP_SINGLE, None)
        if single is not None and single.ratio is not None:
            targets.append(
                Target(
                    f"{backend}: single-event append through the application vs raw INSERT",
                    f">= {wanted}x",
                    f"{single.ratio:.2f}x ({single.median:,.0f} events/s)",
                    single.ratio >= wanted,
                )
            )
    for backend in ("sqlite", "postgres"):
        for clients in ("1 client", "8 clients"):
            api = _find(figures, backend, f"POST /v1/measures/{{key}}/events, {clients}", None)
            if api is not None and api.ratio is not None:
                targets.append(
                    Target(
                        f"{backend}: API append ({clients}) vs the application's direct rate",
                        ">= 0.3x",
                        f"{api.ratio:.2f}x ({api.median:,.0f} events/s)",
                        api.ratio >= 0.3,
                    )
                )
    for backend in ("sqlite", "postgres"):
        hot = _find(figures, backend, rate_name(16), None)
        if hot is not None and hot.ratio is not None:
            targets.append(
                Target(
                    f"{backend}: hot stream, 16 writers vs 1 (no If-Match)",
                    ">= 0.7x",
                    f"{hot.ratio:.2f}x ({hot.median:,.0f} events/s)",
                    hot.ratio >= 0.7,
                )
            )
        hot_p99 = _find(figures, backend, f"{rate_name(16)} p99", None)
        if hot_p99 is not None:
            targets.append(
                Target(
                    f"{backend}: hot stream, 16 writers, p99",
                    "< 100 ms",
                    f"{hot_p99.median:.2f} ms",
                    hot_p99.median < 100,
                )
            )
    sse = _find(figures, "postgres", f"{SSE_FROM_SAVE} p99", None)
    if sse is not None:
        targets.append(
            Target(
                "postgres: commit -> SSE client latency p99 (from the save call)",
                "< 10 ms",
                f"{sse.median:.2f} ms",
                sse.median < 10,
            )
        )
    for size in sizes:
        rebuild = _find(figures, "postgres", "Projector.rebuild (beside, then swap)", size)
        decoded = _find(figures, "postgres", "  ... decoded to domain events (mapper)", size)
        if rebuild is not None:
            versus = f", {rebuild.median / decoded.median:.2f}x decoded reads" if decoded else ""
            targets.append(
                Target(
                    f"postgres: projection rebuild at {size:,} events",
                    ">= 50,000 events/s",
                    f"{rebuild.median:,.0f} events/s{versus}",
                    rebuild.median >= 50_000,
                )
            )
    return targets


def _number(value: float, unit: str) -> str:
    if unit == MILLISECONDS:
        return f"{value:.2f}"
    return f"{value:,.0f}"


def print_table(
    figures: Sequence[Figure], targets: Sequence[Target], say: Callable[[str], None] = print
) -> None:
    """Figures grouped as measured: median [min - max], unit, ratio to the raw limit."""
    width = max((len(f.name) for f in figures), default=20) + 2
    group, backend = None, None
    for figure in figures:
        if figure.backend != backend or figure.group != group:
            backend, group = figure.backend, figure.group
            say("")
            say(f"== {backend}: {group}")
        size = "" if figure.size is None else f"{figure.size:>9,}"
        spread = f"[{_number(figure.low, figure.unit)} - {_number(figure.high, figure.unit)}]"
        ratio = "" if figure.ratio is None else f"{figure.ratio:6.2f}x"
        say(
            f"  {figure.name:<{width}}{size:>10} {_number(figure.median, figure.unit):>12} "
            f"{spread:<26} {figure.unit:<9} {ratio}"
        )
    say("")
    say(f"ratios: to the raw limit of the same backend in this run ({RAW_BATCH} for batches,")
    say("one per transaction for single events, the raw SELECT for reads and rebuilds)")
    if targets:
        say("")
        say("== targets")
        for target in targets:
            verdict = {True: "met", False: "MISSED", None: "n/a"}[target.met]
            say(f"  {verdict:<7} {target.name}: {target.measured} (wanted {target.wanted})")
