"""Registry HTTP API: sign-in (tokens for every service) and center look-ups."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from hotline_common.auth import Role, issue_token, require_role
from hotline_common.runtime import Runtime
from hotline_gazetteer import gazetteer
from hotline_registry import repository
from hotline_registry.directory import check_password

router = APIRouter(prefix="/v1")
AnyStaff = require_role(*Role)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: Role


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.post("/auth/token", response_model=Token, tags=["auth"], summary="Sign in (OAuth2 password form)")
async def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    runtime = _runtime(request)
    async with runtime.db.acquire() as conn:
        account = await repository.get_account(conn, form.username)
    if account is None or not check_password(form.password, account["password_hash"]):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    settings = runtime.settings
    center = str(account["center_id"]) if account["center_id"] else None
    role = Role(account["role"])
    access = issue_token(settings.jwt_secret.get_secret_value(), subject=account["username"], role=role,
                         ttl_seconds=settings.jwt_ttl_seconds, center_id=center)
    return Token(access_token=access, expires_in=settings.jwt_ttl_seconds, role=role)


@router.get("/centers/{center_id}", tags=["centers"], dependencies=[AnyStaff])
async def get_center(request: Request, center_id: uuid.UUID) -> dict[str, Any]:
    async with _runtime(request).db.acquire() as conn:
        row = await repository.get_center(conn, center_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such center")
    return dict(row)


@router.get("/centers", tags=["centers"], dependencies=[AnyStaff])
async def list_centers(request: Request, tambon_code: str) -> list[dict[str, Any]]:
    async with _runtime(request).db.acquire() as conn:
        return [dict(r) for r in await repository.centers_in_tambon(conn, tambon_code)]


@router.get("/places/tambons/{tambon_code}", tags=["places"], dependencies=[AnyStaff],
            summary="One sub-district (ตำบล/แขวง) with its district and province")
async def get_tambon(tambon_code: str) -> dict[str, Any]:
    tambon = gazetteer().tambon(tambon_code)
    if tambon is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no sub-district with code {tambon_code}")
    return {**asdict(tambon), "path_th": tambon.path_th()}
