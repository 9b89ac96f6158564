"""Run one fake standalone: `hotline-fakes line|sms|smtp --port N [--token T] [--api-key K]`."""

from __future__ import annotations

import argparse
import logging
import threading

import uvicorn

from hotline_fakes.line import DEFAULT_TOKEN, FakeLine
from hotline_fakes.sms import DEFAULT_API_KEY, FakeSms
from hotline_fakes.smtp import FakeSmtp

DEFAULT_PORTS = {"line": 8090, "sms": 8091, "smtp": 8025}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hotline-fakes", description=__doc__)
    parser.add_argument("fake", choices=sorted(DEFAULT_PORTS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="default: line 8090, sms 8091, smtp 8025")
    parser.add_argument("--token", action="append", help=f"LINE channel access token accepted (repeatable; "
                        f"default {DEFAULT_TOKEN})")
    parser.add_argument("--api-key", action="append", help=f"SMS API key accepted (repeatable; default "
                        f"{DEFAULT_API_KEY})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
    port = args.port if args.port is not None else DEFAULT_PORTS[args.fake]
    if args.fake == "line":
        uvicorn.run(FakeLine(args.token or (DEFAULT_TOKEN,)).app, host=args.host, port=port)
    elif args.fake == "sms":
        uvicorn.run(FakeSms(args.api_key or (DEFAULT_API_KEY,)).app, host=args.host, port=port)
    else:
        with FakeSmtp(args.host, port) as smtp:
            logging.getLogger("hotline_fakes").info("fake SMTP on %s:%d (Ctrl-C to stop)", smtp.host, smtp.port)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass


if __name__ == "__main__":
    main()
