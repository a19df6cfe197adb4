"""Request bodies read with exact numbers: a rate of 1e-400 is seen as 1E-400, not 0.0.

Starlette's `Request.json()` reads numbers as floats, so before any validator runs
1e-400 has become 0.0 (and would be recorded as a rate of 0), 1e400 infinity, and
0.1 + 0.2 the nearest binary fractions. The routes that record events read their bodies
with `ExactJSONRoute` instead: numbers with a fraction or an exponent become Decimals,
exactly as written, and the public schema (`eventschema.Rate`) refuses those beyond a
rate's precision, naming the field, as it does for a dataset file. NaN and Infinity,
which Python's parser takes but JSON does not have, and bodies nested thousands deep
(Python's parser recurses once per level) are invalid JSON: 422 like any other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class _ExactJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = json.loads(body, parse_float=Decimal, parse_constant=_refuse)
            except RecursionError:
                text = body.decode("utf-8", "replace")
                raise json.JSONDecodeError("nested too deeply", text, 0) from None
        return self._json


def _refuse(constant: str) -> Any:
    raise json.JSONDecodeError(f"{constant} is not a JSON number", constant, 0)


class ExactJSONRoute(APIRoute):
    """A route whose JSON body keeps its numbers exact (see the module's docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_exactly(request: Request) -> Response:
            return await handle(_ExactJSONRequest(request.scope, request.receive))

        return handle_exactly
