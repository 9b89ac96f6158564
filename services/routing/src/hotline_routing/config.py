"""Routing settings (prefix ROUTING_) on top of the shared ones."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hotline_common.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTING_", extra="ignore")

    port: int = Field(default=8002, description="HTTP port of routing.")
    index_ready_timeout: float = Field(default=120.0, description="Seconds a case waits for the center index "
                                       "to finish loading at start-up before it is retried.")
