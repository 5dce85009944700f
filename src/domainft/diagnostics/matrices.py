"""The weight matrices of a model, dense, as the base has them and with the adapter merged.

:func:`weight_matrices` walks a model (plain or a peft ``PeftModel``) and lists every weight matrix
of a linear or embedding layer; loading one gives its dense base weight and, where a LoRA adapter or a
fully trained copy (``modules_to_save``) changes it, the merged weight. The merge follows peft's own
``merge(safe_merge=True)`` (``get_delta_weight``, or the LoRA variant's ``merge_safe`` for DoRA and
other variants) on a copy, so the model itself is never modified. 4-bit and 8-bit bitsandbytes weights
are dequantized with peft's helper. The fused expert tensors of mixture-of-experts layers (one 3-D
tensor per layer) give one matrix per expert.

Examples:
    >>> import tempfile, transformers
    >>> from domainft.models.tiny import build_tiny_model
    >>> from domainft.diagnostics.matrices import weight_matrices
    >>> path = build_tiny_model(["the pump leaks oil", "replace the seal"] * 20, tempfile.mkdtemp())
    >>> model = transformers.AutoModelForCausalLM.from_pretrained(path)
    >>> found = weight_matrices(model)
    >>> found[1].name, found[1].block, found[1].kind, found[1].adapted
    ('model.layers.0.self_attn.q_proj', 0, 'q_proj', False)
    >>> base, merged = found[1].load()
    >>> tuple(base.shape), merged is None  # no adapter: nothing merged
    ((64, 64), True)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from domainft.errors import ModelError

#: Prefixes peft puts before the base model's own module names.
_PEFT_PREFIXES = ("base_model.model.", "base_model.")
_BLOCK = re.compile(r"\.(?:layers|h|blocks|block|decoder_layers)\.(\d+)\.")


@dataclass(frozen=True)
class WeightMatrix:
    """One weight matrix: where it sits (name in the base model, block index, kind) and how to read it.

    ``load()`` returns ``(base, merged)``: dense tensors, ``merged`` None where nothing changes the
    matrix. Reading is deferred so a large model is dequantized one matrix at a time.
    """

    name: str
    block: int | None
    kind: str
    adapted: bool
    read: Callable[[], tuple[Any, Any | None]] = field(repr=False, compare=False)

    def load(self) -> tuple[Any, Any | None]:
        return self.read()


def base_name(name: str) -> str:
    """The module name as the base model has it (peft's ``base_model.model.`` prefix removed)."""
    for prefix in _PEFT_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def block_index(name: str) -> int | None:
    """The transformer block a module belongs to (``model.layers.3.mlp.up_proj`` -> 3), else None."""
    found = _BLOCK.search(f".{name}.")
    return int(found.group(1)) if found else None


def dense_weight(layer: Any) -> Any:
    """The weight of ``layer`` as a dense tensor (bitsandbytes 4-bit/8-bit weights dequantized)."""
    weight = layer.weight
    if type(weight).__name__ in {"Params4bit", "Int8Params"}:
        from peft.utils.integrations import dequantize_bnb_weight

        from domainft.models.bnb_cpu import is_packed_4bit, restore_trainable_4bit_layout

        if is_packed_4bit(layer):  # the CPU inference layout cannot be dequantized as is
            restore_trainable_4bit_layout(layer)
        return dequantize_bnb_weight(layer.weight, state=getattr(layer, "state", None))
    return weight.detach()


def _is_lora_layer(module: Any) -> bool:
    return hasattr(module, "lora_A") and hasattr(module, "get_base_layer")


def _is_modules_to_save(module: Any) -> bool:
    return hasattr(module, "modules_to_save") and hasattr(module, "original_module")


def _merged_lora(module: Any, base: Any, name: str) -> Any | None:
    """``base`` plus every active adapter of a peft LoRA layer, as peft's safe merge computes it."""
    if getattr(module, "merged", False):
        raise ModelError(
            f"{name}: the adapter is already merged into the base weights, so the base cannot be read; "
            "call model.unmerge_adapter() first, or give the base model and the adapter folder"
        )
    adapters = [a for a in module.active_adapters if a in module.lora_A]
    if not adapters:
        return None
    merged = base.clone()
    for adapter in adapters:
        variants = getattr(module, "lora_variant", {})
        if adapter in variants:
            merged = variants[adapter].merge_safe(module, adapter, merged)
        else:
            merged = merged + module.get_delta_weight(adapter).to(merged.dtype)
    return merged


def _has_weight_matrix(module: Any) -> bool:
    weight = getattr(module, "weight", None)
    if weight is None:
        return False
    if type(weight).__name__ in {"Params4bit", "Int8Params"}:
        return True
    return getattr(weight, "ndim", 0) == 2


def _matrix(name: str, adapted: bool, read: Callable[[], tuple[Any, Any | None]]) -> WeightMatrix:
    clean = base_name(name)
    kind = re.sub(r"\[\d+\]$", "", clean.rsplit(".", 1)[-1])  # experts.down_proj[3] -> down_proj
    return WeightMatrix(clean, block_index(clean), kind, adapted, read)


def _read_lora(module: Any, name: str) -> tuple[Any, Any | None]:
    base = dense_weight(module.get_base_layer())
    return base, _merged_lora(module, base, name)


def _read_saved_copy(module: Any) -> tuple[Any, Any | None]:
    trained = [module.modules_to_save[a] for a in module.active_adapters if a in module.modules_to_save]
    return dense_weight(module.original_module), dense_weight(trained[0]) if trained else None


def weight_matrices(model: Any) -> list[WeightMatrix]:
    """Every weight matrix of ``model`` in module order, to be read one at a time with ``load()``.

    Matrices that share their storage with one listed before (tied input and output embeddings) are
    left out. ``load()`` returns new tensors or detached views, never the model's parameters, on the
    device the weights live on.
    """
    found: list[WeightMatrix] = []
    wrappers: list[str] = []
    seen: set[int] = set()
    for name, module in model.named_modules():
        if any(name.startswith(prefix + ".") for prefix in wrappers):
            continue  # inside a LoRA or modules_to_save wrapper already listed
        if _is_lora_layer(module):
            wrappers.append(name)
            seen.add(module.get_base_layer().weight.data_ptr())
            adapted = any(a in module.lora_A for a in module.active_adapters)
            found.append(_matrix(name, adapted, partial(_read_lora, module, base_name(name))))
        elif _is_modules_to_save(module):
            wrappers.append(name)
            seen.add(module.original_module.weight.data_ptr())
            adapted = any(a in module.modules_to_save for a in module.active_adapters)
            found.append(_matrix(name, adapted, partial(_read_saved_copy, module)))
        elif _has_weight_matrix(module):
            if module.weight.data_ptr() in seen:
                continue  # tied to a matrix already listed
            seen.add(module.weight.data_ptr())
            found.append(_matrix(name, False, partial(lambda m: (dense_weight(m), None), module)))
        else:
            for pname, param in module.named_parameters(recurse=False):
                if param.ndim == 3:  # fused mixture-of-experts tensor: one matrix per expert
                    for e in range(param.shape[0]):
                        read = partial(lambda p, i: (p.detach()[i], None), param, e)
                        found.append(_matrix(f"{name}.{pname}[{e}]", False, read))
    return found
