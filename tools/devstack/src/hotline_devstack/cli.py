"""`hotline-dev` command line: fetch, infra, up, run."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from hotline_devstack.demo_channels import (
    DEMO_EMAIL,
    DEMO_LINE_USER_ID,
    DEMO_PHONE,
    DEMO_PUBLIC_LINE_USER_ID,
    DEMO_TAMBON,
    DEV_PUBLIC_LINE_CHANNEL_SECRET,
    intake_line_env,
    line_signature,
    link_demo_responder,
    notify_channel_env,
    public_line_webhook,
    watchdog_pager_env,
)
from hotline_devstack.kafka import KafkaBroker, ensure_kafka_jars, kafka_version
from hotline_devstack.kafka_cluster import KafkaCluster
from hotline_devstack.kafka_tools import ensure_kafka_tools_jars, kafka_tools_version
from hotline_devstack.paths import cache_dir, ensure_dir
from hotline_devstack.postgres import PostgresCluster, find_pg_bin
from hotline_devstack.procs import DevstackError, ProcessHandle
from hotline_devstack.services import DEFAULT_BASE_PORT, SERVICES, ServiceProcess, service_env, service_port

if TYPE_CHECKING:
    from hotline_fakes.bundle import AllFakes

DEMO_ACCOUNTS = ["operator", "responder", "supervisor", "admin", "ops", "center", "shelter"]
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _log(msg: str) -> None:
    print(f"[hotline-dev] {msg}", file=sys.stderr, flush=True)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _raise_interrupt(signum: int, _frame: object) -> None:
    # SIGTERM/SIGHUP behave like Ctrl-C: unwind through the `finally` that tears down.
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _ignore_signals() -> None:
    # Teardown must not be interrupted half-way (that is how orphans happen).
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


class Stack:
    """Kafka + Postgres (+ optional services) with ordered, idempotent teardown."""

    def __init__(self, cache: Path, state_dir: Path, kafka_port: int, controller_port: int, pg_port: int,
                 *, kafka_nodes: int = 1) -> None:
        self.cache = cache
        self.state_dir = ensure_dir(state_dir)
        self.logs = ensure_dir(state_dir / "logs")
        # Parent-death signal: even if hotline-dev is SIGKILLed, the children go too.
        self.kafka: KafkaBroker | KafkaCluster
        if kafka_nodes > 1:
            # Its own data dir: the single broker's storage belongs to another cluster id and voter set.
            self.kafka = KafkaCluster(cache, kafka_port, controller_port, nodes=kafka_nodes,
                                      replication_factor=min(3, kafka_nodes), min_insync_replicas=min(2, kafka_nodes),
                                      data_dir=state_dir / "kafka-cluster", log_dir=self.logs,
                                      parent_death_signal=signal.SIGTERM)
        else:
            self.kafka = KafkaBroker(
                cache,
                kafka_port,
                controller_port,
                data_dir=state_dir / "kafka",
                log_file=self.logs / "kafka.log",
                parent_death_signal=signal.SIGTERM,
            )
        self.postgres = PostgresCluster(
            cache,
            pg_port,
            data_dir=state_dir / "postgres" / "data",
            log_file=self.logs / "postgres.log",
            parent_death_signal=signal.SIGINT,
        )
        self.kafka_nodes_down: set[int] = set()
        self.services: list[ServiceProcess] = []
        self.fakes: AllFakes | None = None
        self.responder_linked = False
        atexit.register(self.stop)

    def start_infra(self) -> None:
        t0 = time.monotonic()
        _log(f"starting PostgreSQL on 127.0.0.1:{self.postgres.port} (log {self.postgres.log_file})")
        self.postgres.start()
        if isinstance(self.kafka, KafkaCluster):
            _log(f"starting a {len(self.kafka.nodes)}-node Kafka {self.kafka.version} cluster on "
                 f"{self.kafka.bootstrap_servers} (logs {self.kafka.log_dir}/kafka-<node>.log)")
        else:
            _log(f"starting Kafka {self.kafka.version} on {self.kafka.bootstrap_servers} (log {self.kafka.log_file})")
        self.kafka.start()
        _log(f"infra ready in {time.monotonic() - t0:.1f}s")

    def start_fakes(self, line: int, sms: int, smtp: int, viewer: int) -> AllFakes:
        """LINE, SMS and SMTP fakes and the demo phone viewer, in this process (threads) on 127.0.0.1."""
        # Imported here: hotline-dev must run (fetch) before the virtualenv with hotline_fakes exists.
        from hotline_fakes.bundle import AllFakes, Ports

        fakes = AllFakes(ports=Ports(line=line, sms=sms, smtp=smtp, viewer=viewer))
        _log(f"starting the fakes: LINE :{line}, SMS :{sms}, SMTP :{smtp}, demo phone :{viewer}")
        try:
            fakes.start()
        except (OSError, RuntimeError) as exc:
            raise DevstackError(f"the fakes could not start ({exc}); a port in use? Pick others with "
                                "--line-port/--sms-port/--smtp-port/--viewer-port") from exc
        self.fakes = fakes
        return fakes

    def start_services(self, timeout: float = 90.0, *, base_port: int = DEFAULT_BASE_PORT,
                       extra_env: Mapping[str, Mapping[str, str]] | None = None) -> None:
        for name, _ in SERVICES:
            port = service_port(name, base_port)
            env = service_env(name, self.postgres.port, self.kafka.bootstrap_servers, base_port=base_port)
            svc = ServiceProcess(
                name,
                {**env, **(extra_env or {}).get(name, {})},
                port,
                self.logs / f"{name}.log",
                parent_death_signal=signal.SIGTERM,
            )
            self.services.append(svc)
            _log(f"starting {name} on {svc.url} (log {svc.log_file})")
            svc.start()
            svc.wait_ready(timeout)

    def dead_children(self) -> list[str]:
        procs: list[tuple[str, ProcessHandle]] = [*((s.name, s) for s in self.services), ("postgres", self.postgres)]
        dead = [name for name, p in procs if p.pid is not None and not p.is_running()]
        if isinstance(self.kafka, KafkaCluster):
            return dead + self._lost_kafka_cluster(self.kafka)
        return dead + (["kafka"] if self.kafka.pid is not None and not self.kafka.is_running() else [])

    def _lost_kafka_cluster(self, cluster: KafkaCluster) -> list[str]:
        # Nodes of a cluster are there to be killed (fault tests): one down is news, all down is the end.
        down = {i for i, n in cluster.nodes.items() if n.pid is not None and not n.is_running()}
        for i in sorted(down - self.kafka_nodes_down):
            _log(f"kafka node {i} is down; the cluster carries on with nodes {cluster.running()}")
        self.kafka_nodes_down = down
        return ["kafka (every node)"] if down and not cluster.running() else []

    def service_url(self, name: str) -> str:
        return next(s.url for s in self.services if s.name == name)

    def stop(self) -> None:
        """Services in reverse start order, then the fakes, Kafka, Postgres. Safe to call twice."""
        for svc in reversed(self.services):
            if svc.pid is not None:
                svc.stop()
        if self.fakes is not None:
            self.fakes.stop()
        if isinstance(self.kafka, KafkaCluster) or self.kafka.pid is not None:
            self.kafka.stop()  # a cluster stops only the nodes it started
        if self.postgres.pid is not None:
            self.postgres.stop()


def cmd_fetch(_args: argparse.Namespace) -> int:
    cache = cache_dir()
    libs = ensure_kafka_jars(cache)
    tools = ensure_kafka_tools_jars(cache)
    pg = find_pg_bin()
    print(f"Kafka {kafka_version()} jars: {libs}")
    print(f"Kafka tools {kafka_tools_version()}: {tools}")
    print(f"PostgreSQL binaries:  {pg}")
    return 0


def _wait_forever(stack: Stack) -> int:
    """Block until a stop signal (-> 0) or an unexpected child death (-> 1)."""
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _raise_interrupt)
    try:
        while True:
            dead = stack.dead_children()
            if dead:
                _log(f"child process(es) died unexpectedly: {', '.join(dead)} - shutting down")
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        _log("stopping ...")
        return 0


def _make_stack(args: argparse.Namespace, cache: Path) -> Stack:
    return Stack(
        cache,
        Path(args.state_dir or cache / "run").resolve(),  # PostgreSQL runs from /: no relative paths
        args.kafka_port,
        args.kafka_controller_port or args.kafka_port + 1,
        args.pg_port,
        kafka_nodes=getattr(args, "kafka_nodes", 1),  # `infra` only
    )


def _with_infra(stack: Stack, body: Callable[[], int], *, stopping: str | None = None) -> int:
    """Start the stack's infra and run `body`; a stop signal -> 130. Always tears the stack down."""
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _raise_interrupt)
    try:
        stack.start_infra()
        return body()
    except KeyboardInterrupt:
        return 130
    finally:
        _ignore_signals()
        if stopping:
            _log(stopping)
        stack.stop()


