"""References to streams, by key or by UUID."""

from __future__ import annotations

from uuid import UUID

from domain.commands import ImposeMeasure
from eventschema import DATASET_LINE, to_batch_item
from tests.eventschema.support import imposed


def test_a_stream_named_by_uuid_is_used_as_is() -> None:
    measure_id = UUID("6f1e5a4e-0000-4000-8000-000000000001")

    item = to_batch_item(DATASET_LINE.validate_python(imposed(measure=measure_id.hex)))

    assert isinstance(item, ImposeMeasure)
    assert (item.measure_id, item.key) == (measure_id, "")
