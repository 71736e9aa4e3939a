"""Daily rooms Breeze created: the warm pool, and which call each assigned room serves."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from calls.models import Call
from config.models import Merchant, TimeStampedModel


class DailyRoom(TimeStampedModel):
    """One room at Daily, in the merchant's Daily account; rows outlive the room as history."""

    class Status(models.TextChoices):
        IDLE = "idle", "Idle"
        ASSIGNED = "assigned", "Assigned"
        EXPIRED = "expired", "Expired"

    class Origin(models.TextChoices):
        POOL = "pool", "Pool"
        # Created while a client waited because the pool was empty.
        ON_DEMAND = "on_demand", "On demand"

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="daily_rooms")
    name = models.CharField(max_length=64, unique=True)
    url = models.URLField(max_length=300)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IDLE)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.POOL)
    call = models.OneToOneField(
        Call, on_delete=models.PROTECT, null=True, blank=True, related_name="daily_room"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    # The session asked for Daily's cloud recording; the bot starts it once the client joins.
    is_recording = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Assignment takes a merchant's idle room expiring last; the pool counts them.
            models.Index(
                fields=["merchant", "expires_at"],
                condition=Q(status="idle"),
                name="dailyroom_idle_idx",
            ),
            # The sweeper finds live rooms past their expiry or whose call has ended.
            models.Index(
                fields=["expires_at"], condition=~Q(status="expired"), name="dailyroom_live_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Daily room {self.name} ({self.get_status_display()})"
