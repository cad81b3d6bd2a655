"""Liveness and readiness probes for the load balancer and the container platform."""
