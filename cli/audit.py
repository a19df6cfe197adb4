"""Commands of the read side: duty, measure, negotiation, schedule, timeline, diff,
and the projection commands rebuild and project.

Every query command takes --on (effective day), --known-at (a date means the end of that
day) and --recorded-at (the ledger as it stood then), and prints words, or --json.
"""

from __future__ import annotations

import json
import signal
import threading
from contextlib import closing
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from domain.errors import InvalidValue
from domain.ledger import MEASURE
from projections import diff as differ
from projections.answers import AsOf, DutyAnswer, MeasureState
from projections.queries import Queries
from projections.render import instant_text, jsonable
from projections.timepoint import TimePoint
from storage.eventlog import LogBell
from tradeledger.bootstrap import Services, open_services

On = Annotated[str | None, typer.Option("--on", help="Effective day (YYYY-MM-DD); default today.")]
KnownAt = Annotated[
    str | None,
    typer.Option("--known-at", help="What had been announced by then (date = end of day)."),
]
RecordedAt = Annotated[
    str | None,
    typer.Option("--recorded-at", help="What this ledger held then (date or instant)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _services() -> Services:
    return open_services()


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(jsonable(value), indent=2, ensure_ascii=False))


def _as_of_line(point: AsOf) -> str:
    return (
        f"on {point.on.isoformat()}, as known at {instant_text(point.known_at)}, "
        f"as recorded at {instant_text(point.recorded_at)} (log position {point.position})"
    )


def _pct(value: Any) -> str:
    return f"{value.normalize():f}%" if value is not None else "-"


def print_duty(answer: DutyAnswer) -> None:
    typer.echo(
        f"{answer.importer} additional duty on HS {answer.hs} from {answer.origin}: "
        f"{_pct(answer.total_additional_pct)}"
    )
    typer.echo(f"  {_as_of_line(answer.as_of)}")
    if answer.applied:
        typer.echo("applied:")
    for item in answer.applied:
        note = ""
        if item.suspensions:
            ends = ", ".join(s.ends_on.isoformat() for s in item.suspensions)
            note = f" (scheduled {_pct(item.scheduled_rate_pct)}, points suspended until {ends})"
        typer.echo(f"  {_pct(item.rate_pct):>7}  {item.name} [{item.layer}]{note}")
        typer.echo(f"           events: {', '.join(item.events)}")
    if answer.not_applied:
        typer.echo("not applied:")
    for skipped in answer.not_applied:
        typer.echo(f"  {skipped.name} [{skipped.layer}]: {skipped.reason.value}: {skipped.detail}")
        typer.echo(f"           events: {', '.join(skipped.events)}")
    if answer.finer_lines:
        more = " (and more)" if answer.finer_lines_truncated else ""
        typer.echo(
            f"HS {answer.hs} is less precise than some measures' scope; the total above is "
            f"for the other lines under it. Charged differently{more}:"
        )
    for line in answer.finer_lines:
        measures = ", ".join(line.applied) or "none"
        typer.echo(
            f"  HS {line.hs_prefix}: {_pct(line.total_additional_pct)} (applied: {measures})"
        )


def print_measure(state: MeasureState) -> None:
    typer.echo(f"{state.name} ({state.key or state.measure_id}) [{state.layer}]")
    typer.echo(f"  {_as_of_line(state.as_of)}")
    typer.echo(f"  {state.imposer} on {', '.join(state.targets)}", nl=False)
    if state.excluded_targets:
        typer.echo(f" except {', '.join(state.excluded_targets)}", nl=False)
    typer.echo(f"; in force from {state.effective_from.isoformat()}")
    typer.echo(f"  status: {state.status} (events: {', '.join(state.status_events)})")
    typer.echo(f"  charged rate: {_pct(state.charged_rate_pct)}")
    for rate in state.rates:
        typer.echo(
            f"  rate {rate.hs_prefix or '*'}: {_pct(rate.rate_pct)} since "
            f"{rate.since.isoformat()} ({rate.event_id})"
        )
    for entry in state.exclusions:
        typer.echo(
            f"  excluded {entry.hs_prefix} since {entry.since.isoformat()} ({entry.event_id})"
        )
    for s in state.suspensions:
        points = "all points" if s.points is None else f"{s.points} points"
        typer.echo(f"  suspended {points} until {s.ends_on.isoformat()} ({s.event_id})")
    if state.legal_status:
        typer.echo(f"  legal status: {state.legal_status} ({state.legal_status_event})")
    for rule in state.precedence:
        names = ", ".join([*rule.displaces_measures, *rule.displaces_layers])
        typer.echo(f"  displaces {names} since {rule.since.isoformat()} ({rule.event_id})")


def register(app: typer.Typer) -> None:
    """Add the read-side commands to the `tradeledger` app."""

    @app.command()
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
        with closing(_services()) as services:
            answer = services.queries.duty_on(
                importer, origin, hs, at=TimePoint.parse(on, known_at, recorded_at)
            )
        _print_json(answer) if as_json else print_duty(answer)

    @app.command()
    def measure(
        measure_ref: Annotated[str, typer.Argument(metavar="MEASURE", help="Key or id.")],
        on: On = None,
        known_at: KnownAt = None,
        recorded_at: RecordedAt = None,
        as_json: AsJson = False,
    ) -> None:
        """A measure's state: rate in force, scope, exclusions, suspensions, rules."""
        with closing(_services()) as services:
            state = services.queries.measure_state(
                measure_ref, at=TimePoint.parse(on, known_at, recorded_at)
            )
        _print_json(state) if as_json else print_measure(state)

    @app.command()
    def negotiation(
        negotiation_ref: Annotated[str, typer.Argument(metavar="NEGOTIATION", help="Key or id.")],
        on: On = None,
        known_at: KnownAt = None,
        recorded_at: RecordedAt = None,
        as_json: AsJson = False,
    ) -> None:
        """A negotiation's state: status, preconditions, rounds, proposals, truce."""
        with closing(_services()) as services:
            answer = services.queries.negotiation_state(
                negotiation_ref, at=TimePoint.parse(on, known_at, recorded_at)
            )
        if as_json:
            _print_json(answer)
            return
        state = answer.state
        typer.echo(f"{state.title} ({', '.join(state.parties)}): {state.status.value}")
        typer.echo(f"  {_as_of_line(answer.as_of)}")
        if state.status_set_by:
            step = state.status_set_by
            typer.echo(f"  since {step.occurred_on.isoformat()}: {step.summary} ({step.event_id})")
        for step in state.open_preconditions:
            typer.echo(f"  open precondition ({step.party}): {step.summary} ({step.event_id})")
        if state.last_round:
            r = state.last_round
            typer.echo(f"  last round {r.occurred_on.isoformat()}: {r.summary} ({r.event_id})")
        for step in state.proposals_on_table:
            typer.echo(f"  proposal ({step.party}): {step.summary} ({step.event_id})")
        for step in state.agreements:
            typer.echo(f"  agreed {step.occurred_on.isoformat()}: {step.summary} ({step.event_id})")
        if state.truce_ends_on:
            typer.echo(f"  truce ends on {state.truce_ends_on.isoformat()}")
        for step in state.threats:
            typer.echo(f"  threat {step.occurred_on.isoformat()} ({step.party}): {step.summary}")

    @app.command()
    def schedule(
        imposer: Annotated[str, typer.Option(help="Imposing country.")],
        origin: Annotated[str, typer.Option(help="Country of origin.")],
        on: On = None,
        known_at: KnownAt = None,
        recorded_at: RecordedAt = None,
        as_json: AsJson = False,
    ) -> None:
        """Every measure of an imposer that targets an origin, and its state."""
        with closing(_services()) as services:
            answer = services.queries.schedule(
                imposer, origin, at=TimePoint.parse(on, known_at, recorded_at)
            )
        if as_json:
            _print_json(answer)
            return
        typer.echo(f"{answer.imposer} schedule for {answer.origin}: {_as_of_line(answer.as_of)}")
        for state in answer.measures:
            typer.echo(
                f"  {state.status:<18} {_pct(state.charged_rate_pct):>7}  "
                f"{state.name} [{state.layer}]"
            )

    @app.command()
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
        with closing(_services()) as services:
            entries = services.queries.timeline(
                stream,
                kind=kind,
                imposer=imposer,
                origin=origin,
                order=order,
                at=TimePoint.parse(known_at=known_at, recorded_at=recorded_at),
            ).entries
        if as_json:
            _print_json(entries)
            return
        typer.echo(f"{'effective':<10}  {'announced':<20}  {'recorded':<27}  type / event id")
        for e in entries:
            effective = e.effective_on.isoformat() if e.effective_on else "?"
            retracted = f"  [corrected at position {e.retracted_at}]" if e.retracted_at else ""
            typer.echo(
                f"{effective:<10}  {instant_text(e.announced_at)[:19] + 'Z':<20}  "
                f"{instant_text(e.recorded_at):<27}  {e.event_type} {e.event_id}{retracted}"
            )

    @app.command(name="diff")
    def diff_command(
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
        with closing(_services()) as services:
            result = compare(
                services.queries, first, second, importer, origin, hs, measure_ref, negotiation_ref
            )
        if as_json:
            _print_json(result)
            return
        typer.echo(f"{result.subject}")
        typer.echo(f"  from {_as_of_line(result.before)}")
        typer.echo(f"  to   {_as_of_line(result.after)}")
        if not result.changes:
            typer.echo("  no change")
        for change in result.changes:
            typer.echo(f"  {change.facet}: {change.old} -> {change.new}")
            if change.caused_by:
                typer.echo(f"      caused by: {', '.join(change.caused_by)}")
            if change.withdrawn:
                typer.echo(f"      no longer relied on: {', '.join(change.withdrawn)}")

    @app.command()
    def rebuild() -> None:
        """Drop every read model and rebuild it from the event log (resumable)."""
        with closing(_services()) as services:
            total = services.projector.log_position()
            with _progress() as bar:
                task = bar.add_task("projecting", total=total)
                count = services.projector.rebuild(
                    lambda done, end: bar.update(task, completed=done, total=end)
                )
        typer.echo(f"rebuilt the read models from {count} events")

    @app.command()
    def project(
        once: Annotated[bool, typer.Option(help="Catch up with the log, then exit.")] = False,
        poll_interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 0.5,
    ) -> None:
        """Run the projection worker: follow the log and keep the read models current.

        It wakes on the store's notifications (LISTEN/NOTIFY on PostgreSQL) and polls
        as a safety net. SIGINT or SIGTERM stop it between two committed batches, also
        during the first catch-up (the handlers are installed before it starts).
        """
        stop, wake = threading.Event(), threading.Event()

        def stop_soon(*_: object) -> None:
            stop.set()
            wake.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stop_soon)
        with closing(_services()) as services:
            projector = services.projector
            done = 0
            while not stop.is_set():
                projected = projector.catch_up(limit=projector.batch_size)
                done += projected
                if projected == 0:
                    break
            typer.echo(f"caught up: {done} events, position {projector.position}")
            if once or stop.is_set():
                return
            bell = LogBell(services.ledger)
            bell.add(wake.set)
            try:
                projector.run_until(stop, wake, poll_interval)
            finally:
                bell.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
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
