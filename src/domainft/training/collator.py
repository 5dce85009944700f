"""Collators and packing: labels were built during data preparation, here they are only laid out.

``PaddingCollator`` right-pads a batch. ``PaddingFreeCollator`` concatenates it into one row with
``position_ids`` restarting at 0 per example and no ``attention_mask``: transformers then builds a
block-diagonal mask from the position ids (sdpa, eager, flash attention), so no example attends to
another. ``pack_dataset`` groups tokenized examples into rows of at most ``max_length`` tokens.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from domainft.data.templates import IGNORE_INDEX
from domainft.errors import DataError


@dataclass
class PaddingCollator:
    """Right-pads ``input_ids`` with the pad id, ``labels`` with -100, and builds ``attention_mask``.

    Examples:
        >>> batch = PaddingCollator(pad_token_id=0)([{"input_ids": [5, 6], "labels": [-100, 6]},
        ...                                          {"input_ids": [7], "labels": [7]}])
        >>> batch["labels"].tolist()
        [[-100, 6], [7, -100]]
    """

    pad_token_id: int
    pad_to_multiple_of: int | None = None

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        longest = max(len(f["input_ids"]) for f in features)
        if self.pad_to_multiple_of:
            m = self.pad_to_multiple_of
            longest = (longest + m - 1) // m * m
        input_ids = torch.full((len(features), longest), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(features), longest), IGNORE_INDEX, dtype=torch.long)
        attention_mask = torch.zeros((len(features), longest), dtype=torch.long)
        for i, f in enumerate(features):
            n = len(f["input_ids"])
            input_ids[i, :n] = torch.as_tensor(f["input_ids"], dtype=torch.long)
            labels[i, :n] = torch.as_tensor(f["labels"], dtype=torch.long)
            attention_mask[i, :n] = 1
        return {"input_ids": input_ids, "labels": labels, "attention_mask": attention_mask}


@dataclass
class PaddingFreeCollator:
    """Concatenates a batch into one row: no padding, ``position_ids`` restart at 0 per example.

    The first label of every example is set to -100, so no example learns to predict the start of
    the next one. There is deliberately no ``attention_mask``: transformers separates the examples
    only when none is given (an all-ones mask would let them attend to each other). ``use_cache=False``
    is part of the batch because transformers also skips the separation when a KV cache is in use
    (the default of most model configs outside ``Trainer``). Examples that already carry
    ``position_ids`` (rows of :func:`pack_dataset`) keep them.

    Examples:
        >>> batch = PaddingFreeCollator()([{"input_ids": [5, 6, 7], "labels": [5, 6, 7]},
        ...                                {"input_ids": [8, 9], "labels": [-100, 9]}])
        >>> batch["position_ids"].tolist(), batch["labels"].tolist()
        ([[0, 1, 2, 0, 1]], [[-100, 6, 7, -100, 9]])
    """

    disable_cache: bool = True

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        input_ids: list[int] = []
        labels: list[int] = []
        position_ids: list[int] = []
        for f in features:
            ids = list(f["input_ids"])
            if not ids:
                continue
            input_ids += ids
            labels += [IGNORE_INDEX, *list(f["labels"])[1:]]
            position_ids += list(f["position_ids"]) if "position_ids" in f else list(range(len(ids)))
        if not input_ids:
            raise DataError("PaddingFreeCollator got a batch without any token")
        batch: dict[str, Any] = {
            "input_ids": torch.tensor([input_ids], dtype=torch.long),
            "labels": torch.tensor([labels], dtype=torch.long),
            "position_ids": torch.tensor([position_ids], dtype=torch.long),
        }
        if self.disable_cache:
            batch["use_cache"] = False
        return batch


def pack_dataset(tokenized: Any, max_length: int, *, desc: str = "packing") -> Any:
    """Group tokenized examples into rows of at most ``max_length`` tokens (best-fit decreasing).

    Each row concatenates whole examples: ``input_ids``, ``labels`` (-100 at the first token of each
    example), ``position_ids`` restarting at 0 per example, ``length`` and ``num_examples``. Collate
    the rows with :class:`PaddingFreeCollator`; an example is never split across rows, so examples
    longer than ``max_length`` raise ``DataError`` (apply the over-length policy first).

    Examples:
        >>> from datasets import Dataset
        >>> rows = Dataset.from_list([{"input_ids": [1] * n, "labels": [1] * n} for n in (6, 3, 4, 2)])
        >>> sorted(pack_dataset(rows, 8)["length"])
        [7, 8]
    """
    import datasets
    from tqdm.auto import tqdm

    lengths = [len(ids) for ids in tokenized["input_ids"]]
    too_long = [i for i, n in enumerate(lengths) if n > max_length]
    if too_long:
        i = too_long[0]
        raise DataError(
            f"pack_dataset: {len(too_long)} example(s) longer than max_length={max_length} "
            f"(row {i} has {lengths[i]} tokens); tokenize with max_length first"
        )
    # best-fit decreasing: each example goes into the fullest row that still has room for it
    free: list[tuple[int, int]] = []  # (room left, row index), sorted
    rows: list[list[int]] = []
    for i in sorted((i for i, n in enumerate(lengths) if n), key=lambda i: (-lengths[i], i)):
        at = bisect.bisect_left(free, (lengths[i], -1))
        if at < len(free):
            room, row = free.pop(at)
        else:
            room, row = max_length, len(rows)
            rows.append([])
        rows[row].append(i)
        bisect.insort(free, (room - lengths[i], row))
    input_ids, labels = tokenized["input_ids"], tokenized["labels"]
    packed: dict[str, list[Any]] = {k: [] for k in ("input_ids", "labels", "position_ids", "length")}
    packed["num_examples"] = []
    for members in tqdm(rows, desc=desc, disable=len(rows) < 1000):
        members = sorted(members)
        packed["input_ids"].append([t for i in members for t in input_ids[i]])
        packed["labels"].append([t for i in members for t in [IGNORE_INDEX, *labels[i][1:]]])
        packed["position_ids"].append([p for i in members for p in range(lengths[i])])
        packed["length"].append(sum(lengths[i] for i in members))
        packed["num_examples"].append(len(members))
    return datasets.Dataset.from_dict(packed)
