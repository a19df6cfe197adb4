"""Pydantic's validation errors as a client reads them: one FieldError per invalid input,
named by a path through the request (`body.events.0.rate_pct`, `query.on`), without the
union tags pydantic puts into its locations, and with echoed input capped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from domain.values import ECHO_LIMIT, shorten
from eventschema import measure_event_types, negotiation_event_types


class FieldError(BaseModel):
    """One invalid input: where it is (`body.events.0.rate_pct`, `query.on`) and why."""

    field: str = Field(examples=["body.events.0.rate_pct"])
    message: str = Field(examples=["Input should be greater than or equal to 0"])


_TAGS = frozenset({"event", "batch"}) | measure_event_types() | negotiation_event_types()
"""Union tags pydantic puts into error locations; readers want field paths."""


def field_path(loc: Sequence[int | str], error_type: str) -> str:
    """`("body", "batch", "events", 0, "rate_changed", "rate_pct")` -> `body.events.0.rate_pct`."""
    kept: list[str] = []
    previous_was_tag = False
    for index, part in enumerate(loc):
        after_container = index > 0 and (
            loc[index - 1] == "body" or isinstance(loc[index - 1], int) or previous_was_tag
        )
        previous_was_tag = isinstance(part, str) and part in _TAGS and after_container
        if not previous_was_tag:
            kept.append(shorten(str(part), ECHO_LIMIT))
    if error_type in ("union_tag_invalid", "union_tag_not_found") and kept[-1:] != ["type"]:
        kept.append("type")
    return ".".join(kept)


def validation_errors(errors: Sequence[Any]) -> list[FieldError]:
    described = []
    for error in errors:
        message = str(error.get("msg", "invalid"))
        context = error.get("ctx") or {}
        if error.get("type") == "json_invalid" and "error" in context:
            message = f"{message}: {context['error']}"
        described.append(
            FieldError(
                field=field_path(tuple(error.get("loc", ())), str(error.get("type"))),
                message=message,
            )
        )
    return described
