"""`tradeledger serve`: run the HTTP API with uvicorn on the configured store.

The store and the API's settings are the ones the composition root reads from the
environment (tradeledger.bootstrap); a setting that cannot work stops the command before
the server starts. The server reads requests under the limits of cli.server_limits
(read timeouts, connection caps, requests in flight), which the settings size.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.main import create_app
from tradeledger.bootstrap import open_services, store_location

GRACEFUL_SHUTDOWN_SECONDS = 5
"""How long open event streams may keep the server from stopping."""


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    log_level: Annotated[
        str, typer.Option(help="uvicorn's log level: critical, error, warning, info, debug.")
    ] = "info",
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) on the configured store."""
    # Here, so that other commands do not pay for importing the server.
    import uvicorn

    from cli.server_limits import InFlightLimit, ServerLimits, allow_open_files, protocol_class

    services = open_services()
    limits = ServerLimits.of(services.settings)
    allow_open_files(limits.max_connections)
    typer.echo(f"serving {store_location(services.config)} on http://{host}:{port}", err=True)
    app = create_app(services, close_services=True)
    app.add_middleware(InFlightLimit, max_in_flight=limits.max_in_flight)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        http=protocol_class(limits),
        ws="none",  # the API has no WebSocket route: refuse upgrades rather than time them
        timeout_keep_alive=limits.keep_alive,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


def register(app: typer.Typer) -> None:
    """Add `serve` to the `tradeledger` app."""
    app.command()(serve)
