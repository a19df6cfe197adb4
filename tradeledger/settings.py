"""Every TRADELEDGER_* environment variable, in one class, read once and validated.

`Settings.from_env()` is called by the composition root (tradeledger.bootstrap) and
nowhere else; everything below it is handed the values it needs. The store URL is mapped
onto the eventsourcing library's own environment (`Settings.library_env`):

    sqlite:///relative/path.sqlite        -> PERSISTENCE_MODULE=storage.sqlite, SQLITE_DBNAME
                                             (sqlite:////abs/path for an absolute path)
    memory://                             -> PERSISTENCE_MODULE=storage.popo (nothing persists)
    postgresql://user[:pw]@host[:port]/db -> PERSISTENCE_MODULE=storage.postgres, POSTGRES_*

A value that cannot work raises InvalidSetting with one line naming the variable (and
never echoing an API key). The README's configuration table is printed by
`python -m tradeledger.settings` and checked against this class by the tests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from domain.stream_cache import DEFAULT_MAXSIZE
from projections.projector import DEFAULT_BATCH_SIZE, STOP
from projections.queries import DEFAULT_WAIT_TIMEOUT
from storage.postgres_pool import DEFAULT_STORE_TIMEOUT
from storage.sqlite import DEFAULT_POLL_INTERVAL
from tradeledger.errors import InvalidSetting
from tradeledger.keys import ApiKeys, Role, parse_api_keys

DEFAULT_STATEMENT_TIMEOUT = 30.0
"""Seconds: long enough for any statement the product sends (a projection batch, an index
built after a rebuild), short enough that nothing waits on a stuck one for ever."""

PREFIX = "TRADELEDGER_"
DEFAULT_DATABASE_URL = "sqlite:///tradeledger.sqlite"
DATABASE_URL_VARIABLE = "TRADELEDGER_DATABASE_URL"


# -- the store --------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreConfig:
    """Where the ledger lives, as the library's environment variables."""

    url: str
    backend: str
    env: dict[str, str]

    @property
    def display_url(self) -> str:
        """The URL without its password, safe to print."""
        parts = urlsplit(self.url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return parts._replace(netloc=netloc).geturl()
        return self.url


def parse_database_url(url: str) -> StoreConfig:
    """The library's environment for a TRADELEDGER_DATABASE_URL (InvalidSetting if none)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        path = unquote(url[len("sqlite://") :])
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise InvalidSetting(f"{DATABASE_URL_VARIABLE}: {url!r} names no SQLite file")
        return StoreConfig(
            url,
            "sqlite",
            {"PERSISTENCE_MODULE": "storage.sqlite", "SQLITE_DBNAME": path},
        )
    if scheme in ("memory", "popo"):
        return StoreConfig(url, "popo", {"PERSISTENCE_MODULE": "storage.popo"})
    if scheme in ("postgresql", "postgres"):
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname or not parts.hostname:
            raise InvalidSetting(
                f"{DATABASE_URL_VARIABLE}: {url!r} must look like postgresql://user@host:port/db"
            )
        try:
            port = parts.port or 5432
        except ValueError:
            raise InvalidSetting(f"{DATABASE_URL_VARIABLE}: {url!r} has a bad port") from None
        env = {
            "PERSISTENCE_MODULE": "storage.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(port),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "5",
        }
        return StoreConfig(url, "postgres", env)
    raise InvalidSetting(
        f"{DATABASE_URL_VARIABLE}: unsupported scheme {scheme or '(none)'!r} in {url!r}; "
        "use sqlite:///file, postgresql://user@host:port/db or memory://"
    )


# -- the settings -----------------------------------------------------------------------


class Settings(BaseSettings):
    """Every TRADELEDGER_* variable: field `x_y` is read from TRADELEDGER_X_Y.

    Build it with `from_env()` (the process environment, or a mapping standing for it),
    or with `of(...)` / `with_keys(...)`, which never look at the environment.
    A description is the variable's meaning in the README's configuration table.
    """

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_ignore_empty=True,  # VARIABLE= means the default, as if unset
        frozen=True,
        arbitrary_types_allowed=True,
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="`sqlite:///path`, `postgresql://user:pw@host:port/db` or `memory://`",
    )
    api_keys: ApiKeys = Field(
        default_factory=ApiKeys,
        description="`<key>:<role>,...` with roles `writer`, `auditor`, `admin`",
    )
    api_keys_file: Path | None = Field(
        None,
        description="a file of the same entries (commas or lines, `#` comments); "
        "its keys add to those of `TRADELEDGER_API_KEYS`",
    )
    public_read: bool = Field(
        False,
        description="`1` opens reads (never writes) to anonymous callers; with `0` every "
        "`/v1` route, `/v1/schemas` included, needs a key (only `/openapi.json`, `/docs`, "
        "`/redoc` and the health probes are open to all)",
    )
    max_body_bytes: int = Field(1 << 20, ge=1, description="larger request bodies answer 413")
    sse_heartbeat_seconds: float = Field(
        15.0, ge=0.01, allow_inf_nan=False, description="comment lines on idle event streams"
    )
    # `tradeledger serve`: how long a client may take to send a request, and how much it
    # may hold (cli/server_limits.py; the README's "Slow and greedy clients" says why these).
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        allow_inf_nan=False,
        description="a request's head must arrive within this, from the connection's opening "
        "or the request's first byte; else 408 and the connection is closed",
    )
    body_timeout_seconds: float = Field(
        30.0,
        gt=0,
        allow_inf_nan=False,
        description="a request's body must arrive whole within this after its head; else 408 "
        "and the connection is closed (answers, event streams included, are not timed)",
    )
    keep_alive_seconds: int = Field(
        5, ge=1, description="an idle connection is closed this long after its last answer"
    )
    max_requests_in_flight: int = Field(
        200,
        ge=1,
        description="requests worked on at once (answer not begun, not waiting for their "
        "bodies); more are answered 503 with `Retry-After` at once",
    )
    max_connections: int = Field(
        1000, ge=1, description="open connections in all; more are answered 503 and closed"
    )
    max_connections_per_client: int = Field(
        100,
        ge=1,
        description="open connections from one client address; more are answered 503 and "
        "closed (behind a proxy, every client has the proxy's address)",
    )
    projection_batch: int = Field(
        DEFAULT_BATCH_SIZE,
        ge=1,
        description="events per read-model transaction (rebuilds, catch-ups)",
    )
    stream_cache_maxsize: int = Field(
        DEFAULT_MAXSIZE,
        ge=0,
        description="streams whose last saved state a process keeps, so that its next append "
        "to one needs no read (stale states are detected by the store and reloaded; 0 turns "
        "it off)",
    )
    read_wait_seconds: float = Field(
        DEFAULT_WAIT_TIMEOUT,
        gt=0,
        allow_inf_nan=False,
        description="how long a read given `min_position` waits for the read models to reach "
        "it before answering 503 with `Retry-After`",
    )
    append_patience_seconds: float = Field(
        10.0,
        gt=0,
        le=600,
        allow_inf_nan=False,
        description="how long a write to a stream another process keeps writing to retries "
        "before answering 503 `stream_busy` with `Retry-After` (never 409 without `If-Match`)",
    )
    on_undecodable: Literal["stop", "skip"] = Field(
        STOP,
        description="what projection (the follower, `project`, `rebuild`) does at a stored "
        "event that does not decode: `stop` before it (the read models never fold past a "
        "hole; a rebuild fails and the read models in use stay) or `skip` it (it is "
        "recorded, and every answer standing on it names its position)",
    )
    sqlite_poll_interval: float = Field(
        DEFAULT_POLL_INTERVAL,
        gt=0,
        allow_inf_nan=False,
        description="seconds between the polls by which a SQLite store's subscribers find "
        "other processes' writes (this process's own writes wake them at once)",
    )
    store_timeout_seconds: float = Field(
        DEFAULT_STORE_TIMEOUT,
        gt=0,
        allow_inf_nan=False,
        description="PostgreSQL: the longest a request waits for a database connection; "
        "an unreachable server is reported at once, as 503 `store_unavailable`",
    )
    statement_timeout_seconds: float = Field(
        DEFAULT_STATEMENT_TIMEOUT,
        ge=0,
        allow_inf_nan=False,
        description="PostgreSQL: the server cancels any statement running longer (0: no "
        "limit; `tradeledger rebuild` runs without one)",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Values given in code, then the process environment: no .env file and no secrets
        # directory, so that what configures a process is what its environment shows.
        return (init_settings, env_settings)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check every TRADELEDGER_* variable of the process environment (or of
        `environ`, standing for it; unset or blank variables take their defaults).

        Raises InvalidSetting, one line naming the variable, for a value that cannot work.
        """
        if environ is None:
            return cls._checked(lambda: cls())
        given = {
            name: environ[variable]
            for name, variable in cls.variables().items()
            if environ.get(variable, "").strip()
        }
        return cls.of(**given)

    @classmethod
    def of(cls, **values: Any) -> Settings:
        """Settings holding `values` and the defaults, whatever the environment says."""
        defaults = {
            name: field.get_default(call_default_factory=True)
            for name, field in cls.model_fields.items()
        }
        return cls._checked(lambda: cls(**{**defaults, **values}))

    @classmethod
    def with_keys(cls, keys: Mapping[str, Role | str], **values: Any) -> Settings:
        """Settings holding `keys` (key -> role) and `values`, for tests and embedding."""
        api_keys = ApiKeys((key, Role(role)) for key, role in keys.items())
        return cls.of(api_keys=api_keys, **values)

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Field name -> the environment variable it is read from."""
        return {name: PREFIX + name.upper() for name in cls.model_fields}

    @classmethod
    def _checked(cls, build: Callable[[], Settings]) -> Settings:
        try:
            return build()
        except ValidationError as error:
            raise InvalidSetting(_one_line(error.errors()[0])) from None

    # -- validation ---------------------------------------------------------------------

    @field_validator("database_url")
    @classmethod
    def _store_url_is_usable(cls, url: str) -> str:
        url = url.strip()
        parse_database_url(url)  # raises InvalidSetting, naming the variable
        return url

    @field_validator("public_read", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() not in _FLAGS:
            raise ValueError(f"expected 1 or 0, not {value.strip()!r}")
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _gather_api_keys(cls, data: Any) -> Any:
        """The keys of TRADELEDGER_API_KEYS and of TRADELEDGER_API_KEYS_FILE add up; the
        file is read here, once."""
        if not isinstance(data, dict):
            return data
        keys = data.get("api_keys")
        if keys is None or isinstance(keys, str):
            keys = ApiKeys(parse_api_keys(keys or "", PREFIX + "API_KEYS"))
        path = data.get("api_keys_file")
        if path is not None and str(path).strip() and isinstance(keys, ApiKeys):
            keys = keys + ApiKeys(parse_api_keys(_read_keys_file(str(path).strip()), _FILE))
        return {**data, "api_keys": keys}

    # -- what the settings mean to the rest of the product ------------------------------

    @property
    def store(self) -> StoreConfig:
        """Where the ledger lives."""
        return parse_database_url(self.database_url)

    def library_env(self) -> dict[str, str]:
        """The eventsourcing library's environment for the Ledger on this store: the
        store's PERSISTENCE_MODULE and SQLITE_DBNAME or POSTGRES_*, the stream cache size,
        how long a contended append retries, (SQLite) the subscription poll interval and
        (PostgreSQL) the store's timeouts."""
        store = self.store
        env = {
            **store.env,
            "STREAM_CACHE_MAXSIZE": str(self.stream_cache_maxsize),
            "APPEND_PATIENCE": repr(self.append_patience_seconds),
        }
        if store.backend == "sqlite":
            env["SQLITE_POLL_INTERVAL"] = repr(self.sqlite_poll_interval)
        if store.backend == "postgres":
            env["POSTGRES_STORE_TIMEOUT"] = repr(self.store_timeout_seconds)
            env["POSTGRES_STATEMENT_TIMEOUT"] = repr(self.statement_timeout_seconds)
        return env


_FLAGS = frozenset({"1", "0", "true", "false", "yes", "no", "on", "off"})
_FILE = PREFIX + "API_KEYS_FILE"


def _read_keys_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InvalidSetting(f"{_FILE}: cannot read {path!r}: {reason}") from None


def _one_line(error: ErrorDetails) -> str:
    """`VARIABLE: what is wrong`, for the first error pydantic found."""
    field = str(error["loc"][0]) if error["loc"] else ""
    variable = PREFIX + field.upper()
    value = error.get("input")
    shown = f", not {value!r}" if isinstance(value, str | int | float) else ""
    context = error.get("ctx", {})
    kind = error["type"]
    if kind == "value_error":
        message = str(context.get("error", error["msg"]))
    elif kind in ("int_parsing", "int_from_float", "int_type"):
        message = f"expected a whole number{shown}"
    elif kind in ("float_parsing", "float_type", "finite_number"):
        message = f"expected a number{shown}"
    elif kind == "greater_than_equal":
        message = f"must be at least {context['ge']}{shown}"
    elif kind == "greater_than":
        message = f"must be more than {context['gt']}{shown}"
    elif kind == "literal_error":
        message = f"expected {context['expected']}{shown}"
    else:
        message = error["msg"]
    return re.sub(r"\s+", " ", f"{variable}: {message}").strip()


# -- the README's table -----------------------------------------------------------------


def shown_default(value: object) -> str:
    """A default as the README's configuration table shows it."""
    if value is None or isinstance(value, ApiKeys):
        return "none"
    if isinstance(value, bool):
        return f"`{int(value)}`"
    if isinstance(value, str):
        return f"`{value}`"
    if isinstance(value, int) and value >= 1 << 20 and value % (1 << 20) == 0:
        return f"{value >> 20} MiB"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def configuration_table() -> list[tuple[str, str, str]]:
    """(variable, meaning, default) for each setting, in the class's order."""
    return [
        (
            Settings.variables()[name],
            field.description or "",
            shown_default(field.get_default(call_default_factory=True)),
        )
        for name, field in Settings.model_fields.items()
    ]


def configuration_markdown() -> str:
    """The README's configuration table, in Markdown."""
    lines = ["| variable | meaning | default |", "|---|---|---|"]
    lines += [f"| `{v}` | {meaning} | {default} |" for v, meaning, default in configuration_table()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(configuration_markdown(), end="")
