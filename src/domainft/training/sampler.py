"""Length-grouped sampling whose order depends only on the seed and the epoch.

transformers' ``LengthGroupedSampler`` draws each epoch's order from the global torch generator, whose
state at the start of an epoch depends on everything drawn before (LoRA dropout masks included). A
run resumed from a checkpoint then shuffles later epochs differently from an uninterrupted one. This
sampler draws epoch ``e`` from a generator seeded with ``seed + e``, so a resumed run sees the same
batches, and every process of a multi-process run the same order.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers.trainer_pt_utils import LengthGroupedSampler


class SeededLengthGroupedSampler(LengthGroupedSampler):
    """``LengthGroupedSampler`` with an order fixed by ``(seed, epoch)``; the trainer calls ``set_epoch``.

    Examples:
        >>> sampler = SeededLengthGroupedSampler(2, lengths=[5, 1, 4, 2, 3, 6], seed=3)
        >>> first = list(sampler); sampler.set_epoch(1); second = list(sampler)
        >>> sampler.set_epoch(0); list(sampler) == first, sorted(second) == sorted(first)
        (True, True)
    """

    def __init__(self, *args: Any, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seed = seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.generator = torch.Generator().manual_seed(self.seed + int(epoch))
