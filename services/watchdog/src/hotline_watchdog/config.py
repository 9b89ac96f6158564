"""Watchdog settings (prefix WATCHDOG_) on top of the shared ones."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from hotline_common.settings import CommaList, ServiceSettings


class WatchdogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WATCHDOG_", extra="ignore")

    port: int = Field(default=8005, description="HTTP port of the watchdog.")
    services: CommaList = Field(
        default=["registry", "intake", "routing", "notify"],
        description="Services watched (comma-separated): each must send heartbeats, and its consumer group "
                    "`hotline-<service>` must keep up.")
    check_seconds: float = Field(default=10.0, gt=0, description="How often the watchdog judges the services.")
    missing_after_seconds: float = Field(default=60.0, gt=0, description="No heartbeat for this long: the "
                                         "service is down.")
    stuck_after_seconds: float = Field(default=120.0, gt=0, description="One record in its handler for this "
                                       "long: the consumer is stuck.")
    lag_window_seconds: float = Field(default=120.0, gt=0, description="Records waiting for the whole window, "
                                      "and no fewer at its end: the consumers are not keeping up.")
    lag_min: int = Field(default=1, ge=1, description="Fewest waiting records that count as lag.")
    repeat_minutes: float = Field(default=15.0, gt=0, description="An unresolved problem is paged again this "
                                  "often.")
    ops_webhook_url: str = Field(default="", description="The ops on-call's pager webhook (signed like notify's "
                                 "webhooks); empty: none.")
    ops_webhook_secret: SecretStr = Field(default=SecretStr("dev-only-ops-pager-secret"),
                                          description="HMAC secret of the ops pager webhook.")
    ops_sms: CommaList = Field(
        default=[], description="The ops on-call's phone numbers (comma-separated, E.164) for SMS pages.")
    sms_gateway_url: str = Field(default="", description="SMS gateway base URL (the contract notify uses); empty: "
                                 "no SMS.")
    sms_api_key: SecretStr = Field(default=SecretStr(""), description="SMS gateway API key.")
    ops_email: CommaList = Field(
        default=[], description="The ops on-call's e-mail addresses (comma-separated).")
    smtp_host: str = Field(default="", description="SMTP server for e-mail pages (empty: no e-mail).")
    smtp_port: int = Field(default=25, description="SMTP port.")
    smtp_sender: str = Field(default="1300 hotline watchdog <watchdog@hotline.local>",
                             description="From: of e-mail pages.")
