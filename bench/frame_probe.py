"""`manage.py` for bench/concurrency.py's call workers: the real worker, plus a frame clock.

The pool supervisor starts `<python> <this file> run_call_worker --worker-id …` instead of
manage.py. Before handing over to Django's command it wraps the call's serializer so that,
for every Twilio `media` message, the moment its audio frame comes out of the serializer
(the worker's pipeline input) is noted against the frame's `chunk` number. The notes are
written to `$BENCH_FRAME_DIR/<call sid>.json` when the worker's run ends. Nothing else
changes. A forked pool (the default) installs the probe in the supervisor with `install`, and
every worker forked from it inherits it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHUNK = re.compile(r'"chunk":\s*"(\d+)"')


def install(directory: Path) -> None:
    from calls.voice import call
    from calls.voice.serializers import build_serializer as build
    from calls.voice.worker import CallWorker

    arrivals: dict[str, list[tuple[int, float]]] = {}

    def probed(provider: str, start: Mapping[str, Any], **kwargs: Any) -> Any:
        serializer = build(provider, start, **kwargs)
        frames = arrivals.setdefault(str(start["start"]["callSid"]), [])
        deserialize = serializer.deserialize

        async def timed(data: str | bytes) -> Any:
            frame = await deserialize(data)
            now = time.monotonic()
            text = data if isinstance(data, str) else data.decode(errors="replace")
            found = CHUNK.search(text)
            if found is not None:
                frames.append((int(found.group(1)), now))
            return frame

        serializer.deserialize = timed  # type: ignore[method-assign]
        return serializer

    run = CallWorker.run

    async def run_then_dump(worker: CallWorker) -> None:
        # Not atexit: a forked worker leaves with os._exit, which skips it.
        try:
            await run(worker)
        finally:
            for call_sid, frames in arrivals.items():
                (directory / f"{call_sid}.json").write_text(json.dumps(frames))

    call.build_serializer = probed  # type: ignore[attr-defined]
    CallWorker.run = run_then_dump  # type: ignore[method-assign,assignment]


def main() -> None:
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    install(Path(os.environ["BENCH_FRAME_DIR"]))
    execute_from_command_line(["manage.py", *sys.argv[1:]])


if __name__ == "__main__":
    main()
