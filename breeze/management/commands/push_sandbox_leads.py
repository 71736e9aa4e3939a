"""Push one lead to each sandbox template of the demo merchant and report how each call ended.

For `BREEZE_PROVIDER_SANDBOX=1 make run` (scripts/demo_call.sh runs it once the stack is up):
each lead is dispatched and dialled through the real Twilio, Plivo or Exotel adapter against
the provider sandbox, whose scripted customer answers.
"""

from __future__ import annotations

import secrets
import time
import urllib.request
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls.models import Call
from leads.dispatch.services import ACTOR as DISPATCHER
from leads.models import Lead
from leads.services import lead_create
from telephony.sandbox.demo import SANDBOX_TEMPLATES
from templates_app.definition.variables import example_payload
from templates_app.models import Template


def _fresh_number() -> str:
    """A valid Indian mobile number nobody was called on: the sandbox answers it."""
    return f"+9198{secrets.randbelow(10**8):08d}"


FINAL = frozenset({Lead.Status.COMPLETED, Lead.Status.FAILED, Lead.Status.EXHAUSTED})


class Command(BaseCommand):
    help = "Push a lead to each provider sandbox template and wait for the calls to end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--merchant", default="acme")
        parser.add_argument(
            "--phone",
            default="",
            help="the customer (magic numbers: docs/providers.md); default: a fresh number per "
            "lead, so that restarts stay under the calls-per-number-per-hour cap",
        )
        parser.add_argument(
            "--provider", action="append", choices=sorted(SANDBOX_TEMPLATES), default=None
        )
        parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for ends")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.BREEZE_PROVIDER_SANDBOX:
            raise CommandError("the provider sandbox is off: set BREEZE_PROVIDER_SANDBOX=1")
        self._wait_for_sandbox()
        admin = User.objects.filter(is_superuser=True).order_by("pk").first()
        if admin is None:
            raise CommandError("no admin user: run `manage.py setup_demo` first")
        # One at a time: the demo's voice pool keeps two workers warm.
        for provider in options["provider"] or sorted(SANDBOX_TEMPLATES):
            template = Template.objects.filter(
                merchant__slug=options["merchant"], slug=SANDBOX_TEMPLATES[provider]
            ).first()
            version = template.versions.filter(status="published").first() if template else None
            if template is None or version is None:
                raise CommandError(f"no published {SANDBOX_TEMPLATES[provider]!r}: run setup_demo")
            lead, _ = lead_create(
                user=admin,
                data={
                    "template": template.slug,
                    "merchant": options["merchant"],
                    "phone": options["phone"] or _fresh_number(),
                    "payload": example_payload(version.definition),
                },
            )
            self.stdout.write(f"{provider}: lead {lead.pk} pushed to {template.slug}")
            self._report(provider, lead, wait=options["wait"])
        self.stdout.write(
            f"The sandbox's view: {settings.BREEZE_PROVIDER_SANDBOX_URL}/sandbox/calls"
        )

    def _wait_for_sandbox(self) -> None:
        url = f"{settings.BREEZE_PROVIDER_SANDBOX_URL}/healthz"
        for _ in range(60):
            try:
                with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a local URL
                    return
            except OSError:
                time.sleep(1)
        raise CommandError(f"the provider sandbox does not answer at {url}")

    def _report(self, provider: str, lead: Lead, *, wait: float) -> None:
        deadline = time.monotonic() + wait
        call = None
        while time.monotonic() < deadline:
            lead.refresh_from_db()
            call = Call.objects.filter(lead=lead).order_by("-pk").first()
            # Settled: done for good, or its call ended and a retry is scheduled.
            if lead.status in FINAL or (
                call is not None
                and call.status == Call.Status.ENDED
                and lead.status == Lead.Status.SCHEDULED
            ):
                break
            held = lead.transitions.filter(actor=DISPATCHER, to_status="scheduled").last()
            if call is None and held is not None:
                # The dispatcher put it off (a cap, a window): say why instead of waiting.
                self.stdout.write(
                    f"{provider}: lead {lead.pk} held by the dispatcher: {held.reason}"
                )
                return
            time.sleep(0.5)
        ended = (
            f"call {call.pk} {call.disposition or call.status} ({call.end_reason or '-'}): "
            f"http://127.0.0.1:8000/admin/calls/call/{call.pk}/change/"
            if call
            else "no call yet"
        )
        self.stdout.write(
            f"{provider}: lead {lead.pk} {lead.status}, outcome {lead.outcome or '-'}, {ended}"
        )
