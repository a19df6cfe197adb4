"""Free text: the JSON Schema says what `check_recordable` refuses, from one definition."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from domain.errors import InvalidValue
from eventschema.recordable import (
    NON_BLANK_TEXT_PATTERN,
    RECORDABLE_TEXT_PATTERN,
    check_recordable,
)

CHECKED_IN_SCHEMA = Path(__file__).resolve().parents[2] / "eventschema" / "events.schema.json"


def recordable(text: str) -> bool:
    try:
        check_recordable(text)
    except InvalidValue:
        return False
    return True


def string_schemas(node: Any) -> list[dict[str, Any]]:
    """Every schema of a string that is neither an enumeration nor a format."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"enum", "const", "format"} & node.keys():
            found.append(node)
        for value in node.values():
            found.extend(string_schemas(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(string_schemas(value))
    return found


def test_the_text_pattern_takes_every_character_the_store_takes_and_no_other() -> None:
    pattern = re.compile(RECORDABLE_TEXT_PATTERN)
    surrogates = range(0xD800, 0xE000)

    disagreeing = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if code not in surrogates
        and bool(pattern.match(f"a{chr(code)}b")) != recordable(f"a{chr(code)}b")
    ]

    assert disagreeing == []
    # A lone surrogate is refused too; a JSON Schema cannot name it (its strings are
    # Unicode), and the pattern says all the rest.
    assert not recordable("a\ud800b")


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("analyst", True),
        (" a ", True),
        ("a\x00", False),
        ("", False),
        (" \t", False),
        ("\U0001f600", True),
    ],
)
def test_the_non_blank_pattern_means_the_same_to_python_and_to_a_json_schema_validator(
    text: str, valid: bool
) -> None:
    validator = jsonschema_rs.Draft202012Validator(
        {"type": "string", "pattern": NON_BLANK_TEXT_PATTERN}
    )

    assert bool(re.match(NON_BLANK_TEXT_PATTERN, text)) is valid
    assert validator.is_valid(text) is valid


def test_no_string_a_dataset_line_takes_may_hold_a_nul() -> None:
    schema = json.loads(CHECKED_IN_SCHEMA.read_text(encoding="utf-8"))

    strings = string_schemas(schema)

    assert strings
    for string in strings:
        assert not jsonschema_rs.Draft202012Validator(string).is_valid("a\x00b"), string
