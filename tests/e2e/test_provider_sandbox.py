"""Leads pushed through the API are dialled through each real adapter against the provider
sandbox, a separate process that answers like Twilio, Plivo and Exotel: it fires the signed
status callbacks to Daphne, fetches the answer document and speaks the provider's stream
protocol with a scripted customer. Nothing in the test plays the provider.
"""

from __future__ import annotations

import io
import json
import urllib.request
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient

from calls.models import Call
from calls.recordings.models import Recording
from config.models import Membership
from leads.models import Lead
from telephony.sandbox.credentials import SANDBOX_CALLER, SANDBOX_SECRETS
from templates_app.demo import demo_definition_dialling
from tests.conftest import Tenants, free_port
from tests.e2e.conftest import (
    Stack,
    ended_call,
    healthy,
    push_order_lead,
    stack_running,
)
from tests.e2e.test_recording import recordings_root  # noqa: F401 - a fixture
from tests.processes import BIN, running, subprocess_env, wait_for

pytestmark = [pytest.mark.processes, pytest.mark.e2e]

CUSTOMER = "+919812345678"


@dataclass(frozen=True)
class SandboxStack:
    stack: Stack
    sandbox_url: str

    def sandbox_call(self, sid: str) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"{self.sandbox_url}/sandbox/calls/{sid}") as response:
                found: dict[str, Any] = json.load(response)
        except OSError:
            return None
        return found

    def finished(self, sid: str) -> dict[str, Any]:
        """The sandbox's record of the call once it sent its final callback."""

        def done() -> dict[str, Any] | None:
            found = self.sandbox_call(sid)
            return found if found is not None and found["finished"] else None

        return wait_for(done, timeout=20, what=f"the sandbox to end {sid}")

    def calls(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.sandbox_url}/sandbox/calls") as response:
            found: list[dict[str, Any]] = json.load(response)["calls"]
        return found


@pytest.fixture
def sandbox_stack(
    transactional_db: None, tmp_path: Path, settings: LazySettings
) -> Iterator[SandboxStack]:
    port, sandbox_port = free_port(), free_port()
    breeze = f"http://127.0.0.1:{port}"
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    api_roots = {
        "TWILIO_API_BASE_URL": f"{sandbox}/twilio",
        "PLIVO_API_BASE_URL": f"{sandbox}/plivo",
        "EXOTEL_API_BASE_URL": f"{sandbox}/exotel",
        "DAILY_API_BASE_URL": f"{sandbox}/daily/v1",
    }
    # Calls are placed in this process; their callback URLs must name the real Daphne.
    settings.PUBLIC_BASE_URL = breeze
    for name, value in api_roots.items():
        setattr(settings, name, value)
    command = [
        str(BIN / "python"),
        "manage.py",
        "run_provider_sandbox",
        "--port",
        str(sandbox_port),
        "--breeze-url",
        breeze,
        "--ring-seconds",
        "0.3",
        "--bridge-seconds",
        "0.5",
    ]
    log = tmp_path / "sandbox.log"
    with (
        running(command, env=subprocess_env(), log=log),
        stack_running(tmp_path, port=port, TEST_PUBLIC_BASE_URL=breeze, **api_roots) as stack,
    ):
        wait_for(lambda: healthy(f"{sandbox}/healthz"), timeout=30, what="the sandbox", log=log)
        yield SandboxStack(stack=stack, sandbox_url=sandbox)


class Push(Protocol):
    def __call__(
        self,
        provider: str,
        phone: str,
        *,
        recording: str = "off",
        voicemail: dict[str, str] | None = None,
    ) -> Lead: ...


