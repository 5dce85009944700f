"""Cleaning steps (each optional, chainable and reported) and the report of every row they drop.

Steps are registered functions ``fn(ds, **params) -> StepOutcome`` (``register_cleaning_step``).
Built-in steps: ``strip_html``, ``normalize`` (Unicode NFKC + whitespace), ``replace`` (user regex
rules), ``drop_matching``, ``drop_missing``, ``dedup`` (exact, on normalised text), ``near_dedup``
(TF-IDF cosine or MinHash), ``length_outliers`` (IQR or percentiles, on characters or tokens),
``token_filter`` and ``map_text`` (any ``str -> str`` function, e.g. a translation by a teacher model).
:func:`run_steps` applies a list of them and fills one :class:`CleaningReport`; nothing is dropped
without a record in it.

Examples:
    >>> from datasets import Dataset
    >>> from domainft.data.cleaning import clean_dataset
    >>> ds = Dataset.from_list([
    ...     {"prompt": "Oil  interval?", "response": "500 h."},
    ...     {"prompt": "Oil interval? ", "response": "500 h."},
    ...     {"prompt": "Belt?", "response": "  "},
    ... ])
    >>> clean, report = clean_dataset(ds)
    >>> list(clean["prompt"])
    ['Oil interval?']
    >>> report.summary()
    'cleaning: 3 rows in, 1 out, 2 dropped (duplicate: 1, empty_response: 1)'
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal

from domainft.errors import ConfigError, DataError, ModelError
from domainft.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    import datasets

_HSPACE = re.compile(r"[^\S\n]+")  # any whitespace except a newline
_BLANK_LINES = re.compile(r"\n{3,}")
_LOOKS_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]*>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")
MESSAGES = "messages"


def normalize_text(text: str, form: str | None = "NFKC") -> str:
    """Unicode-normalise (NFKC by default), unify line endings, collapse runs of spaces/tabs, strip lines.

    Newlines are kept; three or more consecutive newlines become one blank line. NFKC also folds
    compatibility characters (full-width letters, ligatures, no-break spaces); pass ``form="NFC"`` to
    keep them.

    Examples:
        >>> normalize_text("  Check\\t the  belt.\\r\\n\\n\\n\\nThen restart. ")
        'Check the belt.\\n\\nThen restart.'
        >>> normalize_text("ﬁlter ＡＢＣ")
        'filter ABC'
    """
    if form:
        text = unicodedata.normalize(form, text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(_HSPACE.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def dedup_key(text: str) -> str:
    """The form under which two texts count as exact duplicates: normalised, case-folded, one space.

    Examples:
        >>> dedup_key("Check  the BELT.\\n") == dedup_key("check the belt.")
        True
    """
    return " ".join(normalize_text(text).casefold().split())


def html_to_text(text: str) -> str:
    """Visible text of an HTML fragment (BeautifulSoup): tags removed, entities decoded, blocks on lines.

    Text without tags or entities is returned unchanged.

    Examples:
        >>> html_to_text("<p>Reset the <b>breaker</b> &amp; retry.</p><script>x()</script><p>Done</p>")
        'Reset the breaker & retry.\\nDone'
    """
    if not _LOOKS_HTML.search(text):
        return text
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    blocks = ("p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "section")
    for tag in soup.find_all(blocks):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().split("\n"))
    return "\n".join(line for line in lines if line)


# --------------------------------------------------------------------------------------------- report


@dataclasses.dataclass
class StepReport:
    """One step of a cleaning run: its parameters, rows in/out and how many kept rows it changed."""

    step: str
    rows_in: int
    rows_out: int
    changed: int = 0
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return self.rows_in - self.rows_out


@dataclasses.dataclass
class CleaningReport:
    """What cleaning did: counts by reason, each step, and the dropped rows themselves.

    ``dropped`` holds each removed row as it entered the step that removed it, plus ``reason`` (e.g.
    ``"empty_prompt"``, ``"duplicate"``, ``"near_duplicate"``, ``"length_outlier"``), ``step`` and
    ``row_index`` (its position in that step's input). Duplicates also carry ``duplicate_of`` (the kept
    row's ``row_index``) and, when rows have ids, ``duplicate_of_id``.
    """

    rows_in: int = 0
    rows_out: int = 0
    dropped_by_reason: dict[str, int] = dataclasses.field(default_factory=dict)
    normalised: int = 0
    dropped: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    steps: list[StepReport] = dataclasses.field(default_factory=list)

    @property
    def rows_dropped(self) -> int:
        return self.rows_in - self.rows_out

    def dropped_rows(self, reason: str | None = None) -> list[dict[str, Any]]:
        """The dropped rows, optionally only those dropped for ``reason``."""
        return [r for r in self.dropped if reason is None or r["reason"] == reason]

    def record(self, row: dict[str, Any], reason: str, **extra: Any) -> None:
        """Add one dropped row (the builder also records rows a record format or split set aside)."""
        self.dropped.append({**row, "reason": reason, **extra})
        self.dropped_by_reason[reason] = self.dropped_by_reason.get(reason, 0) + 1

    def merge(self, other: CleaningReport) -> None:
        """Append a later run over this report's output (the builder chains cleaning calls this way)."""
        self.rows_out = other.rows_out
        self.normalised += other.normalised
        self.steps.extend(other.steps)
        for row in other.dropped:
            self.record({k: v for k, v in row.items() if k != "reason"}, row["reason"])

    def to_dict(self, include_rows: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_dropped": self.rows_dropped,
            "dropped_by_reason": dict(self.dropped_by_reason),
            "normalised": self.normalised,
            "steps": [dataclasses.asdict(s) for s in self.steps],
        }
        if include_rows:
            out["dropped"] = [dict(r) for r in self.dropped]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CleaningReport:
        return cls(
            rows_in=int(data["rows_in"]),
            rows_out=int(data["rows_out"]),
            dropped_by_reason=dict(data.get("dropped_by_reason", {})),
            normalised=int(data.get("normalised", 0)),
            dropped=[dict(r) for r in data.get("dropped", [])],
            steps=[StepReport(**s) for s in data.get("steps", [])],
        )

    def reasons_text(self) -> str:
        """``"duplicate: 3, empty_prompt: 2"`` (reasons sorted by name), or ``"none"``."""
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.dropped_by_reason.items())) or "none"

    def summary(self) -> str:
        text = f"cleaning: {self.rows_in} rows in, {self.rows_out} out, {self.rows_dropped} dropped"
        return f"{text} ({self.reasons_text()})" if self.rows_dropped else text

    def steps_table(self) -> str:
        """One line per step: name, rows in -> out, rows changed."""
        return "\n".join(
            f"{s.step:<16} {s.rows_in:>7} -> {s.rows_out:<7} dropped {s.dropped:<6} changed {s.changed}"
            for s in self.steps
        )

    def __str__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------------------------------- steps


