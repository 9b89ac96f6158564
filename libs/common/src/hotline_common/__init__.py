"""What the hotline services share: events, topics, settings, broker, database, outbox, telemetry, auth."""