@pytest.fixture
def push(tenants: Tenants, member_of_acme: Callable[[str], User]) -> Push:
    """Push a lead for `phone` to a template dialling through `provider`; dispatch it."""
    api = APIClient()
    api.force_authenticate(user=member_of_acme(Membership.Role.OPERATOR))

    def push_lead(
        provider: str,
        phone: str,
        *,
        recording: str = "off",
        voicemail: dict[str, str] | None = None,
    ) -> Lead:
        definition = demo_definition_dialling(
            "order-confirmation", provider=provider, caller=SANDBOX_CALLER, recording=recording
        )
        if voicemail is not None:
            definition["voicemail"] = voicemail
        return push_order_lead(
            api,
            tenants.acme,
            provider=provider,
            secrets=SANDBOX_SECRETS[provider],
            phone=phone,
            definition=definition,
        )

    return push_lead


# What each provider sends Breeze for an answered call, in order, and how Breeze answers.
ANSWERED_DELIVERIES = {
    "twilio": [
        ("status:initiated", 204),
        ("status:ringing", 204),
        ("status:in-progress", 204),
        ("answer", 200),
        ("status:completed", 204),
    ],
    "plivo": [("status:ringing", 204), ("answer", 200), ("status:completed", 204)],
    "exotel": [
        ("status:in-progress", 204),
        ("applet:voicebot", 200),
        # The bot ended the call without a transfer: the flow's Connect applet has nobody.
        ("applet:connect", 404),
        ("status:completed", 204),
    ],
}


@pytest.mark.parametrize("provider", ["twilio", "plivo", "exotel"])
def test_a_pushed_lead_is_answered_and_confirmed_through_the_sandbox(
    provider: str, sandbox_stack: SandboxStack, push: Push
) -> None:
    lead = push(provider, CUSTOMER)

    call = Call.objects.get(lead=lead)
    ended = wait_for(lambda: ended_call(call.pk), timeout=60, what=f"call {call.pk} to end")
    record = sandbox_stack.finished(ended.provider_call_id)

    assert (ended.provider, ended.disposition, ended.end_reason, ended.outcome) == (
        provider,
        Call.Disposition.ANSWERED,
        "bot_ended",
        "confirmed",
    )
    assert ended.node_path == ["confirm_order", "order_confirmed"]
    lead.refresh_from_db()
    assert (lead.status, lead.attempts, lead.last_disposition, lead.outcome) == (
        "completed",
        1,
        "answered",
        "confirmed",
    )
    assert (record["provider"], record["to"], record["from"], record["status"]) == (
        provider,
        CUSTOMER,
        SANDBOX_CALLER,
        "completed",
    )
    assert [(d["kind"], d["status"]) for d in record["deliveries"]] == ANSWERED_DELIVERIES[provider]
    conversation = record["conversation"]
    assert (conversation["customer_turns"], conversation["errors"]) == (["yes please"], [])
    assert conversation["bot_turns"] >= 2
    assert record["problems"] == (
        ["applet:connect: Breeze answered 404"] if provider == "exotel" else []
    )
    assert record["duration"] >= 1
    # The worker's Twilio and Plivo serializers hang up through the REST API as the bot ends,
    # and the sandbox stops the stream under it as the vendor does; Exotel has no hang-up: the
    # bot closing the stream ends the call.
    assert record["ended_by"] == ("bot" if provider == "exotel" else "rest")
    # The completed callback came after the worker ended the call and changed nothing.
    again = Call.objects.get(pk=call.pk)
    assert (again.disposition, again.end_reason) == (Call.Disposition.ANSWERED, "bot_ended")


