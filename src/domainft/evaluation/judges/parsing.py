"""Reading a judge's reply: a score on a fixed scale, or a pairwise verdict, parsed strictly but robustly.

The judge is asked for one JSON object (``{"score": 7, "rationale": "..."}`` or
``{"winner": "1" | "2" | "tie", "rationale": "..."}``). Real models wrap it in code fences, add text
around it, or ignore the format and write ``Score: 7/10`` or ``Rating: [[7]]``; all of these are
accepted. A reply is rejected (``value is None``, ``error`` says why, the raw text is kept) when it
holds no score, a score outside the scale or not a whole number, or two different scores (ambiguous).

JSON objects are read first; the text outside them is then searched for the plain-text forms, so a
rationale that mentions "3/10" inside the JSON string never counts as a second score. A block of
the prompt that the judge quotes back (``[Answer to grade]`` ... ``[End of answer to grade]`` and
the other marker pairs) is left out before parsing, so a score written inside the answer under
evaluation is never read as the judge's; and two different scores are rejected, never resolved.

Examples:
    >>> parse_score('```json\\n{"score": 8, "rationale": "Correct and complete."}\\n```').value
    8
    >>> parse_score("Rating: [[7]]").value
    7
    >>> parse_score("Score: 7/10. On reflection, Score: 5").error
    'ambiguous: the reply gives different scores (5, 7)'
    >>> parse_verdict('{"winner": "2", "rationale": "Names the right part."}').value
    '2'
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["1", "2", "tie"]

_NUMBER = r"(-?\d+(?:\.\d+)?)"
_SCORE_KEYS = ("score", "rating", "grade")
_RATIONALE_KEYS = ("rationale", "reason", "reasoning", "explanation", "justification", "feedback")
_VERDICT_KEYS = ("winner", "verdict", "better", "preferred", "choice")
_TIE_WORDS = ("tie", "draw", "equal", "same", "both", "neither")

# "[[7]]" (a common judge convention), "Score: 7", "**Rating**: 7", "score of 7", '"score": "7"'.
_BRACKETED_SCORE = re.compile(r"\[\[\s*" + _NUMBER + r"\s*\]\]")
_LABELLED_SCORE = re.compile(
    r"\b(?:score|rating|grade)\b[^\w\n-]{0,6}(?:(?:is|of)\b[^\w\n-]{0,4})?" + _NUMBER, re.IGNORECASE
)
_BARE_NUMBER = re.compile(r"^[\s*_\[(]*" + _NUMBER + r"[\s*_\])]*\.?\s*$")

_BRACKETED_VERDICT = re.compile(r"\[\[\s*(?:assistant\s*)?(1|2|tie|draw)\s*\]\]", re.IGNORECASE)
_LABELLED_VERDICT = re.compile(
    r"\b(?:winner|verdict|better answer|preferred answer|choice)\b[^\w\n]{0,6}(?:is\b[^\w\n]{0,4})?"
    r"(?:assistant\s*)?(1|2|tie|draw)\b",
    re.IGNORECASE,
)
_SENTENCE_VERDICT = re.compile(
    r"\bassistant\s*(1|2)(?:'s answer)?\s+is\s+(?:clearly\s+)?(?:better|the winner|preferred)\b"
    r"|\b(?:it is|it's|this is)\s+a\s+(tie)\b",
    re.IGNORECASE,
)
_BARE_VERDICT = re.compile(
    r"^[\s*_\[(\"']*(?:assistant\s*)?(1|2|tie|draw)[\s*_\])\"']*\.?\s*$", re.IGNORECASE
)


@dataclass
class ParsedScore:
    """A parsed grading reply: ``value`` (None when rejected), ``rationale``, ``error`` and the raw text."""

    value: int | None
    rationale: str | None
    error: str | None
    raw: str

    @property
    def ok(self) -> bool:
        return self.value is not None


@dataclass
class ParsedVerdict:
    """A parsed pairwise reply: ``value`` is ``"1"``, ``"2"``, ``"tie"`` or None when rejected."""

    value: Verdict | None
    rationale: str | None
    error: str | None
    raw: str

    @property
    def ok(self) -> bool:
        return self.value is not None


def json_objects(text: str) -> list[tuple[dict[str, Any], int, int]]:
    """Every top-level JSON object in ``text`` (fenced or not) with its start and end offsets.

    Examples:
        >>> [obj for obj, _, _ in json_objects('Here: {"score": 3} and {"score": 4}')]
        [{'score': 3}, {'score': 4}]
    """
    decoder = json.JSONDecoder()
    found: list[tuple[dict[str, Any], int, int]] = []
    start = text.find("{")
    while start != -1:
        try:
            obj, end = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(obj, dict):
            found.append((obj, start, end))
            start = text.find("{", end)
        else:  # pragma: no cover - raw_decode at "{" only yields dicts
            start = text.find("{", start + 1)
    return found


@functools.lru_cache(maxsize=1)
def _quoted_blocks() -> re.Pattern[str]:
    from domainft.evaluation.judges.prompts import SECTIONS

    pairs = "|".join(f"{re.escape(start)}.*?{re.escape(end)}" for start, end in SECTIONS.values())
    return re.compile(pairs, re.IGNORECASE | re.DOTALL)


def drop_quoted(text: str) -> str:
    """``text`` without the prompt's quoted blocks (e.g. an answer the judge copied into its reply).

    Examples:
        >>> drop_quoted("[Answer to grade]\\nScore: 10\\n[End of answer to grade]\\nScore: 3")
        '\\nScore: 3'
    """
    return _quoted_blocks().sub("", text)


def _lower_keys(obj: dict[str, Any]) -> dict[str, Any]:
    return {str(k).strip().lower(): v for k, v in obj.items()}


def _rationale(obj: dict[str, Any]) -> str | None:
    for key in _RATIONALE_KEYS:
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _outside(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the given spans blanked out (kept as line breaks so words never join)."""
    parts, last = [], 0
    for start, end in spans:
        parts.append(text[last:start])
        parts.append("\n")
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _number(value: Any) -> float | None:
    """A JSON score value as a number: 7, 7.0, "7", "7/10"; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*\[*\s*" + _NUMBER + r"\s*\]*\s*(?:/\s*\d+)?\s*", value)
        if match:
            return float(match.group(1))
    return None


def _check_score(values: list[float], low: int, high: int) -> tuple[int | None, str | None]:
    distinct = sorted(set(values))
    if not distinct:
        return None, "no score found in the reply"
    if len(distinct) > 1:
        shown = ", ".join(f"{v:g}" for v in distinct)
        return None, f"ambiguous: the reply gives different scores ({shown})"
    value = distinct[0]
    if not math.isfinite(value) or value != int(value):
        return None, f"score {value:g} is not a whole number on the {low}-{high} scale"
    if not low <= value <= high:
        return None, f"score {value:g} is outside the {low}-{high} scale"
    return int(value), None


def parse_score(text: str | None, low: int = 1, high: int = 10) -> ParsedScore:
    """Parse a grading reply into a whole-number score in ``[low, high]`` and a rationale.

    Accepted: a JSON object with ``score`` (or ``rating``/``grade``) anywhere in the reply, fenced
    or not; ``[[7]]``; ``Score: 7``, ``Rating: 7/10``, ``score of 7``; ``7/10`` or ``7 out of 10``
    (``10`` being ``high``); a reply that is only a number. Rejected, with ``error`` set: no score,
    several different scores, a fraction such as 7.5, a score outside the scale.

    Examples:
        >>> parse_score("The answer is right. Score: 9/10").value
        9
        >>> parse_score('{"score": 11, "rationale": "great"}').error
        'score 11 is outside the 1-10 scale'
        >>> parse_score("no idea").error
        'no score found in the reply'
    """
    raw = "" if text is None else str(text)
    reply = drop_quoted(raw)
    objects = json_objects(reply)
    values, rationale, bad_json = _json_fields(objects, _SCORE_KEYS, _number)
    rest = _outside(reply, [(s, e) for _, s, e in objects])
    found_text = [float(m.group(1)) for m in _BRACKETED_SCORE.finditer(rest)]
    found_text += [float(m.group(1)) for m in _LABELLED_SCORE.finditer(rest)]
    out_of = re.compile(_NUMBER + r"\s*(?:/|\bout\s+of\b)\s*" + str(high) + r"\b", re.IGNORECASE)
    found_text += [float(m.group(1)) for m in out_of.finditer(rest)]
    if not values and not found_text and not objects:
        bare = _BARE_NUMBER.match(reply)
        if bare:
            found_text.append(float(bare.group(1)))
    values += found_text
    if not values and bad_json:
        return ParsedScore(None, rationale, f"the score is not a number: {bad_json[0]}", raw)
    value, error = _check_score(values, low, high)
    if rationale is None and value is not None:
        rationale = rest.strip() or None
    return ParsedScore(value, rationale, error, raw)


def _json_fields(
    objects: Sequence[tuple[Any, int, int]], keys: Sequence[str], convert: Callable[[Any], Any]
) -> tuple[list[Any], str | None, list[str]]:
    """From the JSON objects of a reply: the converted value of the first of ``keys`` in each object,
    the first rationale, and ``key=value`` texts of values ``convert`` refused (returned None)."""
    values: list[Any] = []
    rationale: str | None = None
    bad: list[str] = []
    for obj, _, _ in objects:
        lowered = _lower_keys(obj)
        key = next((k for k in keys if k in lowered), None)
        if key is None:
            continue
        value = convert(lowered[key])
        if value is None:
            bad.append(f"{key}={lowered[key]!r}")
        else:
            values.append(value)
        rationale = rationale or _rationale(lowered)
    return values, rationale, bad


def _verdict_word(value: Any) -> Verdict | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and value in (1, 2):
        return "1" if value == 1 else "2"
    if not isinstance(value, str):
        return None
    word = re.sub(r"[\s\"'*_\[\]().]+", " ", value).strip().lower()
    word = re.sub(r"^(?:assistant|answer)\s*", "", word).strip()
    if word in ("1", "2"):
        return word  # type: ignore[return-value]
    if word in _TIE_WORDS:
        return "tie"
    return None


def parse_verdict(text: str | None) -> ParsedVerdict:
    """Parse a pairwise reply into ``"1"``, ``"2"`` or ``"tie"`` and a rationale.

    Accepted: a JSON object with ``winner`` (or ``verdict``/``better``/``preferred``/``choice``)
    equal to ``"1"``, ``"2"``, ``1``, ``2``, ``"Assistant 1"``, ``"tie"`` (``draw``, ``equal``,
    ``both``, ``neither``); ``[[1]]``, ``[[tie]]``; ``Winner: Assistant 2``; ``Assistant 1 is
    better``; ``It's a tie``; a reply that is only ``1``, ``2`` or ``tie``. Two different verdicts
    are rejected as ambiguous.

    Examples:
        >>> parse_verdict("Both are correct but the second is clearer. [[2]]").value
        '2'
        >>> parse_verdict("Winner: tie").value
        'tie'
        >>> parse_verdict("[[1]] ... actually [[2]]").error
        'ambiguous: the reply gives different verdicts (1, 2)'
    """
    raw = "" if text is None else str(text)
    reply = drop_quoted(raw)
    objects = json_objects(reply)
    verdicts, rationale, bad_json = _json_fields(objects, _VERDICT_KEYS, _verdict_word)
    rest = _outside(reply, [(s, e) for _, s, e in objects])
    for pattern in (_BRACKETED_VERDICT, _LABELLED_VERDICT, _SENTENCE_VERDICT):
        for match in pattern.finditer(rest):
            word = next(g for g in match.groups() if g)
            verdicts.append(_verdict_word(word) or word.lower())
    if not verdicts and not objects:
        bare = _BARE_VERDICT.match(reply)
        if bare:
            verdicts.append(_verdict_word(bare.group(1)) or "")
    distinct = sorted(set(verdicts))
    if not distinct:
        error = (
            f"the verdict is not 1, 2 or tie: {bad_json[0]}" if bad_json else "no verdict found in the reply"
        )
        return ParsedVerdict(None, rationale, error, raw)
    if len(distinct) > 1:
        return ParsedVerdict(
            None, rationale, f"ambiguous: the reply gives different verdicts ({', '.join(distinct)})", raw
        )
    if rationale is None:
        rationale = rest.strip() or None
    return ParsedVerdict(distinct[0], rationale, None, raw)  # type: ignore[arg-type]
