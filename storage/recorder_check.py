"""Small helpers shared by the backend modules."""

from __future__ import annotations

from typing import TypeVar

_R = TypeVar("_R")


def ensure_recorder_class(recorder: object, cls: type[_R]) -> _R:
    """Return `recorder`, checked to be an instance of `cls`.

    The library's factories honour APPLICATION_RECORDER_TOPIC and
    PROCESS_RECORDER_TOPIC, which may name any recorder class; ours must be one of
    tradeledger's, or record times would silently go missing.
    """
    if not isinstance(recorder, cls):
        msg = f"{type(recorder).__qualname__} is not a subclass of {cls.__qualname__}"
        raise TypeError(msg)
    return recorder
