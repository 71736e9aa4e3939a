from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from calls.models import Call
from config.call_config import TEST_EXECUTION_MODES
from config.models import Merchant, TimeStampedModel, validate_time_zone
from templates_app.models import Template, TemplateVersion


class Lead(TimeStampedModel):
    """A customer to call with the data the template needs; every status change is recorded."""

    class Status(models.TextChoices):
        # queued: accepted but waiting for something other than time (a campaign to start);
        # scheduled: due at next_attempt_at, the only status the dispatcher claims.
        QUEUED = "queued", "Queued"
        SCHEDULED = "scheduled", "Scheduled"
        DIALING = "dialing", "Dialing"
        IN_CALL = "in_call", "In call"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        EXHAUSTED = "exhausted", "Exhausted"
        CANCELLED = "cancelled", "Cancelled"

    ExecutionMode = Call.ExecutionMode

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="leads")
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="leads")
    # The version published when the lead was pushed; later publishes do not change it.
    template_version = models.ForeignKey(
        TemplateVersion, on_delete=models.PROTECT, related_name="leads"
    )
    phone = models.CharField(max_length=20)
    payload = models.JSONField(default=dict, blank=True)
    execution_mode = models.CharField(
        max_length=16, choices=ExecutionMode.choices, default=ExecutionMode.TELEPHONY
    )
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    scheduled_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    # SHA-256 of the canonical request, telling a retry of the same push from a reused key.
    request_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    webhook_url = models.URLField(max_length=2000, blank=True)
    is_playground = models.BooleanField(default=False)
    config_overrides = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_disposition = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(max_length=64, blank=True)
    outcome_fields = models.JSONField(default=dict, blank=True)
    # "user:<username>" or "api_key:<label>": who pushed it, kept even if the caller is deleted.
    created_by = models.CharField(max_length=200, blank=True)
    lead_import = models.ForeignKey(
        "LeadImport", on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    import_row = models.PositiveIntegerField(null=True, blank=True)
    # W3C trace context of the push: dispatch joins its trace (config/tracing).
    traceparent = models.CharField(max_length=55, blank=True, editable=False)
    # A campaign's leads wait `queued` until its tick releases them (docs/dispatch.md).
    campaign = models.ForeignKey(
        "Campaign", on_delete=models.PROTECT, null=True, blank=True, related_name="leads"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="lead_unique_idempotency_key",
            ),
            # A re-run CSV import inserts each row once.
            models.UniqueConstraint(
                fields=["lead_import", "import_row"],
                condition=Q(lead_import__isnull=False),
                name="lead_unique_import_row",
            ),
            # Playground overrides change how a call behaves; live calls never take them.
            models.CheckConstraint(
                name="lead_playground_only_in_test_modes",
                condition=Q(is_playground=False, config_overrides={})
                | Q(execution_mode__in=sorted(TEST_EXECUTION_MODES)),
            ),
        ]
        indexes = [
            # The dispatcher claims due leads: WHERE status='scheduled' AND next_attempt_at <= now.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="scheduled"),
                name="lead_due_idx",
            ),
            # The lead list: a merchant's leads newest first, optionally by status or template.
            models.Index(fields=["merchant", "-created_at"], name="lead_merchant_created_idx"),
            models.Index(
                fields=["merchant", "status", "-created_at"], name="lead_merchant_status_idx"
            ),
            models.Index(fields=["template", "-created_at"], name="lead_template_created_idx"),
            # The phone filter and the per-number checks look a number up within a merchant.
            models.Index(fields=["merchant", "phone"], name="lead_merchant_phone_idx"),
            # A campaign's tick takes its queued leads oldest due first; progress counts statuses.
            models.Index(
                fields=["campaign", "status", "next_attempt_at"],
                condition=Q(campaign__isnull=False),
                name="lead_campaign_status_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Lead {self.pk} {self.phone} ({self.get_status_display()})"


class LeadTransition(models.Model):
    """One status change of a lead: who or what moved it, when and why."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="transitions")
    # Empty for the row written when the lead was created.
    from_status = models.CharField(max_length=16, choices=Lead.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Lead.Status.choices)
    actor = models.CharField(max_length=200)
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["lead", "at", "pk"]
        indexes = [
            # A lead's history, read in order on its detail page.
            models.Index(fields=["lead", "at"], name="lead_transition_lead_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class LeadImport(TimeStampedModel):
    """A CSV of leads processed in the background, with progress and per-row errors."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="lead_imports")
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="lead_imports")
    execution_mode = models.CharField(max_length=16, choices=Lead.ExecutionMode.choices)
    file = models.FileField(upload_to="lead_imports/%Y/%m/")
    original_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Why the whole file was refused (no phone column, not UTF-8…); rows report their own.
    error = models.CharField(max_length=500, blank=True)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    ok_rows = models.PositiveIntegerField(default=0)
    failed_rows = models.PositiveIntegerField(default=0)
    created_by = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["merchant", "-created_at"], name="lead_import_merchant_idx"),
        ]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.get_status_display()})"


