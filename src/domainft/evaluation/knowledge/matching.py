"""Does a free-text answer state a fact's key span? Did it abstain? Span matching for knowledge probes.

:func:`match_span` decides whether an answer states a key answer span (or one of its aliases) with one
of three built-in matchers; ``kind="auto"`` picks one per key with :func:`detect_kind`:

``string``
    The normalised key occurs in the normalised answer as whole, consecutive tokens
    (:func:`normalise_text`: NFKC, case folded, diacritics removed unless ``strip_accents=False``,
    punctuation turned into spaces). ``"press"`` does not match ``"pressure"``; ``"Kim Liên"`` matches
    ``"KIM LIEN"``; ``"WO-2022-0001"`` matches ``"WO 2022 0001"``. The piece found is the original text.
``number``
    The key is a number with an optional unit (``"6.5 hours"``, ``"22 l/min"``, ``"1,200 rpm"``,
    ``"45%"``, ``"2.25"``). The answer must state the same value (relative tolerance ``rel_tol``) and,
    when the key has a unit, an equivalent unit right after the number: synonyms (``h``, ``hr``,
    ``hours``, ``ore``...) and conversions inside one dimension (time s/min/h/day/week; months/years;
    length µm/mm/cm/m/km; mass mg/g/kg/tonne; volume ml/l; pressure Pa/kPa/MPa/mbar/bar/psi, exact
    factors only; power W/kW; voltage, current, energy, frequency) and per-units (``l/min`` = ``litres
    per minute``). Compound quantities of time, months/years, length and mass (``"2 h 15 min"``,
    ``"1 year and 6 months"``) are added up and their parts no longer count on their own. Numbers
    read: ``1,200`` and ``1 200`` (thousands), ``6,5`` (decimal comma when not followed by exactly
    three digits), ``1.200,5``, a sign, number words (``zero`` to ``ninety-nine``, ``a hundred``,
    ``two hundred and five``, ``a dozen``, ``a thousand``) and ``... and a half``.
    A number is never read inside a longer one or a code: ``16`` is not in ``2016``, ``16.5``,
    ``10-16``, ``WO-16``, ``16:30`` or ``16RS``. Documented choices: when the key has a unit, the right
    number without a unit (``"6.5"`` for ``"6.5 hours"``), with another dimension (``"6.5 mm"``) or in a
    range (``"6-7 hours"``) does not match; a unitless key matches the value whatever follows it; the
    word ``one`` alone counts only when a unit follows it (``"one of them"`` is not a number); ``°C``
    and ``°F`` are not converted and a bare ``degrees`` is not ``°C``; a 4-digit number glued to ``s``
    (``1890s``) is a decade, not seconds. Answers are read in NFC, so decomposed text matches too.
``date``
    Keys and answers in the forms ``19 May 1890``, ``19th of May, 1890``, ``May 19, 1890``,
    ``1890-05-19``, ``19/05/1890`` (day first; month first when day first is impossible), ``May 1890``,
    ``19 May``, a bare year 1000-2100, English (also ``Sept``), Italian and French month names, and
    Vietnamese ``ngày 19 tháng 5 năm 1890``. The answer must state the date at the key's precision:
    key ``19 May 1890`` needs that day, month and year (``May 1890`` or ``1890`` alone do not match);
    key ``May 1890`` matches any day of that month; key ``1890`` any date in 1890 or the bare year.
    A bare year followed by a unit (``1500 rpm``) is not a year, and a key that is a bare 4-digit
    number from 1000 to 2100 is read as a year: pass ``kind="number"`` for a count such as ``1500``.

Users register more kinds (e.g. ``part_number``) with :func:`register_span_matcher`; a matcher is
``fn(answer, key, *, strip_accents, rel_tol) -> str | None`` returning the matched piece of the answer.

:func:`is_abstention` says whether an answer declines to answer. With the default patterns
(:data:`DEFAULT_ABSTENTION_PATTERNS`, English, case-insensitive, curly apostrophes read as straight
ones) these count:

- an empty or whitespace-only answer; ``Unknown`` or ``N/A`` as the whole answer, or ``Unknown`` first
  and followed by punctuation (``"Unknown, ..."``); ``"... is unknown."`` at the end of a clause;
  ``"unknown to me"``;
- "I don't know", "I do not know", "I have no idea", "I'm not sure", "not sure", "I am uncertain",
  "I am not aware", "not that I know of";
- "no information / info / data / details / record(s)", "I have no (some) data / information /
  records / knowledge", "I don't have (any) (enough) information / data / records / access",
  "information is not available";
- "cannot / can't / couldn't / unable to / not able to answer, say, tell, determine, confirm, verify",
  "I could not / cannot find, locate, identify, recall, provide", "unable to find";
- "not mentioned / documented / specified / recorded", "does not specify / mention / state",
  "not in my data / records / knowledge / training data / sources";
- "there is no such / record / information / data / work order / ticket / entry / mention",
  "does not exist", "no such X", "beyond / outside my knowledge".

Words that merely look like doubt inside a factual answer do not count: "The cause is unknown wear of
the seal", "Make sure the pump cannot run dry", "there is no need to drain it". ``extra`` adds your own
regexes; ``patterns`` replaces the defaults.

Examples:
    >>> from domainft.evaluation.knowledge.matching import (
    ...     detect_kind, is_abstention, match_span, normalise_text)
    >>> normalise_text("Hồ Chí Minh, 1,200 rpm!")
    'ho chi minh 1,200 rpm'
    >>> match_span("He was born in Kim Liên.", "KIM LIEN")
    SpanMatch(matched=True, kind='string', found='Kim Liên', key='KIM LIEN')
    >>> match_span("Plan for 135 minutes.", "2.25 hours").found
    '135 minutes'
    >>> match_span("It takes 6.5 mm.", "6.5 hours").matched
    False
    >>> match_span("He was born on May 19th, 1890.", "1890-05-19").found
    'May 19th, 1890'
    >>> match_span("Born in 1890.", "19 May 1890").matched
    False
    >>> [detect_kind(k) for k in ("1890", "22 l/min", "6205-2RS")]
    ['date', 'number', 'string']
    >>> is_abstention("I'm not sure, there is no record of that work order."), is_abstention("Replace it.")
    (True, False)
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from domainft.errors import ConfigError
from domainft.registry import Registry

__all__ = [
    "DEFAULT_ABSTENTION_PATTERNS",
    "SpanKind",
    "SpanMatch",
    "SpanMatcher",
    "detect_kind",
    "is_abstention",
    "known_span_kinds",
    "match_span",
    "normalise_text",
    "register_span_matcher",
]

SpanKind = Literal["auto", "string", "number", "date"]
SpanMatcher = Callable[..., str | None]


@dataclass(frozen=True)
class SpanMatch:
    """Result of :func:`match_span`."""

    matched: bool
    kind: str  # the kind actually used ("string", "number", "date" or a registered one; never "auto")
    found: str | None  # the piece of the original answer that matched (None when not matched)
    key: str  # the key or alias that matched, or the main key when none did


# --------------------------------------------------------------------------------------------- text
_FOLD = str.maketrans(
    {"đ": "d", "ð": "d", "ø": "o", "ł": "l", "æ": "ae", "œ": "oe", "ß": "ss", "þ": "th", "ħ": "h", "ı": "i",
     "ŀ": "l", "ŧ": "t", "ŋ": "n"}
)  # fmt: skip
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# one character each, so replacing with a space keeps positions: a dot or comma between digits stays
_PUNCT = re.compile(rf"_|(?<!\d)[.,]|[.,](?!\d)|[^\w.,{_MARKS}]")


@functools.lru_cache(maxsize=8192)
def _fold_cluster(cluster: str, strip_accents: bool) -> str:
    """One base character with its combining marks: NFKC, casefold and (optionally) no diacritics."""
    text = unicodedata.normalize("NFKC", cluster).casefold()
    if strip_accents:
        text = unicodedata.normalize("NFD", text)
        text = "".join(c for c in text if unicodedata.category(c) != "Mn").translate(_FOLD)
    return unicodedata.normalize("NFC", text)


_ASCII_RUN = re.compile(r"[\x00-\x7f]+")


def _clusterwise(
    text: str, convert: Callable[[str], str], convert_ascii: Callable[[str], str]
) -> tuple[str, list[tuple[int, int]]]:
    """``text`` converted cluster by cluster (a character with its combining marks), with the source span
    of every output character; runs of ASCII characters not followed by a mark are converted in bulk."""
    pieces: list[str] = []
    spans: list[tuple[int, int]] = []
    n = len(text)

    def clusters(i: int, end: int) -> None:
        while i < end:
            j = i + 1
            while j < n and unicodedata.category(text[j])[0] == "M":
                j += 1
            piece = convert(text[i:j])
            pieces.append(piece)
            spans.extend([(i, j)] * len(piece))
            i = j

    pos = 0
    for run in _ASCII_RUN.finditer(text):
        start, end = run.span()
        if end < n and unicodedata.category(text[end])[0] == "M":
            end -= 1  # the last ASCII letter carries the marks after it
        clusters(pos, start)
        if start < end:
            pieces.append(convert_ascii(text[start:end]))
            spans.extend(zip(range(start, end), range(start + 1, end + 1), strict=True))
            pos = end
        else:
            pos = start
    clusters(pos, n)
    return "".join(pieces), spans


@functools.lru_cache(maxsize=1024)
def _folded(text: str, strip_accents: bool) -> tuple[str, list[tuple[int, int]] | None]:
    """``text`` folded with punctuation as spaces (not collapsed), and each character's source span.

    The span list is None when positions are unchanged (ASCII text).
    """
    if text.isascii():
        return _PUNCT.sub(" ", text.lower()), None
    folded, spans = _clusterwise(text, lambda c: _fold_cluster(c, strip_accents), str.lower)
    return _PUNCT.sub(" ", folded), spans


@functools.lru_cache(maxsize=1024)
def _composed(text: str) -> tuple[str, list[tuple[int, int]] | None]:
    """``text`` in NFC (how numbers, units and dates are read), with source spans when it changed."""
    if unicodedata.is_normalized("NFC", text):
        return text, None
    return _clusterwise(text, lambda c: unicodedata.normalize("NFC", c), str)


def _source(answer: str, spans: list[tuple[int, int]] | None, start: int, end: int) -> str:
    """The piece of the original ``answer`` behind ``[start, end)`` of its converted text."""
    if spans is None:
        return answer[start:end]
    return answer[spans[start][0] : spans[end - 1][1]]


def normalise_text(text: str, *, strip_accents: bool = True) -> str:
    """NFKC, case folded, diacritics removed (also đ->d, ø->o, ł->l, æ->ae, ß->ss), punctuation as spaces.

    A dot or comma between two digits is kept (``6.5``, ``1,200``); whitespace is collapsed.

    Examples:
        >>> normalise_text("  Nguyễn   Sinh-Cung  (Huế), 6.5 h. ")
        'nguyen sinh cung hue 6.5 h'
        >>> normalise_text("Huế", strip_accents=False)
        'huế'
    """
    if not isinstance(text, str):
        raise TypeError(f"normalise_text expects a str, got {type(text).__name__}")
    return " ".join(_folded(text, strip_accents)[0].split())


@functools.lru_cache(maxsize=4096)
def _token_pattern(key: str, strip_accents: bool) -> re.Pattern[str] | None:
    tokens = normalise_text(key, strip_accents=strip_accents).split()
    if not tokens:
        return None
    return re.compile(r"(?<!\S)" + r"\s+".join(map(re.escape, tokens)) + r"(?!\S)")


def _match_string(answer: str, key: str, *, strip_accents: bool = True, rel_tol: float = 1e-6) -> str | None:
    """Whole-token match of the normalised key in the normalised answer; returns the original piece."""
    pattern = _token_pattern(key, strip_accents)
    if pattern is None:  # a key of punctuation only: compare it literally, ignoring case
        found = re.search(re.escape(key.strip()), answer, re.IGNORECASE)
        return found.group(0) if found else None
    folded, spans = _folded(answer, strip_accents)
    found = pattern.search(folded)
    if found is None:
        return None
    return _source(answer, spans, *found.span())


# ------------------------------------------------------------------------------------------ numbers
def _trie_regex(words: Sequence[str | Sequence[str]]) -> str:
    """An alternation of ``words`` as a prefix tree (much faster to scan than a flat ``a|b|c``).

    A word is a string (matched literally) or a sequence of regex atoms (one per character).
    """
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for atom in [re.escape(c) for c in word] if isinstance(word, str) else word:
            node = node.setdefault(atom, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [atom + build(child) for atom, child in sorted(node.items()) if atom]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return f"(?:{build(tree)})"


class _Unit(NamedTuple):
    dimension: str
    factor: float  # to the dimension's base unit


_UNIT_TABLE: list[tuple[str, float, tuple[str, ...]]] = [
    # dimension, factor to base, spellings (a space matches any spaces or hyphens, or none)
    ("time", 1.0, ("s", "sec", "secs", "second", "seconds", "secondo", "secondi", "seconde", "secondes")),
    ("time", 60.0, ("min", "mins", "minute", "minutes", "minuto", "minuti")),
    ("time", 3600.0, ("h", "hr", "hrs", "hour", "hours", "ora", "ore", "heure", "heures", "giờ")),
    ("time", 86400.0, ("d", "day", "days", "giorno", "giorni", "jour", "jours", "ngày")),
    ("time", 604800.0, ("wk", "wks", "week", "weeks", "settimana", "settimane", "semaine", "semaines")),
    ("calendar", 1.0, ("mo", "mos", "month", "months", "mese", "mesi", "mois", "tháng")),
    ("calendar", 12.0, ("yr", "yrs", "year", "years", "anno", "anni", "ans", "année", "années", "năm")),
    ("length", 1e-6, ("µm", "μm", "um", "micron", "microns", "micrometre", "micrometres", "micrometer",
                      "micrometers")),
    ("length", 1e-3, ("mm", "millimetre", "millimetres", "millimeter", "millimeters", "millimetro",
                      "millimetri", "millimètre", "millimètres")),
    ("length", 1e-2, ("cm", "centimetre", "centimetres", "centimeter", "centimeters", "centimetro",
                      "centimetri", "centimètre", "centimètres")),
    ("length", 1.0, ("m", "metre", "metres", "meter", "meters", "metro", "metri", "mètre", "mètres")),
    ("length", 1e3, ("km", "kilometre", "kilometres", "kilometer", "kilometers", "chilometro", "chilometri",
                     "kilomètre", "kilomètres")),
    ("mass", 1e-3, ("mg", "milligram", "milligrams", "milligramme", "milligrammes")),
    ("mass", 1.0, ("g", "gram", "grams", "gramme", "grammes", "grammo", "grammi")),
    ("mass", 1e3, ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes",
                   "chilogrammo", "chilogrammi")),
    ("mass", 1e6, ("tonne", "tonnes")),
    ("volume", 1e-3, ("ml", "millilitre", "millilitres", "milliliter", "milliliters", "millilitro",
                      "millilitri")),
    ("volume", 1.0, ("l", "L", "litre", "litres", "liter", "liters", "litro", "litri")),
    ("volume/time", 1 / 60, ("lpm",)),
    ("pressure", 1.0, ("Pa", "pascal", "pascals")),
    ("pressure", 1e3, ("kPa",)),
    ("pressure", 1e6, ("MPa",)),
    ("pressure", 1e2, ("mbar", "millibar", "millibars")),
    ("pressure", 1e5, ("bar", "bars")),
    ("pressure", 6894.757293168361, ("psi",)),
    ("temperature_c", 1.0, ("° C", "º C", "℃", "degC", "deg C", "degree C", "degrees C", "degree Celsius",
                            "degrees Celsius", "degrees centigrade", "Celsius", "C", "gradi C",
                            "gradi Celsius", "degrés Celsius")),
    ("temperature_f", 1.0, ("° F", "º F", "℉", "degF", "deg F", "degree F", "degrees F", "degree Fahrenheit",
                            "degrees Fahrenheit", "Fahrenheit", "F")),
    ("rotation", 1.0, ("rpm", "r/min", "rev/min", "revs/min", "revolutions per minute",
                       "revolution per minute", "giri/min", "giri al minuto", "tr/min", "tours par minute")),
    ("percent", 1.0, ("%", "percent", "per cent", "pct", "per cento", "pour cent")),
    ("power", 1.0, ("W", "watt", "watts")),
    ("power", 1e3, ("kW", "kilowatt", "kilowatts")),
    ("horsepower", 1.0, ("hp", "horsepower", "bhp")),
    ("voltage", 1e-3, ("mV", "millivolt", "millivolts")),
    ("voltage", 1.0, ("V", "volt", "volts")),
    ("voltage", 1e3, ("kV", "kilovolt", "kilovolts")),
    ("current", 1e-3, ("mA", "milliamp", "milliamps", "milliampere", "milliamperes")),
    ("current", 1.0, ("A", "amp", "amps", "ampere", "amperes")),
    ("torque", 1.0, ("Nm", "N m", "N·m", "N.m", "newton metre", "newton metres", "newton meter",
                     "newton meters")),
    ("frequency", 1.0, ("Hz", "hertz")),
    ("frequency", 1e3, ("kHz", "kilohertz")),
    ("energy", 1.0, ("Wh", "watt hour", "watt hours")),
    ("energy", 1e3, ("kWh", "kilowatt hour", "kilowatt hours")),
    ("length/time", 1e3 / 3600, ("kph", "km/h", "kmh")),
]  # fmt: skip
# spellings whose letter case carries meaning (M = mega, m = milli, N = newton, A = ampere, a = article)
_CASE_SENSITIVE = {"mV", "MPa", "mA", "Pa", "kPa", "Nm", "N m", "N·m", "N.m", "Wh", "kWh"}

_UNITS: dict[str, _Unit] = {}
_UNIT_SPELLINGS: list[list[str]] = []  # regex atoms per spelling, for the prefix tree
for _dimension, _factor, _spellings in _UNIT_TABLE:
    for _spelling in _spellings:
        _sensitive = len(_spelling) == 1 or _spelling in _CASE_SENSITIVE
        _lookup = _spelling if _sensitive else _spelling.casefold()
        _UNITS[re.sub(r"[\s\-]+", "", _lookup)] = _Unit(_dimension, _factor)
        _UNIT_SPELLINGS.append(
            [
                r"[\s\-]*" if c == " " else
                re.escape(c) if _sensitive or c.lower() == c.upper() else
                f"[{re.escape(c.lower())}{re.escape(c.upper())}]"
                for c in _spelling
            ]
        )  # fmt: skip
_UNIT_ALT = _trie_regex(_UNIT_SPELLINGS)
_UNIT = rf"(?P<u1>{_UNIT_ALT})(?:\s*(?:/|(?i:\bper\b))\s*(?P<u2>{_UNIT_ALT}))?(?![\w/])"

# fmt: off
_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
# fmt: on
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_VALUES = {**{w: i for i, w in enumerate(_ONES)}, **{w: 20 + 10 * i for i, w in enumerate(_TENS)}}
_W1_9 = _trie_regex(_ONES[1:10])
_W99 = rf"(?:{_trie_regex(_TENS)}(?:[\s\-]+{_W1_9})?|{_trie_regex(_ONES)})"
_WORDS = (
    rf"(?P<words>\b(?:(?:a|{_W1_9})\s+hundred(?:\s+(?:and\s+)?{_W99})?"
    rf"|(?:a|one)\s+(?:dozen|thousand)|{_W99})\b)"
)
_DIGITS = (
    r"(?<!\w)(?<!\w[-.,/:])(?P<sign>[-−](?=\d))?(?:"
    r"(?P<eu>\d{1,3}(?:\.\d{3})+,\d+)"  # 1.200,5
    r"|(?P<eut>\d{1,3}(?:\.\d{3}){2,})"  # 1.200.000
    r"|(?P<en>\d{1,3}(?:,\d{3})+(?:\.\d+)?)"  # 1,200 and 1,200.5
    r"|(?P<sp>\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?:[.,]\d+)?)"  # 1 200
    r"|(?P<plain>\d+(?:[.,]\d+)?)"  # 6.5, 6,5, 2016
    r")(?!\d|[.,:/]\d)"
)
_QUANTITY = re.compile(
    rf"(?:{_DIGITS}|(?i:{_WORDS}))(?P<half>(?i:\s+and\s+a\s+half\b))?(?:\s*(?:-\s*)?{_UNIT})?"
)
_UNIT_AFTER = re.compile(rf"\s*(?:-\s*)?{_UNIT}")
_JOINER = re.compile(r"\s*(?:,|(?i:and)|&|\+)?\s*")


class _Quantity(NamedTuple):
    start: int
    end: int
    value: float | None  # the number as written; None for a compound ("2 h 15 min")
    unit: _Unit | None
    base: float  # value converted to the dimension's base unit (value itself when no unit)
    weak: bool  # the word "one"/"a" alone: a number only when a unit follows


def _unit_of(spelling: str) -> _Unit:
    text = re.sub(r"[\s\-]+", "", spelling)
    return _UNITS.get(text) or _UNITS[text.casefold()]


def _word_value(text: str) -> float:
    total = current = 0
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _WORD_VALUES:
            current += _WORD_VALUES[word]
        elif word == "a":
            current += 1
        elif word == "hundred":
            current = (current or 1) * 100
        elif word == "dozen":
            current = (current or 1) * 12
        elif word == "thousand":
            total += (current or 1) * 1000
            current = 0
    return float(total + current)


def _number_value(match: re.Match[str]) -> float:
    if match.group("words") is not None:
        value = _word_value(match.group("words"))
    else:
        if (text := match.group("eu")) is not None:
            text = text.replace(".", "").replace(",", ".")
        elif (text := match.group("eut")) is not None:
            text = text.replace(".", "")
        elif (text := match.group("en")) is not None:
            text = text.replace(",", "")
        elif (text := match.group("sp")) is not None:
            text = re.sub(r"\s", "", text).replace(",", ".")
        else:
            text = match.group("plain").replace(",", ".")
        value = float(text)
        if match.group("sign"):
            value = -value
    return value + 0.5 if match.group("half") else value


@functools.lru_cache(maxsize=1024)
def _quantities(text: str) -> tuple[_Quantity, ...]:
    """Every number in ``text`` with its unit; compound times and lengths merged into one quantity."""
    found: list[_Quantity] = []
    for match in _QUANTITY.finditer(text):
        unit = None
        if match.group("u1") is not None:
            if match.group("u1") == "s" and re.fullmatch(r"\d{3}0s", text[match.start() : match.end()]):
                continue  # "1890s" is a decade, not 1890 seconds
            unit = _unit_of(match.group("u1"))
            if match.group("u2") is not None:
                per = _unit_of(match.group("u2"))
                unit = _Unit(f"{unit.dimension}/{per.dimension}", unit.factor / per.factor)
        elif match.end() < len(text) and text[match.end()].isalpha():
            continue  # a number glued to letters that are no unit is a code ("2RS", "16x")
        value = _number_value(match)
        words = match.group("words")
        weak = words is not None and words.lower() in ("one", "a") and not match.group("half")
        if weak and unit is None:
            continue
        end = match.end()
        while end > match.start() and text[end - 1].isspace():
            end -= 1
        base = value * unit.factor if unit is not None else value
        found.append(_Quantity(match.start(), end, value, unit, base, weak))
    merged: list[_Quantity] = []
    for quantity in found:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.unit is not None
            and quantity.unit is not None
            and last.unit.dimension == quantity.unit.dimension
            and last.unit.dimension in ("time", "calendar", "length", "mass")
            and quantity.unit.factor < last.unit.factor
            and _JOINER.fullmatch(text, last.end, quantity.start)
        ):
            smallest = min(last.unit.factor, quantity.unit.factor)
            merged[-1] = _Quantity(
                last.start,
                quantity.end,
                None,
                _Unit(last.unit.dimension, smallest),
                last.base + quantity.base,
                False,
            )
        else:
            merged.append(quantity)
    return tuple(merged)


class _NumberKey(NamedTuple):
    value: float | None
    unit: _Unit | None
    base: float
    unit_text: str  # an unknown unit's normalised words ("" when none or known)


@functools.lru_cache(maxsize=4096)
def _parse_number_key(key: str, strict: bool = True) -> _NumberKey | None:
    """The number (and unit) a key states; None when it is not one number with an optional known unit.

    With ``strict=False`` a key like ``"3 widgets"`` gives 3 with the unknown unit ``"widgets"``.
    """
    text = unicodedata.normalize("NFC", key).strip().rstrip(".")
    quantities = _quantities(text)
    if len(quantities) == 1 and quantities[0].start == 0 and quantities[0].end == len(text):
        q = quantities[0]
        if not q.weak or q.unit is not None:
            return _NumberKey(q.value, q.unit, q.base, "")
    if strict:
        return None
    lead = _QUANTITY.match(text)
    if lead is None or lead.group("u1") is not None:
        return None
    rest = normalise_text(text[lead.end() :], strip_accents=False)
    value = _number_value(lead)
    return _NumberKey(value, None, value, rest) if rest else None


def _close(a: float, b: float, rel_tol: float) -> bool:
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=0.0)


def _match_number(answer: str, key: str, *, strip_accents: bool = True, rel_tol: float = 1e-6) -> str | None:
    """The first quantity of the answer equal to the key's number, in an equivalent unit when it has one."""
    parsed = _parse_number_key(key) or _parse_number_key(key, strict=False)
    if parsed is None:
        raise ConfigError(
            f"span kind 'number': the key {key!r} is not a number with an optional unit "
            "(e.g. '6.5 hours', '22 l/min', '45%'); use kind 'string' or 'auto'"
        )
    text, spans = _composed(answer)
    for q in _quantities(text):
        if parsed.unit is not None:
            if (
                q.unit is not None
                and q.unit.dimension == parsed.unit.dimension
                and _close(q.base, parsed.base, rel_tol)
            ):
                return _source(answer, spans, q.start, q.end)
        elif q.value is not None and parsed.value is not None and _close(q.value, parsed.value, rel_tol):
            if not parsed.unit_text:
                return _source(answer, spans, q.start, q.end)
            # an unknown unit ("3 widgets" with kind="number"): the same words must follow the number
            tail = _unit_words(parsed.unit_text).match(text, q.end)
            if tail is not None:
                return _source(answer, spans, q.start, tail.end())
    return None


