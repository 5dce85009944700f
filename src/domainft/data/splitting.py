"""Deterministic train/validation/test splits with exact sizes, optionally stratified by length.

Example:
    >>> from datasets import Dataset
    >>> from domainft.data.splitting import split_dataset
    >>> ds = Dataset.from_dict({"prompt": [f"q{i}" for i in range(20)],
    ...                         "response": ["a" * i for i in range(20)]})
    >>> dsd = split_dataset(ds, validation=0.1, test=0.2, seed=0)
    >>> {name: split.num_rows for name, split in dsd.items()}
    {'train': 14, 'validation': 2, 'test': 4}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from domainft.errors import ConfigError, DataError

if TYPE_CHECKING:  # pragma: no cover
    import datasets

SPLIT_NAMES = ("train", "validation", "test")


def check_fractions(validation: float, test: float, where: str = "") -> None:
    """Raise ``ConfigError`` naming the argument unless ``0 <= validation, test < 1`` and their sum < 1."""
    prefix = f"{where}." if where else ""
    for name, value in (("validation", validation), ("test", test)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ConfigError(f"{prefix}{name}: expected a fraction in [0, 1), got {value!r}")
        if not 0 <= value < 1:
            raise ConfigError(f"{prefix}{name}: expected a fraction in [0, 1), got {value!r}")
    if validation + test >= 1:
        raise ConfigError(
            f"{prefix}validation + {prefix}test: must leave rows for training (sum < 1), "
            f"got {validation} + {test} = {validation + test:g}"
        )


def check_stratify(stratify: object, where: str = "") -> None:
    if stratify not in (None, "length"):
        prefix = f"{where}." if where else ""
        raise ConfigError(f"{prefix}stratify: expected None or 'length', got {stratify!r}")


def split_sizes(n: int, validation: float, test: float) -> tuple[int, int, int]:
    """Exact ``(train, validation, test)`` sizes: rounded (half up), each non-zero fraction >= 1 row.

    Example:
        >>> split_sizes(100, 0.1, 0.1)
        (80, 10, 10)
        >>> split_sizes(5, 0.1, 0.0)
        (4, 1, 0)
    """
    check_fractions(validation, test)

    def size(fraction: float) -> int:
        return 0 if fraction == 0 else max(1, math.floor(n * fraction + 0.5))

    n_val, n_test = size(validation), size(test)
    n_train = n - n_val - n_test
    if n_train < 1:
        needed = 1 + (validation > 0) + (test > 0)
        raise DataError(
            f"dataset too small to split: {n} row(s) cannot give train >= 1, validation = {n_val} and "
            f"test = {n_test} rows (validation={validation}, test={test}); provide at least {needed} rows "
            "or set the validation/test fractions to 0"
        )
    return n_train, n_val, n_test


def length_bins(
    lengths: Sequence[int], max_bins: int, min_count: int = 2, max_classes: int | None = None
) -> list[int] | None:
    """Quantile bins of ``lengths`` (labels 0..k-1) with every bin holding ``min_count`` rows or more.

    Tries ``max_bins`` bins, then fewer; returns None when even 2 bins are impossible.
    """
    import numpy as np
    import pandas as pd

    values = np.asarray(lengths, dtype=float)
    upper = min(max_bins, len(values) // max(min_count, 1), max_classes or max_bins)
    for q in range(upper, 1, -1):
        labels = pd.qcut(values, q, labels=False, duplicates="drop")
        _, counts = np.unique(labels, return_counts=True)
        if (
            len(counts) >= 2
            and counts.min() >= min_count
            and (max_classes is None or len(counts) <= max_classes)
        ):
            return [int(x) for x in labels]
    return None


def _two_way(indices, lengths, n_second: int, seed: int, stratify: bool, max_bins: int):
    """Split ``indices`` into (first, second) with exactly ``n_second`` rows in ``second``."""
    import numpy as np

    indices = np.asarray(indices)
    if n_second == 0:
        return indices, indices[:0]
    n_first = len(indices) - n_second
    labels = None
    if stratify:
        labels = length_bins(
            [lengths[i] for i in indices], max_bins, min_count=2, max_classes=min(n_second, n_first)
        )
    if labels is None:
        order = np.random.default_rng(seed).permutation(len(indices))
        return indices[order[n_second:]], indices[order[:n_second]]
    from sklearn.model_selection import train_test_split

    first, second = train_test_split(indices, test_size=n_second, random_state=seed, stratify=labels)
    return np.asarray(first), np.asarray(second)


def split_dataset(
    ds: datasets.Dataset,
    validation: float = 0.1,
    test: float = 0.1,
    seed: int = 42,
    stratify: Literal["length"] | None = None,
    *,
    max_bins: int = 10,
) -> datasets.DatasetDict:
    """Split ``ds`` into a ``DatasetDict`` with ``train``, ``validation`` and ``test``.

    Sizes follow :func:`split_sizes`; the same ``seed`` gives the same split. ``stratify="length"``
    bins rows by the character length of ``response`` into up to ``max_bins`` quantile bins (fewer
    when a bin would be too small) and keeps each bin's share equal across splits. Rows keep their
    original order inside each split. A fraction of 0 yields an empty split with the same columns.
    """
    import datasets as hf

    check_fractions(validation, test)
    check_stratify(stratify)
    n = ds.num_rows
    if n == 0:
        raise DataError("cannot split an empty dataset (0 rows)")
    _, n_val, n_test = split_sizes(n, validation, test)
    lengths: list[int] = []
    if stratify == "length":
        if "response" not in ds.column_names:
            raise DataError(
                f"stratify='length' needs a 'response' column; found columns: {', '.join(ds.column_names)}"
            )
        lengths = [len(r) if isinstance(r, str) else 0 for r in ds["response"]]
    use_strata = stratify == "length"
    rest, test_idx = _two_way(range(n), lengths, n_test, seed, use_strata, max_bins)
    train_idx, val_idx = _two_way(rest, lengths, n_val, seed + 1, use_strata, max_bins)
    parts = {"train": train_idx, "validation": val_idx, "test": test_idx}
    return hf.DatasetDict({name: ds.select(sorted(int(i) for i in idx)) for name, idx in parts.items()})
