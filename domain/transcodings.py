"""How the ledger's value objects are written into stored events (JSON), and read back.

Registered with the library's JSONTranscoder by the Ledger application. The names
are stored data: renaming one later needs a transcoding that accepts the old name.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import Transcoding

from domain.values import Provenance, Reliability, Source


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class SourceAsDict(Transcoding):
    type = Source
    name = "source"

    def encode(self, obj: Source) -> dict[str, Any]:
        return {"c": obj.citation, "p": obj.publisher, "r": obj.reliability.value}

    def decode(self, data: dict[str, Any]) -> Source:
        return Source(data["c"], data["p"], Reliability(data["r"]))


class ProvenanceAsDict(Transcoding):
    type = Provenance
    name = "provenance"

    def encode(self, obj: Provenance) -> dict[str, Any]:
        return {"s": list(obj.sources), "by": obj.recorded_by, "n": obj.note}

    def decode(self, data: dict[str, Any]) -> Provenance:
        return Provenance(tuple(data["s"]), data["by"], data["n"])


ALL: tuple[Transcoding, ...] = (DateAsISO(), SourceAsDict(), ProvenanceAsDict())
