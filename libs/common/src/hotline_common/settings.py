"""Settings every service shares; each service extends `ServiceSettings` with its own env prefix."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Dev-only defaults: they make `make up` work out of the box and are refused when HOTLINE_ENV=production.
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_PII_KEY = "ZGV2LW9ubHktcGlpLWtleS0zMi1ieXRlcy1sb25nISE="  # base64 of a 32-byte dev key
DEV_PII_LOOKUP_KEY = "dev-only-pii-lookup-key"
DEV_WEBHOOK_SECRET = "dev-only-webhook-secret"
DEV_DEMO_PASSWORD = "hotline-demo"


def comma_separated(value: object) -> object:
    """A list given in one environment variable as `intake, routing` (a list given as such stays as it is)."""
    return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value


# A list setting read from one comma-separated environment variable rather than JSON.
CommaList = Annotated[list[str], NoDecode, BeforeValidator(comma_separated)]


def shared(env: str, default: Any, description: str) -> Any:
    """A field read from an unprefixed environment variable: the same name in every service."""
    return Field(default=default, validation_alias=env, description=description)


class ServiceSettings(BaseSettings):
    """Values common to every service, read from unprefixed environment variables."""

    model_config = SettingsConfigDict(extra="ignore")

    env: Literal["local", "test", "production"] = shared(
        "HOTLINE_ENV", "local", "Deployment mode; `local` and `test` seed demo data and allow dev secrets."
    )
    kafka_bootstrap_servers: str = shared(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", "Kafka bootstrap servers (host:port, comma-separated)."
    )
    kafka_topic_partitions: int = shared(
        "KAFKA_TOPIC_PARTITIONS", 3, "Partitions of the case topics when the catalogue creates them."
    )
    kafka_replication_factor: int = shared(
        "KAFKA_REPLICATION_FACTOR", 1, "Replication factor of topics the catalogue creates (3 in production)."
    )
    database_url: str = shared(
        "DATABASE_URL",
        "postgresql://postgres@127.0.0.1:5432/hotline",
        "PostgreSQL DSN of this service's own role (it may use only its own schema).",
    )
    database_pool_max: int = shared("DATABASE_POOL_MAX", 10, "Most pooled PostgreSQL connections per process.")
    jwt_secret: SecretStr = shared(
        "JWT_SECRET", SecretStr(DEV_JWT_SECRET), "HMAC key the registry signs access tokens with."
    )
    jwt_ttl_seconds: int = shared("JWT_TTL_SECONDS", 8 * 3600, "Lifetime of an access token (one shift).")
    pii_encryption_key: SecretStr = shared(
        "PII_ENCRYPTION_KEY", SecretStr(DEV_PII_KEY), "Fernet keys (urlsafe base64, 32 bytes) for personal data, "
        "comma-separated, newest first: the first seals, all open. To rotate, put a new key first, run "
        "`hotline-intake rotate-pii`, then drop the old one."
    )
    pii_lookup_key: SecretStr = shared(
        "PII_LOOKUP_KEY", SecretStr(DEV_PII_LOOKUP_KEY), "Key of the keyed hash that recognises a repeat caller's "
        "phone (in intake and in events); kept apart from the encryption keys so rotating them keeps the hashes."
    )
    demo_webhook_secret: SecretStr = shared(
        "DEMO_WEBHOOK_SECRET", SecretStr(DEV_WEBHOOK_SECRET), "HMAC secret of the demo responders' webhook."
    )
    demo_alert_webhook_url: str = shared(
        "DEMO_ALERT_WEBHOOK_URL",
        "http://127.0.0.1:8003/v1/demo/inbox",
        "Where demo responders receive alerts (default: the demo inbox on notify).",
    )
    demo_password: SecretStr = shared(
        "DEMO_PASSWORD", SecretStr(DEV_DEMO_PASSWORD), "Password of the demo accounts (local mode only)."
    )
    otel_exporter_otlp_endpoint: str | None = shared(
        "OTEL_EXPORTER_OTLP_ENDPOINT", None, "OTLP/HTTP endpoint for traces; unset means no export."
    )
    otel_traces_file: str | None = shared(
        "OTEL_TRACES_FILE", None, "Write finished spans as JSON lines to this file (local debugging)."
    )
    log_level: str = shared("LOG_LEVEL", "INFO", "Python log level.")
    heartbeat_seconds: float = shared(
        "HEARTBEAT_SECONDS", 15.0, "How often every service instance publishes its heartbeat "
        "(hotline.ops.heartbeat.v1) for the watchdog and the ops console."
    )
    metrics_sample_seconds: float = shared(
        "METRICS_SAMPLE_SECONDS", 10.0, "How often a service samples its outbox backlog and its consumer groups' "
        "lag for /metrics (each sample asks PostgreSQL and the Kafka broker)."
    )

    host: str = Field(default="127.0.0.1", description="Interface the HTTP server binds.")
    port: int = Field(default=8000, description="HTTP port of this service.")

    @model_validator(mode="after")
    def _no_dev_secrets_in_production(self) -> ServiceSettings:
        if self.env == "production":
            dev = {
                "JWT_SECRET": (self.jwt_secret, DEV_JWT_SECRET),
                "PII_ENCRYPTION_KEY": (self.pii_encryption_key, DEV_PII_KEY),
                "PII_LOOKUP_KEY": (self.pii_lookup_key, DEV_PII_LOOKUP_KEY),
                "DEMO_WEBHOOK_SECRET": (self.demo_webhook_secret, DEV_WEBHOOK_SECRET),
            }
            bad = [name for name, (value, default) in dev.items() if value.get_secret_value() == default]
            if bad:
                raise ValueError(f"production refuses the development defaults of: {', '.join(bad)}")
        return self

    @property
    def local(self) -> bool:
        """Demo data and dev secrets are allowed."""
        return self.env in ("local", "test")
