"""How the process is doing, for an operator: Prometheus metrics and a health check."""
