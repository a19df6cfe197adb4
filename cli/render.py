"""How the commands print: answers of the read side as words (or JSON), and the event log
as a table. Every line here is output that users and tests read; change it knowingly."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import typer

from projections import diff as differ
from projections.answers import (
    AsOf,
    DutyAnswer,
    MeasureState,
    NegotiationAnswer,
    Schedule,
    TimelineEntry,
)
from projections.render import instant_text, jsonable
from storage.eventlog import LogEntry


def print_json(value: Any) -> None:
    typer.echo(json.dumps(jsonable(value), indent=2, ensure_ascii=False))


def as_of_line(point: AsOf) -> str:
    line = (
        f"on {point.on.isoformat()}, as known at {instant_text(point.known_at)}, "
        f"as recorded at {instant_text(point.recorded_at)} (log position {point.position})"
    )
    if point.undecodable_positions:
        positions = ", ".join(str(p) for p in point.undecodable_positions)
        line += f"; not taking into account the undecodable events at positions {positions}"
    return line


def pct(value: Any) -> str:
    return f"{value.normalize():f}%" if value is not None else "-"


def print_duty(answer: DutyAnswer) -> None:
    typer.echo(
        f"{answer.importer} additional duty on HS {answer.hs} from {answer.origin}: "
        f"{pct(answer.total_additional_pct)}"
    )
    typer.echo(f"  {as_of_line(answer.as_of)}")
    if answer.applied:
        typer.echo("applied:")
    for item in answer.applied:
        note = ""
        if item.suspensions:
            ends = ", ".join(s.ends_on.isoformat() for s in item.suspensions)
            note = f" (scheduled {pct(item.scheduled_rate_pct)}, points suspended until {ends})"
        typer.echo(f"  {pct(item.rate_pct):>7}  {item.name} [{item.layer}]{note}")
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
        typer.echo(f"  HS {line.hs_prefix}: {pct(line.total_additional_pct)} (applied: {measures})")


def print_measure(state: MeasureState) -> None:
    typer.echo(f"{state.name} ({state.key or state.measure_id}) [{state.layer}]")
    typer.echo(f"  {as_of_line(state.as_of)}")
    typer.echo(f"  {state.imposer} on {', '.join(state.targets)}", nl=False)
    if state.excluded_targets:
        typer.echo(f" except {', '.join(state.excluded_targets)}", nl=False)
    typer.echo(f"; in force from {state.effective_from.isoformat()}")
    typer.echo(f"  status: {state.status} (events: {', '.join(state.status_events)})")
    typer.echo(f"  charged rate: {pct(state.charged_rate_pct)}")
    for rate in state.rates:
        typer.echo(
            f"  rate {rate.hs_prefix or '*'}: {pct(rate.rate_pct)} since "
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


def print_negotiation(answer: NegotiationAnswer) -> None:
    state = answer.state
    typer.echo(f"{state.title} ({', '.join(state.parties)}): {state.status.value}")
    typer.echo(f"  {as_of_line(answer.as_of)}")
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


def print_schedule(answer: Schedule) -> None:
    typer.echo(f"{answer.imposer} schedule for {answer.origin}: {as_of_line(answer.as_of)}")
    for state in answer.measures:
        typer.echo(
            f"  {state.status:<18} {pct(state.charged_rate_pct):>7}  {state.name} [{state.layer}]"
        )


def print_timeline(entries: Sequence[TimelineEntry]) -> None:
    typer.echo(f"{'effective':<10}  {'announced':<20}  {'recorded':<27}  type / event id")
    for e in entries:
        effective = e.effective_on.isoformat() if e.effective_on else "?"
        retracted = f"  [corrected at position {e.retracted_at}]" if e.retracted_at else ""
        typer.echo(
            f"{effective:<10}  {instant_text(e.announced_at)[:19] + 'Z':<20}  "
            f"{instant_text(e.recorded_at):<27}  {e.event_type} {e.event_id}{retracted}"
        )


def print_diff(result: differ.Diff) -> None:
    typer.echo(f"{result.subject}")
    typer.echo(f"  from {as_of_line(result.before)}")
    typer.echo(f"  to   {as_of_line(result.after)}")
    if not result.changes:
        typer.echo("  no change")
    for change in result.changes:
        typer.echo(f"  {change.facet}: {change.old} -> {change.new}")
        if change.caused_by:
            typer.echo(f"      caused by: {', '.join(change.caused_by)}")
        if change.withdrawn:
            typer.echo(f"      no longer relied on: {', '.join(change.withdrawn)}")


# -- the event log ----------------------------------------------------------------------


def log_json(entry: LogEntry) -> dict[str, Any]:
    """One event of the global log as `tradeledger events --json` prints it."""
    return {
        "position": entry.position,
        "stream": str(entry.stream_id),
        "kind": entry.kind,
        "key": entry.key,
        "version": entry.version,
        "type": entry.type,
        "event_id": entry.event_id,
        "effective_on": entry.effective_on.isoformat() if entry.effective_on else None,
        "announced_at": instant_text(entry.announced_at),
        "recorded_at": instant_text(entry.recorded_at) if entry.recorded_at else None,
    }


def log_text(entry: LogEntry) -> dict[str, str]:
    """One event of the global log as a row of `tradeledger events`' table."""
    row = {
        "position": str(entry.position),
        "stream": f"{entry.kind} {entry.key or entry.stream_id}",
        "version": str(entry.version),
        "type": entry.type,
        "event_id": entry.event_id,
        "effective_on": entry.effective_on.isoformat() if entry.effective_on else "-",
        "announced_at": instant_text(entry.announced_at),
    }
    if entry.recorded_at is not None:
        row["recorded_at"] = instant_text(entry.recorded_at)
    return row


def print_table(rows: Sequence[dict[str, str]]) -> None:
    if not rows:
        typer.echo("no events", err=True)
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(row.get(c, "")) for row in rows)) for c in columns}
    typer.echo("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        typer.echo("  ".join(row.get(c, "").ljust(widths[c]) for c in columns).rstrip())