def cmd_infra(args: argparse.Namespace) -> int:
    stack = _make_stack(args, cache_dir())

    def body() -> int:
        print(f"Kafka:      {stack.kafka.bootstrap_servers}", flush=True)
        if isinstance(stack.kafka, KafkaCluster):
            for i, node in stack.kafka.nodes.items():
                print(f"  node {i}:   {node.bootstrap_servers} (controller :{node.controller_port}, pid {node.pid}, "
                      f"log {node.log_file})", flush=True)
        print(f"PostgreSQL: {stack.postgres.admin_url}", flush=True)
        print("Ctrl-C to stop.", flush=True)
        return _wait_forever(stack)

    return _with_infra(stack, body)


def _demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD", "hotline-demo")


def _fakes_banner(stack: Stack) -> list[str]:
    fakes = stack.fakes
    if fakes is None:
        return []
    lines = [
        "",
        f"{'Demo phone':<10} {fakes.urls['viewer']}/   (what the LINE, SMS and e-mail fakes received)",
        f"{'Fakes':<10} LINE {fakes.urls['line']}, SMS {fakes.urls['sms']}, SMTP {fakes.smtp.host}:{fakes.smtp.port}",
    ]
    if stack.responder_linked:
        lines += [
            f"Responder on LINE {DEMO_LINE_USER_ID}, SMS {DEMO_PHONE}, e-mail {DEMO_EMAIL}, then webhook:",
            f"  the volunteer of tambon {DEMO_TAMBON} (account `responder`): report a case there to see it.",
            "Make LINE fail (4 answers 500 = NOTIFY_ATTEMPTS_PER_CHANNEL) to see SMS take over:",
            f"  curl -X POST {fakes.urls['line']}/_fake/faults -H 'Content-Type: application/json' "
            """-d '{"status": 500, "times": 4}'""",
        ]
    else:
        lines.append("The demo responder could not be given LINE/SMS/e-mail (see the log above): webhook only.")
    return lines


