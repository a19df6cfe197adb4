"""Schemathesis hooks for a run of the `st` command against the API (see test_openapi):
`SCHEMATHESIS_HOOKS=tests.api.schemathesis_hooks st run ... --checks all`.

The document asks clients for a new Idempotency-Key per request (the server refuses a
key reused for a different request, as the header's specification says it should); no
JSON Schema can say "unique", so a generator left alone reuses its values. This hook
does what the document asks of a client: each request with a valid key gets a fresh one
(an invalid key, generated to be refused, is left as it is).
"""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import schemathesis

VALID_KEY = re.compile(r"[!-~]{1,255}")
"""What the server takes as an Idempotency-Key (domain.idempotency.check_key)."""


def with_unique_key(headers: dict[str, Any] | None) -> None:
    """Give a request that carries a valid Idempotency-Key a key of its own."""
    key = (headers or {}).get("Idempotency-Key")
    if headers is not None and isinstance(key, str) and VALID_KEY.fullmatch(key):
        headers["Idempotency-Key"] = str(uuid4())


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    with_unique_key(case.headers)
