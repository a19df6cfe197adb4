"""What goes wrong with the configuration: each message fits on one line."""

from __future__ import annotations


class ConfigurationError(Exception):
    """The configuration cannot work (a store that cannot be opened, say)."""


class InvalidSetting(ConfigurationError):
    """A TRADELEDGER_* variable holds a value that cannot work (the CLI exits with status 2)."""
