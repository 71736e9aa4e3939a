"""Run one complete call through the running stack with a scripted customer, and report it."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls.models import Call
from calls.services import call_create
from telephony.providers.simulator.dialer import simulator_dial
from telephony.providers.simulator.persona import PERSONAS
from telephony.tokens import media_token_issue
from templates_app.definition.variables import example_payload
from templates_app.models import Template, TemplateVersion

END_WAIT_SECONDS = 20.0


class Command(BaseCommand):
    help = (
        "Place a simulated call: a scripted customer talks to a template over the real media path."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--template", required=True, help="template slug")
        parser.add_argument(
            "--merchant", default="", help="merchant slug (when several have the template)"
        )
        parser.add_argument("--persona", required=True, choices=sorted(PERSONAS))
        parser.add_argument("--phone", default="+15555550123")
        parser.add_argument(
            "--payload",
            default="",
            help="lead variables as JSON (default: the template's examples)",
        )
        parser.add_argument("--base-url", default=settings.PUBLIC_BASE_URL)
        parser.add_argument(
            "--speed", type=float, default=1.0, help="customer audio faster than real time"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        version = self._version(options["template"], options["merchant"])
        payload = self._payload(version, options["payload"])
        call = call_create(
            version=version,
            execution_mode=Call.ExecutionMode.TELEPHONY_TEST,
            provider="simulator",
            customer_phone=options["phone"],
            payload=payload,
        )
        self.stdout.write(
            f"call {call.pk}: {version.template.name} v{version.number} as {options['persona']}"
        )
        result = asyncio.run(
            simulator_dial(
                call=call,
                token=media_token_issue(call=call),
                persona=PERSONAS[options["persona"]],
                base_url=options["base_url"],
                speed=options["speed"],
            )
        )
        call = self._wait_for_end(call.pk)
        self._report(call, hung_up_by=result.hung_up_by, errors=result.errors)
        if call.status != Call.Status.ENDED:
            raise CommandError(f"call {call.pk} did not end (status {call.status})")

    def _version(self, slug: str, merchant: str) -> TemplateVersion:
        templates = Template.objects.filter(slug=slug)
        if merchant:
            templates = templates.filter(merchant__slug=merchant)
        template = templates.order_by("merchant__slug").first()
        if template is None:
            raise CommandError(f"no template {slug!r}")
        version = template.versions.filter(status=TemplateVersion.Status.PUBLISHED).first()
        if version is None:
            raise CommandError(f"template {slug!r} has no published version")
        return version

    def _payload(self, version: TemplateVersion, raw: str) -> dict[str, Any]:
        if raw:
            try:
                payload = json.loads(raw)
            except json.JSONDecodeError as error:
                raise CommandError(f"--payload is not JSON: {error.msg}") from error
            if not isinstance(payload, dict):
                raise CommandError("--payload must be a JSON object")
            return payload
        return example_payload(version.definition)

    def _wait_for_end(self, call_id: int) -> Call:
        deadline = time.monotonic() + END_WAIT_SECONDS
        while True:
            call = Call.objects.get(pk=call_id)
            if call.status == Call.Status.ENDED or time.monotonic() > deadline:
                return call
            time.sleep(0.2)

    def _report(self, call: Call, *, hung_up_by: str, errors: list[str]) -> None:
        write = self.stdout.write
        for turn in call.turns.order_by("index"):
            latency = (
                f"   [{turn.latency_ms} ms: stt {turn.stt_ms}, llm {turn.llm_ms}, tts {turn.tts_ms}]"
                if turn.latency_ms is not None
                else ""
            )
            action = f"  → {turn.function_called}" if turn.function_called else ""
            write(f"  {turn.speaker:>8}: {turn.text}{action}{latency}")
        write(f"path: {' → '.join(call.node_path)}")
        write(
            f"outcome: {call.outcome or '—'} {json.dumps(call.outcome_fields) if call.outcome_fields else ''}"
        )
        write(f"ended: {call.disposition} ({call.end_reason}); hung up by {hung_up_by}")
        for error in errors:
            write(self.style.WARNING(f"simulator: {error}"))
