"""Pick the function a customer's words ask for, by fuzzy matching against its examples.

Pure Python and deterministic: the same words and functions always give the same match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any


@dataclass(frozen=True)
class FunctionSpec:
    """A function (tool) a node offers, with phrases a customer might say to trigger it."""

    name: str
    description: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    dtmf: str = ""


@dataclass(frozen=True)
class Match:
    """The chosen function, how well it matched (0 to 1), and the arguments filled for it."""

    function: str
    score: float
    arguments: dict[str, Any]


_CONTRACTIONS = {
    "can't": "can not",
    "cannot": "can not",
    "won't": "will not",
    "shan't": "shall not",
    "ain't": "is not",
    "let's": "let us",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "cant": "can not",
    "isnt": "is not",
    "wasnt": "was not",
    "havent": "have not",
    "wouldnt": "would not",
    "shouldnt": "should not",
}
_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ll", " will"), ("'ve", " have"), ("'m", " am"))
_PRONOUN_IS = {"it's", "that's", "what's", "there's", "here's", "he's", "she's", "who's"}
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_WORD = re.compile(r"[a-z0-9']+")
# Punctuation that ends a clause; a negation never reaches across one ("no, cancel it").
_CLAUSE_BREAK = re.compile(r"[,.;:!?]+")
_NEGATORS = frozenset({"not", "never", "no"})
# "no problem, confirm it" agrees; spoken transcripts rarely carry the comma.
_NOT_NEGATING_AFTER_NO = frozenset({"problem", "problems", "worries"})
_NEGATION_REACH = 3
# Below this length a one-letter slip is a different word ("no" and "now"), so only exact
# token equality counts.
_FUZZY_MIN_CHARS = 4
_FUZZY_TOKEN_RATIO = 0.8


def _expand(word: str) -> str:
    if word in _CONTRACTIONS:
        return _CONTRACTIONS[word]
    if word in _PRONOUN_IS:
        return word[:-2] + " is"
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)] + replacement
    return word.replace("'", "")


def _clause_tokens(text: str) -> list[tuple[str, int]]:
    """Normalized tokens of `text`, each with the index of the clause it belongs to."""
    tokens: list[tuple[str, int]] = []
    clauses = _CLAUSE_BREAK.split(text.lower().translate(_APOSTROPHES))
    for clause_index, clause in enumerate(clauses):
        for word in _WORD.findall(clause.replace("-", " ")):
            tokens.extend((part, clause_index) for part in _expand(word).split())
    return tokens


def normalize(text: str) -> str:
    """Lowercase, expand contractions, drop punctuation and collapse whitespace.

    Args:
        text: What the customer said.

    Returns:
        The normalized text, e.g. "No, DON'T  cancel!" becomes "no do not cancel".
    """
    return " ".join(token for token, _ in _clause_tokens(text))


def _tokens_match(example_token: str, token: str) -> bool:
    if example_token == token:
        return True
    if min(len(example_token), len(token)) < _FUZZY_MIN_CHARS:
        return False
    return SequenceMatcher(None, example_token, token).ratio() >= _FUZZY_TOKEN_RATIO


def _is_negated(tokens: Sequence[tuple[str, int]], index: int) -> bool:
    clause = tokens[index][1]
    for before in range(max(0, index - _NEGATION_REACH), index):
        word, word_clause = tokens[before]
        if word not in _NEGATORS or word_clause != clause:
            continue
        if word == "no" and tokens[before + 1][0] in _NOT_NEGATING_AFTER_NO:
            continue
        return True
    return False


def _example_score(example: str, tokens: Sequence[tuple[str, int]], utterance: str) -> float:
    example_tokens = normalize(example).split()
    if not example_tokens:
        return 0.0
    words = [word for word, _ in tokens]
    # An example that carries its own negation ("do not cancel") is the negated intent.
    check_negation = not _NEGATORS.intersection(example_tokens)
    positions: list[int] = []
    for example_token in example_tokens:
        found = next(
            (
                i
                for i, word in enumerate(words)
                if i not in positions and _tokens_match(example_token, word)
            ),
            None,
        )
        if found is None:
            break
        positions.append(found)
    if len(positions) == len(example_tokens):
        if check_negation and _is_negated(tokens, min(positions)):
            return 0.0
        # Containment: every example word was said. The fewer other words, the surer.
        contiguous = positions == list(range(positions[0], positions[0] + len(positions)))
        precision = len(example_tokens) / len(words)
        return (0.75 if contiguous else 0.7) + 0.25 * precision
    phrase = " ".join(example_tokens)
    if min(len(phrase), len(utterance)) < _FUZZY_MIN_CHARS:
        return 0.0
    if check_negation and any(
        _is_negated(tokens, i)
        for i, word in enumerate(words)
        if any(_tokens_match(example_token, word) for example_token in example_tokens)
    ):
        return 0.0
    return SequenceMatcher(None, phrase, utterance).ratio()


WILDCARD = "*"
# How Pipecat's DTMFAggregator writes keypad presses into the transcript.
DTMF_PREFIX = "DTMF: "


def choose_function(
    text: str, functions: Sequence[FunctionSpec], *, threshold: float = 0.6
) -> Match | None:
    """Choose the function whose examples best match what the customer said.

    Each function scores as its best example. An example scores by containment when every
    one of its words was said (a word of four or more letters may be misheard by one
    letter): 0.75 plus 0.25 times the share of the utterance the example covers, or 0.7
    plus that share when its words were said out of order. Otherwise it scores the
    difflib `SequenceMatcher` ratio of the two normalized strings, which catches
    near-paraphrases and misspellings of longer phrases. An example whose first word
    follows "not", "never" or "no" within three words in the same clause is negated and
    scores 0, so "no, don't cancel it" never matches "cancel", while "no, cancel it" still
    does ("no problem" negates nothing). An example that itself says "not" or "no" is
    never negated. Scores are rounded to four places; the first function in `functions`
    wins a tie.

    Args:
        text: What the customer said.
        functions: The functions on offer, in priority order.
        threshold: The lowest score that counts as a match.

    Returns:
        The best match with empty `arguments`, or None when `text` is empty or no
        function reaches `threshold`. Functions without examples are never chosen. A
        function with the example `"*"` takes any words no other function matched (a node
        that records free text, such as a reason or an address), scoring `threshold`.
        Keypad presses (`"DTMF: 1"`) call the function with exactly those `dtmf` keys,
        scoring 1, and never match spoken examples or `"*"`.
    """
    if text.startswith(DTMF_PREFIX):
        keys = text.removeprefix(DTMF_PREFIX).strip()
        return next(
            (
                Match(function=function.name, score=1.0, arguments={})
                for function in functions
                if function.dtmf and function.dtmf == keys
            ),
            None,
        )
    tokens = _clause_tokens(text)
    if not tokens:
        return None
    utterance = " ".join(word for word, _ in tokens)
    best: Match | None = None
    catch_all: Match | None = None
    for function in functions:
        examples = [example for example in function.examples if example != WILDCARD]
        if catch_all is None and len(examples) < len(function.examples):
            catch_all = Match(function=function.name, score=threshold, arguments={})
        if not examples:
            continue
        score = round(max(_example_score(ex, tokens, utterance) for ex in examples), 4)
        if score >= threshold and (best is None or score > best.score):
            best = Match(function=function.name, score=score, arguments={})
    return best or catch_all
