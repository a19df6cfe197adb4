"""How the ledger's value objects are written into stored events (JSON), and read back.

Registered with the Ledger application's transcoder. The names are stored data:
renaming one later needs a transcoding that accepts the old name.

`LedgerJSONTranscoder` writes and reads exactly the library's JSONTranscoder format
(the same bytes), with orjson doing the parsing and printing: replaying the log is
dominated by decoding, and this makes it faster without changing what is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from domain.values import Provenance, Reliability, Source

_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
"""Dates, datetimes and dataclasses go to the registered transcodings, as with json."""


class LedgerJSONTranscoder(JSONTranscoder):
    """The library's JSONTranscoder, byte for byte, encoded and decoded with orjson.

    The two differ only where the ledger never goes, and there this one defers to the
    library's: orjson would print a UUID as a plain string (json hands it to the
    registered transcoding), and it refuses integers beyond 64 bits and non-string keys.
    """

    def __init__(self) -> None:
        super().__init__()
        self._decoders: dict[str, Decode] = {}
        """Each registered name's decoding function (see _decoder)."""

    def encode(self, obj: Any) -> bytes:
        if _holds_uuid(obj):
            return super().encode(obj)
        try:
            return orjson.dumps(obj, default=self._encode_obj, option=_ORJSON_OPTIONS)
        except orjson.JSONEncodeError:
            return super().encode(obj)

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._decoders[transcoding.name] = _decoder(transcoding)

    def decode(self, data: bytes) -> Any:
        return _revive(orjson.loads(data), self._decoders, self.names)


Decode = Callable[[Any], Any]


_BUILTIN_DECODERS: dict[type[Transcoding], Decode] = {
    DatetimeAsISO: datetime.fromisoformat,
    DecimalAsStr: Decimal,
    UUIDAsHex: UUID,
}
"""The library's transcodings whose decode only calls a constructor: called directly, a
tagged value costs one call instead of three (decode, its assert, the constructor).
A replay decodes several per event (instants, dates, rates)."""


def _decoder(transcoding: Transcoding) -> Decode:
    """How values tagged with `transcoding`'s name are decoded (exact classes only: a
    subclass may decode differently)."""
    if type(transcoding) is DateAsISO:
        return date.fromisoformat
    return _BUILTIN_DECODERS.get(type(transcoding)) or transcoding.decode


def _revive(value: Any, decoders: dict[str, Decode], names: dict[str, Transcoding]) -> Any:
    """Replace, depth first, each {"_type_": name, "_data_": data} by its object (what
    the library's decoder does with an object hook), visiting only dicts and lists.

    Tagged values are decoded where they are found, without a call for their own dict:
    most values of an event's state are tagged scalars (dates, instants, decimals).
    """
    if type(value) is dict:
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return _untag(value, decoders, names)
        items = value.items()
    elif type(value) is list:
        items = enumerate(value)  # type: ignore[assignment]
    else:
        return value
    for key, item in items:
        kind = type(item)
        if kind is dict:
            if len(item) == 2 and "_type_" in item and "_data_" in item:
                value[key] = _untag(item, decoders, names)
            else:
                value[key] = _revive(item, decoders, names)
        elif kind is list:
            value[key] = _revive(item, decoders, names)
    return value


def _untag(
    tagged: dict[str, Any], decoders: dict[str, Decode], names: dict[str, Transcoding]
) -> Any:
    data = tagged["_data_"]
    if type(data) is dict or type(data) is list:
        data = _revive(data, decoders, names)
    name = tagged["_type_"]
    try:
        decode = decoders[name]
    except (KeyError, TypeError):  # not registered through register(), or not a name
        decode = _transcoding(name, names).decode
    return decode(data)


def _transcoding(name: Any, names: dict[str, Transcoding]) -> Transcoding:
    transcoding = names.get(name) if type(name) is str else None
    if transcoding is None:
        msg = (
            f"Data serialized with name '{name}' is not deserializable. "
            "Please register a custom transcoding for this type."
        )
        raise TranscodingNotRegisteredError(msg)
    return transcoding


def _holds_uuid(value: Any) -> bool:
    """Whether a UUID is anywhere in `value`'s dicts, lists and tuples.

    Asked of every event's state before it is written, so the common leaves (text,
    numbers, dates, value objects) are passed over without a call each.
    """
    kind = type(value)
    if kind is dict:
        items = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        return isinstance(value, UUID)
    for item in items:
        kind = type(item)
        if kind is dict or kind is list or kind is tuple:
            if _holds_uuid(item):
                return True
        elif kind not in _NOT_UUIDS and isinstance(item, UUID):
            return True
    return False


_NOT_UUIDS = frozenset({str, int, bool, float, type(None)})
"""Types of the values in an event's state that are certainly not UUIDs."""


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


_RELIABILITY = {reliability.value: reliability for reliability in Reliability}
"""Reliability by value: a dict lookup costs a fraction of calling the enum."""


class SourceAsDict(Transcoding):
    type = Source
    name = "source"

    def encode(self, obj: Source) -> dict[str, Any]:
        return {"c": obj.citation, "p": obj.publisher, "r": obj.reliability.value}

    def decode(self, data: dict[str, Any]) -> Source:
        reliability = _RELIABILITY.get(data["r"]) or Reliability(data["r"])
        return Source(data["c"], data["p"], reliability)


class ProvenanceAsDict(Transcoding):
    type = Provenance
    name = "provenance"

    def encode(self, obj: Provenance) -> dict[str, Any]:
        return {"s": list(obj.sources), "by": obj.recorded_by, "n": obj.note}

    def decode(self, data: dict[str, Any]) -> Provenance:
        return Provenance(tuple(data["s"]), data["by"], data["n"])


ALL: tuple[Transcoding, ...] = (DateAsISO(), SourceAsDict(), ProvenanceAsDict())