@functools.lru_cache(maxsize=256)
def _unit_words(unit_text: str) -> re.Pattern[str]:
    words = r"\W+".join(map(re.escape, unit_text.split()))
    return re.compile(rf"\s*(?:-\s*)?{words}(?!\w)", re.IGNORECASE)


# -------------------------------------------------------------------------------------------- dates
_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "january jan gennaio janvier",
        "february feb febbraio février fevrier",
        "march mar marzo mars",
        "april apr aprile avril",
        "may maggio mai",
        "june jun giugno juin",
        "july jul luglio juillet",
        "august aug agosto août aout",
        "september sep sept settembre septembre",
        "october oct ottobre octobre",
        "november nov novembre",
        "december dec dicembre décembre decembre",
    ],
    1,
):
    _MONTHS.update(dict.fromkeys(_names.split(), _number))
_MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
_MONTH = (
    rf"(?P<month>\b(?:{_trie_regex(_MONTH_ABBREVIATIONS)}\b\.?"
    rf"|{_trie_regex([m for m in _MONTHS if m not in _MONTH_ABBREVIATIONS])}\b))"
)
_DAY = r"(?<![\w.,:/\-])(?P<day>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th|er|º|°|ª)?(?!\w)"
_YEAR = r"(?P<year>\d{4})(?!\d|[.,]\d|['’]?s\b)"
_IN = r"(?:,?[\s\-]+(?:(?:in|of)\s+)?)"
_NUM_MONTH = r"(?P<m>1[0-2]|0?[1-9])(?!\d)"
_DATE_PATTERNS = [
    # ISO (year first): 1890-05-19, 1890/05/19, 1890.05.19, and the year-month 1890-05
    re.compile(
        r"(?<![\w\-/.])(?P<year>\d{4})(?:(?P<sep>[-/.])(?P<m>1[0-2]|0?[1-9])(?P=sep)(?P<day>3[01]|[12]\d|0?[1-9])"
        r"|-(?P<m2>1[0-2]|0[1-9]))(?!\d|[-/.]\d)"
    ),
    # numeric day first (month first when day first is impossible): 19/05/1890, 19.05.1890, 19-05-1890
    re.compile(
        r"(?<![\w\-/.:])(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4})(?!\d|[-/.]\d)"
    ),
    # Vietnamese: ngày 19 tháng 5 năm 1890, tháng 5 năm 1890
    re.compile(
        rf"(?:(?:ngày|ngay)\s+(?P<day>3[01]|[12]\d|0?[1-9])\s+)?(?:tháng|thang)\s+{_NUM_MONTH}"
        rf"(?:\s*(?:,\s*)?(?:năm|nam)\s+|\s*[,/]\s*){_YEAR}",
        re.I,
    ),
    re.compile(rf"(?:ngày|ngay)\s+(?P<day>3[01]|[12]\d|0?[1-9])\s+(?:tháng|thang)\s+{_NUM_MONTH}", re.I),
    # 19 May 1890, the 19th of May, 1890, 19-May-1890, 19 May
    re.compile(rf"{_DAY}(?:\s+of)?[\s\-]+{_MONTH}(?:{_IN}{_YEAR})?", re.I),
    # May 19, 1890; May 19th 1890; May 19
    re.compile(rf"{_MONTH}\s+(?:the\s+)?{_DAY}(?:{_IN}{_YEAR})?", re.I),
    # May 1890, May of 1890, May, 1890
    re.compile(rf"{_MONTH}{_IN}{_YEAR}", re.I),
    # a bare year 1000-2100
    re.compile(r"(?<!\w)(?<!\w[-/.,:])(?P<year>\d{4})(?!\w|[-/.,:]\w|['’]s\b)"),
]
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class _Date(NamedTuple):
    start: int
    end: int
    year: int | None
    month: int | None
    day: int | None


