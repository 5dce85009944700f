"""Merge a LoRA adapter into its base model and save a standalone model and tokenizer.

QLoRA trains the adapter against 4-bit weights, but the adapter itself is a 16/32-bit update. Merging
it into 4-bit weights would round ``W + BA`` back onto the 4-bit grid and lose most of the update, so
:func:`merge_adapter` always reloads the base **without quantization** in 16 or 32-bit precision,
attaches the adapter with peft, calls ``merge_and_unload()`` and saves the result with
``save_pretrained`` next to the tokenizer and a ``merge_manifest.json``.

Examples:
    >>> from domainft.models.merge import MERGE_DTYPES
    >>> MERGE_DTYPES.get("bf16"), MERGE_DTYPES.get("fp32")
    ('bfloat16', 'float32')
    >>> merge_adapter("path/to/base", "runs/x/adapter", "runs/x/merged")  # doctest: +SKIP
    PosixPath('runs/x/merged')
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
import warnings
from pathlib import Path
from typing import Any, Literal

from domainft.errors import ConfigError, ModelError
from domainft.models.adapters import check_adapter_dir
from domainft.models.loading import (
    ModelConfig,
    QuantizedLoader,
    ensure_pad_token,
    is_quantized,
    load_causal_lm,
)
from domainft.registry import Registry
from domainft.utils.io import atomic_directory, atomic_write_json, read_json
from domainft.utils.versions import library_versions

logger = logging.getLogger(__name__)

MANIFEST_NAME = "merge_manifest.json"

#: Precision names accepted by ``merge_adapter(dtype=...)`` -> torch dtype name ("auto": the base's own).
MERGE_DTYPES: Registry[str] = Registry("merge dtype")
for _alias, _dtype in (
    ("auto", "auto"),
    ("fp32", "float32"),
    ("float32", "float32"),
    ("bf16", "bfloat16"),
    ("bfloat16", "bfloat16"),
    ("fp16", "float16"),
    ("float16", "float16"),
):
    MERGE_DTYPES.register(_alias, _dtype)

MergeDtype = Literal["auto", "bf16", "fp16", "fp32", "bfloat16", "float16", "float32"]

_TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json", "tokenizer.model", "vocab.json")
_QUANT_CARD_PREFIX = "quantization config was used during training"


def _read_json(path: Path) -> dict[str, Any]:
    return read_json(path, ModelError, mapping=True)


def _local_config(name_or_path: str | None) -> dict[str, Any] | None:
    """The ``config.json`` of a local model folder, or None (hub id, missing, unreadable)."""
    if not name_or_path:
        return None
    path = Path(name_or_path).expanduser() / "config.json"
    try:
        return _read_json(path) if path.is_file() else None
    except ModelError:
        return None


def _base_config_dict(cfg: ModelConfig) -> dict[str, Any] | None:
    """The base's config as a dict: its local ``config.json``, else through ``AutoConfig`` (hub cache)."""
    local = _local_config(cfg.name_or_path)
    if local is not None or Path(cfg.name_or_path).expanduser().exists():
        return local
    try:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(
            cfg.name_or_path,
            revision=cfg.revision,
            local_files_only=cfg.local_files_only,
            trust_remote_code=cfg.trust_remote_code,
        )
    except Exception:  # the model load below reports a missing base with the full message
        return None
    return config.to_dict()


def resolve_merge_dtype(name: str, base_config: dict[str, Any] | None = None) -> str:
    """Torch dtype name for ``name``; ``auto`` is the precision the base was saved in (float32 if unknown).

    Examples:
        >>> resolve_merge_dtype("fp16")
        'float16'
        >>> resolve_merge_dtype("auto", {"dtype": "bfloat16"}), resolve_merge_dtype("auto", {})
        ('bfloat16', 'float32')
    """
    dtype = MERGE_DTYPES.get(name)
    if dtype != "auto":
        return dtype
    config = base_config or {}
    saved = config.get("dtype") or config.get("torch_dtype")
    if isinstance(saved, str) and saved in ("float32", "bfloat16", "float16"):
        return saved
    return "float32"