@dataclasses.dataclass
class StepOutcome:
    """What a step returns: the (possibly rewritten) dataset, rows to drop, and rows it changed.

    ``drop`` maps a row's position to ``{"reason": ..., **details}``; ``dataset`` is the step's input
    when the step only drops rows.
    """

    dataset: datasets.Dataset
    drop: dict[int, dict[str, Any]] = dataclasses.field(default_factory=dict)
    changed_rows: set[int] = dataclasses.field(default_factory=set)


Step = Callable[..., StepOutcome]
CLEANING_STEPS: Registry[Step] = Registry("cleaning step")


def register_cleaning_step(name: str, *, overwrite: bool = False) -> Callable[[Step], Step]:
    """Decorator registering ``fn(ds, **params) -> StepOutcome`` under ``name``.

    Examples:
        >>> from domainft.data.cleaning import register_cleaning_step, StepOutcome, known_steps
        >>> @register_cleaning_step("drop_short_demo")
        ... def drop_short(ds, min_chars=3):
        ...     return StepOutcome(ds, {i: {"reason": "too_short"} for i, p in enumerate(ds["prompt"])
        ...                             if len(p) < min_chars})
        >>> "drop_short_demo" in known_steps()
        True
    """

    def _decorate(fn: Step) -> Step:
        CLEANING_STEPS.register(name, fn, overwrite=overwrite)
        return fn

    return _decorate