def _valid(year: int | None, month: int | None, day: int | None) -> bool:
    if month is not None and not 1 <= month <= 12:
        return False
    if day is not None:
        if month is None or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
            return False
        leap = year is None or (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0))
        if month == 2 and day == 29 and not leap:
            return False
    return True


@functools.lru_cache(maxsize=1024)
def _dates(text: str) -> tuple[_Date, ...]:
    """Every date stated in ``text`` (most precise forms first; a piece of text is read once)."""
    taken: list[tuple[int, int]] = []
    found: list[_Date] = []
    last = len(_DATE_PATTERNS) - 1
    for index, pattern in enumerate(_DATE_PATTERNS):
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken):
                continue
            groups = match.groupdict()
            year = int(groups["year"]) if groups.get("year") else None
            day = int(groups["day"]) if groups.get("day") else None
            if groups.get("month"):
                month: int | None = _MONTHS[groups["month"].rstrip(".").lower()]
            elif groups.get("m") or groups.get("m2"):
                month = int(groups.get("m") or groups["m2"])
            else:
                month = None
            if groups.get("a"):
                day, month = int(groups["a"]), int(groups["b"])
                if not _valid(year, month, day):
                    day, month = month, day
            if index == last and (year is None or not 1000 <= year <= 2100 or _UNIT_AFTER.match(text, end)):
                continue  # a bare year: 1000-2100 and not followed by a unit ("1500 rpm")
            if not _valid(year, month, day):
                continue
            taken.append((start, end))
            found.append(_Date(start, end, year, month, day))
    return tuple(sorted(found))


