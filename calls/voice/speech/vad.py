"""Silero VAD as a call runs it: in the event loop's thread, and idle while the line is quiet.

Two departures from Pipecat's `SileroVADAnalyzer`, both about CPU (docs/benchmarks.md):

- Pipecat hands every 20 ms frame to a one-thread executor: a thread wake-up, a GIL
  hand-over and a wake-up of the loop through its self-pipe each way, which cost more CPU
  than the model. Each call has its own process, so the thread bought no parallelism.
- A window counts as speech only when the model is confident *and* the smoothed volume is
  at least `min_volume`. While the customer is quiet and the volume is under half of that,
  the model's score cannot change the outcome, so the model is not run. The volume is
  smoothed and measured over 400 ms, so it passes half of `min_volume` several windows
  before it can reach `min_volume`: the model has that long to settle before its score
  counts. It restarts from a reset state primed on the last second of the quiet it
  skipped, so it meets the speech as it would have had it run all along.
"""

from __future__ import annotations

from collections import deque

from templates_app.pipecat_compat import SileroVADAnalyzer, VADParams, VADState

# Below this share of `min_volume`, a quiet line's windows are not scored.
QUIET_GATE = 0.5
# Before scoring again, the model runs over the last second of the quiet it skipped, so its
# state at the speech is what it would have been (Pipecat's resets it after 2 s of quiet).
PRIME_WINDOWS = 32


class CallVADAnalyzer(SileroVADAnalyzer):
    def __init__(self, *, sample_rate: int | None = None, params: VADParams | None = None):
        super().__init__(sample_rate=sample_rate, params=params)
        self._window_volume = 0.0
        self._model_idle = False
        self._skipped: deque[bytes] = deque(maxlen=PRIME_WINDOWS)
        self.windows_skipped = 0

    def resting(self) -> bool:
        """Whether the line was quiet enough at the last window for the model to rest."""
        return self._model_idle

    async def analyze_audio(self, buffer: bytes) -> VADState:
        return self._run_analyzer(buffer)

    def voice_confidence(self, buffer: bytes) -> float:
        # Pipecat scores a window and then measures its volume; measured first here, and
        # handed back by `_get_smoothed_volume` below for the same window.
        self._window_volume = super()._get_smoothed_volume(buffer)
        if (
            self._vad_state == VADState.QUIET
            and self._window_volume < self._params.min_volume * QUIET_GATE
        ):
            self._model_idle = True
            self._skipped.append(buffer)
            self.windows_skipped += 1
            return 0.0
        if self._model_idle:
            self._model_idle = False
            self._model.reset_states()  # type: ignore[no-untyped-call]
            self._windows_since_reset = 0
            self._low_confidence_windows = 0
            while self._skipped:
                super().voice_confidence(self._skipped.popleft())
        return super().voice_confidence(buffer)

    def _get_smoothed_volume(self, audio: bytes) -> float:
        return self._window_volume
