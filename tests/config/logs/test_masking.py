from __future__ import annotations

import logging
import time

import pytest

from config.logs.masking import mask
from tests.log_capture import LogLines

logger = logging.getLogger("tests.masking")

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJ1c2VyX2lkIjo3LCJleHAiOjE3MDAwMDAwMDB9"
    ".s3cr3tSignaturePartAbc_-x"
)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("dialing +14155550134 now", "dialing ***34 now"),
        ("dialing +91 98765 43210", "dialing ***10"),
        ("to (415) 555-0134.", "to ***34."),
        ("to 415-555-0134", "to ***34"),
        ("local 09876543210 and 098765 43210", "local ***10 and ***10"),
        ('{"customer_phone": "+442071838750"}', '{"customer_phone": "***50"}'),
        ("Authorization: Bearer brz_live_Abc123", "Authorization: Bearer ***"),
        ("{'HTTP_AUTHORIZATION': 'Basic dXNlcjpwYXNz'}", "{'HTTP_AUTHORIZATION': 'Basic ***'}"),
        ("key brz_9f8e7d6c5b4a was revoked", "key brz_*** was revoked"),
        (f"jwt {JWT} refused", "jwt <jwt>*** refused"),
        (
            "GET /ws/media/7?token=abc.DEF-1&provider=twilio",
            "GET /ws/media/7?token=***&provider=twilio",
        ),
        ("media_token=xyz; api_key: 'k-1'", "media_token=***; api_key: '***'"),
        ('{"webhook_secret": "whsec_1"}', '{"webhook_secret": "***"}'),
    ],
)
def test_masks_phones_and_secrets(text: str, masked: str) -> None:
    assert mask(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25 05:53:04,123 call 12345 took 250 ms",
        "worker 9f3a1b2c4d5e at ws://127.0.0.1:43817",
        "event 550e8400-e29b-41d4-a716-446655440000 latency 0.123456789",
        "media token refused (expired)",
    ],
)
def test_leaves_ordinary_text_alone(text: str) -> None:
    assert mask(text) == text


def test_every_log_line_is_masked_including_arguments_and_tracebacks(log_lines: LogLines) -> None:
    logger.warning("calling %s with %s", "+14155550134", {"Authorization": f"Bearer {JWT}"})
    try:
        raise ValueError("lead +919876543210 pushed with brz_secretkey123")
    except ValueError:
        logger.exception("push failed for token=abc123")

    first, second = log_lines()
    assert first["message"] == "calling ***34 with {'Authorization': 'Bearer ***'}"
    assert second["message"] == "push failed for token=***"
    traceback = str(second["exc"])
    assert traceback.startswith("Traceback (most recent call last):")
    assert traceback.endswith("ValueError: lead ***10 pushed with brz_***")
    for line in (str(first), str(second)):
        assert "9876543210" not in line
        assert "4155550134" not in line
        assert "secretkey123" not in line
        assert "abc123" not in line


def test_stack_info_is_masked(log_lines: LogLines) -> None:
    def caller(phone: str) -> None:
        logger.warning("here", stack_info=True)

    caller("+14155550134")
    (line,) = log_lines()
    assert str(line["stack"]).startswith("Stack (most recent call last):")
    assert 'logger.warning("here", stack_info=True)' in str(line["stack"])


def test_long_lines_are_masked_in_linear_time() -> None:
    # 200 KB of base64-like text once took minutes (a backtracking key pattern).
    blob = "A1b2C3d4" * 25_000
    started = time.perf_counter()
    masked = mask(f"frame {blob} for token={blob}")
    assert masked == f"frame {blob} for token=***"
    assert time.perf_counter() - started < 2.0
