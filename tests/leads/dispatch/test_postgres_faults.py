"""PostgreSQL drops the dispatch worker's connections mid-dispatch: the next tick carries on.

The shared PostgreSQL server is not restarted (other test runs use it): the test ends the
worker's connections (`pg_terminate_backend`, found by the application name the worker's
libpq reports), which is what a server restart does to a client. Only the worker's: ending
this test process's other connections (those of asgiref's threads) would break later tests.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import redis
from django.db import connection

from calls.models import Call
from leads.models import Lead, LeadTransition
from leads.tasks import dispatch_due_leads
from templates_app.models import Template
from tests.leads.dispatch.workers import WORKER, beat_tick, due_leads_create, worker_env
from tests.processes import running, wait_for

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]
LEADS = 400
WORKER_APP_NAME = "breeze-dispatch-fault-worker"


def _terminate_worker_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [WORKER_APP_NAME],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.usefixtures("celery_not_eager")
def test_dispatch_resumes_after_postgres_drops_the_worker_s_connections(
    dispatch_template: Template, limiter: redis.Redis, tmp_path: Path
) -> None:
    assert connection.settings_dict["NAME"].startswith("test_")
    due_leads_create(template=dispatch_template, count=LEADS, prefix="+91982")
    limiter.delete("telephony")
    env = {**worker_env(), "PGAPPNAME": WORKER_APP_NAME}
    log = tmp_path / "worker.log"

    with running(WORKER, env=env, log=log):
        dispatch_due_leads.delay()
        wait_for(
            lambda: True if Call.objects.count() >= 50 else None,
            timeout=60,
            what="the worker to dial some leads",
            log=log,
        )
        terminated = _terminate_worker_connections()
        at_drop = Call.objects.count()
        wait_for(
            lambda: beat_tick(limiter, calls=LEADS),
            timeout=120,
            what="dispatch to resume after the drop",
            log=log,
        )

    assert terminated >= 1
    assert at_drop < LEADS, "the connections were dropped after dispatch had finished"
    assert set(Lead.objects.values_list("status", "attempts")) == {(Lead.Status.DIALING, 1)}
    assert set(Counter(Call.objects.values_list("lead_id", flat=True)).values()) == {1}
    claims = LeadTransition.objects.filter(to_status=Lead.Status.DIALING)
    assert claims.count() == LEADS
    assert set(Counter(claims.values_list("lead_id", flat=True)).values()) == {1}
