"""The tambon centers intake needs to know: where each one is, so a walk-in's location defaults to the sub-district
of the center that registers it. A live view of the registry's compacted center topic."""

from __future__ import annotations

import uuid

from hotline_common.events import CenterRecord


class CenterDirectory:
    def __init__(self) -> None:
        self._tambon: dict[uuid.UUID, str] = {}

    def apply(self, key: str, record: CenterRecord | None) -> None:
        center_id = uuid.UUID(key)
        if record is None:
            self._tambon.pop(center_id, None)
        else:
            self._tambon[center_id] = record.tambon_code

    def tambon_of(self, center_id: uuid.UUID) -> str | None:
        return self._tambon.get(center_id)
