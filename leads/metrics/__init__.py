"""Dispatch metrics for /metrics: how late due leads are, and the limiter's slots in use."""
