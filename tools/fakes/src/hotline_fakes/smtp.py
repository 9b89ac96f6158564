"""A real SMTP server (aiosmtpd) on a local port that keeps every message it accepts, parsed, with its envelope.

Recipients can be refused (550 by default, or a 4xx to test retries) to see what a mail relay's refusal does.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage  # parsed with email.policy.default: headers decoded, get_body()/iter_parts() work
    received_at: float = field(default_factory=time.time)  # when the fake accepted it (the demo viewer's time)


class _Handler:
    def __init__(self, smtp: FakeSmtp) -> None:
        self.smtp = smtp

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        refusal = self.smtp.refusal(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        message = BytesParser(_class=EmailMessage, policy=policy.default).parsebytes(data)
        assert isinstance(message, EmailMessage)
        self.smtp.keep(ReceivedMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        # Port 0 binds a free port; learn it before the base class connects to the server to check it is up.
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class FakeSmtp:
    """`with FakeSmtp() as smtp:` serves on 127.0.0.1:`smtp.port` (a free port unless one is given)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._controller = _Controller(_Handler(self), hostname=host, port=port)
        self._messages: list[ReceivedMail] = []
        self._refused: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return str(self._controller.hostname)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def start(self) -> FakeSmtp:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> FakeSmtp:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def refuse(self, address: str, code: int = 550,
               text: str = "5.1.1 Recipient address rejected: User unknown") -> None:
        with self._lock:
            self._refused[address.lower()] = f"{code} {text}"

    def refusal(self, address: str) -> str | None:
        with self._lock:
            return self._refused.get(address.lower())

    def keep(self, mail: ReceivedMail) -> None:
        log.info("fake SMTP: %s -> %s: %s", mail.mail_from, ", ".join(mail.rcpt_tos), mail.message["Subject"])
        with self._lock:
            self._messages.append(mail)

    def messages(self, to: str | None = None) -> list[ReceivedMail]:
        with self._lock:
            return [m for m in self._messages if to is None or to.lower() in (r.lower() for r in m.rcpt_tos)]

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._refused.clear()

    def __repr__(self) -> str:
        return f"FakeSmtp({self.host}:{self.port})"

