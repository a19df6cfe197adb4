"""Probes for orchestrators, outside the versioned API and its OpenAPI document.

`GET /healthz` (liveness) answers 200 whenever the process serves HTTP: it touches no
database, so that a database outage never gets the API restarted (it recovers by
itself). `GET /readyz` (readiness) answers 200 when the store answers a trivial query
within READY_TIMEOUT seconds, and otherwise 503 `store_unavailable` problem details with
Retry-After, so that a load balancer sends no traffic while the store is down. Neither
needs an API key.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.dependencies import ServicesDep
from api.problems import store_unavailable
from storage.backoff import is_transient, one_line

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

READY_TIMEOUT = 1.0
"""Seconds the store has to answer the readiness query."""


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process serves requests (no database is asked)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request, services: ServicesDep) -> Response | dict[str, Any]:
    """Readiness: the store answers a trivial query (the log's last position) in time."""
    # On the loop's default executor rather than the request thread pool, and not
    # awaited past the timeout: a store that hangs must not hold the answer.
    query = asyncio.get_running_loop().run_in_executor(
        None, services.ledger.recorder.max_notification_id
    )
    try:
        await asyncio.wait_for(query, READY_TIMEOUT)
    except TimeoutError:
        return _not_ready(request, f"the store did not answer within {READY_TIMEOUT:g} s")
    except Exception as error:
        if not is_transient(error):
            logger.error("the readiness query failed: %s", one_line(error))
            return _not_ready(request, "the store failed the readiness query")
        return _not_ready(request, "the store cannot be reached (it is down or restarting)")
    return {"status": "ready"}


def _not_ready(request: Request, detail: str) -> JSONResponse:
    return store_unavailable(request.url.path, detail)
