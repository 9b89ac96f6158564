"""What every console page served by a service shares: the kit (kit.js: DOM helpers and the signed-in session; the
templates under kit/: head, sign-in form, who is signed in) served from here at `/console/kit`, the page's own static
files under `/console/static`, one version of both for cache-busting, and the response headers that keep what staff
type out of caches, referrers and frames."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

KIT_STATIC = Path(__file__).parent / "static"
KIT_TEMPLATES = Path(__file__).parent / "templates"

# Nothing personal is in a page itself, but what staff type or read there is: no caches, no referrer, no frames,
# and nothing loaded from anywhere but the service.
HEADERS = {
    "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
}


def static_version(directory: Path) -> str:
    """A hash of the kit's and the page's static files: `?v=` on their URLs, so a deployment's new script is never
    an old cached one."""
    files = sorted(KIT_STATIC.iterdir()) + sorted(directory.iterdir())
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()[:12]


def templates(directory: Path) -> Jinja2Templates:
    """The page's templates, which can include the kit's (`{% include "kit/signin.html" %}`)."""
    return Jinja2Templates(directory=[directory, KIT_TEMPLATES])


def mount_console(app: FastAPI, router: APIRouter, static: Path) -> None:
    app.include_router(router)
    app.mount("/console/kit", StaticFiles(directory=KIT_STATIC), name="console-kit")
    app.mount("/console/static", StaticFiles(directory=static), name="console-static")
