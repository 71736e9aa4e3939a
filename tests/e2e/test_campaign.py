"""A campaign through the whole stack: tick → dispatcher → simulator → voice worker → outcome.

Celery is eager here, so each tick's kick runs the dispatcher and the placement in this
process once the tick commits; the simulated customer talks to the real Daphne and voice pool.
"""

from __future__ import annotations

import pytest
from django.conf import LazySettings

from leads.campaigns.selectors import campaign_progress
from leads.models import Campaign
from templates_app.models import TemplateVersion
from tests.e2e.campaign_run import campaign_run
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.processes, pytest.mark.e2e]


def test_a_campaign_dials_its_leads_one_at_a_time_and_completes(
    stack: Stack, published: TemplateVersion, settings: LazySettings
) -> None:
    run = campaign_run(stack, published, settings)

    first, second = run.leads
    assert run.second_queued_after_first is True
    assert run.released_by_second_tick == 1
    assert run.completed_by_last_tick is True
    assert run.campaign.status == Campaign.Status.COMPLETED
    assert (first.outcome, second.outcome) == ("confirmed", "confirmed")
    progress = campaign_progress(campaign_id=run.campaign.pk)
    assert (progress["dialled"], progress["answered"], progress["remaining"]) == (2, 2, 0)
    assert progress["outcomes"] == {"confirmed": 2}
