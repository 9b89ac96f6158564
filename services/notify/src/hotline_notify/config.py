"""Notify settings (prefix NOTIFY_) on top of the shared ones."""

from __future__ import annotations

import uuid
from datetime import timedelta

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from hotline_common.events import Priority
from hotline_common.events.registry import DEMO_HOTLINE_UNIT
from hotline_common.settings import ServiceSettings

DEV_LINK_SECRET = "dev-only-responder-link-secret-change-me"


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    port: int = Field(default=8003, description="HTTP port of notify.")
    public_base_url: str = Field(default="http://127.0.0.1:8003", description="Base of the responder page links "
                                 "put in alerts (what a responder's phone can open).")
    intake_url: str = Field(default="http://127.0.0.1:8000", description="Intake's base URL: the responder page "
                            "asks it for the caller's details (audited there).")
    # Delivery
    attempts_per_channel: int = Field(default=4, ge=1, description="Attempts on one channel before an alert falls "
                                      "back to the responder's next channel.")
    retry_base_seconds: float = Field(default=1.0, description="First retry delay; doubles per attempt, jittered.")
    retry_cap_seconds: float = Field(default=60.0, description="Longest delay between two attempts.")
    channel_timeout_seconds: float = Field(default=5.0, description="Timeout of one channel call (LINE, SMS, "
                                           "webhook, SMTP).")
    lease_seconds: float = Field(default=15.0, description="How long a notify instance owns an alert it is "
                                 "sending; another instance takes over after that if it died.")
    dispatch_batch: int = Field(default=50, ge=1, description="Most alerts in flight at once per notify instance "
                                "(deliveries run side by side; a responder's alerts due together go in one "
                                "message).")
    # Escalation and deadlines
    clock_scale: float = Field(default=1.0, gt=0, description="Divides every escalation and reminder delay: 60 "
                               "makes a minute a second (demos and tests only).")
    visit_hours_p1: float | None = Field(default=4, description="After acknowledgement, hours to resolve a P1 "
                                         "case before reminders (empty: none).")
    visit_hours_p2: float | None = Field(default=24, description="The same for P2.")
    visit_hours_p3: float | None = Field(default=72, description="The same for P3.")
    visit_hours_p4: float | None = Field(default=None, description="The same for P4 (advice: none).")
    reminder_minutes: float = Field(default=60, description="After the visit reminder to the responder, minutes "
                                    "before their supervisor is reminded.")
    default_escalation_minutes: int = Field(default=15, description="Timeout per level of the default escalation "
                                            "policy (a unit whose rota has none): re-alert, then the hotline "
                                            "supervisors.")
    hotline_unit_id: uuid.UUID = Field(default=DEMO_HOTLINE_UNIT, description="Registry agency id of the 1300 "
                                       "hotline supervisors (escalation target `hotline_supervisor`).")
    link_secret: SecretStr = Field(default=SecretStr(DEV_LINK_SECRET), description="Signs responder page links "
                                   "and LINE postback data.")
    link_ttl_hours: float = Field(default=72, description="How long a responder page link works.")
    # Channels
    line_api_base_url: str = Field(default="https://api.line.me", description="LINE Messaging API base URL.")
    line_channel_access_token: SecretStr = Field(default=SecretStr(""), description="The responders' LINE "
                                                 "official account's channel access token (empty: no LINE).")
    line_channel_secret: SecretStr = Field(default=SecretStr(""), description="Its channel secret: verifies "
                                           "postbacks at /v1/line/webhook.")
    sms_gateway_url: str = Field(default="", description="SMS gateway base URL (empty: no SMS); contract in "
                                 "tools/fakes/README.md.")
    sms_api_key: SecretStr = Field(default=SecretStr(""), description="SMS gateway API key.")
    sms_sender: str = Field(default="1300", description="SMS sender name.")
    smtp_host: str = Field(default="", description="SMTP server for e-mail alerts (empty: no e-mail).")
    smtp_port: int = Field(default=25, description="SMTP port.")
    smtp_sender: str = Field(default="1300 hotline <alerts@hotline.local>", description="From: of e-mail alerts.")
    smtp_username: str = Field(default="", description="SMTP login (empty: none).")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP password.")
    smtp_starttls: bool = Field(default=False, description="Use STARTTLS.")

    @model_validator(mode="after")
    def _no_dev_link_secret_in_production(self) -> NotifySettings:
        if self.env == "production" and self.link_secret.get_secret_value() == DEV_LINK_SECRET:
            raise ValueError("production refuses the development default of NOTIFY_LINK_SECRET")
        return self

    def scaled(self, delay: timedelta) -> timedelta:
        return delay / self.clock_scale

    def visit_window(self, priority: Priority) -> timedelta | None:
        hours = {Priority.P1: self.visit_hours_p1, Priority.P2: self.visit_hours_p2,
                 Priority.P3: self.visit_hours_p3, Priority.P4: self.visit_hours_p4}[priority]
        return None if hours is None else self.scaled(timedelta(hours=hours))