def known_steps() -> list[str]:
    return CLEANING_STEPS.names()


def run_steps(
    ds: datasets.Dataset, steps: Iterable[tuple[str, Mapping[str, Any]]]
) -> tuple[datasets.Dataset, CleaningReport]:
    """Apply ``steps`` (``(name, params)`` pairs) in order and report every drop and change.

    Dropped rows are recorded as they were in ``ds`` (before any step), with ``row_index`` (their
    position in ``ds``), the ``step`` that dropped them and its details; ``duplicate_of`` also refers to
    positions in ``ds``.
    """
    report = CleaningReport(rows_in=ds.num_rows)
    original = ds
    origin = list(range(ds.num_rows))  # position in `original` of each current row
    changed_anywhere: set[int] = set()
    for name, params in steps:
        fn = CLEANING_STEPS.get(name)
        rows_in = ds.num_rows
        try:
            outcome = fn(ds, **params)
        except TypeError as exc:
            if "unexpected keyword" in str(exc) or "positional argument" in str(exc):
                raise ConfigError(f"cleaning step {name!r}: {exc}") from None
            raise
        ds = outcome.dataset
        changed = outcome.changed_rows - set(outcome.drop)
        changed_anywhere.update(origin[i] for i in changed)
        if outcome.drop:
            positions = sorted(outcome.drop)
            rows = original.select([origin[i] for i in positions]).to_list()
            for i, row in zip(positions, rows, strict=True):
                detail = dict(outcome.drop[i])
                if "duplicate_of" in detail:
                    detail["duplicate_of"] = origin[detail["duplicate_of"]]
                report.record(row, detail.pop("reason"), step=name, row_index=origin[i], **detail)
            keep = [i for i in range(ds.num_rows) if i not in outcome.drop]
            ds = ds.select(keep)
            origin = [origin[i] for i in keep]
        report.steps.append(StepReport(name, rows_in, ds.num_rows, len(changed), _jsonable_params(params)))
    report.rows_out = ds.num_rows
    report.normalised = len(changed_anywhere.intersection(origin))
    return ds, report


def _jsonable_params(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or isinstance(value, (str, int, float, bool)):
            out[key] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value):
            out[key] = list(value)
        else:
            out[key] = getattr(value, "name_or_path", None) or getattr(value, "__name__", None) or repr(value)
    return out


def _text_columns(ds: datasets.Dataset, columns: Sequence[str] | None) -> list[str]:
    from datasets import Value

    if columns is None:
        return [
            c
            for c, f in ds.features.items()
            if c != "id"
            and ((isinstance(f, Value) and f.dtype in ("string", "large_string")) or c == MESSAGES)
        ]
    unknown = [c for c in columns if c not in ds.column_names]
    if unknown:
        raise DataError(
            f"unknown column(s) {', '.join(map(repr, unknown))}; found columns: {', '.join(ds.column_names)}"
        )
    return list(columns)


