"""LoraAdapterFactory: attach peft LoRA adapters with target presets resolved per architecture.

Examples:
    >>> from domainft import LoraAdapterFactory
    >>> factory = LoraAdapterFactory(r=8, alpha=16, dropout=0.05, target_modules="attention")
    >>> factory.resolve_targets("llama")
    ['q_proj', 'k_proj', 'v_proj', 'o_proj']
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from domainft.configuration import ConfigBase, config_field, did_you_mean
from domainft.errors import ConfigError, ModelError
from domainft.registry import Registry

#: model_type -> {preset name -> module names}. "all-linear" is peft's own and needs no entry.
TARGET_PRESETS: Registry[dict[str, list[str]]] = Registry("target-module architecture")

_LLAMA_LIKE = {
    "attention": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "mlp": ["gate_proj", "up_proj", "down_proj"],
}
for _name in ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "olmo2"):
    TARGET_PRESETS.register(_name, _LLAMA_LIKE)
# Mixture-of-experts models keep their experts as fused 3-D parameters (transformers 5), not Linear
# modules: their "mlp" preset is empty and asking for it is an error that says so.
for _name in ("mixtral", "qwen2_moe", "qwen3_moe"):
    TARGET_PRESETS.register(_name, {"attention": _LLAMA_LIKE["attention"], "mlp": []})
TARGET_PRESETS.register(
    "falcon", {"attention": ["query_key_value", "dense"], "mlp": ["dense_h_to_4h", "dense_4h_to_h"]}
)
TARGET_PRESETS.register(
    "gpt_neox", {"attention": ["query_key_value", "dense"], "mlp": ["dense_h_to_4h", "dense_4h_to_h"]}
)
TARGET_PRESETS.register("gpt2", {"attention": ["c_attn", "attn.c_proj"], "mlp": ["c_fc", "mlp.c_proj"]})
TARGET_PRESETS.register("phi", {"attention": ["q_proj", "k_proj", "v_proj", "dense"], "mlp": ["fc1", "fc2"]})
TARGET_PRESETS.register("phi3", {"attention": ["qkv_proj", "o_proj"], "mlp": ["gate_up_proj", "down_proj"]})

PRESET_NAMES = ("attention", "mlp", "attention+mlp", "all-linear")


def register_target_preset(
    model_type: str, presets: dict[str, list[str]], *, overwrite: bool = False
) -> None:
    """Teach the factory the module names of another architecture.

    Examples:
        >>> register_target_preset("my_arch", {"attention": ["wq", "wk", "wv", "wo"], "mlp": ["w1", "w2"]})
    """
    missing = {"attention", "mlp"} - set(presets)
    if missing:
        raise ConfigError(f"register_target_preset({model_type!r}): missing presets {sorted(missing)}")
    TARGET_PRESETS.register(model_type, presets, overwrite=overwrite)


@dataclass
class AdapterConfig(ConfigBase):
    """LoRA settings; turned into a peft ``LoraConfig`` by :class:`LoraAdapterFactory`."""

    r: int = config_field(16, help="LoRA rank.")
    alpha: float = config_field(
        32, help="LoRA scaling numerator (scale = alpha / r, or alpha / sqrt(r) with rsLoRA)."
    )
    dropout: float = config_field(0.05, help="Dropout on the LoRA input.")
    target_modules: str | list[str] = config_field(
        "attention",
        help="Preset (attention, mlp, attention+mlp, all-linear) or a list of module names and presets.",
    )
    bias: Literal["none", "all", "lora_only"] = config_field("none", help="Which biases to train.")
    use_dora: bool = config_field(False, help="Weight-decomposed LoRA (DoRA).")
    use_rslora: bool = config_field(False, help="Rank-stabilised scaling alpha / sqrt(r).")
    init_lora_weights: bool | str = config_field(True, help="peft init: true, gaussian, pissa, olora, ...")
    modules_to_save: list[str] | None = config_field(
        None, help="Modules trained fully and saved (e.g. lm_head)."
    )
    layers_to_transform: list[int] | None = config_field(
        None, help="Layer freezing: adapt only these block indices (0 = first block); null = every block."
    )
    last_n_layers: int | None = config_field(
        None, help="Layer freezing: adapt only the last N blocks (exclusive with layers_to_transform)."
    )
    gradient_checkpointing: bool = config_field(
        False, help="Enable gradient checkpointing in k-bit preparation."
    )
    seed: int = config_field(
        0, help="Seed of the adapter weights' initialisation (the global RNG is left as it was)."
    )
    extra: dict[str, Any] = config_field({}, help="Other peft LoraConfig arguments, passed through.")

    def validate(self) -> None:
        self.require_positive("r", "alpha")
        self.require_range("dropout", 0, 1)
        if self.last_n_layers is not None:
            self.require_positive("last_n_layers")
            if self.layers_to_transform is not None:
                raise ConfigError("AdapterConfig: set either last_n_layers or layers_to_transform, not both")
        if self.layers_to_transform is not None and (
            not self.layers_to_transform or min(self.layers_to_transform) < 0
        ):
            raise ConfigError(
                f"AdapterConfig.layers_to_transform={self.layers_to_transform} must list block indices >= 0 "
                "(null adapts every block)"
            )
        if isinstance(self.target_modules, str) and self.target_modules not in PRESET_NAMES:
            raise ConfigError(
                f"AdapterConfig.target_modules={self.target_modules!r} is not a preset."
                f"{did_you_mean(self.target_modules, PRESET_NAMES)} Use one of "
                f"{', '.join(PRESET_NAMES)} or a list of module names"
            )


@dataclass
class AdapterSummary:
    """Trainable parameter count of an adapted model."""

    trainable: int
    total: int
    target_modules: list[str]
    layers: list[int] | None = None

    @property
    def percent(self) -> float:
        return 100.0 * self.trainable / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "trainable": self.trainable,
            "total": self.total,
            "percent": self.percent,
            "target_modules": self.target_modules,
            "layers": self.layers,
        }

    def __str__(self) -> str:
        return f"trainable params: {self.trainable:,} / {self.total:,} ({self.percent:.4f}%)"


def _linear_module_names(model: Any) -> list[str]:
    import torch

    names = set()
    for name, module in model.named_modules():
        kind = type(module).__name__
        if isinstance(module, torch.nn.Linear) or kind in ("Linear4bit", "Linear8bitLt", "Conv1D"):
            names.add(name.rsplit(".", 1)[-1])
    return sorted(names)


def _check_peft_arguments(extra: dict[str, Any]) -> None:
    """Unknown keyword arguments must be peft ``LoraConfig`` fields (typos fail here, not inside peft)."""
    if not extra:
        return
    import dataclasses
    import difflib

    from peft import LoraConfig

    known = {f.name for f in dataclasses.fields(LoraConfig)}
    ours = set(AdapterConfig.field_help())
    for key in extra:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known | ours), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"LoraAdapterFactory: unknown argument {key!r}.{hint} Use AdapterConfig fields "
                f"({', '.join(sorted(ours))}) or peft LoraConfig fields"
            )


class LoraAdapterFactory:
    """Builds LoRA adapters from an :class:`AdapterConfig` (keyword arguments or ``config=``)."""

    def __init__(self, config: AdapterConfig | None = None, **kwargs: Any) -> None:
        data = config.to_dict() if config is not None else {}
        extra = {k: kwargs.pop(k) for k in list(kwargs) if k not in AdapterConfig.field_help()}
        _check_peft_arguments(extra)
        data.update(kwargs)
        if extra:
            data["extra"] = {**data.get("extra", {}), **extra}
        self.config = AdapterConfig.from_dict(data, _where="LoraAdapterFactory")
        self.summary: AdapterSummary | None = None

    @classmethod
    def from_config(cls, config: AdapterConfig) -> LoraAdapterFactory:
        return cls(config)

    def resolve_targets(self, model_type: str) -> list[str] | str:
        """Expand presets in ``target_modules`` into module names for ``model_type``."""
        targets = self.config.target_modules
        if targets == "all-linear":
            return "all-linear"
        items = [targets] if isinstance(targets, str) else list(targets)
        resolved: list[str] = []
        for item in items:
            if item in PRESET_NAMES:
                if item == "all-linear":
                    raise ConfigError("target_modules: 'all-linear' cannot be mixed with other names")
                try:
                    presets = TARGET_PRESETS.get(model_type)
                except ConfigError:
                    raise ConfigError(
                        f"target_modules preset {item!r} is not known for architecture {model_type!r} "
                        f"(known: {', '.join(TARGET_PRESETS.names())}); give module names as a list or call "
                        "register_target_preset"
                    ) from None
                parts = ["attention", "mlp"] if item == "attention+mlp" else [item]
                for part in parts:
                    if not presets[part]:
                        raise ConfigError(
                            f"target_modules preset {part!r} has no Linear modules on architecture "
                            f"{model_type!r}: its experts are fused parameters that LoRA cannot wrap as "
                            "modules; target 'attention' (plus module names such as lm_head) instead"
                        )
                    resolved.extend(presets[part])
            else:
                resolved.append(item)
        return list(dict.fromkeys(resolved))

    def resolve_layers(self, model: Any) -> list[int] | None:
        """Block indices that get adapters (``None``: all), checked against the model's depth.

        Modules outside the numbered blocks that are named exactly in ``target_modules`` (``lm_head``)
        are adapted whatever the layer selection.
        """
        cfg = self.config
        if cfg.last_n_layers is None and cfg.layers_to_transform is None:
            return None
        config = getattr(model, "config", None)
        text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
        depth = getattr(text_config, "num_hidden_layers", None) or getattr(text_config, "n_layer", None)
        if not depth:
            raise ModelError(
                "layer freezing needs the model's number of blocks, but its config has no num_hidden_layers; "
                "give layers_to_transform and layers_pattern through extra"
            )
        if cfg.last_n_layers is not None:
            if cfg.last_n_layers > depth:
                raise ConfigError(
                    f"AdapterConfig.last_n_layers={cfg.last_n_layers} but the model has {depth} blocks"
                )
            return list(range(depth - cfg.last_n_layers, depth))
        outside = [i for i in cfg.layers_to_transform or [] if i >= depth]
        if outside:
            raise ConfigError(
                f"AdapterConfig.layers_to_transform: {outside} are not blocks of this model "
                f"(indices 0..{depth - 1})"
            )
        return sorted(set(cfg.layers_to_transform or []))

    def lora_config(self, model: Any) -> Any:
        """The peft ``LoraConfig`` for ``model``; unknown module names raise listing the model's linears."""
        from peft import LoraConfig

        cfg = self.config
        model_type = getattr(getattr(model, "config", None), "model_type", "") or ""
        targets = self.resolve_targets(model_type)
        if isinstance(targets, list):
            module_names = {name for name, _ in model.named_modules()}
            for target in targets:
                if not any(n == target or n.endswith("." + target) for n in module_names):
                    raise ModelError(
                        f"target module {target!r} is not in this {model_type or 'model'}; "
                        "its linear layers are: "
                        f"{', '.join(_linear_module_names(model))}"
                    )
        return LoraConfig(
            r=cfg.r,
            lora_alpha=cfg.alpha,
            lora_dropout=cfg.dropout,
            target_modules=targets,
            bias=cfg.bias,
            use_dora=cfg.use_dora,
            use_rslora=cfg.use_rslora,
            init_lora_weights=cfg.init_lora_weights,
            modules_to_save=cfg.modules_to_save,
            layers_to_transform=self.resolve_layers(model),
            task_type="CAUSAL_LM",
            **cfg.extra,
        )

    def apply(self, model: Any) -> Any:
        """Wrap ``model`` in a peft ``PeftModel`` (after k-bit preparation when it is quantized)."""
        from peft import get_peft_model, prepare_model_for_kbit_training

        from domainft.models.dropout import use_fast_dropout
        from domainft.models.loading import is_quantized

        lora_config = self.lora_config(model)
        if is_quantized(model):
            with warnings.catch_warnings():  # peft still calls a transformers property deprecated in v5
                warnings.filterwarnings(
                    "ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning
                )
                model = prepare_model_for_kbit_training(
                    model, use_gradient_checkpointing=self.config.gradient_checkpointing
                )
        import torch

        devices = list(range(torch.cuda.device_count()))
        with torch.random.fork_rng(devices=devices):  # same seed, same adapter: runs are reproducible
            torch.manual_seed(self.config.seed)
            peft_model = get_peft_model(model, lora_config)
        use_fast_dropout(peft_model)  # same masks' distribution, a fraction of the CPU cost
        trainable, total = peft_model.get_nb_trainable_parameters()
        targets = lora_config.target_modules
        self.summary = AdapterSummary(
            trainable=int(trainable),
            total=int(total),
            target_modules=sorted(targets) if not isinstance(targets, str) else [targets],
            layers=lora_config.layers_to_transform,
        )
        return peft_model


ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
PICKLED_WEIGHTS = "adapter_model.bin"


