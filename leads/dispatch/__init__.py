"""Turning due leads into calls: claiming, calling windows, retries, limits and DNC (docs/dispatch.md)."""
