"""Native Apache Kafka 4.x broker (KRaft combined mode) from Maven Central jars."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from hotline_devstack.maven import resolve_maven_classpath
from hotline_devstack.paths import ensure_dir, kafka_pom
from hotline_devstack.procs import (
    DevstackError,
    ManagedProcess,
    ProcessHandle,
    port_open,
    require_free_port,
    run_checked,
    which,
)

# Newest Kafka 4.x on Maven Central at the time of writing (kafka_2.13 artifact).
KAFKA_VERSION = "4.4.0"

_STARTED_MARKER = "Kafka Server started"  # logged by KafkaRaftServer once broker+controller serve


def kafka_version() -> str:
    return os.environ.get("HOTLINE_KAFKA_VERSION") or KAFKA_VERSION


def kafka_libs_dir(cache: Path, version: str | None = None) -> Path:
    return cache / "kafka" / (version or kafka_version()) / "libs"


def find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    return which(
        "java", "Install a JDK >= 17 (Kafka 4 brokers need Java 17+), e.g. `apt-get install openjdk-17-jre-headless`."
    )


def ensure_kafka_jars(cache: Path, version: str | None = None) -> Path:
    """Resolve the broker classpath into <cache>/kafka/<ver>/libs via Maven (cached; returns libs dir)."""
    version = version or kafka_version()
    return resolve_maven_classpath(
        cache,
        pom=kafka_pom(),
        libs=kafka_libs_dir(cache, version),
        properties={"kafka.version": version},
        expect_glob="kafka_2.13-*.jar",
        what=f"Apache Kafka {version}",
    )


def new_cluster_id() -> str:
    # Same format as org.apache.kafka.common.Uuid.randomUuid(): url-safe base64 of 16 random
    # bytes, no padding; Kafka rejects ids starting with '-' (they look like CLI flags).
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


_LOG4J2 = """\
# Written by hotline-devstack. Console == the broker's log file (stdout is redirected).
status = warn
# Log4j's own JVM shutdown hook would close logging while Kafka's shutdown hook is still
# running (log tail lost, "Using SimpleLogger" noise); Console appender needs no cleanup.
shutdownHook = disable
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
# Quiet the chattiest INFO loggers (config dumps, per-partition state changes).
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
logger.storage.name = org.apache.kafka.storage.internals.log
logger.storage.level = WARN
logger.metadata.name = org.apache.kafka.image
logger.metadata.level = WARN
"""


class KafkaBroker(ProcessHandle):
    """A KRaft broker+controller node: alone by default, or one voter of a `KafkaCluster`. Restartable on the
    same data dir.

    `stop(timeout)` sends SIGTERM (controlled shutdown), SIGKILL after `timeout` (default 30 s).
    """

    stop_timeout = 30.0

    def __init__(
        self,
        cache: Path,
        port: int = 9092,
        controller_port: int = 9093,
        data_dir: Path | None = None,
        node_id: int = 1,
        log_file: Path | None = None,
        *,
        host: str = "127.0.0.1",
        advertised_host: str | None = None,
        version: str | None = None,
        heap_max: str = "768m",
        parent_death_signal: int | None = None,
        voters: Sequence[tuple[int, str, int]] | None = None,
        cluster_id: str | None = None,
        replication_factor: int = 1,
        min_insync_replicas: int = 1,
        extra_properties: Mapping[str, str | int] | None = None,
    ) -> None:
        super().__init__()
        self.cache = Path(cache)
        self.version = version or kafka_version()
        self.port = port
        self.controller_port = controller_port
        self.data_dir = Path(data_dir) if data_dir else self.cache / "run" / "kafka"
        self.node_id = node_id
        self.log_file = Path(log_file) if log_file else self.data_dir / "broker.log"
        self.host = host
        self.advertised_host = advertised_host or host
        self.heap_max = heap_max
        self.parent_death_signal = parent_death_signal
        # (node id, host, controller port) of every controller; alone by default.
        self.voters = list(voters) if voters else [(node_id, host, controller_port)]
        self._cluster_id = cluster_id
        self.replication_factor = replication_factor
        self.min_insync_replicas = min_insync_replicas
        self.extra_properties = dict(extra_properties or {})

    # -- layout ------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        return f"{self.advertised_host}:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log4j_file(self) -> Path:
        return self.data_dir / "log4j2.properties"

    @property
    def log_dirs(self) -> Path:
        return self.data_dir / "data"

    @property
    def libs(self) -> Path:
        return kafka_libs_dir(self.cache, self.version)

    def classpath(self) -> str:
        return f"{self.libs}/*"  # the JVM expands the wildcard itself

    def cluster_id(self) -> str:
        # Kept in the data dir so a restart reuses the id the storage was formatted with.
        f = self.data_dir / "cluster.id"
        if not f.exists():
            ensure_dir(self.data_dir)
            f.write_text((self._cluster_id or new_cluster_id()) + "\n")
        found = f.read_text().strip()
        if self._cluster_id and found != self._cluster_id:
            raise DevstackError(
                f"{self.data_dir} belongs to Kafka cluster {found}, not {self._cluster_id}: delete it to start afresh"
            )
        return found

    def server_properties(self) -> dict[str, str | int]:
        """server.properties of this node: one builder for the single broker and every node of a KafkaCluster."""
        rf, min_isr = self.replication_factor, self.min_insync_replicas
        props: dict[str, str | int] = {
            "process.roles": "broker,controller",
            "node.id": self.node_id,
            # Static voter set: the simplest quorum, survives restarts without the dynamic-quorum
            # (KIP-853) bootstrap dance.
            "controller.quorum.voters": ",".join(f"{nid}@{host}:{port}" for nid, host, port in self.voters),
            "listeners": f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.advertised_host}:{self.port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.log_dirs),
            "num.partitions": 3,
            "auto.create.topics.enable": "false",
            "group.initial.rebalance.delay.ms": 0,
            # Internal topics get the cluster's replication: on a single node anything above 1 could
            # never be created.
            "offsets.topic.replication.factor": rf,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": min_isr,
            "share.coordinator.state.topic.replication.factor": rf,
            "share.coordinator.state.topic.min.isr": min_isr,
            # Fewer internal partitions: first consumer group / transaction is much faster
            # on a 2-core dev box than creating 50 partitions.
            "offsets.topic.num.partitions": 5,
            "transaction.state.log.num.partitions": 5,
            "min.insync.replicas": min_isr,
            "default.replication.factor": rf,
            # Kafka's default, said out loud: a replica that is not in sync never becomes leader
            # (no acknowledged record is silently dropped by a failover).
            "unclean.leader.election.enable": "false",
        }
        props.update(self.extra_properties)
        return props

    def _write_config(self) -> None:
        ensure_dir(self.data_dir)
        self.config_file.write_text(
            "# Generated by hotline-devstack; rewritten on every start.\n"
            + "".join(f"{k}={v}\n" for k, v in self.server_properties().items())
        )
        self.log4j_file.write_text(_LOG4J2)

    def _java_base(self) -> list[str]:
        return [
            find_java(),
            f"-Dlog4j2.configurationFile={self.log4j_file}",
            "-Djava.awt.headless=true",
            "-cp",
            self.classpath(),
        ]

    def is_formatted(self) -> bool:
        return (self.log_dirs / "meta.properties").exists()

    def format_storage(self) -> None:
        """kafka-storage format (once per data dir)."""
        if self.is_formatted():
            return
        run_checked(
            [
                *self._java_base(),
                "-Xmx256m",
                "kafka.tools.StorageTool",
                "format",
                "-t",
                self.cluster_id(),
                "-c",
                str(self.config_file),
                "--ignore-formatted",
            ],
            "Kafka storage format",
        )

    # -- lifecycle ---------------------------------------------------------------
    def prepare(self) -> None:
        """Write the config and format the storage (once); safe to run in a worker thread."""
        if not (self.libs / ".complete").exists():
            ensure_kafka_jars(self.cache, self.version)
        self._write_config()
        self.format_storage()

    def launch(self) -> None:
        """Spawn the broker without waiting for it (see `wait_ready`).

        With `parent_death_signal`, call this from a thread that outlives the broker: the kernel
        signals the child when the *spawning thread* exits.
        """
        require_free_port(self.port, "Kafka")
        require_free_port(self.controller_port, "Kafka controller")
        self.prepare()
        argv = [
            *self._java_base(),
            "-Xms256m",
            f"-Xmx{self.heap_max}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            f"-Dkafka.logs.dir={self.data_dir / 'logs'}",
            "kafka.Kafka",
            str(self.config_file),
        ]
        self._proc = ManagedProcess(
            "kafka" if len(self.voters) == 1 else f"kafka-{self.node_id}",
            argv,
            self.log_file,
            cwd=self.data_dir,
            parent_death_signal=self.parent_death_signal,
            stop_signal=signal.SIGTERM,
        )
        self._proc.start()

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Block until the launched broker serves requests; SIGKILL it and raise if it does not."""
        proc = self._proc
        if proc is None:
            raise DevstackError(f"Kafka node {self.node_id} was never launched")
        try:
            # Port open alone is not enough: the socket server binds before the broker
            # has caught up with the metadata log and can serve requests.
            proc.wait_until(
                lambda: proc.log_contains(_STARTED_MARKER) and port_open(self.port, self.advertised_host),
                timeout,
                f"broker ready on {self.bootstrap_servers}",
            )
        except BaseException:
            proc.kill()
            raise

    def start(self, timeout: float = 90.0) -> None:
        if self.is_running():
            return
        self.launch()
        self.wait_ready(timeout)

    def run_tool(self, main_class: str, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run a Kafka main class on the broker classpath (e.g. kafka.tools.StorageTool)."""
        return run_checked([*self._java_base(), "-Xmx256m", main_class, *args], main_class, timeout=timeout)

    def __enter__(self) -> KafkaBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
