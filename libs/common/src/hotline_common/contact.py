"""The caller's details between intake, which keeps them sealed and answers `GET /v1/cases/{id}/contact`, and
notify's responder page, which shows them to the responder who acknowledged: one schema for both sides."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from hotline_common.text import PlainText


class Caller(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: PlainText | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 -]{2,19}$")


class ContactView(BaseModel):
    """What the responder who took the case needs to reach the person: shown to them only, every opening audited."""

    case_id: uuid.UUID
    case_number: str
    caller: Caller | None
    address_text: str | None = Field(description="the place in the caller's own words")
    description: str
