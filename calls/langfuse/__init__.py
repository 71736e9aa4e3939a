"""Langfuse: each call a trace of its LLM turns, and the template's evaluators as its scores.

Sent only when Langfuse keys are configured (a merchant's `langfuse` credential, else the
LANGFUSE_* settings); docs/observability.md.
"""