def check_adapter_dir(adapter_dir: str | Path) -> dict[str, Any]:
    """The ``adapter_config.json`` of a saved adapter folder; ``ModelError`` naming the file and the fix
    when the folder, its config or its weights are missing or the config is not valid JSON."""
    from domainft.utils.io import read_json

    path = Path(adapter_dir)
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "does not exist"
        raise ModelError(
            f"adapter folder {path} {what}; give the folder save_adapter wrote (<output_dir>/adapter)"
        )
    config_path = path / ADAPTER_CONFIG
    if not config_path.is_file():
        nested = [p.parent for p in sorted(path.glob(f"*/{ADAPTER_CONFIG}"))]
        hint = f" Did you mean {str(nested[0])!r}?" if nested else ""
        raise ModelError(
            f"{path} is not an adapter folder (no {ADAPTER_CONFIG}).{hint} Give the folder save_adapter "
            "wrote (<output_dir>/adapter), which holds adapter_config.json and adapter_model.safetensors"
        )
    try:
        config = read_json(config_path, ModelError, mapping=True)
    except ModelError as exc:
        raise ModelError(
            f"{exc}. The adapter config is damaged: restore it from the run, or save the adapter again "
            "(DomainTrainer.save_adapter)"
        ) from None
    if not (path / ADAPTER_WEIGHTS).is_file():
        if (path / PICKLED_WEIGHTS).is_file():
            raise ModelError(
                f"{path} holds its weights as {PICKLED_WEIGHTS}, a pickle, which domainft does not load "
                "(unpickling can run code); convert it once, where you trust the file, with peft: "
                "PeftModel.from_pretrained(base, folder).save_pretrained(new_folder) writes safetensors"
            )
        raise ModelError(
            f"{path} has {ADAPTER_CONFIG} but no {ADAPTER_WEIGHTS}; the save did not finish: save the "
            "adapter again"
        )
    return config


