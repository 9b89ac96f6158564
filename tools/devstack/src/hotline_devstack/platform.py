"""The four services as one platform: each with its own DB role, the shared Kafka, on a block of ports."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from hotline_devstack.services import SERVICES, ServiceProcess

# Offsets from the base port: intake 8000, registry 8001, routing 8002, notify 8003, ops 8004, watchdog 8005.
PORT_OFFSETS = {"intake": 0, "registry": 1, "routing": 2, "notify": 3, "ops": 4, "watchdog": 5}


def role_dsn(admin_url: str, role: str) -> str:
    """The DSN of a service role on the same server and database as `admin_url` (password = role, dev only)."""
    u = urllib.parse.urlsplit(admin_url)
    host = u.hostname or "127.0.0.1"
    port = f":{u.port}" if u.port else ""
    return urllib.parse.urlunsplit((u.scheme, f"{role}:{role}@{host}{port}", u.path, u.query, ""))


class Platform:
    """Starts registry, intake, routing and notify (in that order) and waits until each is ready."""

    def __init__(self, *, kafka_bootstrap: str, admin_url: str, log_dir: Path, base_port: int = 8000,
                 env: Mapping[str, str] | None = None, service_env: Mapping[str, Mapping[str, str]] | None = None,
                 ) -> None:
        self.kafka_bootstrap = kafka_bootstrap
        self.admin_url = admin_url
        self.log_dir = Path(log_dir)
        self.base_port = base_port
        self.env = dict(env or {})
        self.service_env = {k: dict(v) for k, v in (service_env or {}).items()}
        self.services: dict[str, ServiceProcess] = {}

    def port(self, name: str) -> int:
        return self.base_port + PORT_OFFSETS[name]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port(name)}"

    def env_for(self, name: str) -> dict[str, str]:
        env = {
            "HOTLINE_ENV": "local",
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "DATABASE_URL": role_dsn(self.admin_url, name),
            f"{name.upper()}_PORT": str(self.port(name)),
            "DEMO_ALERT_WEBHOOK_URL": f"{self.url('notify')}/v1/demo/inbox",
            "NOTIFY_PUBLIC_BASE_URL": self.url("notify"),
            "NOTIFY_INTAKE_URL": self.url("intake"),
            "INTAKE_REGISTRY_URL": self.url("registry"),
            "OPS_REGISTRY_URL": self.url("registry"),
        }
        env.update(self.env)
        env.update(self.service_env.get(name, {}))
        return env

    def start(self, names: list[str] | None = None, *, timeout: float = 120.0) -> None:
        for name, _ in SERVICES:
            if names is None or name in names:
                self.start_service(name, timeout=timeout)

    def start_service(self, name: str, *, timeout: float = 120.0) -> ServiceProcess:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        proc = ServiceProcess(name, self.env_for(name), self.port(name), self.log_dir / f"{name}.log")
        self.services[name] = proc
        proc.start()
        proc.wait_ready(timeout)
        return proc

    def start_replica(self, name: str, replica: str, port: int, *, timeout: float = 120.0) -> ServiceProcess:
        """Another instance of a service (same database, same consumer group) on its own port: scale-out and
        failover tests. Stop it with `stop_service(f"{name}#{replica}")`."""
        env = self.env_for(name) | {f"{name.upper()}_PORT": str(port)}
        proc = ServiceProcess(name, env, port, self.log_dir / f"{name}-{replica}.log")
        self.services[f"{name}#{replica}"] = proc
        proc.start()
        proc.wait_ready(timeout)
        return proc

    def stop_service(self, key: str) -> None:
        proc = self.services.pop(key, None)
        if proc is not None:
            proc.stop()

    def kill(self, name: str) -> None:
        """SIGKILL: a crash, no graceful shutdown."""
        self.services[name].kill()

    def stop(self) -> None:
        for key in [k for k in self.services if "#" in k]:  # replicas first
            self.services.pop(key).stop()
        for name in reversed([n for n, _ in SERVICES]):
            proc = self.services.pop(name, None)
            if proc is not None:
                proc.stop()
