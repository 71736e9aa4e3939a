"""docs/api.md's walk-through, run as written: its curl commands against the demo data.

Every `curl` of the walk-through (and its `printf` of the CSV) is parsed from the page and sent
through the API in order, with `$BASE` empty, `$ACCESS` and `$TOKEN` taken from the answers
as the page says, and the page's example ids (4711, 4712, 31) replaced by the real ones. Each
answer must be what the page's comment under the command promises: its status, and every
key of its JSON that is written out in full. Reading a finished call needs the voice stack
(tests/e2e cover it), so the `/calls/` commands are only checked to be there.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings, settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from config.auth.principal import ApiKeyPrincipal
from config.models import Membership, Merchant
from config.services import api_key_create
from leads.models import Lead
from leads.services import lead_create

pytestmark = pytest.mark.django_db
PASSWORD = "walk-through-pass-1"
Role = Membership.Role
EXAMPLE_IDS = ("4711", "4712", "31")


@dataclass
class Command:
    line: str
    comment: list[str] = field(default_factory=list)


def _walkthrough() -> list[Command]:
    text = (Path(settings.BASE_DIR) / "docs" / "api.md").read_text()
    section = text.split("## Walk-through", 1)[1].split("\n## ", 1)[0]
    commands: list[Command] = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL):
        pending = ""
        for raw in block.splitlines():
            if raw.startswith("#"):
                commands[-1].comment.append(raw.lstrip("#").strip())
                continue
            pending += raw.rstrip("\\").rstrip() + " " if raw.endswith("\\") else raw
            if raw.endswith("\\") or pending.count("'") % 2:
                pending += "" if raw.endswith("\\") else "\n"
                continue
            line, _, note = pending.partition("  # ")
            commands.append(Command(line.strip(), [note.strip()] if note.strip() else []))
            pending = ""
    return commands


def _promised(comment: list[str]) -> tuple[int | None, dict[str, Any] | None]:
    """The status and the JSON a command's comment promises, where written out in full."""
    # The first comment line, and those continuing its JSON (not the prose after it).
    lines = comment[:1] + list(itertools.takewhile(lambda line: line[:1] in '"{[', comment[1:]))
    text = " ".join(lines).removeprefix("→").strip()
    status = None
    if match := re.match(r"(\d{3}) ", text):
        status, text = int(match[1]), text[4:]
    # `, …}` leaves the other keys out; `, …]` the other items, kept as a marker.
    text = re.sub(r",\s*…\s*}", "}", re.sub(r",\s*…\s*]", ', "…"]', text))
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    return status, body


def _contains(answer: Any, promised: Any) -> bool:
    if isinstance(promised, dict):
        return isinstance(answer, dict) and all(
            key == "id" or _contains(answer.get(key), value) for key, value in promised.items()
        )
    if isinstance(promised, list):
        if promised and promised[-1] == "…":
            promised, answer = promised[:-1], answer[: len(promised) - 1]
        return (
            isinstance(answer, list)
            and len(answer) == len(promised)
            and all(_contains(a, p) for a, p in zip(answer, promised, strict=True))
        )
    if isinstance(promised, str) and "…" in promised:
        # "brz_…" is a token starting brz_; "…" alone is any value.
        return isinstance(answer, str) and answer.startswith(promised.split("…", 1)[0])
    return bool(answer == promised)


@dataclass
class Curl:
    method: str = "GET"
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    data: str | None = None
    form: dict[str, str] = field(default_factory=dict)

    def send(self, files: dict[str, bytes]) -> Any:
        """Through the API in this process, as curl would send it."""
        client = APIClient()
        headers = {k: v for k, v in self.headers.items() if k != "Content-Type"}
        if self.form:
            upload = self.form["file"].removeprefix("@")
            form: dict[str, Any] = {
                **self.form,
                "file": SimpleUploadedFile(upload, files[upload], content_type="text/csv"),
            }
            return client.post(self.url, form, format="multipart", headers=headers)
        if self.method == "POST":
            return client.post(
                self.url, self.data, content_type="application/json", headers=headers
            )
        return client.get(self.url, headers=headers)


def _curl(words: list[str], *, env: dict[str, str], ids: dict[str, str]) -> Curl:
    """A curl command line, its `$VARIABLES` filled and the page's example ids made real."""

    def fill(text: str) -> str:
        return re.sub(r"\$(\w+)", lambda match: env[match[1]], text)

    curl = Curl()
    args = iter(words[1:])
    for word in args:
        if word == "-X":
            curl.method = next(args)
        elif word == "-H":
            name, _, value = next(args).partition(": ")
            curl.headers[name] = fill(value)
        elif word == "-d":
            curl.data = next(args).replace("…", PASSWORD)
        elif word == "-F":
            key, _, value = next(args).partition("=")
            curl.form[key] = value
        elif not word.startswith("-"):
            curl.url = fill(word)
    for example, real in ids.items():
        curl.url = curl.url.replace(f"/{example}", f"/{real}")
    return curl


