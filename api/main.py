"""The HTTP API, assembled around open Services: `create_app(services, settings)`.

The Services come from the composition root (tradeledger.bootstrap, as for the CLI), so
tests and embedders choose the store; the settings are the ones the Services were opened
with unless others are given. `app_from_env` opens both through the composition root,
for `uvicorn --factory api.main:app_from_env`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import feed, health, reading, writing
from api.middleware import BodySizeLimit, UnexpectedErrors
from api.problems import PROBLEM_JSON, install_problem_handlers
from api.settings import Settings
from storage.bell import LogBell
from storage.eventlog import EventLog
from tradeledger.bootstrap import Services, follow_commits, open_services

logger = logging.getLogger(__name__)

DESCRIPTION = """\
A system of record for tariff measures and trade negotiations, on three time axes:
**on** (the day a rule is in force), **known_at** (what had been announced by then) and
**recorded_at** (what this ledger held then).

Write by appending events (the same models as the dataset format, with an example for
every type); read the state at any point in time; follow the global log in commit order
as CloudEvents, page by page or live over Server-Sent Events.

Authenticate with `Authorization: Bearer <key>`; roles `writer` (append and read),
`auditor` (read), `admin` (everything). Every error is `application/problem+json`.
"""

TAGS = [
    {"name": "writing", "description": "Create streams and append events to them."},
    {"name": "reading", "description": "State at any point on the three time axes."},
    {"name": "event log", "description": "The global log in commit order, and its stream."},
]


def create_app(
    services: Services, settings: Settings | None = None, *, close_services: bool = False
) -> FastAPI:
    """The API over `services`, with their settings unless `settings` are given; with
    `close_services` the app closes them at shutdown."""
    settings = settings if settings is not None else services.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not len(settings.api_keys) and not settings.public_read:
            logger.warning("no API keys are configured: every request will answer 401")
        # A bell per run of the app (one closed at the end of a run cannot ring again),
        # which wakes the event streams and the follower of other processes' commits.
        bell = app.state.log_bell = LogBell(services.ledger)
        follower = follow_commits(services, bell)
        try:
            yield
        finally:
            follower.stop()
            bell.close()
            if close_services:
                services.close()

    app = FastAPI(
        title="tradeledger",
        version="1",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.settings = settings
    app.state.event_log = EventLog(services.ledger)
    app.state.log_bell = LogBell(services.ledger)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(UnexpectedErrors)
    app.include_router(writing.router)
    app.include_router(reading.router)
    app.include_router(feed.router)
    app.include_router(health.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with errors documented as problem+json (which they are)."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        for path in document.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[:1] in "45" and "application/json" in content:
                        content[PROBLEM_JSON] = content.pop("application/json")
        app.openapi_schema = document
    return app.openapi_schema


def app_from_env() -> FastAPI:
    """The API on the store and settings the environment names (read once, by the
    composition root), for `uvicorn --factory api.main:app_from_env`."""
    return create_app(open_services(), close_services=True)
