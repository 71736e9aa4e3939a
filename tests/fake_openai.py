"""A local stand-in for OpenAI's streaming /v1/chat/completions, as Pipecat's service reads it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug import Request, Response

COMPLETIONS = "/v1/chat/completions"


def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
    body = {
        "id": "chatcmpl-AmS3Hk2aQ7bX9",
        "object": "chat.completion.chunk",
        "created": 1764065748,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_0aa8d3e20b",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(body)}\n\n"


def stream(*chunks: str) -> Response:
    usage = {
        "id": "chatcmpl-AmS3Hk2aQ7bX9",
        "object": "chat.completion.chunk",
        "created": 1764065748,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [],
        "usage": {"prompt_tokens": 180, "completion_tokens": 12, "total_tokens": 192},
    }
    body = "".join(chunks) + f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n"
    return Response(body, content_type="text/event-stream")


def say(text: str) -> Response:
    return stream(
        chunk({"role": "assistant", "content": "", "refusal": None}),
        *[chunk({"content": f"{word} "}) for word in text.split(" ")[:-1]],
        chunk({"content": text.rsplit(" ", maxsplit=1)[-1]}),
        chunk({}, "stop"),
    )


def call(name: str, arguments: dict[str, Any]) -> Response:
    encoded = json.dumps(arguments)
    return stream(
        chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": f"call_{name}",
                        "type": "function",
                        "function": {"name": name, "arguments": ""},
                    }
                ],
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": encoded[:10]}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": encoded[10:]}}]}),
        chunk({}, "tool_calls"),
    )


class FakeOpenAI:
    """Answers each completion from the tools on offer and the customer's last words."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: Request) -> Response:
        body = json.loads(request.data)
        self.requests.append(body)
        offered = [tool["function"]["name"] for tool in body.get("tools", [])]
        messages = body["messages"]
        last_user = max(
            (i for i, message in enumerate(messages) if message["role"] == "user"), default=-1
        )
        answered = any(message["role"] == "tool" for message in messages[last_user + 1 :])
        said = "" if last_user < 0 or answered else str(messages[last_user]["content"]).lower()
        if "reschedule_delivery" in offered:
            if "another day" in said:
                return call("reschedule_delivery", {})
            return say("Shall we deliver order A1042 today?")
        if "set_delivery_date" in offered:
            if "friday" in said:
                return call("set_delivery_date", {"delivery_date": "2026-11-27"})
            return say("Which day suits you?")
        return say("Done, your delivery moves to Friday. Goodbye!")


Handler = Callable[[Request], Response]


def failing_after(answers: int, failure: Handler) -> tuple[Handler, list[int]]:
    """`FakeOpenAI` for the first `answers` requests, `failure` for every one after.

    Returns the handler and a one-item list counting the requests it got.
    """
    fake = FakeOpenAI()
    count = [0]

    def handler(request: Request) -> Response:
        count[0] += 1
        return fake(request) if count[0] <= answers else failure(request)

    return handler, count


def server_error(request: Request) -> Response:
    return Response(
        '{"error": {"message": "The server had an error", "type": "server_error"}}',
        status=500,
        content_type="application/json",
    )