@functools.lru_cache(maxsize=4096)
def _parse_date_key(key: str) -> _Date | None:
    """The one date a key states in full, or None."""
    text = unicodedata.normalize("NFC", key).strip().rstrip(".").strip()
    dates = _dates(text)
    if len(dates) == 1 and dates[0].start == 0 and dates[0].end == len(text):
        return dates[0]
    return None


def _match_date(answer: str, key: str, *, strip_accents: bool = True, rel_tol: float = 1e-6) -> str | None:
    """The first date of the answer agreeing with every part (year, month, day) the key states."""
    wanted = _parse_date_key(key)
    if wanted is None:
        raise ConfigError(
            f"span kind 'date': cannot read the key {key!r} as a date "
            "(e.g. '19 May 1890', '1890-05-19', 'May 1890', '1890'); use kind 'string' or 'auto'"
        )
    text, spans = _composed(answer)
    for date in _dates(text):
        if all(w is None or w == got for w, got in zip(wanted[2:], date[2:], strict=True)):
            return _source(answer, spans, date.start, date.end)
    return None


# ----------------------------------------------------------------------------------------- registry
_SPAN_MATCHERS: Registry[SpanMatcher] = Registry("span kind")


def register_span_matcher(
    kind: str, fn: SpanMatcher | None = None, *, overwrite: bool = False
) -> SpanMatcher | Callable[[SpanMatcher], SpanMatcher]:
    """Register ``fn(answer, key, *, strip_accents, rel_tol) -> str | None`` as span kind ``kind``.

    Usable directly or as a decorator. The matcher returns the piece of the answer stating the key, or
    None. ``"auto"`` is reserved.

    Examples:
        >>> @register_span_matcher("doc_part_number", overwrite=True)
        ... def part_number(answer, key, *, strip_accents, rel_tol):
        ...     found = re.search(re.escape(key).replace(r"\\-", "[- ]?"), answer, re.IGNORECASE)
        ...     return found.group(0) if found else None
        >>> match_span("Fit a 6205 2RS bearing.", "6205-2RS", "doc_part_number").found
        '6205 2RS'
    """
    if not isinstance(kind, str) or not kind.strip():
        raise ConfigError(f"register_span_matcher: the kind must be a non-empty string, got {kind!r}")
    if kind.strip().lower() == "auto":
        raise ConfigError("register_span_matcher: 'auto' is reserved (it picks a built-in kind per key)")

    def _add(matcher: SpanMatcher) -> SpanMatcher:
        if not callable(matcher):
            raise TypeError(f"register_span_matcher({kind!r}) expects a callable, got {matcher!r}")
        _SPAN_MATCHERS.register(kind.strip(), matcher, overwrite=overwrite)
        return matcher

    return _add(fn) if fn is not None else _add


