"""Launcher for the platform's Python services (hotline_<name> modules) as child processes."""

from __future__ import annotations

import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from hotline_devstack.procs import ManagedProcess, ProcessHandle, listening

# Start order matters: registry first (the others look things up in it).
SERVICES: list[tuple[str, int]] = [("registry", 8001), ("intake", 8000), ("routing", 8002), ("notify", 8003),
                                   ("ops", 8004), ("watchdog", 8005)]
DEFAULT_BASE_PORT = 8000  # the ports above are this + an offset per service


def service_port(name: str, base_port: int = DEFAULT_BASE_PORT) -> int:
    return dict(SERVICES)[name] - DEFAULT_BASE_PORT + base_port


def service_env(name: str, pg_port: int, kafka_bootstrap: str, *, base_port: int = DEFAULT_BASE_PORT,
                ) -> dict[str, str]:
    """Environment for one service: its own DB role/schema, the shared Kafka, its port and the URLs by which
    the services find each other (the settings' defaults assume base port 8000)."""
    notify = f"http://127.0.0.1:{service_port('notify', base_port)}"
    urls = {"DEMO_ALERT_WEBHOOK_URL": f"{notify}/v1/demo/inbox"}
    if name == "notify":
        urls["NOTIFY_PUBLIC_BASE_URL"] = notify
        urls["NOTIFY_INTAKE_URL"] = f"http://127.0.0.1:{service_port('intake', base_port)}"
    if name == "intake":
        urls["INTAKE_REGISTRY_URL"] = f"http://127.0.0.1:{service_port('registry', base_port)}"
    if name == "ops":
        urls["OPS_REGISTRY_URL"] = f"http://127.0.0.1:{service_port('registry', base_port)}"
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": f"postgresql://{name}:{name}@127.0.0.1:{pg_port}/hotline",
        "HOTLINE_ENV": "local",
        f"{name.upper()}_PORT": str(service_port(name, base_port)),
        # The shell's own values win: e.g. NOTIFY_PUBLIC_BASE_URL on a LAN address, for links opened on a phone.
        **{key: value for key, value in urls.items() if key not in os.environ},
    }


class ServiceProcess(ProcessHandle):
    """`python -m hotline_<name>` in its own process group, logging to `log_file`.

    `stop(timeout)` sends SIGTERM, SIGKILL after `timeout` (default 15 s).
    """

    stop_timeout = 15.0

    def __init__(
        self,
        name: str,
        env: Mapping[str, str],
        port: int,
        log_file: Path,
        *,
        parent_death_signal: int | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.env = dict(env)
        self.port = port
        self.log_file = Path(log_file)
        self.parent_death_signal = parent_death_signal

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}  # unbuffered: logs show up live
        self._proc = ManagedProcess(
            self.name,
            [sys.executable, "-m", f"hotline_{self.name}"],
            self.log_file,
            env=env,
            parent_death_signal=self.parent_death_signal,
            stop_signal=signal.SIGTERM,
        )
        self._proc.start()

    def _ready(self) -> bool:
        if not listening(self.port):  # not up yet; and no connect that could end up connected to itself
            return False
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self._proc is not None, "start() first"
        self._proc.wait_until(self._ready, timeout, f"{self.url}/readyz == 200", interval=0.3)

    def returncode(self) -> int | None:
        return self._proc.returncode() if self._proc else None

    def log_tail(self, lines: int = 40) -> str:
        return self._proc.log_tail(lines) if self._proc else ""
