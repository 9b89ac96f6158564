"""The ops console service: watch the event stream, lag, urgent unacknowledged cases, dead letters."""
