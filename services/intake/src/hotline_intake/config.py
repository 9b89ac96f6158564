"""Intake settings (prefix INTAKE_) on top of the shared ones."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from hotline_common.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    port: int = Field(default=8000, description="HTTP port of intake.")
    report_rate: str = Field(default="120/minute", description="Reports one account may send (`POST /v1/cases`) "
                             "per window, per intake process; faster ones are held back, not refused.")
    report_rate_max_wait_seconds: float = Field(default=30.0, ge=0, description="How long a report over the rate "
                                                "is held before 429 with Retry-After (the client sends it again).")
    # The public's LINE official account (the LINE_CHANNEL_SECRET), at /v1/line/webhook.
    line_channel_secret: SecretStr = Field(default=SecretStr(""), description="Channel secret of the 1300 LINE "
                                           "official account: verifies `X-Line-Signature` at /v1/line/webhook "
                                           "(empty: LINE is off and the webhook answers 404).")
    line_channel_access_token: SecretStr = Field(default=SecretStr(""), description="Its channel access token, "
                                                 "for the bot's replies and pushes.")
    line_api_base_url: str = Field(default="https://api.line.me", description="LINE Messaging API base URL "
                                   "(a local fake in development and tests).")
    line_timeout_seconds: float = Field(default=5.0, gt=0, description="Timeout of one call to the LINE API.")
    line_user_messages: int = Field(default=20, ge=1, description="Messages of one LINE user handled per "
                                    "`INTAKE_LINE_USER_WINDOW_SECONDS`; more wait in the inbox and are handled "
                                    "later, in order (never dropped).")
    line_user_window_seconds: float = Field(default=60.0, gt=0, description="The window of that per-user rate.")
    line_reply_token_seconds: float = Field(default=50.0, gt=0, description="A reply token older than this (from "
                                            "the webhook's arrival) is not tried: the answer is pushed instead "
                                            "(LINE honours reply tokens for about a minute).")
    line_concurrency: int = Field(default=4, ge=1, description="LINE users whose messages one intake process "
                                  "handles at once (one user's messages always one at a time, in order); each "
                                  "holds a database connection, so keep it below DATABASE_POOL_MAX.")
    # The operator console signs in through intake, so the page needs one origin and no CORS on the registry.
    registry_url: str = Field(default="http://127.0.0.1:8001", description="The registry's base URL: the operator "
                              "console's sign-in (`/console/login`) asks it for the access token.")
