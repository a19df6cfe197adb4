"""The `tradeledger` command: the app, its --version, and what an error looks like.

Commands live in modules by job (cli.writing, cli.reading, cli.history, cli.projecting,
cli.serve, cli.bench); each defines `register(app: typer.Typer) -> None`, and `main()`
registers them before running. (Passing `app` in, rather than having modules import it,
keeps one `app` even when this module runs as `python -m cli.main`, where it is
`__main__` and an import would create a second copy.)

Errors a user can cause end the command with one line, `error: ...`, on stderr and never
a traceback: exit status 2 for a TRADELEDGER_* variable that cannot work (as for a bad
option), 1 for everything else (a bad file, a broken domain rule, a store that cannot be
opened).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Annotated

import typer
from eventsourcing.persistence import PersistenceError
from pydantic import ValidationError

from cli.records import InputError
from domain.errors import DomainError
from eventschema import describe_errors
from tradeledger import __version__
from tradeledger.errors import ConfigurationError, InvalidSetting

COMMAND_MODULES: tuple[str, ...] = (
    "cli.writing",
    "cli.reading",
    "cli.history",
    "cli.projecting",
    "cli.serve",
    "cli.bench",
)
"""Modules that add commands: each defines `register(app: typer.Typer) -> None`."""

app = typer.Typer(
    name="tradeledger",
    help="System of record for tariff measures and trade negotiations.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help, wrapped to the terminal; plain usage errors
    pretty_exceptions_show_locals=False,  # locals may hold a database password
)


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"tradeledger {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """System of record for tariff measures and trade negotiations."""


_registered: set[str] = set()


def register_command_modules() -> None:
    """Let each module of COMMAND_MODULES add its commands to `app` (once)."""
    for module_name in COMMAND_MODULES:
        if module_name not in _registered:
            importlib.import_module(module_name).register(app)
            _registered.add(module_name)


def main(args: Sequence[str] | None = None) -> None:
    """Run the command line; errors a user can cause become one line on stderr."""
    register_command_modules()
    try:
        app(args=args, prog_name="tradeledger")
    except InvalidSetting as error:
        _fail(str(error), status=2)
    except ValidationError as error:
        _fail(describe_errors(error))
    except DomainError as error:
        _fail(error.message)
    except (InputError, ConfigurationError) as error:
        _fail(str(error))
    except PersistenceError as error:
        _fail(f"the store failed: {error}")


def _fail(message: str, status: int = 1) -> None:
    one_line = re.sub(r"\s+", " ", message).strip()
    typer.echo(f"error: {one_line}", err=True)
    raise SystemExit(status)


if __name__ == "__main__":
    main()
