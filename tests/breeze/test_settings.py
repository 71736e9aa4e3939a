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
