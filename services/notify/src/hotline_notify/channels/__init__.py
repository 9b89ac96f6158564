"""Alert channels, one class each, registered by name."""

from hotline_notify.channels.base import AlertChannel, AlertItem, Delivery, DeliveryResult, registry
from hotline_notify.channels.email import EmailChannel
from hotline_notify.channels.line import LineChannel
from hotline_notify.channels.sms import SmsChannel
from hotline_notify.channels.webhook import WebhookChannel

__all__ = ["AlertChannel", "AlertItem", "Delivery", "DeliveryResult", "EmailChannel", "LineChannel", "SmsChannel",
           "WebhookChannel", "registry"]
