"""The dispatcher writes each Call with the template's first configured provider."""

from __future__ import annotations

from collections.abc import Callable

from calls.models import Call
from leads.dispatch.services import leads_dispatch_batch
from leads.models import Lead
from templates_app.models import Template
from tests.leads.dispatch.conftest import ALWAYS


def test_the_first_listed_provider_dials_and_the_single_key_still_works(
    make_template: Callable[..., Template], make_lead: Callable[..., Lead]
) -> None:
    single = {k: v for k, v in ALWAYS.items() if k != "telephony_provider"}
    listed = make_template(
        "listed",
        execution={
            **single,
            "telephony_providers": [{"provider": "plivo"}, {"provider": "twilio"}],
        },
    )
    legacy = make_template("legacy", execution={**single, "telephony_provider": "exotel"})
    first = make_lead(template=listed, template_version=listed.versions.get())
    second = make_lead(template=legacy, template_version=legacy.versions.get())

    report = leads_dispatch_batch()

    assert len(report.dialled) == 2
    assert dict(Call.objects.values_list("lead_id", "provider")) == {
        first.pk: "plivo",
        second.pk: "exotel",
    }
