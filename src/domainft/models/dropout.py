"""Cheaper LoRA dropout on CPUs: one 64-bit random draw makes three keep/drop decisions.

PyTorch's CPU dropout draws one Mersenne-Twister number per element and then needs separate passes
to mask and to scale; with dropout on every adapted layer's input that is a fifth to a third of a
small model's LoRA training step on CPU (``benchmarks/bench_training.py``). :class:`FastDropout`
cuts each 64-bit draw into three 16-bit uniforms (its top 16 bits are not uniform and are unused), so
the drop probability is ``p`` rounded to 1/65536, and the kept values are scaled by the exact inverse
keep probability: the expectation is unchanged. Masking and scaling are one fused kernel both ways.
On other devices (CUDA's fused Philox dropout is already cheap) it is ``torch.nn.Dropout``.
Seeding ``torch.manual_seed`` reproduces the masks.

Examples:
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> drop = FastDropout(0.25)
    >>> y = drop(torch.ones(100_000))
    >>> round(float((y == 0).float().mean()), 2), round(float(y.mean()), 1)
    (0.25, 1.0)
"""

from __future__ import annotations

import math
import sys
from typing import Any

import torch

_LEVELS = 1 << 16
#: The three 16-bit slices of an int64 below its top one, whose sign bit ``random_()`` leaves at 0.
_LOW_SLICES = slice(0, 3) if sys.byteorder == "little" else slice(1, 4)


def keep_mask(shape: torch.Size | tuple[int, ...], p: float) -> tuple[torch.Tensor, float]:
    """A boolean mask keeping each element with probability ``1 - p`` (to 1/65536) and its scale."""
    n = math.prod(shape)
    dropped_levels = round(p * _LEVELS)
    words = torch.empty((n + 2) // 3, dtype=torch.int64).random_()  # 63 random bits each
    uniforms = words.view(torch.int16).view(-1, 4)[:, _LOW_SLICES]
    keep = (uniforms >= dropped_levels - _LEVELS // 2).reshape(-1)[:n].view(shape)
    return keep, _LEVELS / (_LEVELS - dropped_levels)


class _MaskedScale(torch.autograd.Function):
    """``x * keep * scale`` forward and backward, each one fused pass (aten's dropout backward kernel)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, keep: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.save_for_backward(keep)
        ctx.scale = scale
        return torch.ops.aten.native_dropout_backward(x, keep, scale)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (keep,) = ctx.saved_tensors
        return torch.ops.aten.native_dropout_backward(grad, keep, ctx.scale), None, None


class FastDropout(torch.nn.Dropout):
    """``torch.nn.Dropout`` with masks from :func:`keep_mask` on CPU (see the module docstring)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or not 0 < self.p < 1 or x.device.type != "cpu" or self.inplace:
            return super().forward(x)
        keep, scale = keep_mask(x.shape, self.p)
        return _MaskedScale.apply(x, keep, scale)


def use_fast_dropout(model: Any) -> int:
    """Swap every ``torch.nn.Dropout`` inside LoRA layers (``lora_dropout``) for :class:`FastDropout`.

    Returns how many were swapped. The probabilities are kept; saved adapters are unaffected (dropout
    has no weights).
    """
    swapped = 0
    for module in model.modules():
        dropouts = getattr(module, "lora_dropout", None)
        if not isinstance(dropouts, torch.nn.ModuleDict):
            continue
        for name, layer in list(dropouts.items()):
            if type(layer) is torch.nn.Dropout and layer.p > 0:
                fast = FastDropout(layer.p)
                fast.train(layer.training)
                dropouts[name] = fast
                swapped += 1
    return swapped