def _banner(stack: Stack) -> str:
    password = _demo_password()
    lines = ["Hotline dev stack is up", ""]
    for svc in stack.services:
        lines.append(f"{svc.name:<10} {svc.url}   (API docs: {svc.url}/docs)")
        if svc.name == "intake":
            lines.append(f"{'Console':<10} {svc.url}/console   (operators; center staff: walk-ins)")
        if svc.name == "ops":
            lines.append(f"{'Ops wall':<10} {svc.url}/console   (ops; admin and supervisors watch)")
    lines += _fakes_banner(stack)
    lines += [
        "",
        f"{'Kafka':<10} {stack.kafka.bootstrap_servers}",
        f"{'Postgres':<10} {stack.postgres.admin_url}",
        "",
        f"Demo accounts: {', '.join(DEMO_ACCOUNTS)}",
        f"Password:      {password}",
        "",
        f"Logs: {stack.logs}",
        "Ctrl-C to stop everything.",
    ]
    width = max(len(line) for line in lines)
    border = "+" + "-" * (width + 2) + "+"
    return "\n".join([border, *(f"| {line.ljust(width)} |" for line in lines), border])


def cmd_up(args: argparse.Namespace) -> int:
    stack = _make_stack(args, cache_dir())

    def body() -> int:
        # The fakes first: notify's channels point at them from its first alert.
        fakes = stack.start_fakes(args.line_port, args.sms_port, args.smtp_port, args.viewer_port)
        channels = notify_channel_env(line_url=fakes.urls["line"], line_token=fakes.token,
                                      sms_url=fakes.urls["sms"], sms_api_key=fakes.api_key,
                                      smtp_host=fakes.smtp.host, smtp_port=fakes.smtp.port)
        public_line = intake_line_env(line_url=fakes.urls["line"], line_token=fakes.token)
        pager = watchdog_pager_env(sms_url=fakes.urls["sms"], sms_api_key=fakes.api_key, smtp_host=fakes.smtp.host,
                                   smtp_port=fakes.smtp.port)
        stack.start_services(base_port=args.base_port,
                             extra_env={"notify": channels, "intake": public_line, "watchdog": pager})
        try:
            changed = link_demo_responder(stack.service_url("registry"), _demo_password())
            stack.responder_linked = True
            _log(f"demo responder of tambon {DEMO_TAMBON}: LINE, SMS, e-mail, webhook"
                 f"{'' if changed else ' (already)'}")
        except DevstackError as exc:  # the platform still works: alerts go to the webhook only
            _log(f"warning: could not give the demo responder LINE/SMS/e-mail: {exc}")
        print(_banner(stack), flush=True)
        return _wait_forever(stack)

    return _with_infra(stack, body, stopping="stopping services, fakes, Kafka, PostgreSQL ...")


