"""Ops console settings (prefix OPS_) on top of the shared ones."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hotline_common.settings import CommaList, ServiceSettings


class OpsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OPS_", extra="ignore")

    port: int = Field(default=8004, description="HTTP port of the ops console.")
    # The console signs in through ops, as the operator console does through intake: one origin, no CORS.
    registry_url: str = Field(default="http://127.0.0.1:8001", description="The registry's base URL: the ops "
                              "console's sign-in (`/console/login`) asks it for the access token.")
    stream_topics: str = Field(default=r"^hotline\..*", description="Regular expression of the topics the live "
                               "stream follows, from their end (a topic created later is picked up at the next "
                               "metadata refresh, within 5 minutes).")
    stream_replay_events: int = Field(default=20_000, ge=100, description="Recent events each ops process keeps "
                                      "in memory, so a stream that reconnects with `Last-Event-ID` (a dropped "
                                      "connection, a paused page) misses none of them.")
    stream_client_queue: int = Field(default=5_000, ge=10, description="Events waiting for one slow stream "
                                     "client before it is disconnected (it reconnects and resumes from the "
                                     "recent events).")
    rate_window_seconds: int = Field(default=60, ge=5, description="Window of the per-topic rates (events/s).")
    sample_seconds: float = Field(default=3.0, gt=0, description="How often the consumer groups' lag and the "
                                  "dead-letter queues' counts are read from Kafka (every console reads the same "
                                  "sample).")
    urgent_limit: int = Field(default=200, ge=1, description="Most open P1/P2 cases the urgent list shows.")
    health_services: CommaList = Field(
        default=["registry", "intake", "routing", "notify", "watchdog"],
        description="Services whose heartbeats the console judges (comma-separated), the watchdog included: the "
                    "console shows it if the watchdog itself stops.")
    missing_after_seconds: float = Field(default=60.0, gt=0, description="No heartbeat for this long: the service "
                                         "is shown down (as the watchdog judges it).")
    stuck_after_seconds: float = Field(default=120.0, gt=0, description="One record in its handler for this long: "
                                       "the service is shown stuck.")
    lag_window_seconds: float = Field(default=120.0, gt=0, description="Records waiting for the whole window, and "
                                      "no fewer at its end: the service is shown lagging.")