@pytest.fixture(scope="module")
def sandbox_alone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sandbox with no Breeze to call back: enough for what its REST API refuses."""
    port = free_port()
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    command = [str(BIN / "python"), "manage.py", "run_provider_sandbox", "--port", str(port)]
    root = f"http://127.0.0.1:{port}"
    with running(command, env=subprocess_env(), log=log):
        wait_for(lambda: healthy(f"{root}/healthz"), timeout=30, what="the sandbox", log=log)
        yield root


@pytest.mark.parametrize("provider", ["twilio", "plivo", "exotel"])
@pytest.mark.parametrize(
    ("phone", "end_reason", "lead_status"),
    [
        # Permanent: the lead fails at once, never retried.
        ("+15005550001", "invalid_number", "failed"),
        # Transient (rate limited, server error): the lead is scheduled again.
        ("+15005550429", "provider_error", "scheduled"),
        ("+15005550500", "provider_error", "scheduled"),
    ],
)
def test_what_the_sandbox_api_refuses_fails_or_retries_the_lead(
    provider: str,
    phone: str,
    end_reason: str,
    lead_status: str,
    transactional_db: None,
    sandbox_alone: str,
    push: Push,
    settings: LazySettings,
) -> None:
    settings.TWILIO_API_BASE_URL = f"{sandbox_alone}/twilio"
    settings.PLIVO_API_BASE_URL = f"{sandbox_alone}/plivo"
    settings.EXOTEL_API_BASE_URL = f"{sandbox_alone}/exotel"

    lead = push(provider, phone)

    call = Call.objects.get(lead=lead)
    assert (call.status, call.disposition, call.end_reason, call.provider_call_id) == (
        Call.Status.ENDED,
        Call.Disposition.FAILED,
        end_reason,
        "",
    )
    lead.refresh_from_db()
    assert (lead.status, lead.attempts, lead.last_disposition) == (lead_status, 1, "failed")
    if lead_status == "scheduled":
        assert lead.next_attempt_at is not None
        assert call.ended_at is not None
        assert lead.next_attempt_at > call.ended_at


@pytest.mark.parametrize(
    ("provider", "phone", "disposition", "deliveries"),
    [
        (
            "twilio",
            "+15005550486",
            Call.Disposition.BUSY,
            [("status:initiated", 204), ("status:ringing", 204), ("status:busy", 204)],
        ),
        (
            "plivo",
            "+15005550408",
            Call.Disposition.NO_ANSWER,
            [("status:ringing", 204), ("status:no-answer", 204)],
        ),
        # Exotel reports only the end of a call nobody answered.
        ("exotel", "+15005550486", Call.Disposition.BUSY, [("status:busy", 204)]),
    ],
)
def test_a_call_nobody_answers_ends_as_the_providers_callbacks_say(
    provider: str,
    phone: str,
    disposition: str,
    deliveries: list[tuple[str, int]],
    sandbox_stack: SandboxStack,
    push: Push,
) -> None:
    lead = push(provider, phone)

    call = Call.objects.get(lead=lead)
    ended = wait_for(lambda: ended_call(call.pk), timeout=30, what=f"call {call.pk} to end")
    [record] = sandbox_stack.calls()
    record = sandbox_stack.finished(record["sid"])

    assert (ended.disposition, ended.provider_call_id) == (disposition, record["sid"])
    assert [(d["kind"], d["status"]) for d in record["deliveries"]] == deliveries
    assert (record["conversation"], record["duration"], record["problems"]) == (None, 0, [])
    lead.refresh_from_db()
    assert (lead.status, lead.attempts, lead.last_disposition) == ("scheduled", 1, disposition)


def test_the_make_run_demo_pushes_a_sandbox_lead_that_ends_confirmed(
    sandbox_stack: SandboxStack, settings: LazySettings
) -> None:
    """What `BREEZE_PROVIDER_SANDBOX=1 make run` does: setup_demo, then push_sandbox_leads."""
    settings.BREEZE_ADMIN_PASSWORD = "demo-pass-123"
    settings.BREEZE_PROVIDER_SANDBOX = True
    settings.BREEZE_PROVIDER_SANDBOX_URL = sandbox_stack.sandbox_url
    # As in the dev stack, a push asks the dispatcher at once (eager Celery here).
    settings.BREEZE_DISPATCH_KICK = True
    call_command("setup_demo", stdout=io.StringIO())
    output = io.StringIO()

    call_command("push_sandbox_leads", "--provider", "plivo", "--wait", "60", stdout=output)

    lead = Lead.objects.get(template__slug="sandbox-plivo")
    call = Call.objects.get(lead=lead)
    assert (lead.status, lead.outcome, call.disposition, call.end_reason) == (
        "completed",
        "confirmed",
        Call.Disposition.ANSWERED,
        "bot_ended",
    )
    assert output.getvalue().splitlines() == [
        f"plivo: lead {lead.pk} pushed to sandbox-plivo",
        f"plivo: lead {lead.pk} completed, outcome confirmed, call {call.pk} answered "
        f"(bot_ended): http://127.0.0.1:8000/admin/calls/call/{call.pk}/change/",
        f"The sandbox's view: {sandbox_stack.sandbox_url}/sandbox/calls",
    ]
    [record] = sandbox_stack.calls()
    assert (record["provider"], record["sid"], record["to"]) == (
        "plivo",
        call.provider_call_id,
        lead.phone,
    )
    # A fresh customer number for every demo lead: restarts stay under the hourly cap.
    assert lead.phone.startswith("+9198")
    assert len(lead.phone) == 13


@pytest.mark.parametrize(
    ("provider", "source"),
    [("twilio", Recording.Source.TWILIO), ("plivo", Recording.Source.PLIVO)],
)
def test_a_call_the_provider_records_is_downloaded_from_the_sandbox(
    provider: str,
    source: str,
    recordings_root: Path,  # noqa: F811 - the fixture imported above
    sandbox_stack: SandboxStack,
    push: Push,
) -> None:
    lead = push(provider, CUSTOMER, recording="provider")

    call = Call.objects.get(lead=lead)
    wait_for(lambda: ended_call(call.pk), timeout=60, what=f"call {call.pk} to end")
    record = sandbox_stack.finished(Call.objects.get(pk=call.pk).provider_call_id)
    recording = wait_for(
        lambda: Recording.objects.filter(call=call, status=Recording.Status.STORED).first(),
        timeout=20,
        what="the provider's recording to be stored",
    )

    assert (recording.source, recording.provider_recording_id) == (source, record["recording"])
    # The recording is the stream, both sides, as long as the conversation lasted.
    assert recording.duration_seconds is not None
    assert abs(recording.duration_seconds - record["conversation"]["seconds"]) < 0.05
    assert [d["kind"] for d in record["deliveries"]][-2:] == ["status:completed", "recording"]
    assert [d["status"] for d in record["deliveries"]][-1] == 204
    stored = (recordings_root / recording.storage_name).read_bytes()
    with wave.open(io.BytesIO(stored), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert abs(wav.getnframes() / 8000 - recording.duration_seconds) < 0.001


@pytest.mark.parametrize(
    ("provider", "deliveries"),
    [
        (
            "twilio",
            [
                ("status:initiated", 204),
                ("status:ringing", 204),
                ("status:in-progress", 204),
                ("answer", 200),
                ("amd", 204),
                ("status:completed", 204),
            ],
        ),
        (
            "plivo",
            [("status:ringing", 204), ("answer", 200), ("amd", 204), ("status:completed", 204)],
        ),
    ],
)
def test_an_answering_machine_is_detected_and_hung_up_on(
    provider: str, deliveries: list[tuple[str, int]], sandbox_stack: SandboxStack, push: Push
) -> None:
    lead = push(provider, "+15005550777", voicemail={"action": "hangup"})

    call = Call.objects.get(lead=lead)
    ended = wait_for(lambda: ended_call(call.pk), timeout=60, what=f"call {call.pk} to end")
    record = sandbox_stack.finished(ended.provider_call_id)

    assert (ended.disposition, ended.end_reason) == (
        Call.Disposition.VOICEMAIL,
        "provider_voicemail",
    )
    assert [(d["kind"], d["status"]) for d in record["deliveries"]] == deliveries
    # Breeze hung up on the machine through the provider's API.
    assert (record["ended_by"], record["problems"]) == ("rest", [])
    assert record["conversation"]["hung_up_by"] == "provider"
    lead.refresh_from_db()
    assert (lead.status, lead.last_disposition) == ("scheduled", "voicemail")
