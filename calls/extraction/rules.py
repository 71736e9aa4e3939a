"""Fill extraction fields from a transcript without a model: deterministic and offline.

Each customer turn is read with the rules engine's argument readers (yes/no, numbers, dates,
times, options, free text). Which turn answers a field is decided by relevance: the words of
the field's name and description found in that turn and in the bot line just before it (the
question it answers). Ties go to the later turn, since customers correct themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from templates_app.definition.extraction import ExtractionField
from templates_app.dialogue.arguments import fill_arguments
from templates_app.dialogue.matching import normalize

# Words that say nothing about which field a turn answers.
_STOPWORDS = frozenset({
    "the", "a", "an", "and", "or", "of", "to", "for", "in", "on", "at", "by", "with", "from",
    "is", "are", "was", "were", "be", "it", "its", "this", "that", "what", "which", "who",
    "whom", "when", "where", "how", "why", "do", "does", "did", "not", "no", "yes", "you",
    "your", "they", "their", "them", "customer", "customers", "bot", "call", "caller", "said",
    "says", "say", "would", "will", "can", "could", "should", "if", "any", "about", "as",
    "into", "than", "then", "there", "here", "has", "have", "had", "whether",
})  # fmt: skip
_STEM_CHARS = 5
# Types whose value shows by itself what it answers: a date is a date whatever was asked.
_SELF_EVIDENT = frozenset({"date", "time"})


@dataclass(frozen=True)
class TranscriptTurn:
    speaker: str  # "customer" or "bot"
    text: str
    at: datetime  # when it was said, in the merchant's time zone


def _words(text: str) -> set[str]:
    return {
        word
        for word in normalize(text.replace("_", " ")).split()
        if len(word) > 2 and word not in _STOPWORDS
    }


def _same_word(left: str, right: str) -> bool:
    # "deliver" and "delivery", "reschedule" and "rescheduled" are the same word here.
    if left == right:
        return True
    return min(len(left), len(right)) >= _STEM_CHARS and left[:_STEM_CHARS] == right[:_STEM_CHARS]


def _relevance(field_words: set[str], context: str) -> int:
    said = _words(context)
    return sum(any(_same_word(word, other) for other in said) for word in field_words)


def _read(field: ExtractionField, text: str, at: datetime) -> Any | None:
    return fill_arguments(text, {field.name: field.json_schema()}, (), now=at).get(field.name)


def rules_extract(
    fields: Sequence[ExtractionField], turns: Sequence[TranscriptTurn]
) -> dict[str, Any]:
    """Every field, filled from the customer's turns, or None where no turn answers it.

    A date, a time or a choice among `options` is taken from the most relevant turn that
    names one (any turn, if none is relevant); a yes/no, a number or free text only from a
    turn that is relevant to the field, so a "yes" to one question never answers another.
    """
    answers: list[tuple[str, TranscriptTurn]] = []
    question = ""
    for turn in turns:
        if turn.speaker == "bot":
            question = turn.text
        else:
            answers.append((question, turn))
    result: dict[str, Any] = {}
    for field in fields:
        field_words = _words(f"{field.name} {field.description}")
        needs_relevance = field.type not in _SELF_EVIDENT and not field.options
        best: tuple[int, int, Any] | None = None
        for index, (asked, turn) in enumerate(answers):
            relevance = _relevance(field_words, f"{asked} {turn.text}")
            if needs_relevance and relevance == 0:
                continue
            value = _read(field, turn.text, turn.at)
            if value is None:
                continue
            if best is None or (relevance, index) > best[:2]:
                best = (relevance, index, value)
        result[field.name] = None if best is None else best[2]
    return result
