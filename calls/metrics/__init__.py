"""Prometheus metrics at /metrics, computed from PostgreSQL and Redis at scrape time."""
