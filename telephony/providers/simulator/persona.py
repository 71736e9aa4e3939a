"""Scripted customers for the simulator provider.

A persona is a list of steps played in order. Each step does one thing (speak a line, stay
silent, press keys, hang up) once its trigger fires: by default when the bot has finished a
turn, or with `barge_in` while the bot is still speaking.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Final, Literal, TypeVar

StepKind = Literal["say", "silence", "dtmf", "hang_up"]

DTMF_DIGITS: Final = frozenset("0123456789*#")
BARGE_IN_DELAY_S: Final = 0.3


class FieldError(ValueError):
    """A bad value in one field; the message starts with the field's name."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Step:
    """One customer action.

    `wait_for_bot`: before acting, wait until the bot has finished a turn that began after
    the previous step began (for the first step: after the call began).
    `barge_in`: act ~300 ms into the bot's speech instead of after it. With `wait_for_bot`
    too, that is the bot turn after the one waited for.
    """

    say: str | None = None
    silence_ms: int | None = None
    dtmf: str | None = None
    hang_up: bool = False
    barge_in: bool = False
    wait_for_bot: bool = True

    def __post_init__(self) -> None:
        actions = [
            name
            for name, present in (
                ("say", self.say is not None),
                ("silence_ms", self.silence_ms is not None),
                ("dtmf", self.dtmf is not None),
                ("hang_up", self.hang_up),
            )
            if present
        ]
        if len(actions) != 1:
            found = ", ".join(actions) or "none"
            raise ValueError(
                f"a step needs exactly one of say, silence_ms, dtmf, hang_up (found: {found})"
            )
        if self.say is not None and not self.say.strip():
            raise FieldError("say", "must be non-empty text")
        if self.silence_ms is not None and self.silence_ms <= 0:
            raise FieldError("silence_ms", "must be a positive number of milliseconds")
        if self.dtmf is not None and (not self.dtmf or not set(self.dtmf) <= DTMF_DIGITS):
            raise FieldError("dtmf", "must be one or more of the keys 0-9, * and #")

    @property
    def kind(self) -> StepKind:
        if self.say is not None:
            return "say"
        if self.silence_ms is not None:
            return "silence"
        if self.dtmf is not None:
            return "dtmf"
        return "hang_up"


@dataclass(frozen=True)
class Persona:
    name: str
    description: str
    steps: tuple[Step, ...]
    max_call_seconds: float = 90
    bot_turn_silence_ms: int = 700

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", self.name):
            raise FieldError("name", "must be lowercase letters, digits and dashes")
        if self.max_call_seconds <= 0:
            raise FieldError("max_call_seconds", "must be positive")
        if self.bot_turn_silence_ms <= 0:
            raise FieldError("bot_turn_silence_ms", "must be positive")

    @property
    def lines(self) -> tuple[str, ...]:
        """Everything the persona may say, to synthesize before the call starts."""
        return tuple(step.say for step in self.steps if step.say is not None)


_STEP_FIELDS: Final = tuple(f.name for f in fields(Step))
_PERSONA_FIELDS: Final = ("name", "description", "steps", "max_call_seconds", "bot_turn_silence_ms")


def persona_from_dict(data: object) -> Persona:
    """Build a persona from JSON-like data; `ValueError` messages name the bad field.

    Field paths look like `steps[2].silence_ms`.
    """
    if not isinstance(data, Mapping):
        raise ValueError("persona: expected an object")
    _reject_unknown(data, _PERSONA_FIELDS, prefix="")
    raw_steps = _require(data, "steps")
    if not isinstance(raw_steps, list | tuple):
        raise ValueError("steps: expected a list of steps")
    steps = tuple(_step_from_dict(raw, f"steps[{i}]") for i, raw in enumerate(raw_steps))
    name = _string(_require(data, "name"), "name")
    description = _string(data.get("description", ""), "description")
    max_call_seconds = _number(data.get("max_call_seconds", 90), "max_call_seconds")
    silence_ms = _integer(data.get("bot_turn_silence_ms", 700), "bot_turn_silence_ms")
    return _build(
        "",
        Persona,
        name=name,
        description=description,
        steps=steps,
        max_call_seconds=max_call_seconds,
        bot_turn_silence_ms=silence_ms,
    )


