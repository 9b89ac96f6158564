"""The LINE fake (hotline_fakes.line) in its own process, for the load generator: the bot's answers arrive there
while the generator is busy sending, and in the generator's process the fake's server threads would share its GIL.

The generator makes the reply tokens of the events it sends and hands them over; the child streams back every
case number the bot told a person (reply or push), with the time the fake received it: that moment is when a
LINE case was accepted, as the person sees it.
"""

from __future__ import annotations

import multiprocessing
import queue
import re
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from hotline_fakes.line import FakeLine, LineRequest
from hotline_fakes.serve import serve

CASE_NUMBER = re.compile(r"\b\d{4}-\d{4}-\d{6}\b")
ACCESS_TOKEN = "load-line-channel-access-token"
CHANNEL_SECRET = "load-line-channel-secret"


@dataclass(frozen=True)
class Told:
    """The bot told `user` their case number `case_number`; the fake received it at `at` (time.time())."""

    user: str
    case_number: str
    at: float
    push: bool


def _child(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent says when to stop
    told: queue.SimpleQueue[tuple[str, str, float, bool]] = queue.SimpleQueue()

    def delivered(record: LineRequest) -> None:
        for message in record.messages:
            for number in CASE_NUMBER.findall(str(message.get("text", ""))):
                told.put((record.to or "", number, record.received_at, record.endpoint == "push"))

    fake = FakeLine([ACCESS_TOKEN], on_delivered=delivered)
    with serve(fake.app) as url:
        conn.send(url)
        try:
            while True:
                if conn.poll(0.01):
                    message = conn.recv()
                    if message == "stop":
                        break
                    for token, user in message:  # reply tokens made by the generator
                        fake.issue_reply_token(user, token)
                out = []
                while not told.empty():
                    out.append(told.get())
                if out:
                    conn.send(out)
        except (EOFError, OSError):
            pass


class LineFake:
    """Starts the child; `url` is the fake's base URL (INTAKE_LINE_API_BASE_URL)."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_child, args=(child,), name="line-fake", daemon=True)
        self._proc.start()
        child.close()
        if not self._conn.poll(60):
            raise RuntimeError("the LINE fake did not start within 60 s")
        self.url: str = self._conn.recv()
        self.pid = self._proc.pid

    def tokens(self, pairs: list[tuple[str, str]]) -> None:
        """Reply tokens (token, user) the next webhook events carry."""
        self._conn.send(pairs)

    def poll(self) -> list[Told]:
        out: list[Told] = []
        while self._conn.poll():
            batch: list[Any] = self._conn.recv()
            out += [Told(*item) for item in batch]
        return out

    def stop(self) -> None:
        try:
            self._conn.send("stop")
        except OSError:
            pass
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self._conn.close()
