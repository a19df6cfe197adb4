"""The commands that look at the record over time: `events` (the global log in commit
order), `timeline` (events with their three dates) and `diff` (what changed between two
points, and the events that caused it)."""

from __future__ import annotations

import json
from contextlib import closing
from typing import Annotated
from uuid import UUID

import typer

from cli.options import AsJson, KnownAt, RecordedAt
from cli.reading import ask
from cli.records import InputError
from cli.render import log_json, log_text, print_diff, print_table, print_timeline
from domain.errors import InvalidValue
from domain.ledger import MEASURE
from projections import diff as differ
from projections.queries import Queries
from projections.timepoint import TimePoint
from storage.eventlog import EventLog, LogFilter
from storage.undecodable import UndecodableEvent
from tradeledger.bootstrap import open_ledger


def events(
    stream: Annotated[
        str | None,
        typer.Option(help="Only this stream: its UUID, or the key of a measure or negotiation."),
    ] = None,
    after: Annotated[int, typer.Option(min=0, help="Only events after this position.")] = 0,
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most this many events.", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the global event log, in the order events were recorded.

    Columns: position, stream, version, type, event_id, effective_on, announced_at (and
    recorded_at, when the store keeps record times).

    A stored event that does not decode (a damaged row) is reported on stderr as one
    `error:` line naming its position, stream and version; the listing goes on past it,
    so that an auditor sees everything that can be read, and the command then exits
    with status 1.
    """
    damaged: list[UndecodableEvent] = []

    def report(error: UndecodableEvent) -> None:
        damaged.append(error)
        typer.echo(f"error: {error.message}", err=True)

    with closing(open_ledger()) as ledger:
        log = EventLog(ledger)
        where = LogFilter(stream_id=_stream_id(log, stream) if stream is not None else None)
        entries = log.entries(after, where, limit, on_undecodable=report)
        if as_json:
            for entry in entries:
                typer.echo(json.dumps(log_json(entry), ensure_ascii=False))
        else:
            print_table([log_text(entry) for entry in entries])
    if damaged:
        raise typer.Exit(1)


def _stream_id(log: EventLog, ref: str) -> UUID:
    """The stream `--stream` names: a UUID, or a key of exactly one measure or negotiation."""
    try:
        return log.resolve_stream(ref)
    except InvalidValue as error:
        raise InputError(f"--stream: {error.message.removeprefix('stream: ')}") from None


def timeline(
    stream: Annotated[str | None, typer.Argument(metavar="[STREAM]", help="Key or id.")] = None,
    kind: Annotated[str, typer.Option(help="measure or negotiation (for a key).")] = MEASURE,
    imposer: Annotated[
        str | None, typer.Option(help="With --origin: every stream between them.")
    ] = None,
    origin: Annotated[str | None, typer.Option(help="With --imposer.")] = None,
    order: Annotated[str, typer.Option(help="effective, announced or recorded.")] = "effective",
    known_at: KnownAt = None,
    recorded_at: RecordedAt = None,
    as_json: AsJson = False,
) -> None:
    """Events with their three dates, ordered by one of them."""
    ask(
        lambda queries: (
            queries.timeline(
                stream,
                kind=kind,
                imposer=imposer,
                origin=origin,
                order=order,
                at=TimePoint.parse(known_at=known_at, recorded_at=recorded_at),
            ).entries
        ),
        as_json,
        print_timeline,
    )


def diff(
    importer: Annotated[str | None, typer.Option(help="Duty question: importer.")] = None,
    origin: Annotated[str | None, typer.Option(help="Duty question: origin.")] = None,
    hs: Annotated[str | None, typer.Option(help="Duty question: HS code.")] = None,
    measure_ref: Annotated[str | None, typer.Option("--measure", help="A measure.")] = None,
    negotiation_ref: Annotated[
        str | None, typer.Option("--negotiation", help="A negotiation.")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Effective day of the first point.")
    ] = None,
    on2: Annotated[
        str | None,
        typer.Option("--on2", help="Effective day of the second point (default --on)."),
    ] = None,
    known_at: KnownAt = None,
    known_at2: Annotated[
        str | None, typer.Option("--known-at2", help="Known-at of the second point.")
    ] = None,
    recorded_at: RecordedAt = None,
    recorded_at2: Annotated[
        str | None, typer.Option("--recorded-at2", help="Recorded-at of the second point.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """What changed between two points, old -> new, and the events that caused it."""
    first = TimePoint.parse(on, known_at, recorded_at)
    second = TimePoint.parse(on2, known_at2, recorded_at2, suffix="2").or_else(first)
    ask(
        lambda queries: compare(
            queries, first, second, importer, origin, hs, measure_ref, negotiation_ref
        ),
        as_json,
        print_diff,
    )


def compare(
    queries: Queries,
    first: TimePoint,
    second: TimePoint,
    importer: str | None,
    origin: str | None,
    hs: str | None,
    measure_ref: str | None,
    negotiation_ref: str | None,
) -> differ.Diff:
    """Diff a duty question, a measure or a negotiation between two points."""
    if importer and origin and hs:
        return differ.duty_diff(queries, importer, origin, hs, first, second)
    if measure_ref:
        return differ.measure_diff(queries, measure_ref, first, second)
    if negotiation_ref:
        return differ.negotiation_diff(queries, negotiation_ref, first, second)
    raise InvalidValue("diff", "give --importer, --origin and --hs, or --measure, or --negotiation")


def register(app: typer.Typer) -> None:
    """Add `events`, `timeline` and `diff` to the `tradeledger` app."""
    for command in (events, timeline, diff):
        app.command()(command)
