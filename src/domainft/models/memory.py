"""Memory planner: how much accelerator memory a fine-tuning run needs, from the model's config alone.

:func:`plan_memory` builds the model on PyTorch's ``meta`` device (shapes only, no weights, no
memory), counts its parameters exactly per module, finds the Linear layers LoRA would adapt (with
the same presets as :class:`~domainft.models.adapters.LoraAdapterFactory`) and adds up base weights,
trainable weights, gradients, optimizer states, activations, logits and a framework overhead for
full fine-tuning, LoRA or QLoRA. Against a given GPU memory it says ``fits``, ``tight`` or
``does not fit`` and what to change. The formulas are in ``docs/memory.md``.

:class:`TensorMemoryTracker` measures the peak bytes of tensors a block of PyTorch code holds, on
any device (CPU included), to check a plan against a real training step.

Examples:
    >>> from domainft.models.memory import plan_memory
    >>> tiny = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    ...         "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1000}
    >>> plan = plan_memory(tiny, method="lora", target_modules="attention", lora_r=8, seq_len=128,
    ...                    gpu_memory_gb=8)
    >>> plan.params.total, plan.params.trainable
    (202048, 7168)
    >>> plan.verdict
    'fits'
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError, DataFileNotFoundError, ModelError
from domainft.registry import Registry
from domainft.utils.io import read_json

GIB = 1024**3
PLAN_FILE = "memory_plan.json"
DTYPE_BYTES = {"bf16": 2, "fp16": 2, "fp32": 4}
#: Bytes per token per vocabulary entry at the start of backward: the fp32 log-softmax the loss keeps (4)
#: and the two fp32 gradients its backward creates (8). transformers' Trainer drops the model outputs once
#: it has the loss, so the logits themselves are gone by then (measured, see docs).
LOGITS_BYTES_PER_ENTRY = 12
#: Bytes per token per intermediate (MLP) unit of the gradients alive while a block's MLP runs backward,
#: after the loss's gradients are freed (measured: 8-12 in fp32, bf16 and 4-bit on Llama blocks).
BACKWARD_BYTES_PER_INTERMEDIATE = 12
#: Linear layers of a block that read one and the same input tensor: fp32 LoRA adapters without dropout
#: in a group share that input for backward; every other adapted layer keeps its own.
SHARED_INPUT_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"q_proj", "k_proj", "v_proj"}),
    frozenset({"gate_proj", "up_proj"}),
    frozenset({"query", "key", "value"}),
    frozenset({"w1", "w3"}),
)
#: bitsandbytes 4-bit block size (one absmax per block).
BNB_4BIT_BLOCKSIZE = 64
#: bitsandbytes 8-bit optimizers keep 32-bit states for tensors smaller than this.
BNB_8BIT_MIN_SIZE = 4096
#: Default overhead on CUDA: context and kernels, cuBLAS workspaces, caching-allocator slack.
CUDA_OVERHEAD_GB = 1.0
TIGHT_FRACTION = 0.9

PART_LABELS = {
    "base_weights": "base weights",
    "quant_state": "quantization constants",
    "trainable_weights": "trainable weights",
    "gradients": "gradients",
    "optimizer_states": "optimizer states",
    "weight_copies": "autocast weight copies",
    "activations": "activations",
    "logits": "logits and loss",
    "workspace": "dequantization workspace",
    "overhead": "framework overhead",
}


# ------------------------------------------------------------------------------------------ optimizers


@dataclass(frozen=True)
class OptimizerMemory:
    """How many bytes of state an optimizer keeps for a list of trainable tensor shapes."""

    state_bytes: Callable[[Sequence[tuple[int, ...]], int], int]
    description: str = ""
    paged: bool = False
    eight_bit: bool = False


#: optimizer name (transformers' ``optim`` names) -> :class:`OptimizerMemory`.
OPTIMIZERS: Registry[OptimizerMemory] = Registry("optimizer")


def register_optimizer_memory(
    name: str,
    state_bytes: Callable[[Sequence[tuple[int, ...]], int], int],
    *,
    description: str = "",
    paged: bool = False,
    eight_bit: bool = False,
    overwrite: bool = False,
) -> None:
    """Teach the planner the state size of another optimizer.

    ``state_bytes(shapes, param_bytes)`` gets the shapes of the trainable tensors and the bytes per
    element of the trainable weights, and returns the optimizer's state bytes.

    Examples:
        >>> register_optimizer_memory("momentum_sgd", lambda shapes, nbytes: sum(
        ...     math.prod(s) for s in shapes) * nbytes, description="1 x param dtype", overwrite=True)
        >>> OPTIMIZERS.get("momentum_sgd").state_bytes([(2, 3)], 4)
        24
    """
    OPTIMIZERS.register(
        name,
        OptimizerMemory(state_bytes, description=description, paged=paged, eight_bit=eight_bit),
        overwrite=overwrite,
    )


def _numel(shape: Sequence[int]) -> int:
    return math.prod(shape)


def _adam_32bit(shapes: Sequence[tuple[int, ...]], param_bytes: int) -> int:
    return sum(2 * _numel(s) * param_bytes for s in shapes)


def _adam_paged_32bit(shapes: Sequence[tuple[int, ...]], param_bytes: int) -> int:
    return sum(2 * _numel(s) * 4 for s in shapes)


def _adam_8bit(shapes: Sequence[tuple[int, ...]], param_bytes: int) -> int:
    total = 0
    for shape in shapes:
        n = _numel(shape)
        if n >= BNB_8BIT_MIN_SIZE:  # two uint8 states + one fp32 absmax per 256-block for each
            total += 2 * n + 2 * math.ceil(n / 256) * 4
        else:
            total += 2 * n * 4
    return total


def _adafactor(shapes: Sequence[tuple[int, ...]], param_bytes: int) -> int:
    total = 0
    for shape in shapes:  # factored second moment (row + column) for matrices, full for vectors
        if len(shape) >= 2:
            total += (_numel(shape[:-1]) + _numel(shape[:-2]) * shape[-1]) * 4
        else:
            total += _numel(shape) * 4
    return total


for _name in ("adamw_torch", "adamw_torch_fused", "adamw_hf"):
    register_optimizer_memory(_name, _adam_32bit, description="AdamW: 2 states in the trainable dtype")
for _name in ("adamw_8bit", "adamw_bnb_8bit"):
    register_optimizer_memory(
        _name, _adam_8bit, description="bitsandbytes 8-bit AdamW: 2 x 1 byte", eight_bit=True
    )
register_optimizer_memory(
    "paged_adamw_8bit",
    _adam_8bit,
    description="paged 8-bit AdamW: 2 x 1 byte, can spill to CPU memory",
    paged=True,
    eight_bit=True,
)
register_optimizer_memory(
    "paged_adamw_32bit",
    _adam_paged_32bit,
    description="paged 32-bit AdamW: 2 x fp32, can spill to CPU memory",
    paged=True,
)
register_optimizer_memory("adafactor", _adafactor, description="Adafactor: factored fp32 second moment")
register_optimizer_memory("sgd", lambda shapes, nbytes: 0, description="SGD without momentum: no state")


# ---------------------------------------------------------------------------------------------- config


@dataclass
class MemoryPlanConfig(ConfigBase):
    """What to plan: the fine-tuning method and the settings that decide its memory."""

    method: Literal["qlora", "lora", "full"] = config_field(
        "qlora", help="qlora (LoRA on a quantized base), lora (LoRA on a 16/32-bit base) or full."
    )
    quantization: Literal["nf4", "fp4", "int8", "none"] | None = config_field(
        None, help="Base weight quantization; null = nf4 for qlora, none for lora and full."
    )
    double_quant: bool = config_field(True, help="4-bit only: quantize the quantization constants too.")
    lora_r: int = config_field(16, help="LoRA rank.")
    target_modules: str | list[str] | None = config_field(
        None,
        help="LoRA targets as in AdapterConfig (preset or module names); null = AdapterConfig's default.",
    )
    lora_dropout: float = config_field(0.05, help="LoRA dropout (a mask per adapted layer when > 0).")
    seq_len: int = config_field(512, help="Tokens per sequence (the longest padded row).")
    batch_size: int = config_field(1, help="Sequences per micro-batch (per device).")
    optimizer: str = config_field("adamw_torch", help="transformers optim name, e.g. paged_adamw_8bit.")
    gradient_checkpointing: bool = config_field(
        False, help="Recompute activations in backward (keeps one tensor per layer)."
    )
    compute_dtype: Literal["bf16", "fp16", "fp32"] = config_field(
        "bf16", help="Dtype of matmuls (mixed precision when 16-bit)."
    )
    weights_dtype: Literal["auto", "bf16", "fp16", "fp32"] = config_field(
        "auto",
        help="Dtype of non-quantized weights: auto = fp32 master weights for full, compute dtype for lora.",
    )
    kbit_upcast: bool = config_field(
        True,
        help="qlora: non-quantized parameters in fp32, as peft's prepare_model_for_kbit_training does.",
    )
    device: Literal["cuda", "cpu"] = config_field("cuda", help="Where training runs.")
    gpu_memory_gb: float | None = config_field(None, help="Memory to check against, in GiB.")
    overhead_gb: float | None = config_field(
        None, help="Framework overhead in GiB; null = 1.0 on cuda, 0 on cpu."
    )
    trust_remote_code: bool = config_field(False, help="Allow custom modelling code from a model folder.")

    def validate(self) -> None:
        self.require_positive("lora_r", "seq_len", "batch_size", "gpu_memory_gb")
        self.require_range("lora_dropout", 0, 1)
        if self.overhead_gb is not None and self.overhead_gb < 0:
            raise ConfigError(f"MemoryPlanConfig.overhead_gb must be >= 0, got {self.overhead_gb}")
        quant = self.quantization
        if self.method == "qlora" and quant == "none":
            raise ConfigError(
                "MemoryPlanConfig: method='qlora' needs quantization nf4, fp4 or int8; "
                "for an unquantized base use method='lora'"
            )
        if self.method == "lora" and quant not in (None, "none"):
            raise ConfigError(
                f"MemoryPlanConfig: method='lora' with quantization={quant!r} is QLoRA; use method='qlora'"
            )
        if self.method == "full" and quant not in (None, "none"):
            raise ConfigError(
                f"MemoryPlanConfig: method='full' cannot train quantized weights (quantization={quant!r}); "
                "use quantization='none' or method='qlora'"
            )
        OPTIMIZERS.get(self.optimizer)  # unknown names raise listing the known ones
        if self.target_modules is not None:
            from domainft.models.adapters import AdapterConfig

            AdapterConfig(target_modules=self.target_modules)

    @property
    def effective_quantization(self) -> str:
        """The quantization used: ``nf4`` by default for qlora, ``none`` for lora and full."""
        if self.quantization is None:
            return "nf4" if self.method == "qlora" else "none"
        return self.quantization

    @property
    def effective_target_modules(self) -> str | list[str]:
        if self.target_modules is not None:
            return self.target_modules
        from domainft.models.adapters import AdapterConfig

        return AdapterConfig().target_modules

    @property
    def tokens(self) -> int:
        return self.seq_len * self.batch_size


# ------------------------------------------------------------------------------------ model inventory


@dataclass
class ModuleInfo:
    """A Linear (or Conv1D) or Embedding module of the model: the layers LoRA can adapt."""

    name: str
    kind: Literal["linear", "embedding"]
    in_features: int
    out_features: int
    quantized: bool = False
    layer: int | None = None


@dataclass
class ModelInventory:
    """Exact parameter counts and layer shapes of a model, read from its config on the ``meta`` device."""

    model_type: str
    architecture: str
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    kv_dim: int
    vocab_size: int
    total_params: int
    groups: dict[str, int]
    param_shapes: list[tuple[int, ...]]
    modules: list[ModuleInfo]
    output_module: str | None = None

    @property
    def quantizable_params(self) -> int:
        """Weights bitsandbytes would quantize (Linear weights except the output layer)."""
        return sum(m.in_features * m.out_features for m in self.modules if m.quantized)

    def linear_names(self) -> list[str]:
        return sorted({m.name.rsplit(".", 1)[-1] for m in self.modules if m.kind == "linear"})

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["param_shapes"] = [list(s) for s in self.param_shapes]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelInventory:
        data = dict(data)
        data["param_shapes"] = [tuple(s) for s in data["param_shapes"]]
        data["modules"] = [ModuleInfo(**m) for m in data["modules"]]
        return cls(**data)


def _config_int(cfg: Any, *names: str, default: int | None = None) -> int:
    for name in names:
        value = getattr(cfg, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    if default is not None:
        return default
    raise ModelError(
        f"the {getattr(cfg, 'model_type', '?')} config has no {names[0]}: the planner needs it "
        f"(looked for {', '.join(names)})"
    )


def load_model_config(model_config: Any, *, trust_remote_code: bool = False) -> Any:
    """A transformers ``PretrainedConfig`` from a config object, a dict, a folder, a config.json file, a
    domainft ``ModelConfig`` or a hub id already in the local cache (never downloads, never weights)."""
    from transformers import AutoConfig, PretrainedConfig

    from domainft.models.loading import ModelConfig, warn_remote_code

    if isinstance(model_config, PretrainedConfig):
        return model_config
    if isinstance(model_config, ModelConfig):
        trust_remote_code = trust_remote_code or model_config.trust_remote_code
        model_config = model_config.name_or_path
    if isinstance(model_config, dict):
        data = dict(model_config)
        model_type = data.pop("model_type", None)
        if not model_type:
            raise ConfigError(
                "plan_memory: a config dict needs a 'model_type' key (e.g. 'llama'), as in config.json"
            )
        try:
            return AutoConfig.for_model(model_type, **data)
        except ValueError as exc:
            raise ModelError(f"plan_memory: unknown model_type {model_type!r}: {exc}") from None
    if not isinstance(model_config, (str, Path)) or not str(model_config):
        raise ConfigError(
            "plan_memory: model_config must be a PretrainedConfig, a dict, a model folder, a config.json "
            f"file or a cached hub id, got {type(model_config).__name__}"
        )
    path = Path(model_config).expanduser()
    if path.is_file():
        return load_model_config(read_json(path, ConfigError, mapping=True))
    if path.is_dir() and not (path / "config.json").is_file():
        raise ModelError(f"{path} has no config.json: give a model folder saved with save_pretrained")
    looks_local = path.is_absolute() or str(model_config).startswith((".", "~")) or path.is_dir()
    warn_remote_code(trust_remote_code, str(model_config))
    try:
        return AutoConfig.from_pretrained(
            str(path) if path.is_dir() else str(model_config),
            local_files_only=True,
            trust_remote_code=trust_remote_code,
        )
    except (OSError, ValueError) as exc:
        if looks_local and not path.exists():
            raise DataFileNotFoundError(f"model folder not found: {model_config}") from None
        raise ModelError(
            f"cannot read a model config from {str(model_config)!r} without downloading ({exc}); give a "
            "folder with config.json, a config.json file, or a dict"
        ) from None


def _layer_index(name: str) -> int | None:
    match = re.search(r"\.(\d+)(?:\.|$)", name)
    return int(match.group(1)) if match else None


def _not_converted(model: Any) -> list[str] | None:
    """Module names transformers' bitsandbytes integration keeps unquantized (output layer, tied, fp32)."""
    try:
        from transformers.quantizers.base import HfQuantizer

        return HfQuantizer.get_modules_to_not_convert(
            model, None, getattr(model, "_keep_in_fp32_modules", None) or None
        )
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - older/newer transformers
        return None


