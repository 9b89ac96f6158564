"""Registry settings (prefix REGISTRY_) on top of the shared ones."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hotline_common.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    port: int = Field(default=8001, description="HTTP port of the registry.")
    seed_demo: bool = Field(default=True, description="In local/test mode, load the demo directory (a center, a "
                            "volunteer and a rota per sub-district; each province's office and shelter) and the demo "
                            "accounts.")
