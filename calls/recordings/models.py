"""A call's recording: a file in the recordings storage, and how long it is kept."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from config.models import Merchant, TimeStampedModel


class Recording(TimeStampedModel):
    """One recording per call, made by the voice worker or downloaded from the provider.

    A provider recording exists as a row (`pending`) from the provider's callback until its
    file is downloaded into storage (`stored`) or the download gives up (`failed`).
    """

    class Source(models.TextChoices):
        WORKER = "worker", "Voice worker"
        TWILIO = "twilio", "Twilio"
        PLIVO = "plivo", "Plivo"
        EXOTEL = "exotel", "Exotel"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending download"
        STORED = "stored", "Stored"
        FAILED = "failed", "Failed"

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="recordings")
    call = models.OneToOneField("calls.Call", on_delete=models.CASCADE, related_name="recording")
    source = models.CharField(max_length=16, choices=Source.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # The file's name in the `recordings` storage; empty until stored.
    storage_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=64, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    provider_recording_id = models.CharField(max_length=128, blank=True)
    download_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    stored_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The retention task deletes by expiry.
            models.Index(fields=["expires_at"], name="recording_expiry_idx"),
            # The download sweeper looks for pending downloads coming due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="recording_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Recording of call {self.call_id} ({self.get_status_display()})"


class RecordingRetention(TimeStampedModel):
    """How many days a merchant's recordings are kept (BREEZE_RECORDING_RETENTION_DAYS if none)."""

    merchant = models.OneToOneField(
        Merchant, on_delete=models.CASCADE, related_name="recording_retention"
    )
    days = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="recording_retention_days_positive", condition=Q(days__gte=1)
            )
        ]

    def __str__(self) -> str:
        return f"{self.merchant}: {self.days} days"
