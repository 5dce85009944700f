"""A pure padding collator: labels were built during data preparation, here they are only padded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domainft.data.templates import IGNORE_INDEX


@dataclass
class PaddingCollator:
    """Right-pads ``input_ids`` with the pad id, ``labels`` with -100, and builds ``attention_mask``.

    Example:
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
