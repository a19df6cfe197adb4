"""What the store would take but never give back in one piece: refused before writing."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from domain.errors import InvalidValue
from domain.values import MAX_RATE, shorten

MAX_RATE_PCT = MAX_RATE
"""No plausible rate (or number of points) in percent is higher; a bigger number is a typo."""

NUL = r"\u0000"
"""NUL, as a regular expression in both dialects (Python's and JSON Schema's ECMA-262):
PostgreSQL text cannot hold it."""

SURROGATES = r"\ud800-\udfff"
"""Lone surrogates, as a character range of Python's dialect: not encodable as UTF-8.
A JSON Schema cannot name them (a JSON Schema string is Unicode, which has no lone
surrogates; validators in Rust or Go cannot even hold one), so the schemas leave them out
and their descriptions say text is Unicode."""

_UNSTORABLE = re.compile(f"[{NUL}{SURROGATES}]")

RECORDABLE_TEXT_PATTERN = f"^[^{NUL}]*$"
"""The JSON Schema `pattern` of free text: what `check_recordable` refuses of a string, as
far as a JSON Schema can say it (see SURROGATES)."""

NON_BLANK_TEXT_PATTERN = f"^[^{NUL}]*[^\\s{NUL}][^{NUL}]*$"
"""Recordable text with at least one character that is not blank."""


def check_recordable(value: object, path: str = "body") -> None:
    """Refuse what the store would take but never give back in one piece.

    A NUL character or a lone surrogate would be recorded (event state is bytes) and then
    make every projection, and so every read, fail; a rate like 1E+999999 would be
    recorded and make every answer mentioning it take minutes to print. Both are refused
    here, before anything is written, naming the field.
    """
    if not _holds_unrecordable(value):
        return
    _check_recordable(value, path)


def _holds_unrecordable(value: object) -> bool:
    """Whether `value` may hold something `_check_recordable` refuses.

    Nearly every value passes, and building a path for each of its fields, as the walk
    that names the culprit must, cost more than validating the line did. This walk looks
    at the same strings and decimals (and maybe more: a model's whole __dict__), without
    paths; only when it finds something does the naming walk run.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif type(item) in _INERT:
            continue
        elif isinstance(item, Decimal):
            if item > MAX_RATE_PCT:
                return True
        elif isinstance(item, BaseModel):
            pending.extend(item.__dict__.values())
            if item.__pydantic_extra__:
                pending.extend(item.__pydantic_extra__.values())
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


_INERT = frozenset({type(None), bool, int, date, datetime})
"""Types of value with nothing in them to refuse."""


def _check_recordable(value: object, path: str) -> None:
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise InvalidValue(path, "text must not hold NUL characters or lone surrogates")
    elif isinstance(value, Decimal):
        if value > MAX_RATE_PCT:
            raise InvalidValue(
                path, f"{shorten(str(value))} is not a plausible rate (at most {MAX_RATE_PCT})"
            )
    elif isinstance(value, BaseModel):
        for name, item in value:
            _check_recordable(item, f"{path}.{name}" if path else name)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_recordable(key, path)
            _check_recordable(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_recordable(item, f"{path}.{index}" if path else str(index))
