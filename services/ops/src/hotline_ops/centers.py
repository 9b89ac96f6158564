"""The centers' names, so the stream names the center an event is about and the center filter takes a name. A live
view of the registry's compacted center topic (names only: nobody's contact details)."""

from __future__ import annotations

import uuid

from hotline_common.events import CenterRecord


class CenterNames:
    def __init__(self) -> None:
        self._names: dict[str, str] = {}

    def apply(self, key: str, record: CenterRecord | None) -> None:
        if record is None:
            self._names.pop(key, None)
        else:
            self._names[key] = record.name_th

    def name_of(self, center_id: str | None) -> str | None:
        return self._names.get(center_id) if center_id else None

    def matching(self, wanted: str) -> set[str]:
        """The ids a filter means: the id itself, or every center whose name contains the text."""
        wanted = wanted.strip()
        try:
            return {str(uuid.UUID(wanted))}
        except ValueError:
            return {center_id for center_id, name in self._names.items() if wanted and wanted in name}
