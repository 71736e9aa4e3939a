"""OpenTelemetry tracing (docs/observability.md, Tracing).

`setup` installs the SDK, the exporter and the instrumentations in a process's entry point,
only when the standard OTEL environment asks for it; `context` carries one call's trace
across the hops no instrumentation sees (stored `traceparent` columns).
"""
