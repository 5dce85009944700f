"""One rank of the multi-process training test (tests/training/test_distributed.py).

Run under ``accelerate launch`` (every rank runs this file) or alone (one process)::

    accelerate launch --config_file examples/accelerate/cpu_2proc.yaml tests/training/ddp_worker.py \
        MODEL_DIR DATA.json OUT_DIR [--batch-size 4] [--epochs 1]

``DATA.json`` holds ``{"train": [{"id", "prompt", "response"}...], "validation": [...]}``. The rank
trains a LoRA adapter with :class:`~domainft.training.trainer.DomainTrainer` (no quantization:
bitsandbytes 4-bit is not for multi-process CPU runs), run folder ``OUT_DIR/run``, adapter
``OUT_DIR/run/adapter`` (written by the main process only), then writes ``OUT_DIR/rank<k>.json``:
rank, world size, digests of the adapter weights before and after training, losses, ``global_step``,
the example ids of every training batch it received, and how often it wrote the manifest and the
adapter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any


def state_digests(state: dict[str, Any]) -> dict[str, str]:
    """sha256 of every tensor's float32 bytes, by name (same tensors and bytes -> same digests)."""
    import torch

    out = {}
    for name in sorted(state):
        tensor = state[name].detach().to("cpu", torch.float32).contiguous()
        out[name] = hashlib.sha256(tensor.numpy().tobytes()).hexdigest()
    return out


def combined_digest(digests: dict[str, str]) -> str:
    """One sha256 over the sorted ``name=digest`` pairs of :func:`state_digests`."""
    text = "\n".join(f"{name}={digests[name]}" for name in sorted(digests))
    return hashlib.sha256(text.encode()).hexdigest()


def adapter_state(model: Any) -> dict[str, Any]:
    """The adapter tensors exactly as ``save_pretrained`` writes them (same names, no embeddings)."""
    from peft import get_peft_model_state_dict

    return get_peft_model_state_dict(model, save_embedding_layers=False)


class RecordingCollator:
    """Wraps a collator and records the example ids of every batch it builds."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.batches: list[list[str]] = []

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        self.batches.append([str(f["id"]) for f in features])
        return self.inner(features)


def _counting(method: Any, counts: dict[str, int], key: str) -> Any:
    """``method``, counting its calls in ``counts[key]``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        counts[key] += 1
        return method(*args, **kwargs)

    return wrapper


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("data_file")
    parser.add_argument("output_dir")
    parser.add_argument("--batch-size", type=int, default=4, help="per-device train batch size")
    parser.add_argument("--epochs", type=float, default=1.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train, save the adapter (main process), write ``rank<k>.json``; returns its content."""
    import datasets
    import torch

    from domainft.models.adapters import LoraAdapterFactory
    from domainft.models.loading import QuantizedLoader
    from domainft.training.config import TrainingConfig
    from domainft.training.trainer import DomainTrainer

    args = parse_args(argv)
    out = Path(args.output_dir)
    splits = json.loads(Path(args.data_file).read_text(encoding="utf-8"))
    dsd = datasets.DatasetDict({name: datasets.Dataset.from_list(rows) for name, rows in splits.items()})

    model, tok = QuantizedLoader(args.model_dir, quantization=None).load()
    model = LoraAdapterFactory(r=8, alpha=16, dropout=0.0, target_modules=["attention", "mlp"]).apply(model)
    initial = state_digests(adapter_state(model))
    config = TrainingConfig(
        output_dir=str(out / "run"),
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=8,
        learning_rate=5e-3,
        lr_scheduler_type="constant",
        warmup_ratio=0.0,
        logging_steps=1,
        group_by_length=False,  # random order: the same permutation on every rank, sharded by accelerate
        precision="fp32",  # exact comparisons across process layouts
        use_cpu=True,  # gloo on CPU: without it a CPU-only rank would not join the process group
        disable_tqdm=True,
        seed=0,
    )
    trainer = DomainTrainer(model=model, tokenizer=tok, datasets=dsd, config=config)
    recorder = RecordingCollator(trainer.trainer.data_collator)
    trainer.trainer.data_collator = recorder
    writes = {"manifest": 0, "adapter": 0}  # how often this rank wrote them (the calls go through)
    trainer.write_manifest = _counting(trainer.write_manifest, writes, "manifest")
    model.save_pretrained = _counting(model.save_pretrained, writes, "adapter")
    result = trainer.train()
    train_ids = {str(r["id"]) for r in splits["train"]}
    # the collator also builds the validation batches: keep those made of training examples
    train_batches = [b for b in recorder.batches if set(b) <= train_ids]
    final = state_digests(adapter_state(model))
    adapter_dir = getattr(result, "adapter_dir", None)  # train() may save it already: do not save twice
    if adapter_dir is None:
        adapter_dir = trainer.save_adapter(Path(config.output_dir) / "adapter")

    args_ = trainer.trainer.args
    record = {
        "rank": int(args_.process_index),
        "world_size": int(args_.world_size),
        "is_main_process": trainer.is_main_process,
        "parallel_mode": str(args_.parallel_mode.value),
        "distributed_type": str(trainer.trainer.accelerator.distributed_type.value),
        "backend": str(torch.distributed.get_backend()) if torch.distributed.is_initialized() else None,
        "initial_digest": combined_digest(initial),
        "final_digest": combined_digest(final),
        "final_digests": final,
        "train_loss": result.train_loss,
        "eval_loss": result.eval_loss,
        "initial_eval_loss": result.initial_eval_loss,
        "logged_losses": [e["loss"] for e in result.log_history if "loss" in e],
        "global_step": result.global_step,
        "adapter_dir": str(adapter_dir),
        "manifest_writes": writes["manifest"],
        "adapter_writes": writes["adapter"],
        "examples_per_step": [len(b) for b in train_batches],
        "train_batches": train_batches,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank{record['rank']}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record


if __name__ == "__main__":
    main()
