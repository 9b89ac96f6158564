"""Routing settings (prefix ROUTING_) on top of the shared ones."""

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hotline_common.events import Priority
from hotline_common.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTING_", extra="ignore")

    port: int = Field(default=8002, description="HTTP port of routing.")
    index_ready_timeout: float = Field(default=120.0, description="Seconds a case waits for the center index "
                                       "to finish loading at start-up before it is retried.")
    ack_minutes_p1: int = Field(default=15, ge=1, description="P1 (danger now): minutes to acknowledge, day or night.")
    ack_minutes_p2: int = Field(default=60, ge=1, description="P2 (urgent): minutes to acknowledge.")
    ack_minutes_p3: int = Field(default=1440, ge=1, description="P3 (needs a visit): minutes to acknowledge.")
    ack_minutes_p4: int = Field(default=0, ge=0, description="P4 (advice only): minutes to acknowledge; 0 = none.")
    max_center_tries: int = Field(default=3, ge=1, description="Centers tried (declined or not answering) before "
                                  "a case goes to the provincial One Home team.")
    min_text_confidence: float = Field(default=0.6, ge=0, le=1, description="Below this confidence a free-text "
                                       "address is not guessed: the case goes to the unroutable topic with the "
                                       "candidates, for a supervisor.")
    agency_rules_file: Path | None = Field(default=None, description="Agency rules (TOML) to use instead of the "
                                           "packaged ones; validated at start, errors name the rule.")

    def ack_window(self, priority: Priority) -> timedelta | None:
        minutes = {Priority.P1: self.ack_minutes_p1, Priority.P2: self.ack_minutes_p2,
                   Priority.P3: self.ack_minutes_p3, Priority.P4: self.ack_minutes_p4}[priority]
        return timedelta(minutes=minutes) if minutes else None
