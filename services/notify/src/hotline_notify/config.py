"""Notify settings (prefix NOTIFY_) on top of the shared ones."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hotline_common.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    port: int = Field(default=8003, description="HTTP port of notify.")
    public_base_url: str = Field(default="http://127.0.0.1:8003", description="Base of links put in alerts.")
    max_attempts: int = Field(default=6, description="Delivery attempts of one alert before it is failed.")
    retry_base_seconds: float = Field(default=1.0, description="First retry delay; doubles per attempt, jittered.")
    retry_cap_seconds: float = Field(default=60.0, description="Longest delay between two attempts.")
    webhook_timeout_seconds: float = Field(default=5.0, description="Timeout of one webhook call.")
    lease_seconds: float = Field(default=30.0, description="How long a notify instance owns an alert it is "
                                 "sending; another instance takes over after that if it died.")
    dispatch_batch: int = Field(default=50, description="Alerts sent concurrently by one dispatcher pass.")