class LeadImportError(models.Model):
    """Why one CSV row was not imported; rows are numbered as a spreadsheet shows them (header = 1)."""

    lead_import = models.ForeignKey(LeadImport, on_delete=models.CASCADE, related_name="errors")
    row = models.PositiveIntegerField()
    field = models.CharField(max_length=200)
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["lead_import", "row", "field"]
        constraints = [
            # A re-run import reports each row's problems once.
            models.UniqueConstraint(
                fields=["lead_import", "row", "field"], name="lead_import_error_unique_row"
            ),
        ]

    def __str__(self) -> str:
        return f"row {self.row} {self.field}: {self.reason}"


class DoNotCall(TimeStampedModel):
    """A number never to call: for one merchant, or for every merchant when `merchant` is empty."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, null=True, blank=True, related_name="do_not_call"
    )
    phone = models.CharField(max_length=20, help_text="E.164, for example +919812345678.")
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["phone"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "phone"],
                condition=Q(merchant__isnull=False),
                name="dnc_unique_merchant_phone",
            ),
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(merchant__isnull=True),
                name="dnc_unique_platform_phone",
            ),
        ]
        indexes = [
            # Checked by number at push and at dial, for the merchant and platform-wide at once.
            models.Index(fields=["phone"], name="dnc_phone_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} (do not call)"


class Campaign(TimeStampedModel):
    """A set of one merchant's leads for one template, dialled at a bounded rate by beat."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        STOPPED = "stopped", "Stopped"
        COMPLETED = "completed", "Completed"

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="campaigns")
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    # Where its leads came from: a CSV import, or the filter over existing leads (as given).
    lead_import = models.ForeignKey(
        LeadImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="campaigns"
    )
    lead_filter = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    pause_reason = models.CharField(max_length=300, blank=True)
    calls_per_minute = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(6000)]
    )
    max_concurrency = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    # Auto-pause: the share of failed attempts among the last `failure_window` finished ones.
    failure_threshold = models.FloatField(
        default=0.5, validators=[MinValueValidator(0.01), MaxValueValidator(1.0)]
    )
    failure_window = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    created_by = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # The failure window counts attempts ended since the last start or resume.
    resumed_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="campaign_limits_positive",
                condition=Q(calls_per_minute__gte=1, max_concurrency__gte=1, failure_window__gte=1),
            ),
            models.CheckConstraint(
                name="campaign_failure_threshold_range",
                condition=Q(failure_threshold__gt=0, failure_threshold__lte=1),
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "-created_at"], name="campaign_merchant_idx"),
            # The beat tick reads the running campaigns.
            models.Index(fields=["id"], condition=Q(status="running"), name="campaign_running_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"


class DispatchLimits(TimeStampedModel):
    """The dispatcher's caps for one merchant, or the platform's defaults when `merchant` is empty.

    An empty field falls back to the platform row, then to the setting named in its help text.
    The per-template cap is the template's own `execution.concurrency_cap`.
    """

    merchant = models.OneToOneField(
        Merchant,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dispatch_limits",
        help_text="Empty: the platform's defaults for every merchant.",
    )
    concurrent_calls = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text="Calls in flight at once. Default: BREEZE_MERCHANT_CONCURRENCY.",
    )
    concurrent_calls_per_caller_number = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text="Calls in flight at once from one caller number. Default: no cap.",
    )
    calls_per_number_per_hour = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1_000)],
        help_text="Calls to one customer number in any hour. Default: "
        "BREEZE_CALLS_PER_NUMBER_PER_HOUR.",
    )

    class Meta:
        verbose_name = "dispatch limits"
        verbose_name_plural = "dispatch limits"
        constraints = [
            # One platform row; each merchant's row is unique through the one-to-one.
            models.UniqueConstraint(
                fields=["merchant"], nulls_distinct=False, name="dispatch_limits_one_per_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"Dispatch limits: {self.merchant or 'platform defaults'}"
