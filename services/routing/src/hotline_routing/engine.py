"""The routing engine: the live center and agency indexes, the agency rules and the settings' policy in one object,
for the handlers and the preview alike."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline_common.events import CaseReported, Priority
from hotline_common.views import CompactedView
from hotline_gazetteer import Gazetteer
from hotline_routing.agencies import AgencyIndex
from hotline_routing.config import RoutingSettings
from hotline_routing.decide import Policy, Routed, Unroutable, decide
from hotline_routing.index import CenterIndex
from hotline_routing.rules import AgencyRules


@dataclass
class Routing:
    places: Gazetteer
    rules: AgencyRules
    policy: Policy
    centers: CenterIndex = field(default_factory=CenterIndex)
    agencies: AgencyIndex = field(default_factory=AgencyIndex)
    views: list[CompactedView[Any]] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: RoutingSettings, places: Gazetteer, rules: AgencyRules) -> Routing:
        policy = Policy(min_text_confidence=settings.min_text_confidence, max_center_tries=settings.max_center_tries,
                        ack_windows={p: settings.ack_window(p) for p in Priority})
        return cls(places=places, rules=rules, policy=policy)

    async def ready(self) -> None:
        await asyncio.gather(*(view.ready.wait() for view in self.views))

    def decide(self, case: CaseReported, *, now: datetime, tried: Collection[uuid.UUID] = ()) -> Routed | Unroutable:
        return decide(case, centers=self.centers, agencies=self.agencies, rules=self.rules, places=self.places,
                      policy=self.policy, now=now, tried=tried)
