"""Train/test leakage: near-duplicate prompts across splits, reported and optionally removed.

A test question that is a light edit of a training question measures memory, not skill. This check
compares every validation and test prompt with every training prompt (see
:mod:`domainft.data.near_duplicates`) and lists the pairs above a similarity threshold.

Examples:
    >>> import datasets
    >>> from domainft.data.leakage import find_leakage
    >>> dsd = datasets.DatasetDict(
    ...     train=datasets.Dataset.from_dict({"id": ["a", "b"], "prompt": [
    ...         "The hydraulic press loses pressure after ten minutes", "Conveyor belt slips"]}),
    ...     validation=datasets.Dataset.from_dict({"id": [], "prompt": []}),
    ...     test=datasets.Dataset.from_dict({"id": ["t"], "prompt": [
    ...         "The hydraulic press loses pressure after 10 minutes"]}))
    >>> report = find_leakage(dsd, threshold=0.8)
    >>> [(p.split, p.eval_id, p.train_id) for p in report.pairs]
    [('test', 't', 'a')]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from domainft.errors import ConfigError, DataError

if TYPE_CHECKING:  # pragma: no cover
    import datasets


@dataclass(frozen=True)
class LeakPair:
    """An evaluation row (``split``/``eval_id``) too similar to a training row (``train_id``)."""

    split: str
    eval_id: str
    train_id: str
    similarity: float


@dataclass
class LeakageReport:
    """Pairs found, the settings used, and which rows were removed (if any)."""

    threshold: float
    method: str
    column: str
    pairs: list[LeakPair] = field(default_factory=list)
    removed_from: str | None = None
    removed_ids: list[str] = field(default_factory=list)

    def count(self, split: str | None = None) -> int:
        """Number of evaluation rows with at least one near-duplicate in train."""
        return len({(p.split, p.eval_id) for p in self.pairs if split is None or p.split == split})

    def summary(self) -> str:
        found = ", ".join(f"{s}: {self.count(s)}" for s in ("validation", "test"))
        text = f"leakage ({self.method} >= {self.threshold:g} on {self.column}): "
        text += f"{len(self.pairs)} pairs ({found})"
        if self.removed_from:
            text += f"; removed {len(self.removed_ids)} rows from {self.removed_from}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pairs": [asdict(p) for p in self.pairs]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LeakageReport:
        return cls(**{**data, "pairs": [LeakPair(**p) for p in data.get("pairs", [])]})

    def __str__(self) -> str:
        return self.summary()


def _texts(split: datasets.Dataset, column: str) -> list[str | None]:
    values = split[column]
    if column == "messages":
        return ["\n".join(m["content"] for m in v) if v else None for v in values]
    return list(values)


def find_leakage(
    dsd: datasets.DatasetDict,
    threshold: float = 0.9,
    method: str = "tfidf",
    column: str = "prompt",
    eval_splits: Sequence[str] = ("validation", "test"),
    **options: Any,
) -> LeakageReport:
    """Near-duplicate pairs between each of ``eval_splits`` and ``train`` on ``column``."""
    from domainft.data.near_duplicates import near_duplicate_pairs

    if "train" not in dsd:
        raise DataError(f"leakage check needs a 'train' split; found splits: {', '.join(dsd)}")
    report = LeakageReport(threshold=threshold, method=method, column=column)
    train = dsd["train"]
    for name in (s for s in eval_splits if s in dsd and dsd[s].num_rows):
        for split in (train, dsd[name]):
            missing = [c for c in ("id", column) if c not in split.column_names]
            if missing:
                raise DataError(
                    f"leakage check: split needs column(s) {missing}; found: {', '.join(split.column_names)}"
                )
        found = near_duplicate_pairs(
            _texts(dsd[name], column), _texts(train, column), threshold=threshold, method=method, **options
        )
        eval_ids, train_ids = dsd[name]["id"], train["id"]
        report.pairs.extend(
            LeakPair(name, eval_ids[p.i], train_ids[p.j], round(float(p.similarity), 6)) for p in found
        )
    return report


def remove_leakage(
    dsd: datasets.DatasetDict, report: LeakageReport, drop_from: Literal["train", "eval"] = "train"
) -> tuple[datasets.DatasetDict, dict[str, list[int]]]:
    """Drop the leaking rows: from ``train`` (default, so evaluation sets stay comparable across runs)
    or from the evaluation splits. Returns the new splits and, per split, the removed row positions."""
    import datasets as hf

    if drop_from not in ("train", "eval"):
        raise ConfigError(f"drop_from must be 'train' or 'eval', got {drop_from!r}")
    doomed: dict[str, set[str]] = {}
    for p in report.pairs:
        split, row_id = ("train", p.train_id) if drop_from == "train" else (p.split, p.eval_id)
        doomed.setdefault(split, set()).add(row_id)
    out: dict[str, datasets.Dataset] = {}
    removed: dict[str, list[int]] = {}
    for name, split in dsd.items():
        ids = doomed.get(name, set())
        positions = [i for i, v in enumerate(split["id"]) if v in ids] if ids else []
        removed[name] = positions
        bad = set(positions)
        out[name] = split.select([i for i in range(split.num_rows) if i not in bad]) if bad else split
    report.removed_from = drop_from
    report.removed_ids = sorted(i for ids in doomed.values() for i in ids)
    return hf.DatasetDict(out), removed
