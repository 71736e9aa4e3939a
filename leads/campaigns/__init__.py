"""Campaigns: a merchant's leads dialled together by beat at a bounded rate (docs/dispatch.md)."""