def cmd_link_demo_responder(args: argparse.Namespace) -> int:
    """What `up` does after start, for a platform started otherwise (docker compose)."""
    changed = link_demo_responder(args.registry_url.rstrip("/"), _demo_password())
    print(f"demo responder of tambon {DEMO_TAMBON}: LINE {DEMO_LINE_USER_ID}, SMS {DEMO_PHONE}, e-mail {DEMO_EMAIL}, "
          f"then webhook{'' if changed else ' (already)'}")
    return 0


def cmd_line_say(args: argparse.Namespace) -> int:
    """Write to the 1300 LINE account as a member of the public would (the demo has no LINE app): the webhook intake
    gets from LINE, signed with the demo channel secret. The bot's answers show on the demo phone page."""
    lat, lon = (float(x) for x in args.location.split(",")) if args.location else (None, None)
    now_ms = int(time.time() * 1000)
    body = json.dumps(public_line_webhook(text=" ".join(args.text) or None, lat=lat, lon=lon, postback=args.postback,
                                          now_ms=now_ms, event_id=f"01DEMO{uuid.uuid4().hex[:20].upper()}"),
                      ensure_ascii=False).encode()
    request = urllib.request.Request(f"{args.intake_url.rstrip('/')}/v1/line/webhook", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "X-Line-Signature": line_signature(
                                         DEV_PUBLIC_LINE_CHANNEL_SECRET, body)})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            print(answer.read().decode())
    except urllib.error.URLError as exc:
        raise DevstackError(f"intake's LINE webhook did not take it: {exc}") from exc
    print("the answer shows on the demo phone page in a moment (LINE, to " + DEMO_PUBLIC_LINE_USER_ID + ")")
    return 0


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode  # killed by signal N -> 128+N


def _run_command(command: list[str], env: dict[str, str]) -> int:
    # The command stays in our process group so terminal Ctrl-C reaches it (pytest prints
    # its summary); we just wait for it, forwarding SIGTERM/SIGHUP.
    try:
        proc = subprocess.Popen(command, env=env)
    except FileNotFoundError:
        _log(f"command not found: {command[0]}")
        return 127

    def forward(signum: int, _frame: object) -> None:
        if signum != signal.SIGINT:  # SIGINT already hit the whole foreground group
            try:
                proc.send_signal(signum)
            except ProcessLookupError:
                pass

    for sig in _STOP_SIGNALS:
        signal.signal(sig, forward)
    return _exit_code(proc.wait())