def transform_text(
    ds: datasets.Dataset,
    fn: Callable[[str], str],
    columns: Sequence[str] | None = None,
    on_error: Literal["raise", "drop"] = "raise",
    step: str = "map_text",
) -> StepOutcome:
    """Apply ``fn`` to every string of ``columns`` (message contents included) and count changed rows."""
    import datasets as hf

    names = _text_columns(ds, columns)
    data = {c: list(ds[c]) for c in names}
    changed: set[int] = set()
    drop: dict[int, dict[str, Any]] = {}

    def apply(i: int, value: str) -> str:
        try:
            new = fn(value)
        except Exception as exc:
            if on_error == "raise":
                raise DataError(f"{step}: row {i}: the function raised {type(exc).__name__}: {exc}") from exc
            drop[i] = {"reason": f"{step}_error", "error": f"{type(exc).__name__}: {exc}"}
            return value
        if not isinstance(new, str):
            raise DataError(f"{step}: the function returned {type(new).__name__} for row {i}, expected str")
        if new != value:
            changed.add(i)
        return new

    for c in names:
        values = data[c]
        for i, v in enumerate(values):
            if isinstance(v, str):
                values[i] = apply(i, v)
            elif c == MESSAGES and isinstance(v, list):
                values[i] = [
                    {**m, "content": apply(i, m["content"])} if isinstance(m.get("content"), str) else m
                    for m in v
                ]
    if not changed:
        return StepOutcome(ds, drop)
    out = hf.Dataset.from_dict({**ds.to_dict(), **data}, features=ds.features)
    return StepOutcome(out, drop, changed_rows=changed)


@register_cleaning_step("normalize")
def normalize_step(
    ds: datasets.Dataset, form: str | None = "NFKC", columns: Sequence[str] | None = None
) -> StepOutcome:
    """Unicode ``form`` normalisation and whitespace cleanup (:func:`normalize_text`) of text columns."""
    if form not in (None, "NFC", "NFKC", "NFD", "NFKD"):
        raise ConfigError(f"normalize: form must be NFC, NFKC, NFD, NFKD or None, got {form!r}")
    return transform_text(ds, lambda t: normalize_text(t, form), columns, step="normalize")


@register_cleaning_step("strip_html")
def strip_html_step(ds: datasets.Dataset, columns: Sequence[str] | None = None) -> StepOutcome:
    """Replace HTML fragments by their visible text (:func:`html_to_text`)."""
    return transform_text(ds, html_to_text, columns, step="strip_html")


def _compile(pattern: str, flags: str = "", where: str = "") -> re.Pattern[str]:
    bits = 0
    for ch in flags:
        try:
            bits |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}[ch]
        except KeyError:
            raise ConfigError(f"{where}: unknown regex flag {ch!r}; use any of i, m, s, x") from None
    try:
        return re.compile(pattern, bits)
    except re.error as exc:
        raise ConfigError(f"{where}: invalid regular expression {pattern!r}: {exc}") from None


@register_cleaning_step("replace")
def replace_step(
    ds: datasets.Dataset,
    rules: Sequence[Sequence[str]] | Mapping[str, str],
    columns: Sequence[str] | None = None,
    flags: str = "",
) -> StepOutcome:
    """Apply regex rules ``[(pattern, replacement), ...]`` (or a mapping) in order, e.g. to mask serials."""
    pairs = list(rules.items()) if isinstance(rules, Mapping) else [tuple(r) for r in rules]
    if not pairs or any(len(p) != 2 for p in pairs):
        raise ConfigError(
            "replace: rules must be (pattern, replacement) pairs, e.g. [[r'SN-\\d+', 'SN-<id>']]"
        )
    compiled = [(_compile(p, flags, "replace"), r) for p, r in pairs]

    def fn(text: str) -> str:
        for pattern, repl in compiled:
            text = pattern.sub(repl, text)
        return text

    return transform_text(ds, fn, columns, step="replace")


@register_cleaning_step("drop_matching")
def drop_matching_step(
    ds: datasets.Dataset, pattern: str, column: str = "response", flags: str = "", reason: str | None = None
) -> StepOutcome:
    """Drop rows whose ``column`` matches ``pattern`` (``re.search``), e.g. ``"^(thanks|ok)[.!]*$"``."""
    rx = _compile(pattern, flags, "drop_matching")
    _text_columns(ds, [column])
    why = reason or f"matched_{column}_pattern"
    drop = {i: {"reason": why} for i, v in enumerate(ds[column]) if isinstance(v, str) and rx.search(v)}
    return StepOutcome(ds, drop)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


