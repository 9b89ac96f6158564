"""Who is on call for a center (or an agency) right now: the responders index, fed by `registry.responder.v1`."""

from __future__ import annotations

import uuid
from datetime import datetime

from hotline_common.events import ResponderRecord


class ResponderIndex:
    def __init__(self) -> None:
        self.responders: dict[str, ResponderRecord] = {}
        self.by_center: dict[uuid.UUID, dict[str, ResponderRecord]] = {}

    def apply(self, key: str, responder: ResponderRecord | None) -> None:
        old = self.responders.pop(key, None)
        if old is not None:
            for unit in [*old.center_ids, *old.agency_ids]:
                self.by_center.get(unit, {}).pop(key, None)
        if responder is not None:
            self.responders[key] = responder
            for unit in [*responder.center_ids, *responder.agency_ids]:
                self.by_center.setdefault(unit, {})[key] = responder


def who_is_on_call(index: ResponderIndex, center_id: uuid.UUID, now: datetime) -> list[ResponderRecord]:
    """Every active responder of the center, in a stable order. Rotas (shifts, overrides) come with the
    registry issue; until then a center's responders are on call around the clock."""
    del now  # the rota will need it
    return sorted((r for r in index.by_center.get(center_id, {}).values() if r.active and r.channels),
                  key=lambda r: str(r.responder_id))
