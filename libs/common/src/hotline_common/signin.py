"""Signing in to a service's own page (the operator console, the ops console) through the registry: the page posts
the form to its own service, which asks the registry for the token and checks it. One origin, no CORS on the
registry; the password and the token are passed on and never logged."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Form, HTTPException, status
from pydantic import BaseModel

from hotline_common.auth import Principal, Role, verify_token

log = logging.getLogger("hotline.signin")


# The sign-in form's fields, as every page's `/console/login` takes them.
Username = Annotated[str, Form(min_length=1, max_length=100)]
Password = Annotated[str, Form(min_length=1, max_length=200)]


class PageSession(BaseModel):
    """What `/console/login` answers to the page (kit.js keeps it for the tab); a page adds what it needs."""

    access_token: str
    expires_in: int
    username: str
    role: Role


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    expires_in: int
    principal: Principal

    def session(self) -> dict[str, Any]:
        """The fields of a `PageSession`, for the page's own answer model."""
        return {"access_token": self.access_token, "expires_in": self.expires_in,
                "username": self.principal.subject, "role": self.principal.role}


def refused(code: int, th: str, en: str) -> HTTPException:
    """An error the page shows as it is: Thai, then English."""
    return HTTPException(code, detail=f"{th} · {en}")


async def sign_in(registry_url: str, jwt_secret: str, username: str, password: str, *, allowed: Collection[Role],
                  page_th: str, page_en: str) -> SignedIn:
    """The registry's token for `username`, if the password is right and the account's role is `allowed` on the
    page (named in the 403: "this account may not use <page>")."""
    try:
        async with httpx.AsyncClient(base_url=registry_url, timeout=10) as registry:
            answer = await registry.post("/v1/auth/token", data={"username": username, "password": password})
    except httpx.HTTPError as exc:
        log.warning("sign-in: the registry did not answer (%s)", type(exc).__name__)
        raise refused(status.HTTP_503_SERVICE_UNAVAILABLE, "ระบบลงชื่อเข้าใช้ไม่ตอบ โปรดลองอีกครั้ง",
                      "sign-in is unavailable, try again") from exc
    if answer.status_code == status.HTTP_401_UNAUTHORIZED:
        raise refused(status.HTTP_401_UNAUTHORIZED, "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง", "wrong username or password")
    if answer.status_code != status.HTTP_200_OK:
        log.warning("sign-in: the registry answered %s", answer.status_code)
        raise refused(status.HTTP_503_SERVICE_UNAVAILABLE, "ระบบลงชื่อเข้าใช้ขัดข้อง", "sign-in failed, try again")
    token = answer.json()
    try:
        principal = verify_token(jwt_secret, token["access_token"])
    except (jwt.PyJWTError, KeyError, ValueError) as exc:  # the registry and this service disagree on the secret
        log.error("sign-in: the registry's token does not verify here (%s)", type(exc).__name__)
        raise refused(status.HTTP_503_SERVICE_UNAVAILABLE, "ระบบลงชื่อเข้าใช้ขัดข้อง", "sign-in failed") from exc
    if principal.role not in allowed:
        raise refused(status.HTTP_403_FORBIDDEN, f"บัญชีนี้ใช้{page_th}ไม่ได้", f"this account may not use {page_en}")
    return SignedIn(access_token=str(token["access_token"]), expires_in=int(token["expires_in"]), principal=principal)