def known_span_kinds() -> list[str]:
    """Sorted names of the registered span kinds (``"auto"`` is not one of them)."""
    return _SPAN_MATCHERS.names()


register_span_matcher("string", _match_string)
register_span_matcher("number", _match_number)
register_span_matcher("date", _match_date)


@functools.lru_cache(maxsize=8192)
def detect_kind(key: str) -> str:
    """``"date"`` for a key that reads fully as a date (a bare year 1000-2100 too), ``"number"`` for a
    number with an optional known unit and nothing else, else ``"string"``.

    Examples:
        >>> [detect_kind(k) for k in ("19 May 1890", "6.5 hours", "10", "WO-2022-0001", "Check ring wear")]
        ['date', 'number', 'number', 'string', 'string']
    """
    if not isinstance(key, str):
        raise TypeError(f"detect_kind expects a str, got {type(key).__name__}")
    if _parse_date_key(key) is not None:
        return "date"
    if _parse_number_key(key) is not None:
        return "number"
    return "string"


def match_span(
    answer: str,
    key: str,
    kind: SpanKind | str = "auto",
    *,
    aliases: Sequence[str] = (),
    strip_accents: bool = True,
    rel_tol: float = 1e-6,
) -> SpanMatch:
    """Whether ``answer`` states ``key`` or one of ``aliases`` (see the module docstring for each kind).

    ``kind="auto"`` picks the kind per key with :func:`detect_kind`. An empty key or alias, an unknown
    kind or a negative ``rel_tol`` raise ``ConfigError``.

    Examples:
        >>> match_span("About ten years old.", "10 years")
        SpanMatch(matched=True, kind='number', found='ten years', key='10 years')
        >>> match_span("It was Saigon.", "Ho Chi Minh City", aliases=["Saigon"]).key
        'Saigon'
    """
    if not isinstance(answer, str):
        raise TypeError(f"match_span: the answer must be a str, got {type(answer).__name__}")
    if not isinstance(key, str) or not key.strip():
        raise ConfigError(f"match_span: the key must be a non-empty string, got {key!r}")
    if isinstance(aliases, str):
        raise ConfigError(f"match_span: aliases must be a list of strings, got the string {aliases!r}")
    aliases = tuple(aliases)
    for alias in aliases:
        if not isinstance(alias, str) or not alias.strip():
            raise ConfigError(
                f"match_span: every alias of key {key!r} must be a non-empty string, got {alias!r}"
            )
    if not (isinstance(rel_tol, int | float) and rel_tol >= 0):
        raise ConfigError(f"match_span: rel_tol must be a number >= 0, got {rel_tol!r}")
    if not isinstance(kind, str):
        raise ConfigError(f"match_span: kind must be a string such as 'auto' or 'number', got {kind!r}")
    if kind != "auto":
        try:
            matcher = _SPAN_MATCHERS.get(kind)
        except ConfigError as exc:
            raise ConfigError(f"match_span: {exc} Or use 'auto' to pick one per key.") from None
    first_kind = None
    for candidate in (key, *aliases):
        used = detect_kind(candidate) if kind == "auto" else kind.lower()
        first_kind = first_kind or used
        found = (matcher if kind != "auto" else _SPAN_MATCHERS.get(used))(
            answer, candidate, strip_accents=strip_accents, rel_tol=rel_tol
        )
        if found is not None:
            if not isinstance(found, str):
                raise TypeError(
                    f"span matcher {used!r} must return a str or None, got {type(found).__name__}"
                )
            return SpanMatch(True, used, found, candidate)
    return SpanMatch(False, first_kind or "string", None, key)


