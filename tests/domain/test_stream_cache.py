"""StreamCache: the committed state of the streams written last, taken out while in use."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from domain.events import Facts
from domain.measure import MeasureTerms, TariffMeasure
from domain.stream_cache import StreamCache
from domain.values import Provenance, Reliability, Source

PROVENANCE = Provenance(
    (Source("https://example.test/notice", "Test notice", Reliability.OFFICIAL),), "tester"
)


def measure(version: int = 1, measure_id: UUID | None = None) -> TariffMeasure:
    """A measure at `version`, its events collected as a save would have collected them."""
    created = TariffMeasure.impose(
        measure_id=measure_id or uuid4(),
        facts=facts("IMPOSED"),
        key="test",
        terms=MeasureTerms(
            imposer="US",
            name="Test measure",
            targets=("CN",),
            excluded_targets=(),
            layer="test",
            instruments=(),
            rate_pct=Decimal(10),
            rate_by_prefix={},
            hs_prefixes=("",),
            excluded_hs_prefixes=(),
        ),
    )
    for n in range(2, version + 1):
        created.change_rate(facts(f"RATE-{n}"), rate_pct=Decimal(n), hs_prefixes=())
    created.collect_events()
    return created


def facts(event_id: str) -> Facts:
    return Facts(event_id, date(2025, 4, 9), datetime(2025, 4, 2, tzinfo=UTC), PROVENANCE)


def test_a_kept_stream_is_taken_out_once() -> None:
    cache = StreamCache(maxsize=2)
    kept = measure()
    cache.keep(kept)

    taken = cache.take(kept.id)

    assert taken is kept
    assert cache.take(kept.id) is None


def test_the_stream_written_longest_ago_goes_first() -> None:
    cache = StreamCache(maxsize=2)
    oldest, middle, newest = measure(), measure(), measure()
    cache.keep(oldest)
    cache.keep(middle)
    cache.keep(oldest)

    cache.keep(newest)

    assert middle.id not in cache
    assert oldest.id in cache
    assert newest.id in cache


def test_an_older_state_does_not_replace_a_newer_one() -> None:
    cache = StreamCache()
    newer = measure(version=3)
    older = measure(version=2, measure_id=newer.id)  # as another thread saw it earlier

    cache.keep(newer)
    cache.keep(older)

    assert cache.take(newer.id) is newer


def test_a_cache_of_size_zero_keeps_nothing() -> None:
    cache = StreamCache(maxsize=0)

    cache.keep(measure())

    assert len(cache) == 0


def test_a_forgotten_stream_is_gone() -> None:
    cache = StreamCache()
    kept = measure()
    cache.keep(kept)

    cache.forget(kept.id)

    assert cache.take(kept.id) is None
