"""Webhook endpoints, and the outbox of deliveries with one row per HTTP attempt."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from calls.webhooks.events import EventType
from config.models import Merchant, TimeStampedModel


class WebhookEndpoint(TimeStampedModel):
    """A merchant's receiver: the events it subscribes to and the secret that signs them.

    During a rotation the previous secret keeps signing (a second signature) until
    `previous_secret_expires_at`. The merchant's default endpoint's secret also signs
    deliveries to leads' own `webhook_url`s.
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Event type names (calls.webhooks.events.EventType); empty means every type.
    event_types = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(
        default=False, help_text="Its secret signs deliveries to leads' own webhook URLs."
    )
    # Fernet tokens (config.crypto); the plain secret is shown once, on create and rotate.
    secret_ciphertext = models.TextField(editable=False)
    previous_secret_ciphertext = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Circuit breaker: after N failures in a row, nothing is attempted until `circuit_open_until`.
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    circuit_open_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["merchant__name", "url"]
        constraints = [
            # Lead deliveries are signed with exactly one secret per merchant.
            models.UniqueConstraint(
                fields=["merchant"], condition=Q(is_default=True), name="webhook_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} → {self.url}"


class WebhookDelivery(TimeStampedModel):
    """One event bound for one target, written in the transaction that caused the event."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERING = "delivering", "Delivering"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (not retried)"
        DEAD = "dead", "Dead (retries exhausted)"

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    # The target: a merchant endpoint, or a lead's own URL (then signed by the default endpoint).
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    target_url = models.URLField(max_length=2000, blank=True)
    event_id = models.CharField(max_length=36)
    event_type = models.CharField(max_length=32, choices=[(t.value, t.value) for t in EventType])
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # While delivering: when the claim lapses and the sweeper may hand the delivery out again.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replays"
    )
    # W3C trace context of the change that wrote the event: its delivery joins that trace.
    traceparent = models.CharField(max_length=55, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.CheckConstraint(
                name="webhook_delivery_one_target",
                condition=(Q(endpoint__isnull=False) & Q(target_url=""))
                | (Q(endpoint__isnull=True) & ~Q(target_url="")),
            ),
        ]
        indexes = [
            # The sweeper: pending deliveries whose time has come.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_due_idx",
            ),
            # The sweeper: claims whose lease lapsed (a worker died mid-delivery).
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status="delivering"),
                name="webhook_delivery_lease_idx",
            ),
            # The delivery list: a merchant's deliveries newest first; and by event id.
            models.Index(fields=["merchant", "-created_at"], name="webhook_delivery_list_idx"),
            models.Index(fields=["event_id"], name="webhook_delivery_event_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} ({self.get_status_display()})"


class WebhookAttempt(models.Model):
    """One HTTP POST of a delivery and what came back."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempts_log"
    )
    number = models.PositiveIntegerField()
    url = models.URLField(max_length=2000)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.CharField(max_length=2000, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            # A number is taken by the claim that made the attempt; a retried write is a no-op.
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"
