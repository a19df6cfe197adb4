"""The commands that answer "what was in force": duty, measure, negotiation, schedule.

Each takes --on, --known-at and --recorded-at (see cli.options) and prints words, or
--json; they answer from the read models as they stand (see `tradeledger project`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from typing import Annotated, TypeVar

import typer

from cli.options import AsJson, KnownAt, On, RecordedAt
from cli.render import print_duty, print_json, print_measure, print_negotiation, print_schedule
from projections.queries import Queries
from projections.timepoint import TimePoint
from tradeledger.bootstrap import open_services

Answer = TypeVar("Answer")


def ask(
    question: Callable[[Queries], Answer], as_json: bool, print_words: Callable[[Answer], None]
) -> None:
    """Answer `question` from the read models, then print the answer: JSON with --json,
    else words. The store is closed before printing."""
    with closing(open_services()) as services:
        answer = question(services.queries)
    print_json(answer) if as_json else print_words(answer)


def duty(
    importer: Annotated[str, typer.Option(help="Importing country (ISO 3166 alpha-2).")],
    origin: Annotated[str, typer.Option(help="Country of origin (ISO 3166 alpha-2).")],
    hs: Annotated[str, typer.Option(help="HS/HTS code, with or without dots.")],
    on: On = None,
    known_at: KnownAt = None,
    recorded_at: RecordedAt = None,
    as_json: AsJson = False,
) -> None:
    """The additional duty on a product, with every measure applied and every reason."""
    ask(
        lambda queries: queries.duty_on(
            importer, origin, hs, at=TimePoint.parse(on, known_at, recorded_at)
        ),
        as_json,
        print_duty,
    )


def measure(
    measure_ref: Annotated[str, typer.Argument(metavar="MEASURE", help="Key or id.")],
    on: On = None,
    known_at: KnownAt = None,
    recorded_at: RecordedAt = None,
    as_json: AsJson = False,
) -> None:
    """A measure's state: rate in force, scope, exclusions, suspensions, rules."""
    ask(
        lambda queries: queries.measure_state(
            measure_ref, at=TimePoint.parse(on, known_at, recorded_at)
        ),
        as_json,
        print_measure,
    )


def negotiation(
    negotiation_ref: Annotated[str, typer.Argument(metavar="NEGOTIATION", help="Key or id.")],
    on: On = None,
    known_at: KnownAt = None,
    recorded_at: RecordedAt = None,
    as_json: AsJson = False,
) -> None:
    """A negotiation's state: status, preconditions, rounds, proposals, truce."""
    ask(
        lambda queries: queries.negotiation_state(
            negotiation_ref, at=TimePoint.parse(on, known_at, recorded_at)
        ),
        as_json,
        print_negotiation,
    )


def schedule(
    imposer: Annotated[str, typer.Option(help="Imposing country.")],
    origin: Annotated[str, typer.Option(help="Country of origin.")],
    on: On = None,
    known_at: KnownAt = None,
    recorded_at: RecordedAt = None,
    as_json: AsJson = False,
) -> None:
    """Every measure of an imposer that targets an origin, and its state."""
    ask(
        lambda queries: queries.schedule(
            imposer, origin, at=TimePoint.parse(on, known_at, recorded_at)
        ),
        as_json,
        print_schedule,
    )


def register(app: typer.Typer) -> None:
    """Add `duty`, `measure`, `negotiation` and `schedule` to the `tradeledger` app."""
    for command in (duty, measure, negotiation, schedule):
        app.command()(command)
