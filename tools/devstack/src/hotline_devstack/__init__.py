"""Stdlib-only dev stack: native Kafka (KRaft) + PostgreSQL and the service launcher."""

from hotline_devstack.kafka import KAFKA_VERSION, KafkaBroker, ensure_kafka_jars, kafka_version
from hotline_devstack.kafka_cluster import KafkaCluster, PartitionState
from hotline_devstack.kafka_tools import KAFKA_TOOLS_VERSION, console_consume, ensure_kafka_tools_jars
from hotline_devstack.paths import cache_dir, repo_root
from hotline_devstack.platform import Platform, role_dsn
from hotline_devstack.postgres import PostgresCluster, find_pg_bin
from hotline_devstack.procs import DevstackError
from hotline_devstack.services import SERVICES, ServiceProcess, service_env

__all__ = [
    "KAFKA_TOOLS_VERSION",
    "KAFKA_VERSION",
    "SERVICES",
    "DevstackError",
    "KafkaBroker",
    "KafkaCluster",
    "PartitionState",
    "Platform",
    "PostgresCluster",
    "ServiceProcess",
    "cache_dir",
    "console_consume",
    "ensure_kafka_jars",
    "ensure_kafka_tools_jars",
    "find_pg_bin",
    "kafka_version",
    "repo_root",
    "role_dsn",
    "service_env",
]
