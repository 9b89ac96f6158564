"""Alert channels, one class each, registered by name."""

from hotline_notify.channels.base import AlertChannel, Delivery, DeliveryResult, registry
from hotline_notify.channels.webhook import WebhookChannel

__all__ = ["AlertChannel", "Delivery", "DeliveryResult", "WebhookChannel", "registry"]