@register_cleaning_step("drop_missing")
def drop_missing_step(ds: datasets.Dataset, fields: Sequence[str] = ("prompt", "response")) -> StepOutcome:
    """Drop rows where a required field is None or blank (reason ``empty_<field>``, the first one)."""
    missing = [c for c in fields if c not in ds.column_names]
    if missing:
        raise DataError(
            f"cannot clean: missing column(s) {', '.join(map(repr, missing))}; "
            f"found columns: {', '.join(ds.column_names) or '(none)'}"
        )
    columns = {c: ds[c] for c in fields}
    drop: dict[int, dict[str, Any]] = {}
    for i in range(ds.num_rows):
        empty = next((c for c in fields if _is_empty(columns[c][i])), None)
        if empty is not None:
            drop[i] = {"reason": f"empty_{empty}"}
    return StepOutcome(ds, drop)


def _row_keys(ds: datasets.Dataset, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    values = {c: ds[c] for c in columns}
    return [tuple(_hashable(values[c][i]) for c in columns) for i in range(ds.num_rows)]


def _ids(ds: datasets.Dataset) -> list[str] | None:
    return list(ds["id"]) if "id" in ds.column_names else None


@register_cleaning_step("dedup")
def dedup_step(ds: datasets.Dataset, columns: Sequence[str] | None = None) -> StepOutcome:
    """Drop exact duplicates of ``columns`` (default prompt+response, or ``messages`` when present)
    compared after :func:`dedup_key` (normalised, case-folded); the first occurrence is kept."""
    if columns is None:
        columns = [MESSAGES] if MESSAGES in ds.column_names else ["prompt", "response"]
    _text_columns(ds, columns)
    ids = _ids(ds)
    seen: dict[tuple[Any, ...], int] = {}
    drop: dict[int, dict[str, Any]] = {}
    for i, key in enumerate(_row_keys(ds, columns)):
        if key in seen:
            first = seen[key]
            drop[i] = {"reason": "duplicate", "duplicate_of": first}
            if ids is not None:
                drop[i]["duplicate_of_id"] = ids[first]
        else:
            seen[key] = i
    return StepOutcome(ds, drop)


def _joined(ds: datasets.Dataset, columns: Sequence[str]) -> list[str]:
    values = {c: ds[c] for c in columns}
    out = []
    for i in range(ds.num_rows):
        parts = []
        for c in columns:
            v = values[c][i]
            if isinstance(v, list):
                v = "\n".join(str(m.get("content", "")) for m in v if isinstance(m, dict))
            parts.append(v if isinstance(v, str) else "")
        out.append("\n".join(p for p in parts if p))
    return out


@register_cleaning_step("near_dedup")
def near_dedup_step(
    ds: datasets.Dataset,
    threshold: float = 0.9,
    method: str = "tfidf",
    columns: Sequence[str] = ("prompt",),
    **options: Any,
) -> StepOutcome:
    """Drop near-duplicates of ``columns`` (joined), keeping the first of each group.

    Similarity is TF-IDF cosine over character n-grams (``method="tfidf"``) or MinHash Jaccard
    (``"minhash"``), see :mod:`domainft.data.near_duplicates`; ``threshold`` is in (0, 1].
    """
    from domainft.data.near_duplicates import near_duplicate_groups

    _text_columns(ds, columns)
    groups = near_duplicate_groups(_joined(ds, columns), threshold=threshold, method=method, **options)
    ids = _ids(ds)
    drop: dict[int, dict[str, Any]] = {}
    for i, first in enumerate(groups):
        if first is not None and first != i:
            drop[i] = {"reason": "near_duplicate", "duplicate_of": first}
            if ids is not None:
                drop[i]["duplicate_of_id"] = ids[first]
    return StepOutcome(ds, drop)


def load_tokenizer(tokenizer: Any) -> Any:
    """A tokenizer object, or one loaded (offline) from a local folder path or a cached name."""
    if isinstance(tokenizer, PurePath):
        tokenizer = str(tokenizer)
    if not isinstance(tokenizer, str):
        if not callable(tokenizer):
            raise ModelError(
                f"expected a transformers tokenizer or a folder path, got {type(tokenizer).__name__}"
            )
        return tokenizer
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(tokenizer)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"cannot load a tokenizer from {tokenizer!r}: {exc}. Give a folder holding the tokenizer files "
            "(saved with save_pretrained), or pass a tokenizer object"
        ) from exc


