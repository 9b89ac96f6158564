"""All three fakes and the demo phone viewer in one process (threads): `hotline-fakes all` and `hotline-dev up`.

    with AllFakes() as fakes:        # LINE :8090, SMS :8091, SMTP :8025, viewer :8092 (0: a free port each)
        fakes.urls["line"], fakes.line.pushes(), fakes.smtp.port, ...
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType

from hotline_fakes.line import DEFAULT_TOKEN, FakeLine
from hotline_fakes.serve import serve
from hotline_fakes.sms import DEFAULT_API_KEY, FakeSms
from hotline_fakes.smtp import FakeSmtp
from hotline_fakes.viewer import viewer_app


@dataclass(frozen=True)
class Ports:
    line: int = 8090
    sms: int = 8091
    smtp: int = 8025
    viewer: int = 8092


class AllFakes:
    """FakeLine, FakeSms, FakeSmtp and the viewer over them, served on `host`; `start()`/`stop()` or `with`."""

    def __init__(self, host: str = "127.0.0.1", ports: Ports = Ports(), *,
                 tokens: Iterable[str] = (DEFAULT_TOKEN,), api_keys: Iterable[str] = (DEFAULT_API_KEY,),
                 refresh: int = 3) -> None:
        self.host = host
        self.ports = ports
        self.tokens = tuple(tokens)
        self.api_keys = tuple(api_keys)
        self.line = FakeLine(self.tokens)
        self.sms = FakeSms(self.api_keys)
        self.smtp = FakeSmtp(host, ports.smtp)
        self.viewer = viewer_app(self.line, self.sms, self.smtp, refresh=refresh)
        self.urls: dict[str, str] = {}  # line, sms, viewer: base URLs once started
        self._stack = ExitStack()

    @property
    def token(self) -> str:
        """A LINE channel access token the fake accepts."""
        return self.tokens[0]

    @property
    def api_key(self) -> str:
        """An SMS API key the fake accepts."""
        return self.api_keys[0]

    def start(self) -> AllFakes:
        """Serve everything; a port already taken raises OSError (after stopping what had started)."""
        try:
            self.urls["line"] = self._stack.enter_context(serve(self.line.app, self.host, self.ports.line))
            self.urls["sms"] = self._stack.enter_context(serve(self.sms.app, self.host, self.ports.sms))
            self._stack.enter_context(self.smtp)
            self.urls["viewer"] = self._stack.enter_context(serve(self.viewer, self.host, self.ports.viewer))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops every server started; safe to call twice."""
        self._stack.close()

    def __enter__(self) -> AllFakes:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
