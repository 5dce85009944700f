"""Memory planner accuracy: ``plan_memory``'s estimate against the measured peak of real LoRA training steps.

For each configuration (model width and depth, LoRA rank and targets, batch and sequence length,
gradient checkpointing, optimizer, 4-bit base) a random-initialised Llama or Mistral is built in
memory, wrapped by ``LoraAdapterFactory`` as a user's run would be, and trained for a few steps
(forward with labels, backward, gradient clipping, the optimizer transformers' Trainer builds for
that ``optim`` name, ``zero_grad``) so the optimizer states exist. The peak is measured tensor by
tensor with ``TensorMemoryTracker`` (CPU, exact whatever the RSS does) and, on ``--device cuda``, also
with ``torch.cuda.max_memory_allocated``. The plan is ``plan_memory`` on the same config and settings.

Baseline: the measured peak of the same step. Per configuration the table shows planned / measured,
the signed error of the plan, and the parts that can be measured on their own (weights, optimizer
states, the bytes the forward pass keeps for backward).

Targets: every configuration within 15 % of the measured peak (|error| <= 15 %), and the plan never
more than 10 % below it (an under-estimate makes a run run out of memory).

    python benchmarks/bench_memory.py                     # CPU: fp32, bf16 autocast, NF4, 8-bit AdamW
    python benchmarks/bench_memory.py --device cuda       # Llama-2-7B / Mistral-7B shapes in bf16 (+ NF4)
    python benchmarks/bench_memory.py --smoke --output memory-smoke.json
    python benchmarks/bench_memory.py --only ckpt         # the configurations whose name contains "ckpt"

The ``--device cuda`` path builds the 7B shapes without weights files (random init, directly on the
GPU in bf16) and quantizes them to NF4 in memory when bitsandbytes imports; it shares every function
with the CPU path, whose NF4, bf16-autocast and 8-bit-optimizer configurations exercise the same code.
On CUDA the measured peak is ``torch.cuda.max_memory_allocated`` (plus paged optimizer states, which
live outside PyTorch's allocator) and the plan has no framework overhead; the JSON also compares the
default plan (1 GiB overhead) with ``max_memory_reserved``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import os
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, replace
from typing import Any

from benchlib import BENCH_MODEL, GPU_ARCHS, set_offline, table, write_result

#: |planned - measured| / measured must stay within this, for every configuration.
MAX_ABS_ERROR = 0.15
#: The plan may be below the measured peak by at most this fraction.
MAX_UNDER_ESTIMATE = 0.10

# ------------------------------------------------------------------------------------------ configurations

#: The fields of a model shape (besides its architecture).
SHAPE = (
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "vocab_size",
)

#: Model shapes (random init). Parameter counts in the name are approximate; the JSON has exact ones.
MODELS: dict[str, dict[str, Any]] = {
    "smoke": dict(
        architecture="llama",
        hidden_size=64,
        intermediate_size=160,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=256,
    ),
    "llama-1m": dict(
        architecture="llama",
        hidden_size=128,
        intermediate_size=352,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        vocab_size=2048,
    ),
    "mistral-5m": dict(
        architecture="mistral",
        hidden_size=256,
        intermediate_size=688,
        num_hidden_layers=4,
        num_attention_heads=8,
        num_key_value_heads=2,
        vocab_size=4096,
    ),
    "llama-14m": dict(
        architecture="llama",
        hidden_size=384,
        intermediate_size=1024,
        num_hidden_layers=6,
        num_attention_heads=6,
        num_key_value_heads=6,
        vocab_size=4096,
    ),
    "bench-30m": {k: BENCH_MODEL[k] for k in ("architecture", *SHAPE)},
    **{
        name: {"architecture": spec["model_type"], **{k: spec[k] for k in SHAPE}}
        for name, spec in GPU_ARCHS.items()
    },
}


@dataclass(frozen=True)
class Case:
    """One planned-and-measured training setting."""

    name: str
    model: str
    r: int
    targets: str
    batch: int
    seq: int
    checkpointing: bool = False
    optimizer: str = "adamw_torch"
    quantization: str = "none"  # "none" or "nf4"
    dropout: float = 0.05
    #: fp32: fp32 weights, no autocast; bf16: bf16 weights (4-bit with nf4) and bf16 autocast.
    precision: str = "fp32"

    def __post_init__(self) -> None:
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"Case {self.name!r}: precision must be fp32 or bf16, got {self.precision!r}")
        if self.quantization != "none" and self.precision != "bf16":
            raise ValueError(f"Case {self.name!r}: a 4-bit base computes in bf16 (precision='bf16')")


CPU_CASES = [
    Case("1m attn r8 b4x128", "llama-1m", 8, "attention", 4, 128),
    Case("5m gqa all r16 b4x256", "mistral-5m", 16, "all-linear", 4, 256),
    Case("5m gqa all r16 b8x256 ckpt", "mistral-5m", 16, "all-linear", 8, 256, checkpointing=True),
    Case("14m attn r4 b2x512 nodrop", "llama-14m", 4, "attention", 2, 512, dropout=0.0),
    Case("14m all r16 b2x256 8bit", "llama-14m", 16, "all-linear", 2, 256, optimizer="adamw_8bit"),
    Case("14m all r16 b4x256 bf16", "llama-14m", 16, "all-linear", 4, 256, precision="bf16"),
    Case("30m all r16 b2x256", "bench-30m", 16, "all-linear", 2, 256),
    Case("30m attn r32 b4x256 ckpt", "bench-30m", 32, "attention", 4, 256, checkpointing=True),
    Case(
        "5m gqa nf4 a+m r16 b4x256",
        "mistral-5m",
        16,
        "attention+mlp",
        4,
        256,
        quantization="nf4",
        precision="bf16",
    ),
]
SMOKE_CASES = [
    Case("smoke attn r4 b2x32", "smoke", 4, "attention", 2, 32),
    Case("smoke all r8 b2x32 ckpt", "smoke", 8, "all-linear", 2, 32, checkpointing=True),
]
CUDA_CASES = [
    Case(name, model, r, targets, batch, seq, precision="bf16", **extra)
    for name, model, r, targets, batch, seq, extra in [
        ("llama-2-7b attn r16 b4x512", "llama-2-7b", 16, "attention", 4, 512, {}),
        ("llama-2-7b all r16 b4x512 ckpt", "llama-2-7b", 16, "all-linear", 4, 512, {"checkpointing": True}),
        ("mistral-7b all r16 b2x1024", "mistral-7b", 16, "all-linear", 2, 1024, {}),
        ("mistral-7b all r16 b8x1024 ckpt", "mistral-7b", 16, "all-linear", 8, 1024, {"checkpointing": True}),
        ("llama-2-7b nf4 all r16 b4x512", "llama-2-7b", 16, "all-linear", 4, 512, {"quantization": "nf4"}),
        (
            "mistral-7b nf4 all r16 b4x1024 ckpt 8bit",
            "mistral-7b",
            16,
            "all-linear",
            4,
            1024,
            {"checkpointing": True, "optimizer": "paged_adamw_8bit", "quantization": "nf4"},
        ),
    ]
]


def hf_config(model: str) -> Any:
    """The transformers config of a model shape (``LlamaConfig`` or ``MistralConfig``)."""
    from transformers import LlamaConfig, MistralConfig

    spec = dict(MODELS[model])
    cls = {"llama": LlamaConfig, "mistral": MistralConfig}[spec.pop("architecture")]
    return cls(max_position_embeddings=4096, use_cache=False, **spec)


# -------------------------------------------------------------------------------------------- the model


def quantize_nf4_(model: Any, compute_dtype: Any, device: Any) -> int:
    """Replace every Linear except the output layer by a bitsandbytes NF4 ``Linear4bit`` (double quant),
    quantizing the weights already in memory, as ``from_pretrained(quantization_config=...)`` would on load.

    Returns how many layers were replaced. Works on CPU and CUDA (bitsandbytes >= 0.45); on CPU the memory of
    a LoRA step equals that of a model saved and loaded through ``QuantizedLoader(quantization="nf4")``
    (checked when this script was written).
    """
    import bitsandbytes as bnb
    from torch import nn

    output = model.get_output_embeddings()
    names = [n for n, m in model.named_modules() if type(m) is nn.Linear and m is not output]
    for name in names:  # one layer at a time, so the 16-bit weight is freed before the next one
        parent_name, _, child_name = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        child = getattr(parent, child_name)
        layer = bnb.nn.Linear4bit(
            child.in_features,
            child.out_features,
            bias=child.bias is not None,
            compute_dtype=compute_dtype,
            compress_statistics=True,
            quant_type="nf4",
            device="meta",
        )
        weight = bnb.nn.Params4bit(
            child.weight.data, requires_grad=False, compress_statistics=True, quant_type="nf4", module=layer
        )
        layer.weight = weight.to(device)  # quantizes
        if child.bias is not None:
            layer.bias = nn.Parameter(child.bias.data, requires_grad=False)
        setattr(parent, child_name, layer)
        del child, weight
    model.is_loaded_in_4bit = True  # what peft and domainft look at to prepare a k-bit model
    return len(names)


def build_model(case: Case, device: str) -> Any:
    """A random-initialised model of ``case.model`` with LoRA applied, in train mode, on ``device``."""
    import torch
    from transformers import AutoModelForCausalLM

    from domainft.models.adapters import LoraAdapterFactory

    cpu = device == "cpu"
    dtype = torch.float32 if case.precision == "fp32" else torch.bfloat16
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(hf_config(case.model), dtype=dtype)
    if case.quantization == "nf4":
        quantize_nf4_(model, torch.bfloat16, torch.device(device))
        gc.collect()
        if not cpu:
            torch.cuda.empty_cache()
    factory = LoraAdapterFactory(
        r=case.r,
        alpha=2 * case.r,
        dropout=case.dropout,
        target_modules=case.targets,
        gradient_checkpointing=case.checkpointing,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        model = factory.apply(model)
        if case.checkpointing:  # what Trainer(activation_checkpointing=True) calls
            model.activation_checkpointing_enable()
    return model.train()


def build_optimizer(model: Any, name: str, workdir: str) -> Any:
    """The optimizer transformers' Trainer builds for ``optim=name``, over the trainable parameters."""
    from transformers import Trainer, TrainingArguments

    args = TrainingArguments(output_dir=workdir, optim=name, report_to="none", learning_rate=1e-4)
    cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(args, model)
    return cls([p for p in model.parameters() if p.requires_grad], **kwargs)


