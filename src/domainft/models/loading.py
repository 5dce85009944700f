"""QuantizedLoader: load any causal LM (local folder or hub id) in 4-bit, 8-bit or full precision.

Defaults follow QLoRA practice: NF4 weights, double quantisation, bfloat16 compute.

Examples:
    >>> from domainft import QuantizedLoader
    >>> loader = QuantizedLoader("path/to/model", quantization=None)
    >>> loader.config.quantization is None
    True
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError, ModelError

_TRUTHY = ("1", "true", "yes")


def load_causal_lm(
    cfg: ModelConfig, *, dtype: Any, device_map: Any = None, what: str = "model", **kwargs: Any
) -> Any:
    """``AutoModelForCausalLM.from_pretrained`` with the config's source settings (revision, remote
    code, local files only, attention implementation); a failure is a ``ModelError`` naming ``what``."""
    from transformers import AutoModelForCausalLM

    warn_remote_code(cfg.trust_remote_code, cfg.name_or_path)
    kwargs.update(
        dtype=dtype,
        trust_remote_code=cfg.trust_remote_code,
        revision=cfg.revision,
        local_files_only=cfg.local_files_only,
        use_safetensors=True,  # pickle weights (.bin, .pt) can run code when loaded
    )
    if device_map is not None:
        kwargs["device_map"] = device_map
    if cfg.attn_implementation:
        kwargs["attn_implementation"] = cfg.attn_implementation
    try:
        return AutoModelForCausalLM.from_pretrained(cfg.name_or_path, **kwargs)
    except (OSError, ValueError) as exc:
        folder = Path(cfg.name_or_path)
        if folder.is_dir() and not any(folder.glob("*.safetensors")) and any(folder.glob("*.bin")):
            raise ModelError(
                f"{folder} holds its weights only as pickle .bin files, which domainft does not load "
                "(unpickling can run code); convert them once, where you trust the files: "
                "AutoModelForCausalLM.from_pretrained(folder).save_pretrained(new_folder) writes safetensors"
            ) from exc
        raise ModelError(f"cannot load {what} {cfg.name_or_path!r}: {exc}") from exc


def warn_remote_code(trust_remote_code: bool, name_or_path: str) -> None:
    """Warn that ``trust_remote_code=True`` runs the Python files shipped with ``name_or_path``."""
    if trust_remote_code:
        warnings.warn(
            f"trust_remote_code=True: Python code from {name_or_path} will run on this machine with your "
            "permissions; keep it only for model folders whose code you have read or trust",
            UserWarning,
            stacklevel=1,  # one place: shown once per model folder
        )


def process_device_map(device_map: str | None) -> Any:
    """``device_map`` for this process: under a multi-GPU launch, ``"auto"`` means this rank's GPU.

    DDP needs one whole model per process (``"auto"`` would spread it over every GPU, which DDP
    refuses); FSDP and DeepSpeed ZeRO-3 place and shard the weights themselves (``None``).

    Examples:
        >>> process_device_map("auto")  # a single process keeps "auto"
        'auto'
    """
    if device_map != "auto" or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return device_map
    if os.environ.get("ACCELERATE_USE_FSDP", "").lower() in _TRUTHY or (
        os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() in _TRUTHY
        and os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE") == "3"
    ):
        return None
    import torch

    if not torch.cuda.is_available():
        return device_map  # CPU processes: "auto" resolves to the CPU
    return {"": int(os.environ.get("LOCAL_RANK", "0"))}


@dataclass
class ModelConfig(ConfigBase):
    """How to load the base model and its tokenizer."""

    name_or_path: str = config_field("", help="Local folder saved with save_pretrained, or a hub id.")
    quantization: Literal["nf4", "fp4", "int8"] | None = config_field(
        "nf4", help="Weight quantization through bitsandbytes: nf4, fp4, int8, or null for none."
    )
    double_quant: bool = config_field(True, help="Quantize the 4-bit quantization constants too.")
    compute_dtype: Literal["auto", "float32", "bfloat16", "float16"] = config_field(
        "bfloat16", help="Dtype of 4-bit matmuls."
    )
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = config_field(
        "auto", help="Dtype of unquantized weights; auto = bfloat16 on a GPU that supports it, else float32."
    )
    device_map: str | None = config_field("auto", help="Passed to from_pretrained; 'auto' places layers.")
    trust_remote_code: bool = config_field(False, help="Allow custom modelling code from the model folder.")
    attn_implementation: str | None = config_field(
        "sdpa", help="Attention kernel: sdpa, eager, flash_attention_2."
    )
    revision: str | None = config_field(None, help="Hub revision (branch, tag or commit).")
    local_files_only: bool = config_field(False, help="Never contact a model hub.")
    adapter: str | None = config_field(
        None, help="Folder of a trained LoRA adapter to load on top (optional)."
    )


def resolve_dtype(name: str) -> Any:
    """Map a dtype name to a torch dtype; ``auto`` picks bfloat16 on a capable GPU, else float32."""
    import torch

    if name == "auto":
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    return getattr(torch, name)


def ensure_pad_token(tokenizer: Any, model: Any | None = None) -> str:
    """Give ``tokenizer`` a pad token if it lacks one, without hurting EOS learning.

    Prefers the unknown token; falls back to EOS. Labels in domainft are masked by position
    (see ``domainft.data.templates``), never by token id, so a pad equal to EOS still leaves the
    EOS that closes each answer in the labels. Returns how the pad token was chosen.
    """
    how = "existing"
    if tokenizer.pad_token is None:
        if tokenizer.unk_token is not None and tokenizer.unk_token != tokenizer.eos_token:
            tokenizer.pad_token = tokenizer.unk_token
            how = "unk"
        elif tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
            how = "eos"
        else:
            raise ModelError(
                "the tokenizer has neither a pad, an unknown nor an EOS token; set tokenizer.eos_token "
                "(the token that ends an answer) before loading"
            )
    if model is not None:
        model.config.pad_token_id = tokenizer.pad_token_id
        if getattr(model, "generation_config", None) is not None:
            model.generation_config.pad_token_id = tokenizer.pad_token_id
    return how


def is_quantized(model: Any) -> bool:
    """True when ``model`` holds bitsandbytes 4-bit or 8-bit weights."""
    return bool(
        getattr(model, "is_loaded_in_4bit", False)
        or getattr(model, "is_loaded_in_8bit", False)
        or getattr(model, "hf_quantizer", None) is not None
    )


class QuantizedLoader:
    """Loads ``(model, tokenizer)`` with the quantization and dtype settings of a :class:`ModelConfig`."""

    def __init__(self, model_name_or_path: str | Path | None = None, **kwargs: Any) -> None:
        config = kwargs.pop("config", None)
        if config is not None and not isinstance(config, ModelConfig):
            raise ConfigError("QuantizedLoader(config=...) expects a ModelConfig")
        data = config.to_dict() if config is not None else {}
        if model_name_or_path is not None:
            data["name_or_path"] = str(model_name_or_path)
        data.update(kwargs)
        self.config = ModelConfig.from_dict(data, _where="QuantizedLoader")
        if not self.config.name_or_path:
            raise ConfigError("QuantizedLoader: model_name_or_path is required (a folder or a hub id)")

    @classmethod
    def from_config(cls, config: ModelConfig) -> QuantizedLoader:
        return cls(config=config)

    def quantization_config(self) -> Any | None:
        """The ``BitsAndBytesConfig`` that :meth:`load` passes, or None without quantization."""
        cfg = self.config
        if cfg.quantization is None:
            return None
        if importlib.util.find_spec("bitsandbytes") is None:
            raise ModelError(
                f"quantization={cfg.quantization!r} needs bitsandbytes: pip install 'domainft[quant]', "
                "or load without quantization (quantization=None)"
            )
        from transformers import BitsAndBytesConfig

        if cfg.quantization == "int8":
            return BitsAndBytesConfig(load_in_8bit=True)
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type=cfg.quantization,
            bnb_4bit_use_double_quant=cfg.double_quant,
            bnb_4bit_compute_dtype=resolve_dtype(cfg.compute_dtype),
        )

    def check_source(self) -> None:
        """Raise ``ModelError`` when ``name_or_path`` is no model folder and the hub cannot be used."""
        name = self.config.name_or_path
        path = Path(name).expanduser()
        looks_local = (
            path.is_absolute() or name.startswith((".", "~")) or path.exists() or name.count("/") > 1
        )
        hub_off = self.config.local_files_only or os.environ.get("HF_HUB_OFFLINE", "").lower() in _TRUTHY
        if (looks_local or hub_off) and not path.is_dir():
            why = "" if looks_local else " and the model hub is off (HF_HUB_OFFLINE / local_files_only)"
            raise ModelError(
                f"model folder not found: {name}{why}; give a folder saved with save_pretrained "
                "(build a tiny one offline with `domainft tiny-model`)"
            )
        if path.is_dir() and not (path / "config.json").is_file():
            raise ModelError(f"{name} has no config.json: is it a model folder saved with save_pretrained?")

    def load_tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        cfg = self.config
        warn_remote_code(cfg.trust_remote_code, cfg.name_or_path)
        try:
            tokenizer = AutoTokenizer.from_pretrained(
                cfg.name_or_path,
                trust_remote_code=cfg.trust_remote_code,
                revision=cfg.revision,
                local_files_only=cfg.local_files_only,
            )
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"cannot load a tokenizer from {cfg.name_or_path!r}: {exc}. A model folder must contain the "
                "tokenizer files (save the tokenizer with save_pretrained next to the model)"
            ) from exc
        ensure_pad_token(tokenizer)
        return tokenizer

    def load(self) -> tuple[Any, Any]:
        """Load and return ``(model, tokenizer)``; the model is in eval mode with its pad token set."""
        self.check_source()
        cfg = self.config
        tokenizer = self.load_tokenizer()
        quant = self.quantization_config()
        extra: dict[str, Any] = {"quantization_config": quant} if quant is not None else {}
        model = load_causal_lm(
            cfg,
            dtype=resolve_dtype(cfg.compute_dtype if quant is not None else cfg.dtype),
            device_map=process_device_map(cfg.device_map),
            **extra,
        )
        ensure_pad_token(tokenizer, model)
        if cfg.adapter:
            from domainft.models.adapters import load_adapter

            model = load_adapter(model, cfg.adapter)
        return model, tokenizer
