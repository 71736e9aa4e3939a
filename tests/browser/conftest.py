"""Admin journeys in headless Chromium (Playwright) against a real Daphne serving the test database.

Chromium is Debian's (`apt-get install chromium`, which `.ci/run` does); Playwright never
downloads a browser here. Without it these tests skip and say how to install it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect, sync_playwright

from config.models import Membership
from config.services import membership_create
from tests.conftest import Tenants, free_port
from tests.e2e.conftest import healthy
from tests.factories import UserFactory
from tests.processes import BIN, running, subprocess_env, wait_for

PASSWORD = "journey-pass-1"
# The machine runs the whole suite on two cores: give pages time, not flakes.
expect.set_options(timeout=15_000)


@dataclass(frozen=True)
class Web:
    base_url: str
    log: Path


# Module scope, not session: while Playwright's sync API is open its event loop counts as
# running in this thread, which would break every later async test and ORM call.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Chromium is not installed: `apt-get install chromium` (Debian) enables these")
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # The test's own ORM calls run beside that loop, never inside it.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=executable, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def web(transactional_db: None, tmp_path: Path) -> Iterator[Web]:
    port = free_port()
    log = tmp_path / "web.log"
    command = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "breeze.asgi:application"]
    with running(command, env=subprocess_env(), log=log):
        base_url = f"http://127.0.0.1:{port}"
        wait_for(lambda: healthy(f"{base_url}/healthz"), timeout=30, what="daphne", log=log)
        yield Web(base_url=base_url, log=log)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def merchant_admin(tenants: Tenants) -> User:
    user = UserFactory.create(username="asha")
    user.set_password(PASSWORD)
    user.save()
    membership_create(user=user, merchant=tenants.acme, role=Membership.Role.MERCHANT_ADMIN)
    return user


def log_in(page: Page, base_url: str, user: User) -> None:
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
