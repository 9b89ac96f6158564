"""Intake settings (prefix INTAKE_) on top of the shared ones."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hotline_common.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    port: int = Field(default=8000, description="HTTP port of intake.")
