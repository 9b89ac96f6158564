"""The baseline of intake_accept.py: a bare FastAPI app whose only route is `POST /v1/cases`.

It parses the body into intake's own `CaseIn` (the same validation, the gazetteer's tambon check included) and
answers 201 with a constant JSON of CaseAccepted's shape: no auth, no database, no sealing, no outbox, no
middleware. It is served by `hotline_common.web.serve`, the services' own uvicorn entry (same loop, HTTP parser,
log level, no access log), so the difference between the two is what intake does beyond parsing.

    python bench/bare_app.py PORT
"""

from __future__ import annotations

import sys
from typing import Any

from fastapi import FastAPI

from hotline_common.settings import ServiceSettings
from hotline_common.web import serve
from hotline_gazetteer import gazetteer
from hotline_intake.cases import CaseIn

ACCEPTED = {"case_id": "00000000-0000-4000-8000-000000001300", "case_number": "1300-2569-000000",
            "status": "reported"}

app = FastAPI(title="bench: bare POST /v1/cases")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "alive", "service": "bare"}


@app.post("/v1/cases", status_code=201)
async def report_case(body: CaseIn) -> dict[str, Any]:
    return ACCEPTED


def main() -> None:
    port = int(sys.argv[1])
    gazetteer()  # loaded before the first request, as intake's create_app does
    serve(lambda: app, ServiceSettings(port=port))


if __name__ == "__main__":
    main()
