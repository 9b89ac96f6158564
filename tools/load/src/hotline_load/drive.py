"""Offering cases to the platform through its three doors, open-loop at a fixed rate or as fast as it takes them.

- hotline: an operator's `POST /v1/cases`; accepted at its 201.
- walk-in: center staff's `POST /v1/cases` (intake makes the channel walk-in); accepted at its 201.
- LINE: one signed webhook carrying the person's whole conversation (their words, then the quick-reply taps:
  problem, who, the sub-district, no safety preference, send), as LINE batches a user's events; accepted when the
  bot tells the person their case number (the LINE fake receives it: `line_fake`).

Open loop (`at_rate`): offer i leaves at start + i/rate whatever the earlier ones are doing, and its clock starts
then, also while it waits for one of the `max_in_flight` connections (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from hotline_common.events import Channel
from hotline_common.line import signature
from hotline_load.kit import open_loop
from hotline_load.line_fake import CHANNEL_SECRET, LineFake, Told
from hotline_load.mix import CaseMix, PlannedCase

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass
class Offer:
    """One case offered: when it left, when the platform accepted it (None: not, or not yet), and what for."""

    seq: int
    channel: Channel
    sent_at: float  # time.time()
    accepted_at: float | None = None
    case_number: str | None = None
    status: int | None = None
    error: str | None = None
    line_user: str | None = None
    line_push: bool = False  # the bot's answer came as a push (its reply token had expired or was unknown)


class Doors:
    """The three channels of one intake, with the accounts they need."""

    def __init__(self, client: httpx.AsyncClient, intake_url: str, *, operator_token: str, staff_token: str,
                 line: LineFake | None) -> None:
        self.client, self.intake_url, self.line = client, intake_url, line
        self.auth = {Channel.hotline: {"Authorization": f"Bearer {operator_token}"},
                     Channel.walk_in: {"Authorization": f"Bearer {staff_token}"}}
        self.by_user: dict[str, Offer] = {}

    async def offer(self, plan: PlannedCase, gate: asyncio.Semaphore | None) -> Offer:
        offer = Offer(plan.seq, plan.channel, time.time())
        try:
            if gate is None:
                await self._send(plan, offer)
            else:
                async with gate:
                    await self._send(plan, offer)
        except httpx.HTTPError as exc:
            offer.error = f"{type(exc).__name__}: {exc}"[:300]
        return offer

    async def _send(self, plan: PlannedCase, offer: Offer) -> None:
        if plan.channel is Channel.line:
            await self._line(plan, offer)
            return
        r = await self.client.post(f"{self.intake_url}/v1/cases", json=plan.body, headers=self.auth[plan.channel])
        offer.status = r.status_code
        if r.status_code == 201:
            offer.accepted_at = time.time()
            offer.case_number = str(r.json()["case_number"])
        else:
            offer.error = r.text[:300]

    async def _line(self, plan: PlannedCase, offer: Offer) -> None:
        assert self.line is not None, "LINE cases need the LINE fake"
        user = "U" + uuid.uuid4().hex
        offer.line_user = user
        self.by_user[user] = offer
        events = conversation(user, plan)
        self.line.tokens([(e["replyToken"], user) for e in events])
        body = json.dumps({"destination": "U" + "f" * 32, "events": events}, ensure_ascii=False).encode()
        r = await self.client.post(f"{self.intake_url}/v1/line/webhook", content=body, headers={
            "Content-Type": "application/json", "X-Line-Signature": signature(CHANNEL_SECRET, body)})
        offer.status = r.status_code
        if r.status_code != 200:
            offer.error = r.text[:300]

    def told(self, answers: list[Told]) -> None:
        """The bot's answers with a case number: LINE cases accepted."""
        for t in answers:
            offer = self.by_user.get(t.user)
            if offer is not None and offer.case_number is None:
                offer.case_number, offer.accepted_at, offer.line_push = t.case_number, t.at, t.push


def conversation(user: str, plan: PlannedCase) -> list[dict[str, Any]]:
    """A person's LINE conversation with the 1300 account, as webhook events (see hotline_intake.line)."""
    now = int(time.time() * 1000)

    def event(kind: str, **content: Any) -> dict[str, Any]:
        return {"replyToken": secrets.token_hex(16), "type": kind, "mode": "active", "timestamp": now,
                "source": {"type": "user", "userId": user},
                "webhookEventId": "01" + "".join(secrets.choice(CROCKFORD) for _ in range(24)),
                "deliveryContext": {"isRedelivery": False}, **content}

    def tap(data: str) -> dict[str, Any]:
        return event("postback", postback={"data": data})

    words = event("message", message={"id": str(secrets.randbelow(10**18)), "type": "text",
                                      "quoteToken": secrets.token_urlsafe(16), "text": plan.body["description"]})
    return [words, tap(f"cat={plan.category.value}"), tap(f"tg={plan.target_group.value}"),
            tap(f"place={plan.tambon.code}"), tap("safe=done"), tap("confirm=yes")]


async def at_rate(doors: Doors, mix: CaseMix, *, rate: float, seconds: float, max_in_flight: int,
                  on_offer: Callable[[Offer], None], stop: asyncio.Event | None = None
                  ) -> tuple[list[Offer], float]:
    """Offers `rate` cases a second for `seconds` (or until `stop` is set); returns them and the generator's worst
    lateness (s)."""
    gate = asyncio.Semaphore(max_in_flight)

    async def one() -> Offer:
        offer = await doors.offer(mix.next(), gate)
        on_offer(offer)
        return offer

    return await open_loop(rate, seconds, one, stop=stop)


async def as_fast(doors: Doors, mix: CaseMix, *, seconds: float, concurrency: int,
                  on_offer: Callable[[Offer], None]) -> list[Offer]:
    """Closed loop: `concurrency` clients, each offering its next case as soon as the last was answered."""
    out: list[Offer] = []
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < stop_at:
            offer = await doors.offer(mix.next(), None)
            out.append(offer)
            on_offer(offer)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return out
