from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from breeze.settings.env import env_bool, env_int, env_list, local_secret
from tests.processes import BIN, ROOT


@pytest.mark.parametrize(
    ("_case", "raw", "expected"),
    [("one", "1", True), ("yes", "Yes", True), ("off", "off", False), ("empty", "", False)],
)
def test_env_bool_parses(
    _case: str, raw: str, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BREEZE_FLAG", raw)

    assert env_bool("BREEZE_FLAG", default=not expected) is expected


def test_env_bool_names_the_variable_on_garbage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUG", "maybe")

    with pytest.raises(ImproperlyConfigured, match=r"DEBUG must be a boolean .* got 'maybe'"):
        env_bool("DEBUG", default=False)


def test_env_int_and_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKERS", "4")
    monkeypatch.setenv("ALLOWED_HOSTS", "a.example.com, b.example.com,,")
    monkeypatch.setenv("BAD_INT", "four")

    assert env_int("WORKERS", default=1) == 4
    assert env_list("ALLOWED_HOSTS", default=[]) == ["a.example.com", "b.example.com"]
    with pytest.raises(ImproperlyConfigured, match="BAD_INT must be an integer, got 'four'"):
        env_int("BAD_INT", default=1)


def test_local_secret_is_generated_once_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOME_SECRET", raising=False)
    path = tmp_path / "state" / "some_secret"

    first = local_secret("SOME_SECRET", path)
    second = local_secret("SOME_SECRET", path)

    assert first == second
    assert len(first) >= 60
    assert path.stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("SOME_SECRET", "from-env")
    assert local_secret("SOME_SECRET", path) == "from-env"


def test_production_settings_refuse_to_start_without_secrets() -> None:
    result = subprocess.run(
        [str(BIN / "python"), "-c", "import breeze.settings.production"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert "ImproperlyConfigured: SECRET_KEY must be set in production" in result.stderr


def _settings_in_a_child(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    code = (
        f"import {module} as s; print(s.TWILIO_API_BASE_URL, s.PLIVO_API_BASE_URL, "
        "s.EXOTEL_API_BASE_URL, s.DAILY_API_BASE_URL)"
    )
    return subprocess.run(
        [str(BIN / "python"), "-c", code],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_provider_sandbox_moves_only_the_api_roots_not_set_explicitly() -> None:
    result = _settings_in_a_child(
        "breeze.settings.local",
        BREEZE_PROVIDER_SANDBOX="1",
        BREEZE_PROVIDER_SANDBOX_URL="http://127.0.0.1:9010/",
        PLIVO_API_BASE_URL="http://plivo.test",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "http://127.0.0.1:9010/twilio",
        "http://plivo.test",
        "http://127.0.0.1:9010/exotel",
        "http://127.0.0.1:9010/daily/v1",
    ]


def test_production_settings_refuse_the_provider_sandbox() -> None:
    result = _settings_in_a_child(
        "breeze.settings.production",
        BREEZE_PROVIDER_SANDBOX="1",
        SECRET_KEY="k",
        BREEZE_ENCRYPTION_KEY="e",
    )

    assert result.returncode == 1
    assert "ImproperlyConfigured: BREEZE_PROVIDER_SANDBOX is for development" in result.stderr
