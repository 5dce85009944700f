"""Text normalisation, removal of empty rows and exact de-duplication, with a report of every drop.

Example:
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
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from domainft.errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import datasets

_HSPACE = re.compile(r"[^\S\n]+")  # any whitespace except a newline
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """NFC-normalise, unify line endings, collapse runs of spaces/tabs and strip every line.

    Newlines are kept; three or more consecutive newlines become one blank line.

    Example:
        >>> normalize_text("  Check\\t the  belt.\\r\\n\\n\\n\\nThen restart. ")
        'Check the belt.\\n\\nThen restart.'
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(_HSPACE.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


@dataclasses.dataclass
class CleaningReport:
    """What :func:`clean_dataset` did: counts by reason and the dropped rows themselves.

    ``dropped`` holds each removed row as it was before cleaning, plus ``reason`` (e.g.
    ``"empty_prompt"``, ``"duplicate"``) and ``row_index`` (its position in the input). Duplicates also
    carry ``duplicate_of``, the ``row_index`` of the row that was kept.
    """

    rows_in: int = 0
    rows_out: int = 0
    dropped_by_reason: dict[str, int] = dataclasses.field(default_factory=dict)
    normalised: int = 0
    dropped: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def rows_dropped(self) -> int:
        return self.rows_in - self.rows_out

    def dropped_rows(self, reason: str | None = None) -> list[dict[str, Any]]:
        """The dropped rows, optionally only those dropped for ``reason``."""
        return [r for r in self.dropped if reason is None or r["reason"] == reason]

    def to_dict(self, include_rows: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_dropped": self.rows_dropped,
            "dropped_by_reason": dict(self.dropped_by_reason),
            "normalised": self.normalised,
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
        )

    def reasons_text(self) -> str:
        """``"duplicate: 3, empty_prompt: 2"`` (reasons sorted by name), or ``"none"``."""
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.dropped_by_reason.items())) or "none"

    def summary(self) -> str:
        text = f"cleaning: {self.rows_in} rows in, {self.rows_out} out, {self.rows_dropped} dropped"
        return f"{text} ({self.reasons_text()})" if self.rows_dropped else text

    def __str__(self) -> str:
        return self.summary()


def _is_text_feature(feature: Any) -> bool:
    from datasets import Value

    return isinstance(feature, Value) and feature.dtype in ("string", "large_string")


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value)


def clean_dataset(
    ds: datasets.Dataset,
    required: Sequence[str] = ("prompt", "response"),
    text_columns: Sequence[str] | None = None,
    dedup: bool = True,
) -> tuple[datasets.Dataset, CleaningReport]:
    """Normalise text, drop rows with an empty required field, drop exact duplicates.

    ``text_columns`` are normalised with :func:`normalize_text` (default: every string column except
    ``id``). A row is dropped as ``empty_<field>`` for the first required field that is None or empty
    after normalisation, then as ``duplicate`` when its normalised required fields equal those of an
    earlier row (the first is kept). Order of the kept rows is preserved and nothing is dropped
    without a record in the report.
    """
    import datasets as hf

    missing = [c for c in required if c not in ds.column_names]
    if missing:
        raise DataError(
            f"cannot clean: missing column(s) {', '.join(map(repr, missing))}; "
            f"found columns: {', '.join(ds.column_names) or '(none)'}"
        )
    if text_columns is None:
        text_columns = [c for c, f in ds.features.items() if c != "id" and _is_text_feature(f)]
    else:
        unknown = [c for c in text_columns if c not in ds.column_names]
        if unknown:
            raise DataError(
                f"cannot clean: unknown text column(s) {', '.join(map(repr, unknown))}; "
                f"found columns: {', '.join(ds.column_names)}"
            )
    original = ds.to_dict()
    columns = {c: list(v) for c, v in original.items()}
    n = ds.num_rows
    changed = [False] * n
    for c in text_columns:
        values = columns[c]
        for i, v in enumerate(values):
            if isinstance(v, str):
                new = normalize_text(v)
                if new != v:
                    values[i] = new
                    changed[i] = True

    report = CleaningReport(rows_in=n)
    keep: list[int] = []
    seen: dict[tuple[Any, ...], int] = {}

    def drop(i: int, reason: str, **extra: Any) -> None:
        row = {c: original[c][i] for c in original}
        row.update(reason=reason, row_index=i, **extra)
        report.dropped.append(row)
        report.dropped_by_reason[reason] = report.dropped_by_reason.get(reason, 0) + 1

    for i in range(n):
        empty = next((c for c in required if _is_empty(columns[c][i])), None)
        if empty is not None:
            drop(i, f"empty_{empty}")
            continue
        if dedup:
            key = tuple(_hashable(columns[c][i]) for c in required)
            if key in seen:
                drop(i, "duplicate", duplicate_of=seen[key])
                continue
            seen[key] = i
        keep.append(i)

    report.rows_out = len(keep)
    report.normalised = sum(changed[i] for i in keep)
    out = {c: [values[i] for i in keep] for c, values in columns.items()}
    return hf.Dataset.from_dict(out, features=ds.features), report


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value
