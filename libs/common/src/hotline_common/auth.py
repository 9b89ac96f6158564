"""Access tokens: issued by the registry (HS256 JWT), verified by every service with FastAPI dependencies."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

ISSUER = "hotline-registry"
AUDIENCE = "hotline"
ALGORITHM = "HS256"


class Role(StrEnum):
    operator = "operator"
    responder = "responder"
    supervisor = "supervisor"
    admin = "admin"
    ops = "ops"
    center_staff = "center_staff"
    agency_staff = "agency_staff"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    center_id: str | None = None
    agency_id: str | None = None
    responder_id: str | None = None  # a responder account's record in the directory: who acts on alerts


def issue_token(secret: str, *, subject: str, role: Role, ttl_seconds: int, center_id: str | None = None,
                agency_id: str | None = None, responder_id: str | None = None) -> str:
    now = int(time.time())
    claims: dict[str, object] = {"sub": subject, "role": role.value, "iss": ISSUER, "aud": AUDIENCE,
                                 "iat": now, "exp": now + ttl_seconds}
    if center_id:
        claims["center_id"] = center_id
    if agency_id:
        claims["agency_id"] = agency_id
    if responder_id:
        claims["responder_id"] = responder_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                        options={"require": ["exp", "sub", "iss", "aud"]})
    return Principal(subject=str(claims["sub"]), role=Role(claims["role"]), center_id=claims.get("center_id"),
                     agency_id=claims.get("agency_id"), responder_id=claims.get("responder_id"))


_bearer = HTTPBearer(auto_error=False)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token (Authorization: Bearer <token from POST /v1/auth/token>)")
    secret: str = request.app.state.settings.jwt_secret.get_secret_value()
    try:
        return verify_token(secret, credentials.credentials)
    except (jwt.PyJWTError, ValueError) as exc:
        raise _unauthorized(f"invalid token: {exc}") from exc


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: Role) -> Any:
    """A dependency that lets only `roles` through (403 otherwise)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"role {principal.role.value} may not do "
                                f"this; allowed: {allowed}")
        return principal

    return Depends(check)