def adapter_training_quantization(adapter_dir: str | Path) -> tuple[str | None, str | None]:
    """How the base was quantized when the adapter was trained, and which file says so.

    Looks at the peft model card (``README.md``), then at a domainft ``recipe.yaml`` or ``manifest.json``
    in the adapter folder or its parent (the run folder), then at the ``config.json`` of the base the
    adapter records, when that base was saved quantized. Returns ``(None, None)`` when nothing says.

    Examples:
        >>> import tempfile
        >>> adapter_training_quantization(tempfile.mkdtemp())
        (None, None)
    """
    folder = Path(adapter_dir)
    card = folder / "README.md"
    if card.is_file():
        text = card.read_text(encoding="utf-8", errors="replace")
        if _QUANT_CARD_PREFIX in text:
            section = text.split(_QUANT_CARD_PREFIX, 1)[1].replace(" ", "")
            if "load_in_8bit:True" in section:
                return "int8", str(card)
            for kind in ("nf4", "fp4"):
                if f"bnb_4bit_quant_type:{kind}" in section:
                    return kind, str(card)
            return "4bit", str(card)
    for parent in (folder, folder.parent):
        recipe = parent / "recipe.yaml"
        if recipe.is_file():
            import yaml

            try:
                data = yaml.safe_load(recipe.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError:
                data = {}
            model = data.get("model") if isinstance(data, dict) else None
            if isinstance(model, dict):
                quant = model.get("quantization", ModelConfig().quantization)
                return (str(quant) if quant else None), str(recipe)
        manifest = parent / "manifest.json"
        if manifest.is_file():
            try:
                model = _read_json(manifest).get("model")
            except ModelError:
                model = None
            if isinstance(model, dict) and "quantization" in model:
                quant = model["quantization"]
                return (str(quant) if quant else None), str(manifest)
    config_path = folder / "adapter_config.json"
    trained_on = _read_json(config_path).get("base_model_name_or_path") if config_path.is_file() else None
    base_config = _local_config(trained_on)
    quant_config = (base_config or {}).get("quantization_config")
    if isinstance(quant_config, dict):
        if quant_config.get("load_in_8bit"):
            return "int8", str(Path(trained_on) / "config.json")
        return str(
            quant_config.get("bnb_4bit_quant_type") or quant_config.get("quant_method") or "4bit"
        ), str(Path(trained_on) / "config.json")
    return None, None


def _count_parameters(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def _peft_leftovers(model: Any) -> list[str]:
    return [name for name, module in model.named_modules() if type(module).__module__.startswith("peft.")]


def _merge(peft_model: Any, *, progress: bool = False) -> Any:
    """``merge_and_unload`` with errors translated; checks that no peft module is left."""
    merge = getattr(peft_model, "merge_and_unload", None)
    peft_type = getattr(getattr(peft_model, "active_peft_config", None), "peft_type", "?")
    if merge is None:
        raise ModelError(
            f"a {peft_type} adapter cannot be merged into the base weights (only LoRA-style adapters can); "
            "serve it with the base model and peft instead"
        )
    try:
        merged = merge(progressbar=progress, safe_merge=True)
    except ValueError as exc:  # safe_merge found NaNs, or the layer type cannot merge
        raise ModelError(f"cannot merge the {peft_type} adapter: {exc}") from exc
    leftovers = _peft_leftovers(merged)
    if leftovers:
        raise ModelError(f"peft modules are left after merging: {', '.join(leftovers[:5])}")
    return merged


def merged_copy(peft_model: Any, *, progress: bool = False) -> Any:
    """A merged standalone copy of an in-memory ``PeftModel``; ``peft_model`` itself is left unchanged.

    Refuses a 4-bit/8-bit base: merging into quantized weights loses the update; save the adapter
    and use :func:`merge_adapter`, which reloads the base in full precision.
    """
    import copy

    if is_quantized(peft_model) or is_quantized(getattr(peft_model, "base_model", None)):
        raise ModelError(
            "merged_copy: the base of this PeftModel is quantized (bitsandbytes); merging into 4-bit/8-bit "
            "weights would round the adapter away. Save the adapter and call "
            "merge_adapter(base_path, adapter_dir, output_dir), which reloads the base in full precision"
        )
    return _merge(copy.deepcopy(peft_model), progress=progress)


def _base_config(base: str | Path | ModelConfig) -> ModelConfig:
    if isinstance(base, ModelConfig):
        cfg = base
        if cfg.quantization is not None:
            logger.info(
                "merge: ignoring quantization=%s of the ModelConfig; the base is reloaded unquantized",
                cfg.quantization,
            )
    elif isinstance(base, (str, Path)) and str(base):
        cfg = ModelConfig(name_or_path=str(base))
    else:
        raise ConfigError("merge_adapter: base must be a model folder, a hub id or a ModelConfig")
    if not cfg.name_or_path:
        raise ConfigError("merge_adapter: ModelConfig.name_or_path is empty; give the base model's folder")
    return dataclasses.replace(cfg, quantization=None, adapter=None)


def _check_output(output: Path, overwrite: bool, protected: dict[str, Path]) -> None:
    for what, path in protected.items():
        if path.exists() and path.resolve().is_relative_to(output.resolve()):
            raise ModelError(
                f"output_dir {output} is or contains the {what} folder {path}; choose a new folder"
            )
    if output.exists() and not output.is_dir():
        raise ModelError(f"output_dir {output} is a file; give a folder")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise ModelError(
            f"output_dir {output} is not empty; pass overwrite=True (--overwrite) to replace it, "
            "or choose a new folder"
        )


def _load_tokenizer(folder: str, cfg: ModelConfig) -> Any:
    loader = QuantizedLoader(config=dataclasses.replace(cfg, name_or_path=folder))
    return loader.load_tokenizer()


def _load_base(cfg: ModelConfig, dtype_name: str, device_map: str | None) -> tuple[Any, str]:
    """The base in ``dtype_name`` without quantization; a checkpoint saved quantized is dequantized."""
    import torch

    model = load_causal_lm(cfg, dtype=getattr(torch, dtype_name), device_map=device_map, what="base model")
    if not is_quantized(model):
        return model, "full precision"
    logger.warning(
        "merge: the base folder %s holds quantized weights; dequantizing them to %s before merging. "
        "For the best merge give the original full-precision base instead",
        cfg.name_or_path,
        dtype_name,
    )
    try:
        model = model.dequantize()
    except Exception as exc:
        raise ModelError(
            f"the base {cfg.name_or_path!r} was saved quantized and cannot be dequantized here ({exc}); "
            "give the original full-precision base model"
        ) from exc
    _drop_irreversible_conversions(model)
    return model.to(getattr(torch, dtype_name)), "dequantized from a quantized checkpoint"


def load_unquantized_base(
    base: str | Path | ModelConfig, dtype: MergeDtype = "auto", device_map: str | None = None
) -> tuple[Any, ModelConfig, str]:
    """The base model without quantization in ``dtype``, as merging needs it: ``(model, config, how)``.

    ``how`` says how it was loaded (e.g. ``"full precision, bfloat16"``); a missing folder fails before
    anything loads.
    """
    cfg = _base_config(base)
    QuantizedLoader(config=cfg).check_source()
    dtype_name = resolve_merge_dtype(dtype, _base_config_dict(cfg))
    model, loaded_as = _load_base(cfg, dtype_name, device_map)
    return model, cfg, f"{loaded_as}, {dtype_name}"


def _drop_irreversible_conversions(model: Any) -> None:
    """Forget load-time weight conversions that cannot run backwards (bitsandbytes deserialisation).

    transformers 5 records them at load and replays them in reverse in ``save_pretrained``; after
    ``dequantize()`` they no longer apply and raise ``NotImplementedError`` on save.
    """
    conversions = getattr(model, "_weight_conversions", None)
    if not conversions:
        return
    kept = []
    for conversion in conversions:
        try:
            conversion.reverse_transform()
        except NotImplementedError:
            continue
        kept.append(conversion)
    model._weight_conversions = kept


def _first_lines(exc: BaseException, n: int = 2) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    more = " ..." if len(lines) > n else ""
    return " ".join(lines[:n]) + more


def _describe(name: str | None, config: dict[str, Any] | None) -> str:
    if config is None:
        return repr(name)
    return f"{name!r} ({config.get('model_type', '?')}, hidden size {config.get('hidden_size', '?')})"


def attach_adapter(
    model: Any, adapter_dir: Path, base_name: str, adapter_config: dict[str, Any], strict: bool
) -> Any:
    """``PeftModel.from_pretrained`` with mismatches between adapter and base turned into ModelError.

    ``strict`` refuses an adapter trained on another architecture, or whose saved weights do not fit
    the base's modules one for one.
    """
    from peft import PeftModel
    from peft.utils import get_peft_model_state_dict, load_peft_weights

    trained_on = adapter_config.get("base_model_name_or_path")
    trained_config = _local_config(trained_on)
    base_config = model.config.to_dict()
    pair = (
        f"adapter {adapter_dir} (trained on {_describe(trained_on, trained_config)}) and base "
        f"{_describe(base_name, base_config)}"
    )
    if (
        strict
        and trained_config is not None
        and trained_config.get("model_type") != base_config.get("model_type")
    ):
        raise ModelError(
            f"{pair} are different architectures; merge the adapter into the model it was trained on "
            "(strict=False skips this check)"
        )
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
            warnings.filterwarnings("ignore", message=".*missing adapter keys.*")  # checked below
            peft_model = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=False)
    except (ValueError, RuntimeError, KeyError, TypeError) as exc:
        raise ModelError(
            f"{pair} do not fit: {_first_lines(exc)} Merge the adapter into the base it was trained on"
        ) from exc
    if strict:
        saved = {k for k in load_peft_weights(str(adapter_dir), device="cpu") if "lora_" in k}
        expected = {
            k for k in get_peft_model_state_dict(peft_model, save_embedding_layers=False) if "lora_" in k
        }
        missing, unused = sorted(expected - saved), sorted(saved - expected)
        if missing or unused:
            detail = f"{len(missing)} adapter weight(s) missing" if missing else ""
            if unused:
                detail += ("; " if detail else "") + f"{len(unused)} saved weight(s) fit no layer of the base"
            example = (missing or unused)[0]
            raise ModelError(
                f"{pair} do not fit: {detail} (e.g. {example}); the base has a different number of layers "
                "or modules. Merge into the base the adapter was trained on (strict=False merges anyway)"
            )
    return peft_model


def merge_adapter(
    base: str | Path | ModelConfig,
    adapter_dir: str | Path,
    output_dir: str | Path,
    *,
    dtype: MergeDtype = "auto",
    safe_serialization: bool = True,
    max_shard_size: str | int = "5GB",
    overwrite: bool = False,
    device_map: str | None = None,
    strict: bool = True,
    progress: bool = True,
) -> Path:
    """Merge the LoRA adapter in ``adapter_dir`` into ``base`` and save a standalone model to ``output_dir``.

    The base is always reloaded without quantization in ``dtype`` (``auto``: the precision it was saved
    in), even when the adapter was trained on a 4-bit base (QLoRA): that is the correct practice, and the
    manifest records it. The tokenizer comes from the adapter folder when it holds one, else from the
    base. ``device_map`` (e.g. ``"auto"``) places the base for merging; default: CPU. ``strict`` refuses a
    base of another architecture or whose layers do not match the adapter's weights. The folder is
    written beside ``output_dir`` and moved into place at the end, so a crash leaves no half model.
    Returns ``output_dir``.
    """
    import torch

    started = time.time()
    cfg = _base_config(base)
    adapter = Path(adapter_dir)
    output = Path(output_dir)
    if not safe_serialization:
        raise ConfigError(
            "merge_adapter: safe_serialization=False is not available: transformers 5 saves safetensors only "
            "(the pickle .bin format can run code when loaded); load the safetensors folder instead"
        )
    adapter_config = check_adapter_dir(adapter)  # config and safetensors weights present, JSON valid
    protected = {"adapter": adapter}
    if Path(cfg.name_or_path).expanduser().exists():
        protected["base model"] = Path(cfg.name_or_path).expanduser()
    _check_output(output, overwrite, protected)

    QuantizedLoader(config=cfg).check_source()  # a missing folder fails here, before anything loads
    base_config = _base_config_dict(cfg)
    dtype_name = resolve_merge_dtype(dtype, base_config)
    trained_quant, quant_source = adapter_training_quantization(adapter)
    tokenizer_from = "adapter" if any((adapter / f).is_file() for f in _TOKENIZER_FILES) else "base"
    tokenizer = _load_tokenizer(str(adapter) if tokenizer_from == "adapter" else cfg.name_or_path, cfg)

    model, base_loaded_as = _load_base(cfg, dtype_name, device_map)
    base_parameters = _count_parameters(model)
    rows = model.get_input_embeddings().weight.shape[0]
    if len(tokenizer) > rows:
        raise ModelError(
            f"the tokenizer from the {tokenizer_from} ({len(tokenizer)} tokens) is larger than the base's "
            f"embedding matrix ({rows} rows): ids past {rows - 1} would crash the merged model; use the "
            "tokenizer the adapter was trained with and a base of the same vocabulary"
        )
    peft_model = attach_adapter(model, adapter, cfg.name_or_path, adapter_config, strict)
    merged = _merge(peft_model, progress=progress)
    merged.eval()
    ensure_pad_token(tokenizer, merged)
    parameters = _count_parameters(merged)

    note = f"merged into the base reloaded in {dtype_name} ({base_loaded_as})"
    if trained_quant:
        note = (
            f"the adapter was trained on a {trained_quant}-quantized base (per {Path(quant_source).name}); "
            f"it was merged into the base reloaded unquantized in {dtype_name} ({base_loaded_as}), "
            "the correct QLoRA practice: merging into 4-bit weights would round the update away"
        )
    logger.info("merge: %s", note)

    with atomic_directory(output) as staging:
        merged.save_pretrained(str(staging), max_shard_size=max_shard_size)
        tokenizer.save_pretrained(str(staging))
        manifest = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "base": cfg.name_or_path,
            "base_model_type": merged.config.model_type,
            "base_loaded_as": base_loaded_as,
            "adapter": str(adapter),
            "adapter_trained_on": adapter_config.get("base_model_name_or_path"),
            "adapter_peft_type": adapter_config.get("peft_type"),
            "adapter_r": adapter_config.get("r"),
            "adapter_alpha": adapter_config.get("lora_alpha"),
            "adapter_target_modules": adapter_config.get("target_modules"),
            "adapter_trained_quantization": trained_quant,
            "adapter_trained_quantization_source": quant_source,
            "dtype": dtype_name,
            "dtype_requested": dtype,
            "tokenizer_from": tokenizer_from,
            "parameters": parameters,
            "base_parameters": base_parameters,
            "max_shard_size": max_shard_size,
            "note": note,
            "versions": library_versions(),
            "device": str(next(merged.parameters()).device),
            "torch_threads": torch.get_num_threads(),
            "seconds": round(time.time() - started, 3),
        }
        atomic_write_json(staging / MANIFEST_NAME, manifest)
    logger.info("merge: saved %s parameters (%s) to %s", f"{parameters:,}", dtype_name, output)
    return output