# ----------------------------------------------------------------------------------------------- measuring


def storage_bytes(tensors: Any) -> int:
    """Bytes of the distinct storages behind ``tensors``."""
    seen: dict[int, int] = {}
    for t in tensors:
        if t is None or t.device.type == "meta":
            continue
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
    return sum(seen.values())


def optimizer_state_tensors(optimizer: Any) -> list[Any]:
    import torch

    return [v for s in optimizer.state.values() for v in s.values() if isinstance(v, torch.Tensor)]


class BrokenStep(RuntimeError):
    """A measured step did not train (no gradient reached an adapter): its memory would mean nothing."""


def measure(case: Case, device: str, steps: int, workdir: str) -> dict[str, Any]:
    """Train ``steps`` steps of ``case`` on ``device``; returns the measured peak and its parts (bytes).

    Each step is measured by its own tracker whose baseline is the model (weights, 4-bit constants) and
    the optimizer's states so far; the peak of the run is the largest ``baseline + peak of new tensors``.
    """
    import torch

    from domainft.models.memory import TensorMemoryTracker

    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.empty_cache()
    model = build_model(case, device)
    optimizer = build_optimizer(model, case.optimizer, workdir)
    params = list(model.parameters())
    trainable_params = [p for p in params if p.requires_grad]
    trainable = storage_bytes(trainable_params)
    with TensorMemoryTracker(baseline=[model]) as weights:  # parameters, buffers, 4-bit constants
        pass
    autocast = (
        torch.autocast(device.split(":")[0], dtype=torch.bfloat16)
        if case.precision == "bf16"
        else contextlib.nullcontext()
    )
    vocab = model.config.vocab_size
    generator = torch.Generator().manual_seed(0)
    records = []
    allocated_peak = reserved_peak = 0
    for step in range(steps):
        ids = torch.randint(0, vocab, (case.batch, case.seq), generator=generator)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        with TensorMemoryTracker(baseline=[model, optimizer]) as tracker:
            batch = {"input_ids": ids.to(device), "attention_mask": torch.ones_like(ids).to(device)}
            batch["labels"] = batch["input_ids"]
            with autocast:
                loss = model(**batch).loss  # the outputs (logits) are dropped, as in Trainer.compute_loss
            del batch
            after_forward = tracker.current_new_bytes
            loss.backward()
            grads = [p.grad for p in trainable_params]
            if step == 0 and (any(g is None for g in grads) or not any(bool(g.any()) for g in grads)):
                missing = sum(g is None for g in grads)
                raise BrokenStep(f"{case.name}: {missing} of {len(grads)} adapter tensors got no gradient")
            grad_bytes = storage_bytes(grads)
            del grads
            torch.nn.utils.clip_grad_norm_(trainable_params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            loss_value = float(loss.detach())
            del loss
        if cuda:
            torch.cuda.synchronize()
            allocated_peak = max(allocated_peak, torch.cuda.max_memory_allocated())
            reserved_peak = max(reserved_peak, torch.cuda.max_memory_reserved())
        records.append(
            {
                "seconds": time.perf_counter() - start,
                "loss": loss_value,
                "baseline_bytes": tracker.baseline_bytes,
                "after_forward_bytes": after_forward,
                "gradient_bytes": grad_bytes,
                "peak_new_bytes": tracker.peak_new_bytes,
                "peak_bytes": tracker.peak_bytes,
            }
        )
    last = records[-1]
    result = {
        # parameters and 4-bit constants; the buffers (rotary tables) are not weights the plan counts
        "weights_frozen": weights.baseline_bytes - trainable - storage_bytes(model.buffers()),
        "buffers": storage_bytes(model.buffers()),
        "weights_trainable": trainable,
        "optimizer_states": storage_bytes(optimizer_state_tensors(optimizer)),
        "gradients": last["gradient_bytes"],
        "forward_kept": last["after_forward_bytes"],
        "step_transient": last["peak_new_bytes"],
        "peak_tensors": max(r["peak_bytes"] for r in records),
        "params_total": sum(p.numel() for p in params),
        "params_trainable": sum(p.numel() for p in trainable_params),
        "steps": records,
    }
    if cuda:
        # bitsandbytes' paged optimizer states live in CUDA unified memory, outside PyTorch's allocator
        paged = storage_bytes(t for t in optimizer_state_tensors(optimizer) if getattr(t, "is_paged", False))
        result["paged_optimizer_states"] = paged
        result["peak_allocated"] = allocated_peak + paged
        result["peak_reserved"] = reserved_peak + paged
    del model, optimizer, params, trainable_params
    gc.collect()
    return result


def plan(case: Case, device: str, **overrides: Any) -> Any:
    """``plan_memory`` with the settings of the measured run (no framework overhead: tensors only)."""
    from domainft.models.memory import plan_memory

    quantized = case.quantization != "none"
    settings: dict[str, Any] = {
        "method": "qlora" if quantized else "lora",
        "quantization": case.quantization if quantized else None,
        "lora_r": case.r,
        "target_modules": case.targets,
        "lora_dropout": case.dropout,
        "seq_len": case.seq,
        "batch_size": case.batch,
        "optimizer": case.optimizer,
        "gradient_checkpointing": case.checkpointing,
        "compute_dtype": case.precision,
        "device": "cpu" if device == "cpu" else "cuda",
        "overhead_gb": 0.0,
    }
    return plan_memory(hf_config(case.model), **{**settings, **overrides})


# ----------------------------------------------------------------------------------------------- the run


def _mib(n: float | None) -> float | None:
    return None if n is None else n / 2**20


def _err(planned: float | None, measured: float | None) -> float | None:
    if planned is None or not measured:
        return None
    return 100.0 * (planned - measured) / measured


def compare(case: Case, device: str, steps: int, workdir: str) -> dict[str, Any]:
    """Plan and measure one case; the row of the table plus every number behind it."""
    p = plan(case, device)
    start = time.perf_counter()
    m = measure(case, device, steps, workdir)
    seconds = time.perf_counter() - start
    parts = p.parts
    cuda = "peak_allocated" in m
    measured = m["peak_allocated"] if cuda else m["peak_tensors"]
    planned = p.total_bytes
    weights = {
        "planned": parts["base_weights"] + parts["quant_state"] + parts["trainable_weights"],
        "measured": m["weights_frozen"] + m["weights_trainable"],
    }
    # what the forward pass leaves for backward: the activations, the autocast weight copies and the
    # fp32 log-softmax (4 of the 12 bytes per logit). Only without checkpointing: with it, the planned
    # activations are those of the backward peak (a recomputed block), not of the forward.
    forward = {
        "planned": None
        if case.checkpointing
        else parts["activations"] + parts["weight_copies"] + parts["logits"] // 3,
        "measured": m["forward_kept"],
    }
    # the peak of one step above what persists between steps (weights and optimizer states)
    transient = {
        "planned": planned - weights["planned"] - parts["optimizer_states"],
        "measured": m["step_transient"],
    }
    components = {
        "weights": weights,
        "optimizer_states": {"planned": parts["optimizer_states"], "measured": m["optimizer_states"]},
        "gradients": {"planned": parts["gradients"], "measured": m["gradients"]},
        "forward_kept": forward,
        "step_transient": transient,
    }
    for c in components.values():
        c["error_pct"] = _err(c["planned"], c["measured"])
    error = _err(planned, measured)
    assert error is not None
    ok = abs(error) <= 100 * MAX_ABS_ERROR and error >= -100 * MAX_UNDER_ESTIMATE
    row = {
        "name": case.name,
        "case": asdict(case),
        "params_m": m["params_total"] / 1e6,
        "planned_mib": _mib(planned),
        "measured_mib": _mib(measured),
        "ratio": planned / measured,
        "error_pct": error,
        "weights_err_pct": components["weights"]["error_pct"],
        "states_err_pct": components["optimizer_states"]["error_pct"],
        "forward_err_pct": components["forward_kept"]["error_pct"],
        "transient_err_pct": components["step_transient"]["error_pct"],
        "verdict": "ok" if ok else "MISSED",
        "seconds": seconds,
        "measured_with": "torch.cuda.max_memory_allocated" if cuda else "TensorMemoryTracker",
        "plan": {
            "total_bytes": planned,
            "parts": dict(parts),
            "details": dict(p.details),
            "params": {"total": p.params.total, "trainable": p.params.trainable},
        },
        "measured": m,
        "components": components,
    }
    if cuda:  # what the default plan (with its CUDA overhead) says against what the allocator reserved
        default = plan(case, device, overhead_gb=None)
        row["cuda"] = {
            "plan_with_overhead_bytes": default.total_bytes,
            "peak_reserved_bytes": m["peak_reserved"],
            "peak_tensors_bytes": m["peak_tensors"],
            "error_with_overhead_vs_reserved_pct": _err(default.total_bytes, m["peak_reserved"]),
        }
    return row


COLUMNS = [
    ("name", "config", ""),
    ("params_m", "params M", ".2f"),
    ("planned_mib", "planned MiB", ".1f"),
    ("measured_mib", "measured MiB", ".1f"),
    ("ratio", "plan/meas", ".3f"),
    ("error_pct", "error %", "+.1f"),
    ("weights_err_pct", "weights %", "+.1f"),
    ("states_err_pct", "opt states %", "+.1f"),
    ("forward_err_pct", "fwd kept %", "+.1f"),
    ("transient_err_pct", "step peak %", "+.1f"),
    ("verdict", "verdict", ""),
]


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean absolute error, the worst configuration and whether every one met the targets."""
    measured = [r for r in rows if r.get("error_pct") is not None]
    errors = [r["error_pct"] for r in measured]
    worst = max(measured, key=lambda r: abs(r["error_pct"]), default=None)
    return {
        "configs": len(rows),
        "measured": len(measured),
        "failed": [r["name"] for r in rows if r.get("error_pct") is None],
        "mean_abs_error_pct": sum(abs(e) for e in errors) / len(errors) if errors else None,
        "worst_config": worst and worst["name"],
        "worst_error_pct": worst and worst["error_pct"],
        "max_under_estimate_pct": max(0.0, -min(errors)) if errors else None,
        "max_over_estimate_pct": max(0.0, max(errors)) if errors else None,
        "all_ok": bool(rows) and all(r["verdict"] == "ok" for r in rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    parser.add_argument("--steps", type=int, default=2, help="training steps per configuration (>= 2)")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)), help="torch CPU threads")
    parser.add_argument("--smoke", action="store_true", help="two tiny configurations, a few seconds")
    parser.add_argument("--only", help="run only the configurations whose name contains this text")
    parser.add_argument("--output", help="JSON result file (default benchmarks/results/memory[_cuda].json)")
    args = parser.parse_args(argv)
    if args.smoke and not args.output:
        parser.error("--smoke needs --output (smoke runs never write to benchmarks/results)")
    if args.steps < 2:
        parser.error("--steps must be >= 2 so that the optimizer states exist in a measured step")
    set_offline()
    # bitsandbytes on CPU: paged optimizers fall back to plain ones (said once per tensor)
    warnings.filterwarnings("ignore", message=".*[Pp]aged optimizers are not supported on CPU.*")
    import torch

    torch.set_num_threads(args.threads)
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: torch sees no CUDA device")
    cases = SMOKE_CASES if args.smoke else CUDA_CASES if cuda else CPU_CASES
    if cuda and args.smoke:  # the GPU computes in bf16
        cases = [replace(c, precision="bf16") for c in cases]
    skipped: list[str] = []
    if importlib.util.find_spec("bitsandbytes") is None:
        needs_bnb = [c for c in cases if c.quantization != "none" or "8bit" in c.optimizer]
        skipped = [c.name for c in needs_bnb]
        cases = [c for c in cases if c not in needs_bnb]
        print(f"bitsandbytes is not importable: skipped {len(skipped)} configurations: {skipped}")
    if args.only:
        cases = [c for c in cases if args.only in c.name]
        if not cases:
            parser.error(f"--only {args.only!r} matches no configuration")
    print(f"{len(cases)} configurations on {args.device}, {args.steps} steps each, {args.threads} threads")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as workdir:
        for case in cases:
            try:
                row = compare(case, args.device, args.steps, workdir)
            except BrokenStep as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            except Exception as exc:  # a configuration that cannot run is reported, the others still run
                print(f"  {case.name}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
                rows.append({"name": case.name, "case": asdict(case), "verdict": "ERROR", "error": repr(exc)})
                if cuda:
                    torch.cuda.empty_cache()
                continue
            rows.append(row)
            print(f"  {case.name}: {row['error_pct']:+.1f}% in {row['seconds']:.1f} s", file=sys.stderr)
    print(table(rows, COLUMNS))
    summary = summarize(rows)
    summary["skipped"] = skipped
    measured = [r for r in rows if "components" in r]

    def exact(part: str) -> bool:
        return all(r["components"][part]["planned"] == r["components"][part]["measured"] for r in measured)

    checks = {  # the parts the planner counts exactly, and the training check every step passed
        "weights_exact": exact("weights"),
        "gradients_exact": exact("gradients"),
        "optimizer_states_within_1pct": all(
            abs(r["components"]["optimizer_states"]["error_pct"] or 0) <= 1 for r in measured
        ),
        "adapters_got_gradients": True,  # measure() stops the run (exit 2) when one did not
    }
    if summary["mean_abs_error_pct"] is not None:
        print(
            f"mean |error| {summary['mean_abs_error_pct']:.1f}%, worst {summary['worst_error_pct']:+.1f}% "
            f"({summary['worst_config']}); target |error| <= {100 * MAX_ABS_ERROR:.0f}% and never more than "
            f"{100 * MAX_UNDER_ESTIMATE:.0f}% below the peak: {'ok' if summary['all_ok'] else 'MISSED'}"
        )
    path = write_result(
        "memory",
        {
            "description": "plan_memory total vs the measured peak of LoRA training steps",
            "settings": {"steps": args.steps, "threads": args.threads, "smoke": args.smoke},
            "measured_with": "torch.cuda.max_memory_allocated" if cuda else "TensorMemoryTracker",
            "targets": {"max_abs_error": MAX_ABS_ERROR, "max_under_estimate": MAX_UNDER_ESTIMATE},
            "models": {name: MODELS[name] for name in sorted({c.model for c in cases})},
            "smoke": args.smoke,
            "summary": summary,
            "checks": checks,
            "rows": rows,
        },
        device=args.device,
        output=args.output,
    )
    print(f"wrote {path}")
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
