"""What every console page served by a service shares: its static files under `/console/static`, a version of them
for cache-busting, and the response headers that keep what staff type out of caches, referrers and frames."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

# Nothing personal is in a page itself, but what staff type or read there is: no caches, no referrer, no frames,
# and nothing loaded from anywhere but the service.
HEADERS = {
    "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
}


def static_version(directory: Path) -> str:
    """A hash of the static files: `?v=` on their URLs, so a deployment's new script is never an old cached one."""
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(directory.iterdir()))).hexdigest()[:12]


def mount_console(app: FastAPI, router: APIRouter, static: Path) -> None:
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=static), name="console-static")
