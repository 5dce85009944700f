"""Deterministic train/validation/test splits: fractions or absolute sizes, stratified by length,
grouped by a key (no group spans two splits), or taken from a column naming each row's split.

Examples:
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


Size = float | int


def check_size(name: str, value: object, where: str = "", allow_none: bool = False) -> None:
    """A split size is a fraction in [0, 1) (float) or a row count >= 0 (int)."""
    prefix = f"{where}." if where else ""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{prefix}{name}: expected a fraction in [0, 1) or a row count, got {value!r}")
    if isinstance(value, float) and (math.isnan(value) or not 0 <= value < 1):
        raise ConfigError(
            f"{prefix}{name}: a float is a fraction in [0, 1), got {value!r}; give an int for a row count"
        )
    if isinstance(value, int) and value < 0:
        raise ConfigError(f"{prefix}{name}: a row count must be >= 0, got {value!r}")


def check_fractions(validation: Size, test: Size, where: str = "", train: Size | None = None) -> None:
    """Raise ``ConfigError`` naming the argument unless every size is valid and fractions leave rows to
    train on."""
    prefix = f"{where}." if where else ""
    check_size("validation", validation, where)
    check_size("test", test, where)
    check_size("train", train, where, allow_none=True)
    fractions = [v for v in (validation, test, train) if isinstance(v, float)]
    if (sum(fractions) >= 1 and train is None) or sum(fractions) > 1:
        raise ConfigError(
            f"{prefix}validation + {prefix}test: must leave rows for training (fractions sum < 1), "
            f"got {validation} + {test} = {validation + test:g}"
        )


def check_stratify(stratify: object, where: str = "") -> None:
    if stratify not in (None, "length"):
        prefix = f"{where}." if where else ""
        raise ConfigError(f"{prefix}stratify: expected None or 'length', got {stratify!r}")


def _count(n: int, size: Size) -> int:
    if isinstance(size, int):
        return size
    return 0 if size == 0 else max(1, math.floor(n * size + 0.5))


def split_sizes(n: int, validation: Size, test: Size, train: Size | None = None) -> tuple[int, int, int]:
    """Exact ``(train, validation, test)`` sizes.

    A float is a fraction of ``n`` (rounded half up; a non-zero fraction gives >= 1 row), an int a row
    count. ``train=None`` takes every remaining row; a smaller ``train`` leaves the rest unused.

    Examples:
        >>> split_sizes(100, 0.1, 0.1)
        (80, 10, 10)
        >>> split_sizes(5, 0.1, 0.0)
        (4, 1, 0)
        >>> split_sizes(1000, 0, 30, train=470)
        (470, 0, 30)
    """
    check_fractions(validation, test, train=train)
    n_val, n_test = _count(n, validation), _count(n, test)
    rest = n - n_val - n_test
    n_train = rest if train is None else _count(n, train)
    if n_train < 1 or n_train > rest:
        wanted = max(n_train, 1) if train is None else n_train
        needed = wanted + n_val + n_test
        raise DataError(
            f"dataset too small to split: {n} row(s) cannot give train = {wanted}, "
            f"validation = {n_val} and test = {n_test} rows (train={train}, validation={validation}, "
            f"test={test}); provide at least {needed} rows or make the splits smaller"
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


SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "eval": "validation",
    "test": "test",
    "testing": "test",
}


def _grouped(
    groups: Sequence[object], n_train: int, n_val: int, n_test: int, seed: int
) -> dict[str, list[int]]:
    """Assign whole groups to test, then validation, then train, getting each as close to its size as
    groups allow (groups are visited in a seeded random order)."""
    import numpy as np

    members: dict[object, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    keys = list(members)
    order = [keys[k] for k in np.random.default_rng(seed).permutation(len(keys))]
    free = dict.fromkeys(order)  # insertion-ordered set of unassigned groups
    out: dict[str, list[int]] = {}
    for name, target in (("test", n_test), ("validation", n_val), ("train", n_train)):
        chosen: list[int] = []
        for g in list(free):
            if len(chosen) == target:
                break
            if len(chosen) + len(members[g]) <= target:
                chosen.extend(members[g])
                del free[g]
        if 0 < len(chosen) < target or (target and not chosen):  # top up with the group that fits best
            best = min(free, key=lambda g: abs(len(chosen) + len(members[g]) - target), default=None)
            if best is not None and abs(len(chosen) + len(members[best]) - target) < target - len(chosen):
                chosen.extend(members[best])
                del free[best]
        out[name] = sorted(chosen)
    out["unused"] = sorted(i for g in free for i in members[g])
    return out


def _by_column(values: Sequence[object], column: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {"train": [], "validation": [], "test": [], "unused": []}
    unknown: dict[object, int] = {}
    for i, v in enumerate(values):
        name = SPLIT_ALIASES.get(str(v).strip().lower()) if v is not None else None
        if name is None:
            unknown.setdefault(v, i)
        else:
            out[name].append(i)
    if unknown:
        shown = ", ".join(f"{v!r} (row {i})" for v, i in list(unknown.items())[:5])
        raise DataError(
            f"split column {column!r} holds values that name no split: {shown}; "
            f"use one of {', '.join(sorted(SPLIT_ALIASES))}"
        )
    if not out["train"]:
        raise DataError(f"split column {column!r} assigns no row to train")
    return out


def split_indices(
    ds: datasets.Dataset,
    validation: Size = 0.1,
    test: Size = 0.1,
    seed: int = 42,
    stratify: Literal["length"] | None = None,
    *,
    train: Size | None = None,
    group_by: str | None = None,
    by_column: str | None = None,
    max_bins: int = 10,
) -> dict[str, list[int]]:
    """Row indices of ``train``, ``validation``, ``test`` and ``unused`` (see :func:`split_dataset`)."""
    import numpy as np

    check_fractions(validation, test, train=train)
    check_stratify(stratify)
    n = ds.num_rows
    if n == 0:
        raise DataError("cannot split an empty dataset (0 rows)")
    for name, column in (("group_by", group_by), ("by_column", by_column)):
        if column is not None and column not in ds.column_names:
            raise DataError(f"{name}={column!r}: no such column; found columns: {', '.join(ds.column_names)}")
    if by_column is not None:
        if group_by is not None or stratify is not None:
            raise ConfigError(
                "by_column takes the splits from a column: do not combine it with group_by/stratify"
            )
        return _by_column(ds[by_column], by_column)
    n_train, n_val, n_test = split_sizes(n, validation, test, train)
    if group_by is not None:
        if stratify is not None:
            raise ConfigError("group_by and stratify cannot be combined; choose one")
        keys = [v if v is not None else f"__row{i}" for i, v in enumerate(ds[group_by])]
        return _grouped(keys, n_train, n_val, n_test, seed)
    lengths: list[int] = []
    if stratify == "length":
        if "response" not in ds.column_names:
            raise DataError(
                f"stratify='length' needs a 'response' column; found columns: {', '.join(ds.column_names)}"
            )
        lengths = [len(r) if isinstance(r, str) else 0 for r in ds["response"]]
    use_strata = stratify == "length"
    rest, test_idx = _two_way(range(n), lengths, n_test, seed, use_strata, max_bins)
    rest, val_idx = _two_way(rest, lengths, n_val, seed + 1, use_strata, max_bins)
    unused_idx = np.asarray([], dtype=int)
    if len(rest) > n_train:
        unused_idx, train_idx = _two_way(rest, lengths, n_train, seed + 2, use_strata, max_bins)
    else:
        train_idx = rest
    parts = {"train": train_idx, "validation": val_idx, "test": test_idx, "unused": unused_idx}
    return {name: sorted(int(i) for i in idx) for name, idx in parts.items()}


def split_dataset(
    ds: datasets.Dataset,
    validation: Size = 0.1,
    test: Size = 0.1,
    seed: int = 42,
    stratify: Literal["length"] | None = None,
    *,
    train: Size | None = None,
    group_by: str | None = None,
    by_column: str | None = None,
    max_bins: int = 10,
) -> datasets.DatasetDict:
    """Split ``ds`` into a ``DatasetDict`` with ``train``, ``validation`` and ``test``.

    Sizes follow :func:`split_sizes` (fractions or row counts; ``train=None`` takes the rest, a
    smaller ``train`` leaves rows unused: get them with :func:`split_indices`). The same ``seed`` gives
    the same split. ``stratify="length"`` bins rows by the character length of ``response`` into up to
    ``max_bins`` quantile bins and keeps each bin's share equal across splits. ``group_by="ticket_id"``
    keeps every group in one split (sizes then come as close as the groups allow).
    ``by_column="split"`` takes each row's split from a column (``train``/``validation``/``test`` and
    aliases such as ``dev``, ``val``). Rows keep their original order inside each split; a size of 0
    yields an empty split with the same columns.
    """
    import datasets as hf

    parts = split_indices(
        ds,
        validation,
        test,
        seed,
        stratify,
        train=train,
        group_by=group_by,
        by_column=by_column,
        max_bins=max_bins,
    )
    return hf.DatasetDict({name: ds.select(parts[name]) for name in SPLIT_NAMES})