def text_lengths(
    texts: Sequence[str | None], unit: Literal["chars", "tokens"] = "chars", tokenizer: Any = None
) -> list[int]:
    """Length of each text in characters or in tokens of ``tokenizer`` (no special tokens); None -> 0."""
    if unit == "chars":
        return [len(t) if isinstance(t, str) else 0 for t in texts]
    if unit != "tokens":
        raise ConfigError(f"unit must be 'chars' or 'tokens', got {unit!r}")
    if tokenizer is None:
        raise ConfigError("unit='tokens' needs tokenizer= (a tokenizer object or a local tokenizer path)")
    tok = load_tokenizer(tokenizer)
    out: list[int] = []
    batch = 1000
    for start in range(0, len(texts), batch):
        chunk = [t if isinstance(t, str) else "" for t in texts[start : start + batch]]
        encoded = tok(chunk, add_special_tokens=False, verbose=False)  # no "longer than max length" noise
        out.extend(len(ids) for ids in encoded["input_ids"])
    return out


def outlier_bounds(
    lengths: Sequence[int],
    method: Literal["iqr", "percentile"] = "iqr",
    k: float = 1.5,
    lower: float = 1.0,
    upper: float = 99.0,
) -> tuple[float, float]:
    """``(low, high)`` bounds: Tukey fences ``Q1 - k*IQR, Q3 + k*IQR`` or the given percentiles.

    Examples:
        >>> outlier_bounds([10, 11, 12, 13, 14, 15, 16, 17, 200])
        (6.0, 22.0)
    """
    import numpy as np

    values = np.asarray(lengths, dtype=float)
    if method == "iqr":
        if k < 0:
            raise ConfigError(f"length_outliers: k must be >= 0, got {k}")
        q1, q3 = np.percentile(values, [25, 75])
        return float(q1 - k * (q3 - q1)), float(q3 + k * (q3 - q1))
    if method == "percentile":
        if not 0 <= lower < upper <= 100:
            raise ConfigError(f"length_outliers: need 0 <= lower < upper <= 100, got {lower}, {upper}")
        low, high = np.percentile(values, [lower, upper])
        return float(low), float(high)
    raise ConfigError(f"length_outliers: method must be 'iqr' or 'percentile', got {method!r}")


@register_cleaning_step("length_outliers")
def length_outliers_step(
    ds: datasets.Dataset,
    column: str = "response",
    method: Literal["iqr", "percentile"] = "iqr",
    unit: Literal["chars", "tokens"] = "chars",
    tokenizer: Any = None,
    k: float = 1.5,
    lower: float = 1.0,
    upper: float = 99.0,
    side: Literal["both", "low", "high"] = "both",
) -> StepOutcome:
    """Drop rows whose ``column`` length (characters or tokens) lies outside :func:`outlier_bounds`."""
    if side not in ("both", "low", "high"):
        raise ConfigError(f"length_outliers: side must be 'both', 'low' or 'high', got {side!r}")
    _text_columns(ds, [column])
    if ds.num_rows == 0:
        return StepOutcome(ds)
    lengths = text_lengths(ds[column], unit, tokenizer)
    low, high = outlier_bounds(lengths, method, k, lower, upper)
    low = -math.inf if side == "high" else low
    high = math.inf if side == "low" else high
    drop = {
        i: {"reason": "length_outlier", "length": n, "unit": unit, "bounds": [low, high]}
        for i, n in enumerate(lengths)
        if n < low or n > high
    }
    return StepOutcome(ds, drop)


