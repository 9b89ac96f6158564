"""The watchdog: a dead-man's switch that pages the ops on-call when a service stops working."""
