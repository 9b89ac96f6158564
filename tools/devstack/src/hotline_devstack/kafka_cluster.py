"""A Kafka cluster of N KRaft broker+controller nodes on this machine, for fault tests (kill a leader, restart it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline_devstack.kafka import KafkaBroker, ensure_kafka_jars, kafka_libs_dir, kafka_version, new_cluster_id
from hotline_devstack.paths import ensure_dir
from hotline_devstack.procs import DevstackError, require_free_port

# Kafka's defaults (9 s / 2 s) take ~10 s to fence a SIGKILLed broker and move its partitions' leadership;
# a fault test wants that in seconds. Still far above the pauses a 512 MB G1 heap makes on a busy 2-core box.
DEFAULT_FAILURE_DETECTION: Mapping[str, int] = {
    "broker.session.timeout.ms": 4000,
    "broker.heartbeat.interval.ms": 1000,
}


@dataclass(frozen=True)
class PartitionState:
    """One partition as the cluster's metadata has it."""

    leader: int | None  # None while no replica leads (an election under way, or no in-sync replica alive)
    replicas: tuple[int, ...]
    isr: tuple[int, ...]

    @property
    def in_sync(self) -> bool:
        return self.leader is not None and set(self.isr) == set(self.replicas)


class KafkaCluster:
    """N combined broker+controller nodes (ids 1..N, a static voter set of all N), one cluster id, each node its
    own data dir and log file. Topics default to replication factor 3 and `min.insync.replicas=2`, the internal
    ones (offsets, transaction state, share coordinator) too; unclean leader election is off.

    Ports: node i listens on `port + 2(i-1)` and its controller on `controller_port + 2(i-1)`; by default
    `controller_port = port + 1`, i.e. 9092/9093, 9094/9095, 9096/9097 (node 1 where a single broker would be).

    Process control (`start`, `kill`, `stop_node`, `start_node`, `stop`) is synchronous and stdlib-only like the rest
    of this package. The metadata queries (`describe`, `leader_of`, `isr_of`, `wait_for_leader`,
    `wait_until_in_sync`) are coroutines that send a Metadata request with aiokafka, imported on first use: they need
    the workspace's virtualenv. From async code run the blocking calls in `asyncio.to_thread`; but with
    `parent_death_signal` a node must be spawned by a thread that outlives it, e.g. `start_node(i, wait=False)` on
    the event loop's thread, then `await asyncio.to_thread(cluster.nodes[i].wait_ready)`.
    """

    stop_timeout = 30.0

    def __init__(
        self,
        cache: Path,
        port: int = 9092,
        controller_port: int | None = None,
        *,
        nodes: int = 3,
        data_dir: Path | None = None,
        log_dir: Path | None = None,
        host: str = "127.0.0.1",
        version: str | None = None,
        heap_max: str = "512m",  # three JVMs on a 2-core box with others' brokers beside them
        replication_factor: int = 3,
        min_insync_replicas: int = 2,
        extra_properties: Mapping[str, str | int] | None = None,
        parent_death_signal: int | None = None,
    ) -> None:
        if nodes < 1 or not 1 <= min_insync_replicas <= replication_factor <= nodes:
            raise DevstackError(
                f"a Kafka cluster of {nodes} node(s) cannot have replication factor {replication_factor} "
                f"and min.insync.replicas {min_insync_replicas}"
            )
        self.cache = Path(cache)
        self.version = version or kafka_version()
        self.data_dir = Path(data_dir) if data_dir else self.cache / "run" / "kafka-cluster"
        self.log_dir = Path(log_dir) if log_dir else self.data_dir
        controller_port = port + 1 if controller_port is None else controller_port
        voters = [(i, host, controller_port + 2 * (i - 1)) for i in range(1, nodes + 1)]
        props = {**DEFAULT_FAILURE_DETECTION, **(extra_properties or {})}
        self.nodes: dict[int, KafkaBroker] = {
            i: KafkaBroker(
                self.cache,
                port + 2 * (i - 1),
                cport,
                data_dir=self.data_dir / f"node-{i}",
                node_id=i,
                log_file=self.log_dir / f"kafka-{i}.log",
                host=host,
                version=self.version,
                heap_max=heap_max,
                parent_death_signal=parent_death_signal,
                voters=voters,
                cluster_id=self.cluster_id(),
                replication_factor=replication_factor,
                min_insync_replicas=min_insync_replicas,
                extra_properties=props,
            )
            for i, _, cport in voters
        }

    # -- layout ------------------------------------------------------------------
    @property
    def bootstrap_servers(self) -> str:
        """Every node's address, comma-separated: a client finds the cluster through whichever is up."""
        return ",".join(n.bootstrap_servers for n in self.nodes.values())

    def node(self, node_id: int) -> KafkaBroker:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise DevstackError(f"no Kafka node {node_id} (nodes: {sorted(self.nodes)})") from None

    def running(self) -> list[int]:
        return [i for i, n in self.nodes.items() if n.is_running()]

    def cluster_id(self) -> str:
        # One id for every node's storage, kept beside them so a restart of the whole cluster reuses it.
        f = ensure_dir(self.data_dir) / "cluster.id"
        if not f.exists():
            f.write_text(new_cluster_id() + "\n")
        return f.read_text().strip()

    # -- lifecycle ---------------------------------------------------------------
    def start(self, timeout: float = 120.0) -> None:
        """Start every node and wait until all serve requests (a static quorum needs a majority up to elect)."""
        if not (kafka_libs_dir(self.cache, self.version) / ".complete").exists():
            ensure_kafka_jars(self.cache, self.version)
        todo = [n for n in self.nodes.values() if not n.is_running()]
        for n in todo:
            require_free_port(n.port, f"Kafka node {n.node_id}")
            require_free_port(n.controller_port, f"Kafka controller {n.node_id}")
        # Formatting is one short JVM per node: in parallel. Spawning stays on this thread (parent-death signal).
        with ThreadPoolExecutor(max_workers=len(todo) or 1) as pool:
            for done in [pool.submit(n.prepare) for n in todo]:
                done.result()
        deadline = time.monotonic() + timeout
        try:
            for n in todo:
                n.launch()
            for n in todo:
                n.wait_ready(max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise

    def kill(self, node_id: int) -> None:
        """SIGKILL one node (a crash: no controlled shutdown, no leadership handed over)."""
        self.node(node_id).kill()

    def stop_node(self, node_id: int, timeout: float | None = None) -> None:
        """Stop one node cleanly (SIGTERM: controlled shutdown moves its leaderships first)."""
        self.node(node_id).stop(self.stop_timeout if timeout is None else timeout)

    def start_node(self, node_id: int, *, wait: bool = True, timeout: float = 90.0) -> None:
        """Start a stopped or killed node again on its data (it catches up from the others)."""
        node = self.node(node_id)
        if node.is_running():
            return
        node.launch()
        if wait:
            node.wait_ready(timeout)

    def stop(self, timeout: float | None = None) -> None:
        """Stop every node that was started, all at once (one by one, the last would wait for a lost quorum)."""
        started = [n for n in self.nodes.values() if n.pid is not None]
        for n in started:
            n.request_stop()
        for n in started:
            n.stop(self.stop_timeout if timeout is None else timeout)

    def __enter__(self) -> KafkaCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- metadata (async, aiokafka) ------------------------------------------------
    async def describe(self, topic: str, timeout: float = 15.0) -> dict[int, PartitionState]:
        """Partition -> leader, replicas and ISR of `topic`, as a running node's metadata has them.

        Asks a node of ours that is running: the admin client's own choice of node could be one just killed
        (still listed until it is fenced). Retries while nodes come and go.
        """
        from aiokafka.client import AIOKafkaClient
        from aiokafka.errors import KafkaError
        from aiokafka.protocol.metadata import MetadataRequest

        deadline = time.monotonic() + timeout
        last = "no node running"
        while True:
            for node in [n for n in self.nodes.values() if n.is_running()]:
                client = AIOKafkaClient(bootstrap_servers=node.bootstrap_servers, request_timeout_ms=3000)
                try:
                    await client.bootstrap()
                    found = (await client.send(node.node_id, MetadataRequest([topic]))).to_object()["topics"][0]
                    if found["error_code"] == 0:
                        return {p["partition"]: _partition_state(p) for p in found["partitions"]}
                    last = f"{topic}: error code {found['error_code']} from node {node.node_id}"
                except (KafkaError, OSError, TimeoutError) as exc:
                    last = f"node {node.node_id}: {exc!r}"
                finally:
                    await _close_quietly(client)
            if time.monotonic() > deadline:
                raise DevstackError(f"no metadata for {topic} within {timeout:.0f}s: {last}")
            await asyncio.sleep(0.2)

    async def leader_of(self, topic: str, partition: int) -> int | None:
        """Node id leading the partition, None while none does."""
        return (await self.describe(topic))[partition].leader

    async def isr_of(self, topic: str, partition: int) -> tuple[int, ...]:
        """Node ids of the partition's in-sync replicas."""
        return (await self.describe(topic))[partition].isr

    async def wait_for_leader(
        self, topic: str, partition: int, *, other_than: int | None = None, timeout: float = 30.0
    ) -> int:
        """Poll until the partition has a leader (not `other_than`, e.g. the node just killed); its node id."""
        deadline = time.monotonic() + timeout
        while True:
            state = (await self.describe(topic))[partition]
            if state.leader is not None and state.leader != other_than:
                return state.leader
            if time.monotonic() > deadline:
                raise DevstackError(f"{topic}-{partition}: no new leader within {timeout:.0f}s (now {state})")
            await asyncio.sleep(0.1)

    async def wait_until_in_sync(self, topic: str, timeout: float = 60.0) -> dict[int, PartitionState]:
        """Poll until every partition of `topic` has a leader and all its replicas in the ISR; the final state."""
        deadline = time.monotonic() + timeout
        while True:
            states = await self.describe(topic)
            if states and all(s.in_sync for s in states.values()):
                return states
            if time.monotonic() > deadline:
                lagging = {p: s for p, s in states.items() if not s.in_sync}
                raise DevstackError(f"{topic}: not back in sync within {timeout:.0f}s: {lagging}")
            await asyncio.sleep(0.2)


def _partition_state(p: dict[str, Any]) -> PartitionState:
    leader = int(p["leader"])
    return PartitionState(
        leader=leader if leader >= 0 else None,
        replicas=tuple(sorted(p["replicas"])),
        isr=tuple(sorted(p["isr"])),
    )


async def _close_quietly(client: Any) -> None:
    try:
        await client.close()
    except Exception:
        pass  # a client that never connected has nothing to close; the caller already has the real error
