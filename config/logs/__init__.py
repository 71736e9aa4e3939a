"""Structured logs: correlation ids in contextvars, masking, JSON and readable formatters."""
