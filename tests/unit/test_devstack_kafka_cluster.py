"""KafkaCluster's nodes are configured by KafkaBroker's one config builder (no process is started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline_devstack import DevstackError, KafkaBroker, KafkaCluster
from hotline_devstack.cli import _make_stack, build_parser


def test_every_node_knows_all_voters_and_replicates_three_ways(tmp_path: Path) -> None:
    cluster = KafkaCluster(tmp_path / "cache", 39492, data_dir=tmp_path / "cluster")
    props = {i: n.server_properties() for i, n in cluster.nodes.items()}
    assert sorted(props) == [1, 2, 3]
    assert {p["controller.quorum.voters"] for p in props.values()} == {
        "1@127.0.0.1:39493,2@127.0.0.1:39495,3@127.0.0.1:39497"
    }
    assert [p["listeners"] for p in props.values()] == [
        f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1}" for port in (39492, 39494, 39496)
    ]
    assert cluster.bootstrap_servers == "127.0.0.1:39492,127.0.0.1:39494,127.0.0.1:39496"
    for p in props.values():
        for key in ("default.replication.factor", "offsets.topic.replication.factor",
                    "transaction.state.log.replication.factor", "share.coordinator.state.topic.replication.factor"):
            assert p[key] == 3, key
        for key in ("min.insync.replicas", "transaction.state.log.min.isr", "share.coordinator.state.topic.min.isr"):
            assert p[key] == 2, key
        assert p["unclean.leader.election.enable"] == "false"
    # One cluster id for all storages, and the same again when the cluster is built anew on the same dir.
    ids = {n.cluster_id() for n in cluster.nodes.values()}
    assert len(ids) == 1
    assert {n.cluster_id() for n in KafkaCluster(tmp_path / "cache", 39492, data_dir=tmp_path / "cluster")
            .nodes.values()} == ids
    assert len({n.data_dir for n in cluster.nodes.values()} | {n.log_file for n in cluster.nodes.values()}) == 6


def test_a_single_broker_stays_alone_and_unreplicated(tmp_path: Path) -> None:
    props = KafkaBroker(tmp_path / "cache", 39492, 39493, data_dir=tmp_path / "kafka").server_properties()
    assert props["controller.quorum.voters"] == "1@127.0.0.1:39493"
    assert props["default.replication.factor"] == props["offsets.topic.replication.factor"] == 1
    assert props["min.insync.replicas"] == props["transaction.state.log.min.isr"] == 1


def test_a_node_refuses_storage_of_another_cluster(tmp_path: Path) -> None:
    KafkaCluster(tmp_path / "cache", 39492, data_dir=tmp_path / "cluster").nodes[1].cluster_id()  # as formatted
    (tmp_path / "cluster" / "cluster.id").write_text("AnotherClusterIdAAAAAA\n")
    with pytest.raises(DevstackError, match="belongs to Kafka cluster"):
        KafkaCluster(tmp_path / "cache", 39492, data_dir=tmp_path / "cluster").nodes[1].cluster_id()


def test_infra_starts_a_cluster_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_NODES", raising=False)
    parser = build_parser()
    single = _make_stack(parser.parse_args(["infra", "--state-dir", str(tmp_path / "one")]), tmp_path / "cache")
    assert isinstance(single.kafka, KafkaBroker)
    assert single.kafka.bootstrap_servers == "127.0.0.1:9092"
    three = _make_stack(parser.parse_args(["infra", "--kafka-nodes", "3", "--kafka-port", "39492",
                                           "--state-dir", str(tmp_path / "three")]), tmp_path / "cache")
    assert isinstance(three.kafka, KafkaCluster)
    assert three.kafka.bootstrap_servers == "127.0.0.1:39492,127.0.0.1:39494,127.0.0.1:39496"
    assert three.dead_children() == []  # nothing started, nothing died