# -------------------------------------------------------------------------------------- abstention
DEFAULT_ABSTENTION_PATTERNS: tuple[str, ...] = (
    r"\bi\s+(?:really\s+|honestly\s+|simply\s+)?(?:don'?t|do\s+not|dunno)\s+know\b",
    r"\bi\s+(?:have|had)\s+no\s+idea\b|^\W*no\s+idea\b",
    r"\b(?:i'?m|i\s+am)\s+(?:not\s+(?:sure|certain)|unsure|uncertain)\b",
    r"\bnot\s+sure\b",
    r"\bnot\s+that\s+i\s+(?:know|am\s+aware)\s+of\b|\b(?:i'?m|i\s+am|i\s+was)\s+not\s+aware\b",
    r"\bno\s+(?:information|info|data|details|records?)\b",
    r"\bi\s+(?:have|had|possess)\s+no\s+(?:\w+\s+)?(?:data|information|info|records?|knowledge|details)\b",
    r"\bi\s+(?:don'?t|do\s+not|didn'?t|did\s+not)\s+have\s+(?:any\s+)?(?:\w+\s+)?"
    r"(?:information|info|data|records?|details|knowledge|access)\b",
    r"\b(?:cannot|can\s+not|can'?t|could\s*not|couldn'?t|unable\s+to|not\s+able\s+to)\s+"
    r"(?:reliably\s+|accurately\s+|definitively\s+)?(?:answer|say|tell|determine|confirm|verify)\b",
    r"\bi\s+(?:cannot|can\s+not|can'?t|could\s*not|couldn'?t|was\s+unable\s+to|am\s+unable\s+to)\s+"
    r"(?:find|locate|identify|recall|provide)\b|\bunable\s+to\s+(?:find|locate)\b",
    r"^\W*(?:unknown|n/a)\W*$|^\W*unknown\s*[.,;:!\-–—(]",
    r"\b(?:is|are|was|were|remains?|remained)\s+(?:currently\s+|still\s+|simply\s+)?unknown\s*(?:[.;!)]|$)",
    r"\bunknown\s+to\s+me\b",
    r"\bnot\s+(?:mentioned|documented|specified|recorded)\b",
    r"\b(?:does|do|did)\s+not\s+(?:specify|mention|state)\b|\b(?:doesn'?t|don'?t|didn'?t)\s+(?:specify|mention|state)\b",
    r"\b(?:information|data|details|records?)\s+(?:is|are|was|were)\s+not\s+available\b",
    r"\bnot\s+in\s+my\s+(?:data|records?|knowledge|training\s+data|sources)\b",
    r"\bthere(?:\s+is|'s|\s+are|\s+was|\s+were)\s+no\s+(?:such|records?|information|data|work\s+orders?|tickets?"
    r"|entry|entries|mention)\b",
    r"\b(?:does|do|did)\s+not\s+exist\b|\b(?:doesn'?t|don'?t|didn'?t)\s+exist\b",
    r"\bno\s+such\s+\w+",
    r"\b(?:beyond|outside(?:\s+of)?)\s+my\s+knowledge\b",
)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})


