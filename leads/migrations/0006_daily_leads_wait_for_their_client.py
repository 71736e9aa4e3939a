"""DAILY/DAILY_TEST leads pushed while they were still dialled wait for their client instead.

Before this, a pushed Daily lead was `scheduled` and the dispatcher phoned it. Each such lead
that has not been claimed yet moves to `queued` with no due time, with a history row, as a
Daily lead pushed now is (docs/providers.md, Daily).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.utils import timezone

DAILY_MODES = ["DAILY", "DAILY_TEST"]


def daily_leads_wait(apps: Any, schema_editor: Any) -> None:
    Lead = apps.get_model("leads", "Lead")
    LeadTransition = apps.get_model("leads", "LeadTransition")
    now = timezone.now()
    waiting = Lead.objects.select_for_update(skip_locked=True).filter(
        status="scheduled", execution_mode__in=DAILY_MODES
    )
    ids = list(waiting.values_list("pk", flat=True))
    Lead.objects.filter(pk__in=ids, status="scheduled").update(
        status="queued", next_attempt_at=None, updated_at=now
    )
    LeadTransition.objects.bulk_create(
        LeadTransition(
            lead_id=lead_id,
            from_status="scheduled",
            to_status="queued",
            actor="migration",
            reason="Daily lead: waits for a client to connect",
            at=now,
        )
        for lead_id in ids
    )


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0005_dispatch_limits_in_admin"),
    ]

    operations = [
        migrations.RunPython(daily_leads_wait, migrations.RunPython.noop),
    ]
