"""Work around the bitsandbytes CPU trap for 4-bit training.

On CPUs with AVX512-BF16, an eval-mode forward without gradients (``generate``, validation loss)
repacks each ``Linear4bit`` weight into a CPU-only inference layout; after that, gradients no
longer flow through the 4-bit layers and LoRA training silently learns nothing. The trainer calls
:func:`restore_trainable_4bit_layout` before training and after every evaluation.
"""

from __future__ import annotations

from typing import Any


def is_packed_4bit(module: Any) -> bool:
    """True when ``module`` has a 4-bit weight in the CPU inference layout."""
    state = getattr(getattr(module, "weight", None), "quant_state", None)
    return bool(state is not None and getattr(state, "packing_format_for_cpu", False))


def packed_4bit_weights(model: Any) -> list[str]:
    """Names of the modules whose 4-bit weight is in the CPU inference layout (gradients cannot pass)."""
    return [name for name, module in model.named_modules() if is_packed_4bit(module)]


def restore_trainable_4bit_layout(model: Any) -> int:
    """Undo the CPU inference repacking of every 4-bit weight in ``model``; returns how many were restored."""
    restored = 0
    for module in model.modules():
        if not is_packed_4bit(module):
            continue
        from bitsandbytes.functional import _convert_weight_packed_for_cpu_inverse

        weight = module.weight
        weight.data, weight.quant_state = _convert_weight_packed_for_cpu_inverse(
            weight.data, weight.quant_state
        )
        restored += 1
    return restored
