"""Validation errors as readers want them: field paths without pydantic's union tags."""

from __future__ import annotations

from decimal import Decimal

from pydantic import ValidationError

from domain.ledger import MEASURE, NEGOTIATION
from domain.values import ECHO_LIMIT, echo, shorten
from eventschema.unions import measure_event_types, negotiation_event_types

_KINDS = frozenset({MEASURE, NEGOTIATION})
_OWN_MESSAGES = frozenset({"invalid_value", "stream_missing", "missing"})
"""Error types whose message already says what was wrong, without echoing the input."""


def error_fields(error: ValidationError) -> list[tuple[str, str]]:
    """(field path, message) for each error, without the union tags pydantic puts in paths.

    Validating a dataset line puts the stream kind and the event type at the head of each
    location ("measure", "rate_changed", "sources", 0, ...); validating a MeasureEvent or
    NegotiationEvent puts the event type. Readers want "sources.0.reliability".
    """
    measure_types, negotiation_types = measure_event_types(), negotiation_event_types()
    described: list[tuple[str, str]] = []
    for detail in error.errors(include_url=False):
        loc = list(detail["loc"])
        kind = loc[0] if loc and loc[0] in _KINDS else None
        message = detail["msg"]
        if detail["type"] == "union_tag_not_found":
            loc, message = ["type"], "Field required"
        elif detail["type"] == "union_tag_invalid":
            context = detail.get("ctx") or {}
            loc = ["type"]
            message = (
                f"unknown event type {echo(context.get('tag'))}"
                + (f" for a {kind}" if kind else "")
                + f"; expected one of {context.get('expected_tags')}"
            )
        elif kind is not None and len(loc) >= 2:
            types = measure_types if kind == MEASURE else negotiation_types
            loc = loc[2:] if loc[1] in types else loc
        elif loc and loc[0] in measure_types | negotiation_types:
            loc = loc[1:]
        given = detail.get("input")
        if detail["type"] not in _OWN_MESSAGES and isinstance(given, str | int | Decimal):
            shown = str(given) if isinstance(given, Decimal) else repr(given)
            if len(shown) <= 60 and not message.startswith("unknown event type"):
                message = f"{message} (got {shown})"
        if detail["type"] == "missing" and loc == ["event_id"] and kind is not None:
            message = (
                "Field required: a dataset line carries its event_id, so that loading the "
                "file again adds nothing"
            )
        # A path names the input's own keys (an unknown 1 MB key, say): each part is cut.
        path = ".".join(shorten(str(part)) for part in loc)
        described.append((path, shorten(message, 2 * ECHO_LIMIT)))
    return described


def describe_errors(error: ValidationError, limit: int = 3) -> str:
    """The errors on one line: "sources.0.reliability: Input should be ...; ..."."""
    fields = error_fields(error)
    parts = [f"{path}: {message}" if path else message for path, message in fields[:limit]]
    if len(fields) > limit:
        parts.append(f"and {len(fields) - limit} more")
    return "; ".join(parts)
