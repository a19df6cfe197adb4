"""The global event log as the feed serves it: CloudEvents, a page at a time."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from projections.render import jsonable
from storage.eventlog import LogEntry


def _sanitised(value: Any) -> Any:
    """`value` with implausibly large Decimals as floats, so that `jsonable` stays fast."""
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > 15:
        return float(value)
    if isinstance(value, dict):
        return {k: _sanitised(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_sanitised(v) for v in value]
    return value


class CloudEventPublic(BaseModel):
    """One event of the global log as a CloudEvents 1.0 structured JSON event.

    Extensions: `position` (in the global log: the cursor), `version` (in its stream),
    `effectivedate` (absent when unknown), `announcedat`, `streamkind`, `streamkey`.
    `data` holds the event's public fields, as a client would send them to record it.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "specversion": "1.0",
                    "id": "afcaeb5d-c3b0-57c6-801a-f27e210fb4f9/2",
                    "source": "/v1/measures/afcaeb5d-c3b0-57c6-801a-f27e210fb4f9",
                    "type": "tradeledger.measure.rate_changed",
                    "subject": "afcaeb5d-c3b0-57c6-801a-f27e210fb4f9",
                    "time": "2025-06-02T09:15:00.123Z",
                    "datacontenttype": "application/json",
                    "position": 17,
                    "version": 2,
                    "effectivedate": "2025-03-04",
                    "announcedat": "2025-03-03T00:00:00Z",
                    "streamkind": "measure",
                    "streamkey": "us-cn-fentanyl",
                    "data": {
                        "type": "rate_changed",
                        "event_id": "US-CN-FENT-20",
                        "effective_on": "2025-03-04",
                        "announced_at": "2025-03-03T00:00:00Z",
                        "rate_pct": 20,
                        "hs_prefixes": [],
                        "sources": [
                            {
                                "citation": "Executive Order 14228",
                                "publisher": "The White House",
                                "reliability": "official",
                            }
                        ],
                        "recorded_by": "analyst@example.org",
                        "note": "",
                    },
                }
            ]
        }
    )

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(description="Unique per event: '<stream id>/<version>'.")
    source: str = Field(description="The stream's resource path.")
    type: str = Field(description="'tradeledger.<kind>.<type>'.")
    subject: str = Field(description="The stream id.")
    time: datetime | None = Field(description="When the ledger recorded the event.")
    datacontenttype: Literal["application/json"] = "application/json"
    position: int
    version: int
    effectivedate: date | None = Field(
        default=None, exclude_if=lambda value: value is None, description="Absent when unknown."
    )
    announcedat: datetime
    streamkind: Literal["measure", "negotiation"]
    streamkey: str
    data: dict[str, Any]

    @classmethod
    def of(cls, entry: LogEntry) -> CloudEventPublic:
        plural = "measures" if entry.kind == "measure" else "negotiations"
        return cls(
            id=f"{entry.stream_id}/{entry.version}",
            source=f"/v1/{plural}/{entry.stream_id}",
            type=entry.full_type,
            subject=str(entry.stream_id),
            time=entry.recorded_at,
            position=entry.position,
            version=entry.version,
            effectivedate=entry.effective_on,
            announcedat=entry.announced_at,
            streamkind=entry.kind,
            streamkey=entry.key,
            data=jsonable(_sanitised(dict(entry.data))),
        )


class EventsPagePublic(BaseModel):
    """A page of the global log in commit order, and where to continue."""

    events: list[CloudEventPublic]
    next_after: int = Field(
        description="Pass as `after` to continue: the last position this page passed "
        "(past the last event when later ones were filtered out)."
    )
    high_water: int = Field(description="The last position in the log when the page was read.")
