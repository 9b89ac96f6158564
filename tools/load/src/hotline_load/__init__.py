"""The whole platform under load and faults: the load generator behind `make bench` (`hotline-load`)."""