@functools.lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern:
            raise ConfigError(
                f"is_abstention: every pattern must be a non-empty regex string, got {pattern!r}"
            )
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"is_abstention: invalid abstention pattern {pattern!r}: {exc}") from None
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE | re.MULTILINE)


def is_abstention(answer: str, patterns: Sequence[str] | None = None, *, extra: Sequence[str] = ()) -> bool:
    """True when the answer declines to answer (see the module docstring for what counts).

    An empty or whitespace-only answer counts. ``patterns=None`` uses
    :data:`DEFAULT_ABSTENTION_PATTERNS`; ``extra`` adds regexes (case-insensitive) to them.

    Examples:
        >>> is_abstention("Unknown."), is_abstention("The cause is unknown wear of the seal.")
        (True, False)
        >>> is_abstention("Non lo so.", extra=[r"\\bnon\\s+lo\\s+so\\b"])
        True
    """
    if answer is None:
        return True
    if not isinstance(answer, str):
        raise TypeError(f"is_abstention: the answer must be a str, got {type(answer).__name__}")
    if not answer.strip():
        return True
    if isinstance(patterns, str) or isinstance(extra, str):
        raise ConfigError("is_abstention: patterns and extra must be lists of regexes, not one string")
    chosen = tuple(DEFAULT_ABSTENTION_PATTERNS if patterns is None else patterns) + tuple(extra)
    if not chosen:
        return False
    return _compiled(chosen).search(answer.translate(_APOSTROPHES)) is not None