def _should_convert(name: str, skip: list[str] | None, output_module: str | None) -> bool:
    if skip is None:
        return name != output_module
    try:
        from transformers.quantizers.quantizers_utils import should_convert_module

        return bool(should_convert_module(name, skip))
    except ImportError:  # pragma: no cover
        return name not in skip and name != output_module


def inspect_model(model_config: Any, *, trust_remote_code: bool = False) -> ModelInventory:
    """Count the parameters of ``model_config``'s causal LM exactly, per module, without weights.

    The model is built on the ``meta`` device, so a 70B config costs no memory. Tied weights count once.
    """
    if isinstance(model_config, ModelInventory):
        return model_config
    import torch
    from torch import nn
    from transformers import AutoModelForCausalLM

    cfg = load_model_config(model_config, trust_remote_code=trust_remote_code)
    try:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(cfg, trust_remote_code=trust_remote_code)
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"cannot build a causal LM from the {getattr(cfg, 'model_type', '?')} config: {exc}"
        ) from None
    from transformers.pytorch_utils import Conv1D

    output = model.get_output_embeddings()
    output_name = next((n for n, m in model.named_modules() if output is not None and m is output), None)
    skip = _not_converted(model)
    seen: set[int] = set()
    groups = {"embeddings": 0, "linear_weights": 0, "linear_biases": 0, "lm_head": 0, "norms_and_other": 0}
    shapes: list[tuple[int, ...]] = []
    modules: list[ModuleInfo] = []
    for name, module in model.named_modules():
        is_linear = type(module) is nn.Linear or isinstance(module, Conv1D)
        for pname, param in module.named_parameters(recurse=False):
            if id(param) in seen:
                continue
            seen.add(id(param))
            shapes.append(tuple(param.shape))
            if isinstance(module, nn.Embedding):
                group = "embeddings"
            elif module is output:
                group = "lm_head"
            elif is_linear:
                group = "linear_weights" if pname == "weight" else "linear_biases"
            else:
                group = "norms_and_other"
            groups[group] += param.numel()
        if is_linear:
            rows, cols = module.weight.shape
            in_f, out_f = (rows, cols) if isinstance(module, Conv1D) else (cols, rows)
            quantized = module is not output and _should_convert(name, skip, output_name)
            modules.append(ModuleInfo(name, "linear", in_f, out_f, quantized, _layer_index(name)))
        elif isinstance(module, nn.Embedding):
            modules.append(
                ModuleInfo(name, "embedding", module.num_embeddings, module.embedding_dim, False, None)
            )
    total = sum(p.numel() for p in model.parameters())
    hidden = _config_int(cfg, "hidden_size", "n_embd", "d_model")
    heads = _config_int(cfg, "num_attention_heads", "n_head")
    head_dim = _config_int(cfg, "head_dim", default=hidden // heads)
    kv_heads = _config_int(cfg, "num_key_value_heads", "num_kv_heads", default=heads)
    return ModelInventory(
        model_type=str(getattr(cfg, "model_type", "") or ""),
        architecture=type(model).__name__,
        hidden_size=hidden,
        intermediate_size=_config_int(cfg, "intermediate_size", "n_inner", "ffn_dim", default=4 * hidden),
        num_layers=_config_int(cfg, "num_hidden_layers", "n_layer", "num_layers"),
        num_heads=heads,
        kv_dim=kv_heads * head_dim,
        vocab_size=_config_int(cfg, "vocab_size"),
        total_params=int(total),
        groups={k: int(v) for k, v in groups.items()},
        param_shapes=shapes,
        modules=modules,
        output_module=output_name,
    )


def lora_target_modules(
    inventory: ModelInventory, target_modules: str | list[str] | None = None
) -> list[ModuleInfo]:
    """The modules a LoRA adapter with ``target_modules`` adapts, matched as peft matches them.

    Presets resolve per architecture through :class:`~domainft.models.adapters.LoraAdapterFactory`; a
    name matches a module whose full name equals it or ends with ``"." + name``; ``all-linear`` is
    every Linear except the output layer.
    """
    from domainft.models.adapters import AdapterConfig, LoraAdapterFactory

    targets = target_modules if target_modules is not None else AdapterConfig().target_modules
    resolved = LoraAdapterFactory(target_modules=targets).resolve_targets(inventory.model_type)
    if resolved == "all-linear":
        leaf_out = inventory.output_module.rsplit(".", 1)[-1] if inventory.output_module else None
        names = [n for n in inventory.linear_names() if n != leaf_out]
        kinds = {"linear"}
    else:
        names = list(resolved)
        kinds = {"linear", "embedding"}
    chosen = [
        m
        for m in inventory.modules
        if m.kind in kinds and any(m.name == t or m.name.endswith("." + t) for t in names)
    ]
    for target in names:
        if not any(m.name == target or m.name.endswith("." + target) for m in chosen):
            raise ModelError(
                f"target module {target!r} is not a Linear or Embedding layer of this "
                f"{inventory.model_type or 'model'}; its linear layers are: "
                f"{', '.join(inventory.linear_names())}"
            )
    return chosen


def _lora_shapes(module: ModuleInfo, r: int) -> list[tuple[int, ...]]:
    if module.kind == "embedding":  # lora_embedding_A (r x num_embeddings), lora_embedding_B (dim x r)
        return [(r, module.in_features), (module.out_features, r)]
    return [(r, module.in_features), (module.out_features, r)]


# ------------------------------------------------------------------------------------------------ plan


@dataclass
class ParameterCounts:
    """Exact parameter counts of a plan."""

    total: int
    trainable: int
    quantized: int
    groups: dict[str, int]
    adapted_modules: int = 0

    @property
    def trainable_percent(self) -> float:
        return 100.0 * self.trainable / self.total if self.total else 0.0


@dataclass
class Suggestion:
    """A change that lowers the memory, with the total it would give."""

    change: str
    total_gb: float
    fits: bool | None = None


@dataclass
class MemoryPlan:
    """The estimate: parts in bytes, their total, and the verdict against ``gpu_memory_gb``."""

    config: MemoryPlanConfig
    model: dict[str, Any]
    params: ParameterCounts
    parts: dict[str, int]
    details: dict[str, str] = dataclasses.field(default_factory=dict)
    verdict: Literal["fits", "tight", "does not fit"] | None = None
    suggestions: list[Suggestion] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(self.parts.values())

    @property
    def total_gb(self) -> float:
        return self.total_bytes / GIB

    @property
    def usage(self) -> float | None:
        """Total as a fraction of ``gpu_memory_gb`` (None when no memory was given)."""
        gpu = self.config.gpu_memory_gb
        return self.total_gb / gpu if gpu else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "model": dict(self.model),
            "params": {**dataclasses.asdict(self.params), "trainable_percent": self.params.trainable_percent},
            "parts": dict(self.parts),
            "parts_gb": {k: v / GIB for k, v in self.parts.items()},
            "details": dict(self.details),
            "total_bytes": self.total_bytes,
            "total_gb": self.total_gb,
            "verdict": self.verdict,
            "usage": self.usage,
            "suggestions": [dataclasses.asdict(s) for s in self.suggestions],
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryPlan:
        params = {k: v for k, v in data["params"].items() if k != "trainable_percent"}
        return cls(
            config=MemoryPlanConfig.from_dict(data["config"]),
            model=dict(data["model"]),
            params=ParameterCounts(**params),
            parts={k: int(v) for k, v in data["parts"].items()},
            details=dict(data.get("details", {})),
            verdict=data.get("verdict"),
            suggestions=[Suggestion(**s) for s in data.get("suggestions", [])],
            notes=list(data.get("notes", [])),
        )

    def save(self, directory: str | Path) -> Path:
        """Write ``memory_plan.json`` into ``directory``; returns the file."""
        from domainft.utils.io import atomic_write_json

        return atomic_write_json(Path(directory) / PLAN_FILE, self.to_dict())

    @classmethod
    def load(cls, directory: str | Path) -> MemoryPlan:
        path = Path(directory)
        path = path / PLAN_FILE if path.is_dir() else path
        if not path.is_file():
            raise DataFileNotFoundError(f"no memory plan at {path}: save one with MemoryPlan.save(directory)")
        return cls.from_dict(read_json(path, ConfigError, mapping=True))

    def headline(self) -> str:
        cfg = self.config
        quant = cfg.effective_quantization
        method = {"full": "full fine-tuning", "lora": "LoRA", "qlora": f"QLoRA {quant}"}[cfg.method]
        if cfg.method == "qlora" and quant in ("nf4", "fp4") and cfg.double_quant:
            method += " (double quant)"
        if cfg.method != "full":
            method += f", r={cfg.lora_r} on {self.params.adapted_modules} modules"
        return (
            f"{self.model.get('model_type') or self.model.get('architecture')}: "
            f"{_count(self.params.total)} parameters, {method}"
        )

    def table(self) -> str:
        """A readable text table of the plan."""
        cfg = self.config
        lines = [
            f"Memory plan for {self.headline()}",
            f"seq {cfg.seq_len} x batch {cfg.batch_size}, compute {cfg.compute_dtype}, optimizer "
            f"{cfg.optimizer}, gradient checkpointing {'on' if cfg.gradient_checkpointing else 'off'}, "
            f"{cfg.device}",
            f"trainable: {_count(self.params.trainable)} ({self.params.trainable_percent:.3f}%)",
            "",
            f"{'part':<26}{'GiB':>9}  detail",
        ]
        for key, value in self.parts.items():
            if value == 0 and key != "activations":
                continue
            lines.append(f"{PART_LABELS.get(key, key):<26}{value / GIB:>9.2f}  {self.details.get(key, '')}")
        lines.append(f"{'total':<26}{self.total_gb:>9.2f}")
        if self.verdict is not None:
            lines.append(
                f"GPU memory {cfg.gpu_memory_gb:g} GiB: {self.verdict} ({100 * (self.usage or 0):.0f}%)"
            )
        for s in self.suggestions:
            tail = "" if s.fits is None else (" - fits" if s.fits else " - still too much")
            lines.append(f"  try: {s.change}: {s.total_gb:.2f} GiB{tail}")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _count(n: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(int(n))


def _quant_bytes(module: ModuleInfo, quantization: str, double_quant: bool) -> tuple[int, int]:
    """(weight bytes, quantization-constant bytes) of one quantized Linear."""
    n = module.in_features * module.out_features
    if quantization == "int8":  # LLM.int8: int8 weights and one fp32 scale per output row
        return n, module.out_features * 4
    blocks = math.ceil(n / BNB_4BIT_BLOCKSIZE)
    code = 16 * 4
    if double_quant:  # uint8 absmax, fp32 absmax per 256 of them, the 8-bit code table and an offset
        return math.ceil(n / 2), blocks + math.ceil(blocks / 256) * 4 + 256 * 4 + 4 + code
    return math.ceil(n / 2), blocks * 4 + code


def _input_group(name: str) -> str:
    """The name of the input a Linear reads: its group in SHARED_INPUT_GROUPS, else its own name."""
    leaf = name.rsplit(".", 1)[-1]
    for group in SHARED_INPUT_GROUPS:
        if leaf in group:
            return "+".join(sorted(group))
    return leaf


def _activation_bytes(
    inv: ModelInventory, cfg: MemoryPlanConfig, targets: list[ModuleInfo], a: int, s: int
) -> tuple[int, int, str]:
    """(activation bytes, logits bytes, formula text) at the peak of a training step; see docs/memory.md.

    The step peaks either when the loss's backward starts (every saved activation plus the logits term)
    or while one block's MLP runs backward (its gradients, the logits term freed by then); with
    checkpointing, the latter also holds the recomputed block. The larger of the two counts: what the
    block's backward needs beyond the logits term is added to the activations.
    """
    h, kv, i, heads, layers = (
        inv.hidden_size,
        inv.kv_dim,
        inv.intermediate_size,
        inv.num_heads,
        inv.num_layers,
    )
    if cfg.method == "full":
        k_kv = 2 * s + (2 * a if s != a else 0)
        per_layer = (8 + a + 5 * s) * h + k_kv * kv + 4 * a * i
        outside = 3 * s * h
    else:  # frozen k and v projections: only attention's compute-dtype copies of k and v are kept
        per_layer = (8 + 2 * a) * h + 2 * a * kv + 3 * s * i
        outside = s * h  # the final norm's input
    per_layer += 4 * heads + 8
    adapter_by_layer: dict[int | None, int] = {}
    shared_inputs: set[tuple[int | None, str]] = set()
    for m in targets:
        n_in = m.in_features if m.kind == "linear" else 0
        if cfg.lora_dropout > 0:
            # the input plus a bool keep-mask (CUDA's fused dropout; on CPU the FastDropout LoraAdapterFactory
            # installs)
            extra = (a + 1) * n_in
        elif a < 4:
            extra = a * n_in
        else:  # fp32: adapters reading the same input tensor (q, k, v; gate, up) share it
            key = (m.layer, _input_group(m.name))
            extra = 0 if key in shared_inputs else 4 * n_in
            shared_inputs.add(key)
        adapter_by_layer[m.layer] = adapter_by_layer.get(m.layer, 0) + extra + a * cfg.lora_r
    outside += adapter_by_layer.pop(None, 0)
    tokens = cfg.tokens
    logits_per_token = inv.vocab_size * LOGITS_BYTES_PER_ENTRY
    backward = BACKWARD_BYTES_PER_INTERMEDIATE * i
    if cfg.gradient_checkpointing:
        recompute = per_layer + max(adapter_by_layer.values(), default=0)
        excess = max(0, recompute + backward - logits_per_token)
        per_token = layers * s * h + outside + excess
        formula = (
            f"checkpointed: {layers} x {s}*h + one block recomputed with its backward "
            f"({recompute + backward} B/token, {excess} beyond the logits term)"
        )
    else:
        excess = max(0, backward - logits_per_token)
        per_token = layers * per_layer + sum(adapter_by_layer.values()) + outside + excess
        formula = f"{layers} layers x ~{per_layer + sum(adapter_by_layer.values()) // max(layers, 1)} B/token"
        if excess:
            formula += f" + {excess} B/token of MLP backward beyond the logits term"
    logits = tokens * logits_per_token
    return tokens * per_token, logits, f"{tokens} tokens; {formula}"


def _build_plan(inv: ModelInventory, cfg: MemoryPlanConfig) -> MemoryPlan:
    a = DTYPE_BYTES[cfg.compute_dtype]
    quant = cfg.effective_quantization
    optimizer = OPTIMIZERS.get(cfg.optimizer)
    if cfg.method == "qlora":  # the non-quantized rest, after peft's k-bit preparation
        s_name = "fp32" if cfg.kbit_upcast else cfg.compute_dtype
    elif cfg.weights_dtype != "auto":
        s_name = cfg.weights_dtype
    else:  # full: fp32 master weights under autocast; lora: base loaded in the compute dtype
        s_name = "fp32" if cfg.method == "full" else cfg.compute_dtype
    s = DTYPE_BYTES[s_name]
    parts = dict.fromkeys(PART_LABELS, 0)
    details: dict[str, str] = {}
    notes: list[str] = []

    targets: list[ModuleInfo] = []
    if cfg.method == "full":
        trainable = inv.total_params
        trainable_shapes = inv.param_shapes
        train_bytes = s
        parts["trainable_weights"] = trainable * s
        details["trainable_weights"] = f"all {_count(trainable)} params in {s_name}"
        quantized = 0
    else:
        targets = lora_target_modules(inv, cfg.effective_target_modules)
        trainable_shapes = [shape for m in targets for shape in _lora_shapes(m, cfg.lora_r)]
        trainable = sum(_numel(shape) for shape in trainable_shapes)
        train_bytes = 4  # peft keeps adapter weights in fp32 (autocast_adapter_dtype)
        parts["trainable_weights"] = trainable * train_bytes
        details["trainable_weights"] = f"{_count(trainable)} adapter params in fp32"
        if quant == "none":
            quantized = 0
            parts["base_weights"] = inv.total_params * s
            details["base_weights"] = f"{_count(inv.total_params)} frozen params in {s_name}"
        else:
            qmods = [m for m in inv.modules if m.quantized]
            quantized = sum(m.in_features * m.out_features for m in qmods)
            weight_bytes = state_bytes = 0
            for m in qmods:
                w, st = _quant_bytes(m, quant, cfg.double_quant)
                weight_bytes += w
                state_bytes += st
            rest = inv.total_params - quantized
            parts["base_weights"] = weight_bytes + rest * s
            parts["quant_state"] = state_bytes
            bits = 8 if quant == "int8" else 4
            details["base_weights"] = (
                f"{_count(quantized)} quantized to {bits} bits; {_count(rest)} others in {s_name}"
            )
            details["quant_state"] = (
                "fp32 row scales" if quant == "int8" else f"absmax per {BNB_4BIT_BLOCKSIZE}-block"
            ) + (" (double quant)" if quant != "int8" and cfg.double_quant else "")
            largest = max((m.in_features * m.out_features for m in qmods), default=0)
            parts["workspace"] = largest * a
            details["workspace"] = "largest quantized weight dequantized to the compute dtype"
            if cfg.method == "qlora" and cfg.kbit_upcast:
                notes.append(
                    "non-quantized parameters are counted in fp32: peft's prepare_model_for_kbit_training "
                    "(called by LoraAdapterFactory on quantized models) upcasts them"
                )

    parts["gradients"] = trainable * train_bytes
    details["gradients"] = f"{_count(trainable)} x {train_bytes} B"
    parts["optimizer_states"] = int(optimizer.state_bytes(trainable_shapes, train_bytes))
    details["optimizer_states"] = optimizer.description or cfg.optimizer
    if optimizer.paged:
        notes.append(f"{cfg.optimizer} keeps its states in paged memory: under pressure they move to CPU RAM")

    if a < 4:  # autocast keeps a compute-dtype copy of every wider Linear weight it uses
        wide = sum(
            m.in_features * m.out_features
            for m in inv.modules
            if m.kind == "linear" and s > a and not (quant != "none" and m.quantized)
        )
        if cfg.method != "full":
            wide += trainable  # fp32 adapter weights
        parts["weight_copies"] = wide * a
        details["weight_copies"] = f"{_count(wide)} weights cast to {cfg.compute_dtype}"

    activations, logits, formula = _activation_bytes(inv, cfg, targets, a, s)
    parts["activations"] = activations
    details["activations"] = formula
    parts["logits"] = logits
    details["logits"] = f"{cfg.tokens} tokens x vocab {inv.vocab_size} x {LOGITS_BYTES_PER_ENTRY} B"
    overhead = (
        cfg.overhead_gb
        if cfg.overhead_gb is not None
        else (CUDA_OVERHEAD_GB if cfg.device == "cuda" else 0.0)
    )
    parts["overhead"] = int(overhead * GIB)
    details["overhead"] = "CUDA context, kernels, workspaces, allocator slack" if overhead else ""
    if inv.model_type not in _CALIBRATED:
        notes.append(
            "activations use the formula calibrated on Llama-style blocks; for "
            f"{inv.model_type or 'this model'} they are an approximation"
        )
    model = {
        "model_type": inv.model_type,
        "architecture": inv.architecture,
        "hidden_size": inv.hidden_size,
        "intermediate_size": inv.intermediate_size,
        "num_layers": inv.num_layers,
        "num_heads": inv.num_heads,
        "kv_dim": inv.kv_dim,
        "vocab_size": inv.vocab_size,
    }
    params = ParameterCounts(
        total=inv.total_params,
        trainable=trainable,
        quantized=quantized,
        groups=dict(inv.groups),
        adapted_modules=len(targets),
    )
    plan = MemoryPlan(cfg, model, params, parts, details, notes=notes)
    if cfg.gpu_memory_gb:
        plan.verdict = _verdict(plan.total_gb, cfg.gpu_memory_gb)
    return plan


_CALIBRATED = {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "olmo2"}


def _verdict(total_gb: float, gpu_gb: float) -> Literal["fits", "tight", "does not fit"]:
    if total_gb > gpu_gb:
        return "does not fit"
    return "tight" if total_gb > TIGHT_FRACTION * gpu_gb else "fits"


def _suggest(inv: ModelInventory, plan: MemoryPlan) -> list[Suggestion]:
    """Alternative settings, each planned, when the plan is tight or does not fit."""
    cfg = plan.config
    gpu = cfg.gpu_memory_gb
    assert gpu is not None

    def variant(**changes: Any) -> MemoryPlan:
        return _build_plan(inv, cfg.updated(**changes))

    def suggestion(text: str, other: MemoryPlan) -> Suggestion:
        return Suggestion(text, round(other.total_gb, 3), other.total_gb <= TIGHT_FRACTION * gpu)

    out: list[Suggestion] = []
    if not cfg.gradient_checkpointing:
        out.append(suggestion("enable gradient checkpointing", variant(gradient_checkpointing=True)))
    if cfg.batch_size > 1:
        fitting = [
            b
            for b in range(cfg.batch_size - 1, 0, -1)
            if variant(batch_size=b).total_gb <= TIGHT_FRACTION * gpu
        ]
        best = fitting[0] if fitting else 1
        out.append(
            suggestion(f"batch size {best} (raise gradient_accumulation_steps)", variant(batch_size=best))
        )
    if cfg.method == "full":
        out.append(suggestion("LoRA on a 16-bit base", variant(method="lora", weights_dtype="auto")))
    if cfg.method != "qlora":
        changes = {"method": "qlora", "quantization": "nf4", "weights_dtype": "auto"}
        out.append(suggestion("QLoRA (4-bit nf4 base + LoRA)", variant(**changes)))
    if not OPTIMIZERS.get(cfg.optimizer).eight_bit and plan.parts["optimizer_states"] > 0:
        out.append(suggestion("paged_adamw_8bit optimizer", variant(optimizer="paged_adamw_8bit")))
    if not any(s.fits for s in out) and cfg.seq_len > 64:
        seq = cfg.seq_len
        while seq > 64 and variant(seq_len=seq, batch_size=1).total_gb > TIGHT_FRACTION * gpu:
            seq //= 2
        out.append(
            suggestion(f"batch size 1 and sequences of {seq} tokens", variant(seq_len=seq, batch_size=1))
        )
    return sorted(out, key=lambda s: s.total_gb)


def plan_memory(model_config: Any, config: MemoryPlanConfig | None = None, **overrides: Any) -> MemoryPlan:
    """Estimate the accelerator memory of fine-tuning ``model_config`` (no weights are read).

    ``model_config``: a transformers ``PretrainedConfig``, a dict with ``model_type``, a model folder
    or config.json file, a domainft ``ModelConfig``, a hub id in the local cache, or a
    :class:`ModelInventory` from :func:`inspect_model` (reuse it to plan many settings quickly).
    Keyword arguments are :class:`MemoryPlanConfig` fields (``method``, ``quantization``, ``lora_r``,
    ``target_modules``, ``seq_len``, ``batch_size``, ``optimizer``, ``gradient_checkpointing``,
    ``compute_dtype``, ``gpu_memory_gb``, ...) and override ``config``.

    Examples:
        >>> cfg = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
        ...        "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000}
        >>> plan = plan_memory(cfg, method="full", seq_len=64, gpu_memory_gb=0.001)
        >>> plan.verdict, plan.params.trainable == plan.params.total
        ('does not fit', True)
    """
    data = config.to_dict() if config is not None else {}
    data.update(overrides)
    cfg = MemoryPlanConfig.from_dict(data, _where="plan_memory")
    inv = inspect_model(model_config, trust_remote_code=cfg.trust_remote_code)
    plan = _build_plan(inv, cfg)
    if plan.verdict in ("tight", "does not fit"):
        plan.suggestions = _suggest(inv, plan)
    return plan


# -------------------------------------------------------------------------------------------- measuring


def _quantization_tensors(param: Any) -> list[Any]:
    """Tensors a bitsandbytes parameter keeps outside its data: the 4-bit quantization state (absmax, code
    tables, nested state with double quant) or the 8-bit row scales. Neither a parameter nor a buffer."""
    import torch

    out = []
    state = getattr(param, "quant_state", None)
    while state is not None and not isinstance(state, (dict, list, tuple)):
        out += [v for v in vars(state).values() if isinstance(v, torch.Tensor)]
        state = getattr(state, "state2", None)
    scales = getattr(param, "SCB", None)
    if isinstance(scales, torch.Tensor):
        out.append(scales)
    return out


class TensorMemoryTracker:
    """Peak bytes of tensor storage alive inside a ``with`` block, on any device (CPU included).

    Every tensor a PyTorch op creates inside the block is counted (through a ``TorchDispatchMode``) until
    its storage is freed; views share their storage's bytes. ``tracemalloc`` cannot do this: PyTorch
    allocates outside Python's allocator. Tensors that exist before the block (pass modules, optimizers or
    tensors as ``baseline``) count once in :attr:`baseline_bytes` and are not counted again when updated
    in place; a module's baseline includes the quantization constants of its bitsandbytes 4-bit and 8-bit
    weights. Allocator caching and kernels' internal scratch space are not seen.

    Examples:
        >>> import torch
        >>> x = torch.ones(256)
        >>> with TensorMemoryTracker(baseline=[x]) as tracker:
        ...     y = x * 2
        ...     _ = x.add_(1)
        >>> tracker.baseline_bytes, tracker.peak_new_bytes
        (1024, 1024)
    """

    def __init__(self, baseline: Iterable[Any] = ()) -> None:
        self.baseline = list(baseline)
        self.baseline_bytes = 0
        self.current_new_bytes = 0
        self.peak_new_bytes = 0
        self._known: set[int] = set()
        self._live: dict[int, int] = {}
        self._mode: Any = None

    @property
    def peak_bytes(self) -> int:
        """Baseline plus the peak of new tensors."""
        return self.baseline_bytes + self.peak_new_bytes

    def _baseline_tensors(self) -> Iterable[Any]:
        import torch

        for item in self.baseline:
            if isinstance(item, torch.Tensor):
                yield item
            elif isinstance(item, torch.nn.Module):
                for p in item.parameters():
                    yield p
                    if p.grad is not None:
                        yield p.grad
                    yield from _quantization_tensors(p)
                yield from item.buffers()
            elif isinstance(item, torch.optim.Optimizer):
                for state in item.state.values():
                    yield from (v for v in state.values() if isinstance(v, torch.Tensor))

    def _track(self, tensor: Any) -> None:
        if tensor.device.type == "meta":
            return
        try:
            storage = tensor.untyped_storage()
            key, nbytes = storage.data_ptr(), storage.nbytes()
        except (RuntimeError, NotImplementedError):  # sparse and other storage-less layouts
            return
        if not nbytes or key in self._live or key in self._known:
            return
        self._live[key] = nbytes
        self.current_new_bytes += nbytes
        self.peak_new_bytes = max(self.peak_new_bytes, self.current_new_bytes)
        # a weak reference: a tensor that outlives the tracker (an optimizer state) must not keep the
        # tracker, and through its baseline the model and optimizer, alive
        weakref.finalize(storage, TensorMemoryTracker._released, weakref.ref(self), key)

    @staticmethod
    def _released(tracker_ref: weakref.ref[TensorMemoryTracker], key: int) -> None:
        tracker = tracker_ref()
        if tracker is not None:
            tracker._release(key)

    def _release(self, key: int) -> None:
        self.current_new_bytes -= self._live.pop(key, 0)

    def __enter__(self) -> TensorMemoryTracker:
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils._pytree import tree_leaves

        for t in self._baseline_tensors():
            if t.device.type == "meta" or t.layout != torch.strided:
                continue
            storage = t.untyped_storage()
            if storage.data_ptr() not in self._known:
                self._known.add(storage.data_ptr())
                self.baseline_bytes += storage.nbytes()
        tracker = self

        class _Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
                out = func(*args, **(kwargs or {}))
                for leaf in tree_leaves(out):
                    if isinstance(leaf, torch.Tensor):
                        tracker._track(leaf)
                return out

        self._mode = _Mode()
        self._mode.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._mode.__exit__(*exc)
        self._mode = None


# ------------------------------------------------------------------------------------------------- CLI


def _target_arg(value: str | None) -> str | list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items[0] if len(items) == 1 and items[0] in _PRESETS else items


_PRESETS = ("attention", "mlp", "attention+mlp", "all-linear")


def cmd_plan(args: argparse.Namespace) -> int:
    """``domainft plan``: print the memory plan of a model config (table or JSON)."""
    overrides = {
        "method": args.method,
        "quantization": args.quantization,
        "lora_r": args.r,
        "target_modules": _target_arg(args.target_modules),
        "lora_dropout": args.dropout,
        "seq_len": args.seq_len,
        "batch_size": args.batch_size,
        "optimizer": args.optimizer,
        "gradient_checkpointing": args.gradient_checkpointing,
        "compute_dtype": args.compute_dtype,
        "device": args.device,
        "gpu_memory_gb": args.gpu_memory,
        "overhead_gb": args.overhead,
        "trust_remote_code": args.trust_remote_code,
    }
    plan = plan_memory(args.model_config, **{k: v for k, v in overrides.items() if v is not None})
    print(plan.to_json() if args.json else plan.table())
    return 0


def add_plan_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``plan`` to a ``domainft`` argparse sub-parser group (``build_parser`` wires it)."""
    plan = subparsers.add_parser(
        "plan",
        help="estimate GPU memory of full / LoRA / QLoRA fine-tuning from a model config (no weights)",
    )
    plan.add_argument(
        "model_config", help="model folder with config.json, a config.json file, or a cached hub id"
    )
    plan.add_argument(
        "--method", choices=["qlora", "lora", "full"], help="fine-tuning method (default: qlora)"
    )
    plan.add_argument(
        "--quantization",
        choices=["nf4", "fp4", "int8", "none"],
        help="base quantization (default: by method)",
    )
    plan.add_argument("--r", type=int, help="LoRA rank (default: 16)")
    plan.add_argument(
        "--target-modules",
        help="LoRA targets: a preset (attention, mlp, attention+mlp, all-linear) or names a,b",
    )
    plan.add_argument("--dropout", type=float, help="LoRA dropout (default: 0.05)")
    plan.add_argument("--seq-len", type=int, help="tokens per sequence (default: 512)")
    plan.add_argument("--batch-size", type=int, help="sequences per micro-batch (default: 1)")
    plan.add_argument("--optimizer", help="transformers optim name (default: adamw_torch)")
    plan.add_argument(
        "--gradient-checkpointing",
        action="store_true",
        default=None,
        help="recompute activations in backward",
    )
    plan.add_argument(
        "--compute-dtype", choices=["bf16", "fp16", "fp32"], help="matmul dtype (default: bf16)"
    )
    plan.add_argument("--device", choices=["cuda", "cpu"], help="where training runs (default: cuda)")
    plan.add_argument("--gpu-memory", type=float, metavar="GB", help="GPU memory in GiB: adds a verdict")
    plan.add_argument(
        "--overhead", type=float, metavar="GB", help="framework overhead in GiB (default: 1 on cuda)"
    )
    plan.add_argument(
        "--trust-remote-code", action="store_true", default=None, help="allow custom model code"
    )
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.set_defaults(func=cmd_plan, command="plan")
    return plan
