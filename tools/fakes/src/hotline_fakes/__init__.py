"""Local fakes of the services notify talks to: the LINE Messaging API, an SMS gateway, an SMTP server."""

from hotline_fakes.line import FakeLine, LineRequest
from hotline_fakes.serve import serve
from hotline_fakes.sms import FakeSms, SmsMessage
from hotline_fakes.smtp import FakeSmtp, ReceivedMail

__all__ = ["FakeLine", "FakeSms", "FakeSmtp", "LineRequest", "ReceivedMail", "SmsMessage", "serve"]