def cmd_merge(args: argparse.Namespace) -> int:
    """``domainft merge``: merge an adapter into its base and save a standalone model."""
    out = merge_adapter(
        args.base,
        args.adapter,
        args.output,
        dtype=args.dtype,
        overwrite=args.overwrite,
        max_shard_size=args.max_shard_size,
        device_map=args.device_map,
        progress=not args.quiet,
    )
    manifest = _read_json(out / MANIFEST_NAME)
    print(
        f"merged {manifest['adapter']} into {manifest['base']} ({manifest['dtype']}, "
        f"{manifest['parameters']:,} parameters, tokenizer from the {manifest['tokenizer_from']})"
    )
    if manifest.get("adapter_trained_quantization"):
        print(f"note: {manifest['note']}")
    print(f"model: {out}")
    return 0


def add_merge_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``merge`` to the ``domainft`` subcommands; returns its parser."""
    merge = subparsers.add_parser(
        "merge",
        help="merge a LoRA adapter into its base (reloaded unquantized) and save a standalone model",
    )
    merge.add_argument("--base", required=True, help="base model folder (or hub id in the local cache)")
    merge.add_argument("--adapter", required=True, help="adapter folder (with adapter_config.json)")
    merge.add_argument("--output", required=True, help="folder for the merged model and tokenizer")
    merge.add_argument(
        "--dtype",
        default="auto",
        choices=["auto", "bf16", "fp16", "fp32"],
        help="precision of the merge and the saved weights (default: auto = the base's saved precision)",
    )
    merge.add_argument("--overwrite", action="store_true", help="replace a non-empty output folder")
    merge.add_argument("--max-shard-size", default="5GB", help="largest safetensors shard (default: 5GB)")
    merge.add_argument("--device-map", help="place the base for merging, e.g. auto or cuda (default: CPU)")
    merge.add_argument("--quiet", action="store_true", help="no progress output")
    merge.set_defaults(func=cmd_merge, command="merge")
    return merge
