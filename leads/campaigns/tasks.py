"""Thin, id-only Celery tasks for campaigns; the work is in `tick.py`."""

from __future__ import annotations

from celery import shared_task

from leads.campaigns.tick import campaign_tick, campaigns_tick_running


# Beat, every BREEZE_CAMPAIGN_TICK_SECONDS; overlapping runs skip each other's campaigns.
@shared_task(acks_late=True)
def campaigns_tick_task() -> None:
    campaigns_tick_running()


# Start and resume kick one tick at once, so the first dial does not wait for beat.
@shared_task(acks_late=True)
def campaign_tick_task(campaign_id: int) -> None:
    campaign_tick(campaign_id=campaign_id)