def _base_name(model: Any) -> str:
    config = getattr(model, "config", None)
    name = getattr(config, "_name_or_path", None) or getattr(config, "model_type", None)
    return str(name or type(model).__name__)


def _check_adapter_fits(model: Any, path: Path, config: dict[str, Any]) -> None:
    """Compare the saved LoRA weight shapes with the model's layers before peft touches the model, so an
    adapter trained on another base fails with both names instead of a shape mismatch deep in torch."""
    from safetensors import safe_open

    weights = path / ADAPTER_WEIGHTS  # present: check_adapter_dir ran first

    base_model = model.get_base_model() if hasattr(model, "get_base_model") else model
    modules = dict(base_model.named_modules())
    trained_on = config.get("base_model_name_or_path") or "another base model"
    fix = (
        f"Load the adapter onto the base model it was trained on ({trained_on}), e.g. --model {trained_on}, "
        "or train a new adapter on this one"
    )
    with safe_open(str(weights), framework="pt") as fh:
        for key in fh.keys():  # noqa: SIM118 (safe_open has no __iter__)
            for part in (".lora_A.", ".lora_B."):
                if part not in key:
                    continue
                module_name = key.split(part)[0].removeprefix("base_model.model.")
                module = modules.get(module_name)
                if module is None:
                    raise ModelError(
                        f"adapter {path} was trained on {trained_on!r}, a model with a layer {module_name!r} "
                        f"that {_base_name(model)!r} lacks (another architecture). {fix}"
                    )
                base = getattr(module, "base_layer", module)
                size = getattr(base, "in_features" if part == ".lora_A." else "out_features", None)
                shape = fh.get_slice(key).get_shape()
                saved = shape[1] if part == ".lora_A." else shape[0]
                if size is not None and saved != size:
                    raise ModelError(
                        f"adapter {path} was trained on {trained_on!r} but is being loaded onto "
                        f"{_base_name(model)!r}: layer {module_name!r} has {size} "
                        f"{'inputs' if part == '.lora_A.' else 'outputs'} here and {saved} in the adapter "
                        f"(different hidden size or vocabulary). {fix}"
                    )


def load_adapter(
    model: Any, adapter_dir: str | Path, *, is_trainable: bool = False, name: str = "default"
) -> Any:
    """Load a saved LoRA adapter onto ``model`` (returns a ``PeftModel``).

    The folder and its weights are checked first: a missing or damaged ``adapter_config.json`` or an
    adapter trained on another base model raises ``ModelError`` naming the file or both models.
    """
    from peft import PeftModel

    path = Path(adapter_dir)
    config = check_adapter_dir(path)
    _check_adapter_fits(model, path, config)
    try:
        return PeftModel.from_pretrained(model, str(path), is_trainable=is_trainable, adapter_name=name)
    except (RuntimeError, ValueError, KeyError) as exc:
        trained_on = config.get("base_model_name_or_path") or "another base model"
        raise ModelError(
            f"cannot load adapter {path} (trained on {trained_on!r}) onto {_base_name(model)!r}: "
            f"{type(exc).__name__}: {str(exc)[:500]}. Load it onto the base model it was trained on"
        ) from exc
