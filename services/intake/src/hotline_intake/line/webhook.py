"""`POST /v1/line/webhook`: LINE's signature first, then every event kept durably (deduplicated by webhookEventId)
before LINE gets its 200; the inbox worker does the rest. Nothing here reads a person's words."""

from __future__ import annotations

import json
import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, status

from hotline_common.crypto import PiiVault
from hotline_common.line import signature_ok
from hotline_common.runtime import Runtime
from hotline_intake.config import IntakeSettings
from hotline_intake.line import repository
from hotline_intake.line.incoming import BadWebhook, read_body

router = APIRouter(prefix="/v1/line", tags=["line"])
log = logging.getLogger("hotline.intake.line")


@router.post("/webhook", summary="LINE webhook of the 1300 official account (the public's messages)", responses={
    400: {"description": "signed, but not a LINE webhook body (not UTF-8, not JSON, an event missing a field)"},
    401: {"description": "bad or missing X-Line-Signature"},
    404: {"description": "LINE is not configured on this intake"},
    413: {"description": "the body is larger than the shared limit (256 KiB)"}})
async def webhook(request: Request, x_line_signature: Annotated[str | None, Header()] = None) -> dict[str, object]:
    settings: IntakeSettings = request.app.state.settings
    secret = settings.line_channel_secret.get_secret_value()
    if not secret:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="LINE is not configured on this intake")
    raw = await request.body()
    if not signature_ok(secret, raw, x_line_signature):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="bad or missing X-Line-Signature")
    try:
        events = read_body(raw)
    except BadWebhook as bad:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(bad)) from None
    runtime: Runtime = request.app.state.runtime
    vault: PiiVault = request.app.state.vault
    rows = [(e.event_id, vault.lookup_hash(e.user_id), e.occurred_at, e.redelivery,
             vault.seal(json.dumps(e.raw)) or b"") for e in events]
    async with runtime.db.acquire() as conn:
        kept = await repository.store_events(conn, rows)  # one statement: all of them or none
    if kept:
        runtime.extras["line_inbox"].wake()
    if kept < len(rows):
        log.info("LINE webhook: %d event(s) already kept (redelivered)", len(rows) - kept)
    return {"status": "ok", "events": len(rows), "new": kept}
