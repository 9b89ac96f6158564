"""Who to alert: the responders and rotas followed live from `registry.responder.v1` and `registry.rota.v1`, and
the people an escalation target names at an instant."""

from __future__ import annotations

import uuid
from datetime import datetime

from hotline_common import oncall
from hotline_common.events import ResponderRecord, RotaRecord
from hotline_common.events.rota import EscalationLevel, EscalationTarget


class Directory:
    """Responders by unit (center or agency) and rotas by unit, kept current by the registry's compacted topics."""

    def __init__(self, hotline_unit_id: uuid.UUID) -> None:
        self.hotline_unit_id = hotline_unit_id
        self.responders: dict[str, ResponderRecord] = {}
        self.by_unit: dict[uuid.UUID, dict[str, ResponderRecord]] = {}
        self.rotas: dict[str, RotaRecord] = {}
        self.rotas_by_unit: dict[uuid.UUID, dict[str, RotaRecord]] = {}

    def apply_responder(self, key: str, responder: ResponderRecord | None) -> None:
        old = self.responders.pop(key, None)
        if old is not None:
            for unit in [*old.center_ids, *old.agency_ids]:
                self.by_unit.get(unit, {}).pop(key, None)
        if responder is not None:
            self.responders[key] = responder
            for unit in [*responder.center_ids, *responder.agency_ids]:
                self.by_unit.setdefault(unit, {})[key] = responder

    def apply_rota(self, key: str, rota: RotaRecord | None) -> None:
        old = self.rotas.pop(key, None)
        if old is not None:
            self.rotas_by_unit.get(old.unit_id, {}).pop(key, None)
        if rota is not None:
            self.rotas[key] = rota
            self.rotas_by_unit.setdefault(rota.unit_id, {})[key] = rota

    def responder(self, responder_id: uuid.UUID) -> ResponderRecord | None:
        return self.responders.get(str(responder_id))

    def _reachable(self, responder_id: uuid.UUID) -> ResponderRecord | None:
        found = self.responder(responder_id)
        return found if found is not None and found.active and found.channels else None

    def on_call(self, unit_id: uuid.UUID, at: datetime) -> list[ResponderRecord]:
        """Who of the unit is on call at `at`, by its rotas (overrides applied). A unit with no rota at all has
        every active member on call around the clock: better than nobody at 3 a.m., and the registry's coverage
        report names such units."""
        rotas = sorted(self.rotas_by_unit.get(unit_id, {}).values(), key=lambda r: str(r.rota_id))
        if not rotas:
            members = self.by_unit.get(unit_id, {}).values()
            return sorted((r for r in members if r.active and r.channels), key=lambda r: str(r.responder_id))
        entries = oncall.on_call_many(rotas, at, is_available=lambda rid: self._reachable(rid) is not None)
        return [r for e in entries if (r := self._reachable(e.responder_id)) is not None]

    def policy(self, unit_id: uuid.UUID) -> list[EscalationLevel]:
        """The unit's escalation policy: its first rota (by id) that has one; empty if none does."""
        for rota in sorted(self.rotas_by_unit.get(unit_id, {}).values(), key=lambda r: str(r.rota_id)):
            if rota.escalation:
                return list(rota.escalation)
        return []

    def targets(self, targets: list[EscalationTarget], unit_id: uuid.UUID | None,
                at: datetime) -> list[ResponderRecord]:
        """The people the targets name at `at`, each once, in the targets' order."""
        found: dict[uuid.UUID, ResponderRecord] = {}
        for target in targets:
            if target.kind == "on_call":
                people = self.on_call(unit_id, at) if unit_id is not None else []
            elif target.kind == "responder":
                one = self._reachable(target.id) if target.id is not None else None
                people = [one] if one is not None else []
            elif target.kind in ("center", "agency"):
                people = self.on_call(target.id, at) if target.id is not None else []
            else:  # hotline_supervisor
                people = self.on_call(self.hotline_unit_id, at)
            for person in people:
                found.setdefault(person.responder_id, person)
        return list(found.values())
