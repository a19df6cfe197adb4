"""References to streams: a measure or a negotiation named by key or by UUID.

A key names the same stream everywhere (its id is derived from the key and the stream
kind, see `domain.ledger.stream_id_for_key`); a UUID names a stream as it is.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated
from uuid import UUID, uuid4

from pydantic import AfterValidator, WithJsonSchema

from domain.ledger import MEASURE, NEGOTIATION, stream_id_for_key
from domain.values import echo
from eventschema.values import invalid


def _stream_ref(value: str) -> str:
    """A stream named by UUID (canonical form) or by key (a case-insensitive slug)."""
    text = value.strip()
    if _may_be_uuid(text):
        try:
            return str(UUID(text))
        except ValueError:
            pass
    key = text.lower()
    if not _KEY.fullmatch(key):
        raise invalid(
            f"{echo(value)} is neither a UUID nor a key (letters, digits, '.', '_', '-'; "
            "at most 100 characters, starting with a letter or digit)"
        )
    return key


@functools.lru_cache(maxsize=4096)
def referenced_stream_id(kind: str, ref: str) -> UUID:
    """The id of the stream a normalised reference names (see `_stream_ref`).

    Cached: a dataset names the same few streams on thousands of lines, and a key's id
    is a SHA-1 (uuid5), asked for several times per line.
    """
    return UUID(ref) if is_uuid(ref) else stream_id_for_key(kind, ref)


def id_of_new_stream(kind: str, key: str, given: UUID | None) -> UUID:
    """The id of a stream being created: `given`, or derived from its key, or (no key) fresh."""
    if given is not None:
        return given
    return stream_id_for_key(kind, key) if key else uuid4()


def is_uuid(ref: str) -> bool:
    if not _may_be_uuid(ref):
        return False
    try:
        UUID(ref)
    except ValueError:
        return False
    return True


def _may_be_uuid(text: str) -> bool:
    """False for text that `UUID()` certainly refuses, without paying for its exception.

    `UUID()` drops braces, "urn:" and "uuid:" and hyphens, then wants 32 hex digits, so
    text with fewer than 32 characters left after removing hyphens is never a UUID (the
    usual stream key); anything else is left to `UUID()` to decide.
    """
    return len(text) - text.count("-") >= 32


def _measure_id(value: str) -> str:
    # Measures refer to each other by id as hex, the form TariffMeasure compares with.
    return referenced_stream_id(MEASURE, _stream_ref(value)).hex


def _negotiation_id(value: str) -> str:
    return referenced_stream_id(NEGOTIATION, _stream_ref(value)).hex


_KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")

StreamRef = Annotated[
    str,
    AfterValidator(_stream_ref),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
            "description": (
                "A stream, by key (a slug, case-insensitive) or by UUID. A key names the "
                "same stream everywhere: its id is derived from the key and the stream kind."
            ),
            "examples": ["us-cn-fentanyl", "0b5f4a5e-2c55-5e43-9d0e-6a4c1f3f2b10"],
        }
    ),
]
"""A stream named by key or UUID; keys are lower-cased, UUIDs put in canonical form."""

Key = Annotated[
    str,
    AfterValidator(_stream_ref),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
            "description": "A human key for the stream (case-insensitive slug).",
            "examples": ["us-cn-fentanyl"],
        }
    ),
]

MeasureRef = Annotated[
    str,
    AfterValidator(_measure_id),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
            "description": "A measure, by key or UUID (stored as the measure's UUID in hex).",
            "examples": ["us-auto-232"],
        }
    ),
]

NegotiationRef = Annotated[
    str,
    AfterValidator(_negotiation_id),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
            "description": "A negotiation, by key or UUID (stored as its UUID in hex).",
            "examples": ["us-cn-trade-talks-2026"],
        }
    ),
]
