from __future__ import annotations

from statistics import median
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from calls.live.admin import LiveCallPagesAdmin
from calls.models import Call, Turn
from calls.recordings.admin import recording_player
from calls.recordings.models import Recording
from calls.webhooks import admin as webhook_admin  # noqa: F401  (registers its admins)
from config.admin_scoping import MerchantScopedAdmin
from config.types import Resource


def _latencies(call: Call) -> list[int]:
    return [turn.latency_ms for turn in call.turns.all() if turn.latency_ms is not None]


@admin.register(Call)
class CallAdmin(LiveCallPagesAdmin):
    """Calls are records of what happened: readable, never edited by hand."""

    resource = Resource.CALL
    change_list_template = "admin/calls/call/change_list.html"
    list_display = [
        "id",
        "merchant",
        "template_name",
        "status",
        "disposition",
        "outcome",
        "duration",
        "median_latency",
        "created_at",
    ]
    list_filter = [
        "status",
        "disposition",
        "execution_mode",
        "provider",
        ("merchant", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["=id", "provider_call_id", "outcome", "template_version__template__name"]
    list_select_related = ["merchant", "template_version__template"]
    date_hierarchy = "created_at"
    fields = (
        "merchant",
        "template_version",
        "execution_mode",
        "provider",
        "provider_call_id",
        "customer_phone",
        "status",
        "disposition",
        "end_reason",
        "outcome",
        "outcome_table",
        "extraction_table",
        "llm_fallback_at",
        "llm_fallback_reason",
        "path",
        "started_at",
        "answered_at",
        "ended_at",
        "duration",
        "worker_id",
        "recording_file",
        "conversation",
        "latency_table",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("turns")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Call | None = None) -> bool:
        return False

    @admin.display(description="template")
    def template_name(self, call: Call) -> str:
        version = call.template_version
        return f"{version.template.name} v{version.number}"

    @admin.display(description="duration")
    def duration(self, call: Call) -> str:
        seconds = call.duration_seconds
        return "—" if seconds is None else f"{seconds:.1f} s"

    @admin.display(description="median latency")
    def median_latency(self, call: Call) -> str:
        values = _latencies(call)
        return f"{median(values):.0f} ms" if values else "—"

    @admin.display(description="recording")
    def recording_file(self, call: Call) -> str:
        return recording_player(Recording.objects.filter(call_id=call.pk).first())

    @admin.display(description="node path")
    def path(self, call: Call) -> str:
        return " → ".join(call.node_path) or "—"

    @admin.display(description="outcome fields")
    def outcome_table(self, call: Call) -> str:
        if not call.outcome_fields:
            return "—"
        rows = format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>", sorted(call.outcome_fields.items())
        )
        return format_html('<table class="breeze-kv">{}</table>', rows)

    @admin.display(description="extraction")
    def extraction_table(self, call: Call) -> str:
        if not call.extraction_status:
            return "—"
        result = call.extraction
        summary = f"{call.get_extraction_status_display()} · {result.get('source') or 'no source'}"
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            [
                (name, "—" if value is None else value)
                for name, value in result.get("fields", {}).items()
            ],
        )
        errors = format_html_join(
            "", "<li>{}</li>", [(error,) for error in result.get("errors", [])]
        )
        return format_html(
            '<p>{}</p><table class="breeze-kv">{}</table><ul class="errorlist">{}</ul>',
            summary,
            rows,
            errors,
        )

    @admin.display(description="conversation")
    def conversation(self, call: Call) -> str:
        turns = list(call.turns.all())
        if not turns:
            return "No turns recorded."
        bubbles = format_html_join(
            "",
            '<div class="pg-line pg-{}"><small>{} · {}</small><br>{}</div>',
            (
                (
                    turn.speaker,
                    turn.get_speaker_display(),
                    turn.node or "—",
                    turn.text + (f"  → {turn.function_called}" if turn.function_called else ""),
                )
                for turn in turns
            ),
        )
        return format_html('<div class="breeze-conversation">{}</div>', bubbles)

    @admin.display(description="latency per answer (ms)")
    def latency_table(self, call: Call) -> str:
        answered = [turn for turn in call.turns.all() if turn.latency_ms is not None]
        if not answered:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (turn.index, turn.latency_ms, turn.stt_ms, turn.llm_ms, turn.tts_ms)
                for turn in answered
            ),
        )
        return format_html(
            '<table class="breeze-latency"><thead><tr><th>turn</th><th>total</th><th>STT</th><th>LLM</th><th>TTS</th></tr></thead><tbody>{}</tbody></table>',
            rows,
        )


@admin.register(Turn)
class TurnAdmin(MerchantScopedAdmin[Turn]):
    resource = Resource.CALL
    merchant_field = "call__merchant"
    list_display = ["call", "index", "speaker", "text", "node", "function_called", "latency_ms"]
    list_select_related = ["call"]
    search_fields = ["text"]
    readonly_fields = [
        "call",
        "index",
        "speaker",
        "text",
        "node",
        "function_called",
        "started_offset_ms",
        "ended_offset_ms",
        "latency_ms",
        "stt_ms",
        "llm_ms",
        "tts_ms",
    ]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False  # reached from a call's page

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Turn | None = None) -> bool:
        return False
