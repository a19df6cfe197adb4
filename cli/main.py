"""The `tradeledger` command: the app, its --version, and what an error looks like.

Commands live in modules by job (cli.writing, cli.reading, cli.history, cli.projecting,
cli.serve, cli.bench); each defines `register(app: typer.Typer) -> None`, and `main()`
registers them before running. (Passing `app` in, rather than having modules import it,
keeps one `app` even when this module runs as `python -m cli.main`, where it is
`__main__` and an import would create a second copy.)

Errors a user can cause end the command with one line, `error: ...`, on stderr and never
a traceback: exit status 2 for a TRADELEDGER_* variable that cannot work (as for a bad
option), 1 for everything else (a bad file, a broken domain rule, a store that cannot be
opened). The line is at most ERROR_LINE_LIMIT characters: messages repeat at most 80
characters of any piece of input (domain.values.echo), and a message that still runs
longer is cut, so that a 1 MB key never becomes a 1 MB line.
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
from domain.values import shorten
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
    except OverflowError:
        # Date arithmetic at the ends of the calendar (year 1, year 9999) on a value the
        # checks let through: the input, not the program, is wrong.
        _fail("a date or time is out of the supported range (years 1 to 9999, in UTC)")


ERROR_LINE_LIMIT = 300
"""The most characters of an `error:` line, the prefix included."""


def _fail(message: str, status: int = 1) -> None:
    one_line = re.sub(r"\s+", " ", message).strip()
    typer.echo(shorten(f"error: {one_line}", ERROR_LINE_LIMIT), err=True)
    raise SystemExit(status)


if __name__ == "__main__":
    main()