def _step_from_dict(raw: object, path: str) -> Step:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: expected an object")
    _reject_unknown(raw, _STEP_FIELDS, prefix=path + ".")
    values: dict[str, object] = {}
    for key, value in raw.items():
        where = f"{path}.{key}"
        if key in ("say", "dtmf"):
            values[key] = _string(value, where)
        elif key == "silence_ms":
            values[key] = _integer(value, where)
        else:
            values[key] = _boolean(value, where)
    return _build(path, Step, **values)


_T = TypeVar("_T")


def _build(path: str, cls: type[_T], **values: object) -> _T:
    try:
        return cls(**values)
    except FieldError as error:
        # The dataclass knows the field, the loader knows where the step sits.
        raise FieldError(f"{path}.{error.field}" if path else error.field, error.problem) from None
    except ValueError as error:
        raise ValueError(f"{path}: {error}" if path else str(error)) from None


def _reject_unknown(data: Mapping[str, object], known: tuple[str, ...], *, prefix: str) -> None:
    for key in data:
        if key not in known:
            raise ValueError(f"{prefix}{key}: unknown field (expected one of {', '.join(known)})")


def _require(data: Mapping[str, object], key: str) -> object:
    if key not in data:
        raise ValueError(f"{key}: required")
    return data[key]


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string")
    return value


def _boolean(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{where}: expected true or false")
    return value


def _integer(value: object, where: str) -> int:
    # bool is an int subclass; `true` as a duration is a mistake, not 1 ms.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: expected an integer")
    return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: expected a number")
    return float(value)


def _say(text: str) -> Step:
    return Step(say=text)


def _persona(name: str, description: str, *steps: Step) -> Persona:
    return Persona(name=name, description=description, steps=steps)


_REGISTERED: Final = (
    # Order confirmation (cash on delivery).
    _persona("cod-confirm", "Confirms the order.", _say("yes please")),
    _persona(
        "cod-cancel",
        "Cancels the order and gives a reason.",
        _say("please cancel it"),
        _say("I found it cheaper elsewhere"),
    ),
    _persona(
        "cod-reschedule", "Moves the delivery to tomorrow.", _say("not today"), _say("tomorrow")
    ),
    _persona("cod-human", "Asks for a person.", _say("can I speak to a person")),
    _persona(
        "cod-silent",
        "Answers, says nothing for 25 seconds, then hangs up.",
        Step(silence_ms=25_000),
        Step(hang_up=True, wait_for_bot=False),
    ),
    _persona(
        "cod-hangup",
        "Hangs up as soon as the greeting starts.",
        Step(hang_up=True, barge_in=True, wait_for_bot=False),
    ),
    # Abandoned cart.
    _persona("cart-buy", "Will buy the cart.", _say("yes I will buy it")),
    _persona(
        "cart-not-interested",
        "Declines and says why.",
        _say("no thanks"),
        _say("too expensive"),
    ),
    _persona(
        "cart-later", "Asks for a call back at five.", _say("call me later"), _say("at five pm")
    ),
    _persona("cart-stop", "Asks not to be called again.", _say("stop calling me")),
    # Address verification.
    _persona("address-ok", "Confirms the address.", _say("yes that is correct")),
    _persona(
        "address-fix",
        "Corrects the address.",
        _say("no"),
        _say("fourteen hill street pune"),
    ),
    _persona("address-wrong-person", "Is not the customer.", _say("wrong number")),
    # Interruptions.
    _persona(
        "barge-in",
        "Says yes while the bot is still asking its first question.",
        Step(say="yes please", barge_in=True, wait_for_bot=False),
    ),
)

PERSONAS: Final[dict[str, Persona]] = {persona.name: persona for persona in _REGISTERED}

__all__ = ["PERSONAS", "FieldError", "Persona", "Step", "persona_from_dict"]
