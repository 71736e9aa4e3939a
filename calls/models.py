from __future__ import annotations

from django.db import models
from django.db.models import Q

from calls.recordings import models as recording_models  # noqa: F401  (registers them)
from calls.webhooks import models as webhook_models  # noqa: F401  (registers them with the app)
from config.models import Merchant, TimeStampedModel
from templates_app.models import TemplateVersion


class Call(TimeStampedModel):
    """One attempt to hold a conversation: the row exists before anything is dialled."""

    class Status(models.TextChoices):
        # Declared in the only order a call may move through; see STATUS_RANK.
        QUEUED = "queued", "Queued"
        DIALING = "dialing", "Dialing"
        RINGING = "ringing", "Ringing"
        IN_PROGRESS = "in_progress", "In progress"
        ENDED = "ended", "Ended"

    class Disposition(models.TextChoices):
        ANSWERED = "answered", "Answered"
        NO_ANSWER = "no_answer", "No answer"
        BUSY = "busy", "Busy"
        FAILED = "failed", "Failed"
        VOICEMAIL = "voicemail", "Voicemail"
        EARLY_HANGUP = "early_hangup", "Early hang-up"
        TRANSFERRED = "transferred", "Transferred"
        BLOCKED = "blocked", "Blocked"
        PRECHECK_FAILED = "precheck_failed", "Pre-check failed"
        CANCELED = "canceled", "Canceled"

    class ExtractionStatus(models.TextChoices):
        # Empty: the template extracts nothing, or the call was never answered.
        NONE = "", "None"
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        TIMED_OUT = "timed_out", "Timed out"

    class ExecutionMode(models.TextChoices):
        TELEPHONY = "TELEPHONY", "Telephony"
        TELEPHONY_TEST = "TELEPHONY_TEST", "Telephony (test)"
        DAILY = "DAILY", "Daily"
        DAILY_TEST = "DAILY_TEST", "Daily (test)"

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="calls")
    template_version = models.ForeignKey(
        TemplateVersion, on_delete=models.PROTECT, related_name="calls"
    )
    # The lead this call is an attempt for; playground and simulated calls have none.
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    execution_mode = models.CharField(max_length=16, choices=ExecutionMode.choices)
    provider = models.CharField(max_length=32)
    provider_call_id = models.CharField(max_length=128, blank=True)
    customer_phone = models.CharField(max_length=20, blank=True)
    # The lead's variables as they were when the call was created.
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)
    end_reason = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=64, blank=True)
    outcome_fields = models.JSONField(default=dict, blank=True)
    node_path = models.JSONField(default=list, blank=True)
    # Post-call extraction: `call.completed` is emitted once it leaves `pending`.
    extraction_status = models.CharField(
        max_length=16, choices=ExtractionStatus.choices, default="", blank=True
    )
    # {"source": "llm" | "rules" | null, "fields": {...}, "errors": [...]}
    extraction = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The media token's one-time part; `media_connected_at` set means it was spent.
    media_token_nonce = models.CharField(max_length=64, blank=True, editable=False)
    media_connected_at = models.DateTimeField(null=True, blank=True)
    worker_id = models.CharField(max_length=64, blank=True)
    # Set when the call's real LLM failed and the rules engine answered from then on.
    llm_fallback_at = models.DateTimeField(null=True, blank=True)
    llm_fallback_reason = models.CharField(max_length=255, blank=True)
    # W3C trace context of the dispatch that created it: later hops join its trace.
    traceparent = models.CharField(max_length=55, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The live-calls view and the crash reconciler look for unfinished calls.
            models.Index(
                fields=["status"], condition=~Q(status="ended"), name="call_unfinished_idx"
            ),
            # The extraction sweeper looks only at calls still waiting for their extraction.
            models.Index(
                fields=["ended_at"],
                condition=Q(extraction_status="pending"),
                name="call_extraction_pending_idx",
            ),
            # Provider callbacks find their call by the provider's id.
            models.Index(fields=["provider", "provider_call_id"], name="call_provider_id_idx"),
            # The dispatcher's per-number hourly cap counts a number's recent calls.
            models.Index(
                fields=["merchant", "customer_phone", "created_at"], name="call_number_recent_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Call {self.pk} ({self.get_status_display()})"

    @property
    def duration_seconds(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.answered_at).total_seconds()


STATUS_RANK = {status: rank for rank, status in enumerate(Call.Status.values)}


class Turn(models.Model):
    """One utterance in a call, with what the bot did and how long the customer waited."""

    class Speaker(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        BOT = "bot", "Bot"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="turns")
    index = models.PositiveIntegerField()
    speaker = models.CharField(max_length=16, choices=Speaker.choices)
    text = models.TextField()
    started_offset_ms = models.PositiveIntegerField(null=True, blank=True)
    ended_offset_ms = models.PositiveIntegerField(null=True, blank=True)
    node = models.CharField(max_length=64, blank=True)
    function_called = models.CharField(max_length=64, blank=True)
    # Bot turns answering the customer: end of customer speech → first bot audio, and parts.
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    stt_ms = models.PositiveIntegerField(null=True, blank=True)
    llm_ms = models.PositiveIntegerField(null=True, blank=True)
    tts_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["call", "index"]
        constraints = [
            # Turns are appended by index; a retried write cannot duplicate one.
            models.UniqueConstraint(fields=["call", "index"], name="turn_unique_index"),
        ]

    def __str__(self) -> str:
        return f"{self.speaker}: {self.text[:60]}"
