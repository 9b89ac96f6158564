"""Registry subscribers: none yet (the registry is the source of its topics, it consumes nothing)."""

from faststream.kafka import KafkaRouter

router = KafkaRouter()