@pytest.fixture
def demo(settings: LazySettings, tmp_path: Path) -> None:
    settings.BREEZE_ADMIN_PASSWORD = PASSWORD
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("setup_demo", stdout=io.StringIO())


@dataclass
class Walk:
    """What running the page left: its variables, the real ids of its examples, each step."""

    commands: list[Command]
    env: dict[str, str] = field(default_factory=lambda: {"BASE": ""})
    ids: dict[str, str] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)


@pytest.fixture
def walk(demo: None, django_capture_on_commit_callbacks: Any) -> Walk:
    """Run every command of the page in order, checking each answer against its comment."""
    walk = Walk(_walkthrough())
    files: dict[str, bytes] = {}
    for command in walk.commands:
        words = shlex.split(command.line)
        if words[0] == "printf":
            files[words[-1]] = words[1].encode().decode("unicode_escape").encode()
        if words[0] != "curl":
            continue
        curl = _curl(words, env=walk.env, ids=walk.ids)
        if "/api/v1/calls/" in curl.url:
            continue
        with django_capture_on_commit_callbacks(execute=True):
            response = curl.send(files)
        walk.steps.append(f"{curl.method} {curl.url.split('?')[0]}")

        status, promised = _promised(command.comment)
        if status is None:
            assert 200 <= response.status_code < 300, (command.line, response.content)
        else:
            assert response.status_code == status, (command.line, response.content)
        body = response.json()
        if promised is not None and "transitions" in promised:
            # The page reads the lead after its call; no call runs here, so only the history
            # the push wrote is checked.
            promised = {"transitions": promised["transitions"][:1]}
        if promised is not None:
            assert _contains(body, promised), (command.line, body)
            walk.checked.append(walk.steps[-1])
        for name in ("access", "token"):
            if name in body:
                walk.env["ACCESS" if name == "access" else "TOKEN"] = body[name]
        for example in EXAMPLE_IDS:
            if example not in walk.ids and f'"id": {example}' in " ".join(command.comment):
                walk.ids[example] = str(body["leads"][0]["id"] if "leads" in body else body["id"])
    return walk


def test_the_walkthrough_works_as_written(walk: Walk) -> None:
    # Every step of the page ran, with the token it created.
    assert walk.steps == [
        "POST /api/v1/auth/token",
        "POST /api/v1/api-keys",
        "POST /api/v1/leads",
        "POST /api/v1/leads/bulk",
        "POST /api/v1/leads/import",
        f"GET /api/v1/lead-imports/{walk.ids['31']}",
        "GET /api/v1/leads",
        f"GET /api/v1/leads/{walk.ids['4711']}",
    ]
    # Every answer the page writes out as JSON was compared (all but the list's).
    assert len(walk.checked) == 7, walk.checked
    assert sum("/api/v1/calls/" in command.line for command in walk.commands) == 2
    pushed = Lead.objects.filter(created_by=f"api_key:shop backend ({walk.env['TOKEN'][:12]})")
    assert sorted(pushed.values_list("phone", flat=True)) == [
        "+919812345678",
        "+919812345679",
        "+919812345680",
    ]


def test_what_the_page_promises_in_words(walk: Walk) -> None:
    """The same push again is 200 with the same lead, another body under its key is 409, and
    nothing of another merchant's is visible to the key."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {walk.env['TOKEN']}")
    words = shlex.split(next(c.line for c in walk.commands if "Idempotency-Key" in c.line))
    pushed = words[words.index("-d") + 1]
    again, other = (
        api.post(
            "/api/v1/leads",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="order-A1042",
        )
        for body in (pushed, pushed.replace("Asha", "Ravi"))
    )
    globex_key, _ = api_key_create(
        merchant=Merchant.objects.get(slug="globex"), role=Role.MERCHANT_ADMIN, name="globex"
    )
    theirs, _ = lead_create(
        user=ApiKeyPrincipal(globex_key),
        data={**json.loads(pushed), "merchant": "globex", "phone": "+12015550123"},
    )

    assert (again.status_code, again.json()["id"], other.status_code) == (
        200,
        int(walk.ids["4711"]),
        409,
    )
    assert api.get(f"/api/v1/leads/{theirs.pk}").status_code == 404
    assert api.post(f"/api/v1/leads/{theirs.pk}/cancel").status_code == 404
    assert api.post(
        "/api/v1/leads", {**json.loads(pushed), "merchant": "globex"}, format="json"
    ).json()["error"]["fields"] == [
        {"field": "template", "code": "not_found", "message": "Unknown template."}
    ]
    assert {row["merchant"] for row in api.get("/api/v1/leads").json()["results"]} == {"acme"}
