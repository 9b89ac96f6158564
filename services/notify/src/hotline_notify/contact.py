"""The caller's details for the responder who acknowledged: asked of intake when the page is opened, shown, and
never stored, logged or put in an alert by notify. Intake decides who may see them and audits every opening."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from hotline_common.auth import Role, issue_token
from hotline_common.contact import ContactView

# Intake learns of the acknowledgement from Kafka a moment after notify records it; the page waits that long.
CATCH_UP_SECONDS = (0.2, 0.4, 0.8, 1.6)


class ContactUnavailable(Exception):
    """Intake could not be asked or would not answer; the page says so instead of failing."""


class ContactClient:
    def __init__(self, intake_url: str, jwt_secret: str, timeout: float) -> None:
        self.intake_url = intake_url.rstrip("/")
        self.jwt_secret = jwt_secret
        self.client = httpx.AsyncClient(timeout=timeout)

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        await self.client.aclose()

    async def fetch(self, case_id: uuid.UUID, responder_id: uuid.UUID) -> ContactView:
        # A one-minute token in the responder's own name: intake checks that they hold the case, not that notify
        # says so, and its audit names the responder.
        token = issue_token(self.jwt_secret, subject=f"responder-page:{responder_id}", role=Role.responder,
                            ttl_seconds=60, responder_id=str(responder_id))
        url = f"{self.intake_url}/v1/cases/{case_id}/contact"
        for wait in (*CATCH_UP_SECONDS, None):
            try:
                response = await self.client.get(url, headers={"Authorization": f"Bearer {token}"})
            except httpx.HTTPError as exc:
                raise ContactUnavailable(f"intake unreachable: {type(exc).__name__}") from None
            if response.status_code == 200:
                return ContactView.model_validate(response.json())
            if response.status_code != 403 or wait is None:
                raise ContactUnavailable(f"intake answered {response.status_code}")
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")
