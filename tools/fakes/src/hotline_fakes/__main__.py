"""Run the fakes standalone: `hotline-fakes line|sms|smtp --port N [--token T] [--api-key K]`, or all three and the
demo phone viewer in one process: `hotline-fakes all [--line-port 8090 --sms-port 8091 --smtp-port 8025
--viewer-port 8092]`."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

import uvicorn

from hotline_fakes.bundle import AllFakes, Ports
from hotline_fakes.line import DEFAULT_TOKEN, FakeLine
from hotline_fakes.sms import DEFAULT_API_KEY, FakeSms
from hotline_fakes.smtp import FakeSmtp

DEFAULT_PORTS = {"line": Ports.line, "sms": Ports.sms, "smtp": Ports.smtp}
log = logging.getLogger("hotline_fakes")


def _stop_on_sigterm() -> None:
    # As PID 1 in a container, SIGTERM's default action is ignored: make `docker stop` a Ctrl-C.
    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, interrupt)


def _wait() -> None:
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


def run_all(args: argparse.Namespace) -> None:
    ports = Ports(line=args.line_port, sms=args.sms_port, smtp=args.smtp_port, viewer=args.viewer_port)
    _stop_on_sigterm()
    with AllFakes(args.host, ports, tokens=args.token or (DEFAULT_TOKEN,),
                  api_keys=args.api_key or (DEFAULT_API_KEY,)) as fakes:
        log.info("fake LINE %s (token %s), fake SMS %s (API key %s), fake SMTP %s:%d", fakes.urls["line"],
                 fakes.token, fakes.urls["sms"], fakes.api_key, fakes.smtp.host, fakes.smtp.port)
        log.info("demo phone viewer: %s/ (Ctrl-C to stop)", fakes.urls["viewer"])
        _wait()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline-fakes", description=__doc__)
    parser.add_argument("fake", choices=[*sorted(DEFAULT_PORTS), "all"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="one fake: default line 8090, sms 8091, smtp 8025")
    parser.add_argument("--token", action="append", help=f"LINE channel access token accepted (repeatable; "
                        f"default {DEFAULT_TOKEN})")
    parser.add_argument("--api-key", action="append", help=f"SMS API key accepted (repeatable; default "
                        f"{DEFAULT_API_KEY})")
    group = parser.add_argument_group("all")
    group.add_argument("--line-port", type=int, default=Ports.line)
    group.add_argument("--sms-port", type=int, default=Ports.sms)
    group.add_argument("--smtp-port", type=int, default=Ports.smtp)
    group.add_argument("--viewer-port", type=int, default=Ports.viewer, help="the demo phone page")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.fake == "all" and args.port is not None:
        parser.error("`all` takes --line-port, --sms-port, --smtp-port and --viewer-port, not --port")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
    if args.fake == "all":
        run_all(args)
        return
    port = args.port if args.port is not None else DEFAULT_PORTS[args.fake]
    if args.fake == "line":
        uvicorn.run(FakeLine(args.token or (DEFAULT_TOKEN,)).app, host=args.host, port=port)
    elif args.fake == "sms":
        uvicorn.run(FakeSms(args.api_key or (DEFAULT_API_KEY,)).app, host=args.host, port=port)
    else:
        with FakeSmtp(args.host, port) as smtp:
            log.info("fake SMTP on %s:%d (Ctrl-C to stop)", smtp.host, smtp.port)
            _wait()


if __name__ == "__main__":
    main()