@register_cleaning_step("token_filter")
def token_filter_step(
    ds: datasets.Dataset,
    tokenizer: Any,
    max_tokens: int | None = 2048,
    min_tokens: int | None = None,
    column: str = "prompt",
) -> StepOutcome:
    """Drop rows whose ``column`` has more than ``max_tokens`` (or fewer than ``min_tokens``) tokens."""
    if max_tokens is None and min_tokens is None:
        raise ConfigError("token_filter: give max_tokens and/or min_tokens")
    for name, value in (("max_tokens", max_tokens), ("min_tokens", min_tokens)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ConfigError(f"token_filter: {name} must be a non-negative integer, got {value!r}")
    _text_columns(ds, [column])
    lengths = text_lengths(ds[column], "tokens", tokenizer)
    drop: dict[int, dict[str, Any]] = {}
    for i, n in enumerate(lengths):
        if max_tokens is not None and n > max_tokens:
            drop[i] = {"reason": "too_many_tokens", "tokens": n, "limit": max_tokens}
        elif min_tokens is not None and n < min_tokens:
            drop[i] = {"reason": "too_few_tokens", "tokens": n, "limit": min_tokens}
    return StepOutcome(ds, drop)


@register_cleaning_step("map_text")
def map_text_step(
    ds: datasets.Dataset,
    fn: Callable[[str], str],
    columns: Sequence[str] | None = ("prompt", "response"),
    on_error: Literal["raise", "drop"] = "raise",
) -> StepOutcome:
    """Apply any ``fn(str) -> str`` to ``columns``; with ``on_error="drop"`` a failing row is dropped
    as ``map_text_error`` (with the error) instead of stopping the run."""
    if not callable(fn):
        raise ConfigError(f"map_text: fn must be callable, got {type(fn).__name__}")
    if on_error not in ("raise", "drop"):
        raise ConfigError(f"map_text: on_error must be 'raise' or 'drop', got {on_error!r}")
    if columns is not None:
        columns = [c for c in columns if c in ds.column_names] or list(columns)
    return transform_text(ds, fn, columns, on_error=on_error, step="map_text")


# --------------------------------------------------------------------------------------------- legacy API

DEFAULT_STEPS: tuple[str, ...] = ("normalize", "drop_missing", "dedup")


def clean_dataset(
    ds: datasets.Dataset,
    required: Sequence[str] = ("prompt", "response"),
    text_columns: Sequence[str] | None = None,
    dedup: bool = True,
    form: str | None = "NFKC",
) -> tuple[datasets.Dataset, CleaningReport]:
    """Normalise text, drop rows with an empty required field, drop exact duplicates.

    ``text_columns`` are normalised with :func:`normalize_text` (default: every string column except
    ``id``, plus message contents). A row is dropped as ``empty_<field>`` for the first required field
    that is None or blank, then as ``duplicate`` when its normalised required fields (or messages)
    equal those of an earlier row (the first is kept). Kept rows keep their order.
    """
    missing = [c for c in required if c not in ds.column_names]
    if missing:
        raise DataError(
            f"cannot clean: missing column(s) {', '.join(map(repr, missing))}; "
            f"found columns: {', '.join(ds.column_names) or '(none)'}"
        )
    steps: list[tuple[str, dict[str, Any]]] = [
        ("normalize", {"form": form, "columns": text_columns}),
        ("drop_missing", {"fields": tuple(required)}),
    ]
    if dedup:
        messages = MESSAGES in ds.column_names and set(required) == {"prompt", "response"}
        steps.append(("dedup", {"columns": [MESSAGES] if messages else list(required)}))
    return run_steps(ds, steps)


def _hashable(value: Any) -> Any:
    if isinstance(value, str):
        return dedup_key(value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value