def cmd_run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        _log("usage: hotline-dev run -- <command ...>")
        return 2
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("DATABASE_ADMIN_URL"):
        _log("KAFKA_BOOTSTRAP_SERVERS and DATABASE_ADMIN_URL already set; using the existing infrastructure")
        return _run_command(command, dict(os.environ))

    cache = cache_dir()
    state = cache / os.environ.get("HOTLINE_DEV_RUN_STATE", "test")
    # Clean slate every run: no topics/offsets/tables leak between test sessions.
    for sub in ("kafka", "postgres"):
        shutil.rmtree(state / sub, ignore_errors=True)
    kafka_port = _env_int("TEST_KAFKA_PORT", 19092)
    pg_port = _env_int("TEST_PG_PORT", 15432)
    stack = Stack(cache, state, kafka_port, _env_int("TEST_KAFKA_CONTROLLER_PORT", kafka_port + 1), pg_port)

    def body() -> int:
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": stack.kafka.bootstrap_servers,
            "DATABASE_ADMIN_URL": stack.postgres.admin_url,
            "PG_PORT_TEST": str(pg_port),
            "HOTLINE_CACHE_DIR": str(cache),
        }
        return _run_command(command, env)

    return _with_infra(stack, body)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline-dev", description="Native dev/test stack for Hotline (no Docker).")
    sub = parser.add_subparsers(dest="cmd", required=True)

    sub.add_parser("fetch", help="resolve Kafka jars and find/install PostgreSQL (starts nothing)").set_defaults(
        func=cmd_fetch
    )

    def infra_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--kafka-port", type=int, default=_env_int("KAFKA_PORT", 9092))
        p.add_argument(
            "--kafka-controller-port",
            type=int,
            default=_env_int("KAFKA_CONTROLLER_PORT", 0),
            help="default: kafka port + 1",
        )
        p.add_argument("--pg-port", type=int, default=_env_int("PG_PORT", 5432))
        p.add_argument("--state-dir", type=Path, default=None, help="default: <cache>/run")

    p_infra = sub.add_parser("infra", help="run Kafka + PostgreSQL in the foreground")
    infra_args(p_infra)
    p_infra.add_argument("--kafka-nodes", type=int, default=_env_int("KAFKA_NODES", 1),
                         help="1 (default): one broker. N > 1: a KRaft cluster of N broker+controller nodes "
                              "(replication min(3, N), min.insync.replicas min(2, N)) on --kafka-port + 0, 2, 4, "
                              "... (controllers one above each), for fault tests")
    p_infra.set_defaults(func=cmd_infra)

    p_up = sub.add_parser("up", help="infra + the fakes (LINE, SMS, SMTP, demo phone) + all services in the foreground")
    infra_args(p_up)
    p_up.add_argument("--base-port", type=int, default=_env_int("SERVICES_BASE_PORT", DEFAULT_BASE_PORT),
                      help="intake on this port, registry +1, routing +2, notify +3, ops +4, watchdog +5 "
                           "(default 8000)")
    p_up.add_argument("--line-port", type=int, default=_env_int("FAKE_LINE_PORT", 8090), help="LINE fake")
    p_up.add_argument("--sms-port", type=int, default=_env_int("FAKE_SMS_PORT", 8091), help="SMS gateway fake")
    p_up.add_argument("--smtp-port", type=int, default=_env_int("FAKE_SMTP_PORT", 8025), help="SMTP fake")
    p_up.add_argument("--viewer-port", type=int, default=_env_int("FAKE_VIEWER_PORT", 8092),
                      help="the demo phone page")
    p_up.set_defaults(func=cmd_up)

    p_link = sub.add_parser("link-demo-responder", help="give the demo volunteer of tambon 100101 LINE, SMS and "
                            "e-mail before the webhook (as `up` does), through the registry's API as `admin`")
    p_link.add_argument("--registry-url", default="http://127.0.0.1:8001")
    p_link.set_defaults(func=cmd_link_demo_responder)

    p_say = sub.add_parser("line-say", help="write to the 1300 LINE account as a member of the public (text, a "
                           "location or a button's postback data); the bot's answers show on the demo phone page")
    p_say.add_argument("text", nargs="*", help="what the person writes, e.g. ช่วยด้วย")
    p_say.add_argument("--location", help="share a location instead: LAT,LON")
    p_say.add_argument("--postback", help="tap a button instead: its data, e.g. cat=domestic_violence")
    p_say.add_argument("--intake-url", default="http://127.0.0.1:8000")
    p_say.set_defaults(func=cmd_line_say)

    p_run = sub.add_parser("run", help="run a command against fresh infra on test ports")
    p_run.add_argument("command", nargs=argparse.REMAINDER)
    p_run.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except DevstackError as exc:
        _log(f"error: {exc}")
        return 1
