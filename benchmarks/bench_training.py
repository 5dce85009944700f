"""Training throughput: domainft's ``DomainTrainer`` defaults against what users would otherwise write.

The same model (a Llama of about 30M parameters, random init; on ``--device cuda`` a Llama-2-7B or
Mistral-7B config built without weights), the same LoRA adapter, the same machinery prompt/response
pairs tokenized once with the same template, the same optimiser settings and the same number of epochs,
so every variant learns from the same supervised tokens:

- ``transformers``: baseline A, the seed notebooks' recipe: ``transformers.Trainer`` with
  pad-to-longest collation (``DataCollatorForSeq2Seq``) in random order;
- ``trl-padding-free`` / ``trl-packing``: baseline B, TRL ``SFTTrainer`` with its padding-free
  batches (same examples per step) and with best-fit-decreasing packing (rows of about one batch of
  tokens), its own precision default (bf16, CPUs included) and gradient checkpointing off, as for
  every variant;
- ``domainft``: ``DomainTrainer`` with default ``TrainingConfig`` batching and precision.

Reported: supervised tokens/s over the training loop, padding fraction of the batches, peak RSS
(CPU) or peak allocated memory (GPU), the mean training loss and a held-out loss computed the same
way for every variant (speed must not be bought with less learning), ratios against baseline A and
the best baseline B. Targets: domainft >= 2.0x baseline A and >= 1.0x baseline B. Every variant runs
in its own process.

    python benchmarks/bench_training.py                     # CPU suite, about 5 minutes on 2 cores
    python benchmarks/bench_training.py --device cuda --arch llama-2-7b
    python benchmarks/bench_training.py --smoke --output /tmp/training.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import (
    BENCH_MODEL,
    GPU_ARCHS,
    arch_config,
    build_bench_model,
    machinery_pairs,
    matmul_peak_tflops,
    peak_rss_mb,
    run_child,
    set_offline,
    sync,
    table,
    verdict,
    write_result,
)

VARIANTS = ("transformers", "trl-padding-free", "trl-packing", "domainft")
BASELINE_A = "transformers"
BASELINES_B = ("trl-padding-free", "trl-packing")
TARGETS = {"vs_baseline_a": 2.0, "vs_baseline_b": 1.0}

#: Settings shared by every variant.
LORA = {"r": 16, "alpha": 32, "dropout": 0.05, "targets": ["q_proj", "k_proj", "v_proj", "o_proj"]}
LORA["targets"] += ["gate_proj", "up_proj", "down_proj"]


# ------------------------------------------------------------------------------------------------- data


def prepare(workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Build the model, tokenize the pairs once with domainft's encoder and write train/held-out JSONL."""
    from datasets import Dataset
    from transformers import AutoTokenizer

    from domainft.data.templates import tokenize_dataset

    model_dir = build_bench_model(
        workdir, **({"num_hidden_layers": 2, "hidden_size": 128} if args.smoke else {})
    )
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    pairs = machinery_pairs()
    heldout, train = pairs[: args.heldout], pairs[args.heldout :][: args.examples]
    files = {}
    for name, rows in (("train", train), ("heldout", heldout)):
        raw = Dataset.from_list(rows)
        tokenized, _ = tokenize_dataset(raw, tokenizer, max_length=1024, desc=f"tokenizing {name}")
        path = workdir / f"{name}.jsonl"
        with path.open("w") as handle:
            for prompt_response, tok in zip(rows, tokenized, strict=True):
                handle.write(
                    json.dumps({**prompt_response, "input_ids": tok["input_ids"], "labels": tok["labels"]})
                )
                handle.write("\n")
        files[name] = str(path)
    return {"model": str(model_dir), **files}


def read_rows(path: str) -> list[dict[str, Any]]:
    with open(path) as handle:
        return [json.loads(line) for line in handle]


def supervised(labels: list[int]) -> int:
    """Tokens that carry a loss: labels after the first position (the model predicts token t from t-1)."""
    return sum(1 for x in labels[1:] if x != -100)


# ------------------------------------------------------------------------------------------------ model


def load_model(model_dir: str, args: argparse.Namespace) -> Any:
    """The benchmark model: the tiny one from disk on CPU, a weightless real architecture on CUDA."""
    import torch
    import transformers

    torch.manual_seed(0)
    if args.device == "cpu":
        return transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    config = arch_config(args.arch, tie_word_embeddings=False, pad_token_id=0, eos_token_id=2, bos_token_id=1)
    with torch.device(args.device):
        return transformers.AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)


def gpu_ids(rows: list[dict[str, Any]], vocab: int) -> list[dict[str, Any]]:
    """Map the tiny tokenizer's ids into a real vocabulary (throughput does not depend on which ids)."""
    return [{**r, "input_ids": [t % vocab for t in r["input_ids"]]} for r in rows]


def peft_config() -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=LORA["r"],
        lora_alpha=LORA["alpha"],
        lora_dropout=LORA["dropout"],
        target_modules=LORA["targets"],
        task_type="CAUSAL_LM",
    )


class CountingCollator:
    """Wraps a collator and records, per batch, the positions computed and the real tokens among them."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.positions = 0
        self.tokens = 0
        self.batches = 0

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.inner(features)
        ids = batch["input_ids"]
        self.positions += ids.numel()
        # padding-free rows (no attention mask) carry no padding
        self.tokens += int(batch["attention_mask"].sum()) if "attention_mask" in batch else ids.numel()
        self.batches += 1
        return batch

    @property
    def padding_fraction(self) -> float:
        return 1 - self.tokens / self.positions if self.positions else 0.0


def common_arguments(args: argparse.Namespace, output_dir: str) -> dict[str, Any]:
    """``TrainingArguments`` fields every baseline shares with the domainft run."""
    return {
        "output_dir": output_dir,
        "num_train_epochs": args.epochs,
        "per_device_train_batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "lr_scheduler_type": "cosine",
        "warmup_steps": 0.03,
        "logging_steps": 5,
        "save_strategy": "no",
        "report_to": "none",
        "seed": 42,
        "disable_tqdm": True,
        "use_cpu": args.device == "cpu",
        "bf16": args.device != "cpu",
        "remove_unused_columns": False,
        "dataloader_pin_memory": args.device != "cpu",
    }


def heldout_loss(model: Any, rows: list[dict[str, Any]], device: str) -> float:
    """Mean loss per supervised token on the held-out rows, one example at a time (no padding effects)."""
    import torch

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for row in rows:
            ids = torch.tensor([row["input_ids"]], device=device)
            labels = torch.tensor([row["labels"]], device=device)
            n = supervised(row["labels"])
            out = model(input_ids=ids, labels=labels, use_cache=False)
            total += float(out.loss) * n
            count += n
    return total / count


# ----------------------------------------------------------------------------------------------- variants


def train_transformers(model: Any, rows: list[dict[str, Any]], args: argparse.Namespace, out: str) -> Any:
    from datasets import Dataset
    from peft import get_peft_model
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    model = get_peft_model(model, peft_config())
    dataset = Dataset.from_list([{"input_ids": r["input_ids"], "labels": r["labels"]} for r in rows])
    collator = CountingCollator(
        DataCollatorForSeq2Seq(
            args.tokenizer, padding="longest", label_pad_token_id=-100, return_tensors="pt"
        )
    )
    trainer = Trainer(
        model=model,
        args=TrainingArguments(**common_arguments(args, out)),
        train_dataset=dataset,
        data_collator=collator,
    )
    return trainer, collator


def train_trl(
    model: Any, rows: list[dict[str, Any]], args: argparse.Namespace, out: str, packing: bool
) -> Any:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    dataset = Dataset.from_list([{"input_ids": r["input_ids"], "labels": r["labels"]} for r in rows])
    settings = common_arguments(args, out)
    settings.pop("bf16")  # TRL's own default: bf16 autocast, on CPUs too
    if packing:
        # rows of about one padding-free batch of tokens, one row per step: the same tokens per step
        mean_length = sum(len(r["input_ids"]) for r in rows) / len(rows)
        settings.update(per_device_train_batch_size=1)
        extra = {"packing": True, "packing_strategy": "bfd", "max_length": int(mean_length * args.batch_size)}
    else:
        extra = {"padding_free": True, "max_length": None}
    config = SFTConfig(**settings, **extra, gradient_checkpointing=False, dataset_num_proc=None)
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=dataset,
        processing_class=args.tokenizer,
        peft_config=peft_config(),
    )
    collator = CountingCollator(trainer.data_collator)
    trainer.data_collator = collator
    return trainer, collator


def train_domainft(model: Any, rows: list[dict[str, Any]], args: argparse.Namespace, out: str) -> Any:
    from datasets import Dataset, DatasetDict

    from domainft import DomainTrainer, LoraAdapterFactory, TrainingConfig

    model = LoraAdapterFactory(
        r=LORA["r"], alpha=LORA["alpha"], dropout=LORA["dropout"], target_modules=LORA["targets"]
    ).apply(model)
    data = DatasetDict(
        {"train": Dataset.from_list([{"prompt": r["prompt"], "response": r["response"]} for r in rows])}
    )
    config = TrainingConfig(
        output_dir=out,
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        logging_steps=5,
        disable_tqdm=True,
        seed=42,
        use_cpu=args.device == "cpu",
    )
    trainer = DomainTrainer(model=model, tokenizer=args.tokenizer, datasets=data, config=config)
    if args.device != "cpu":  # the tiny tokenizer's ids, mapped into the real vocabulary
        trainer.trainer.train_dataset = trainer.train_dataset.map(
            lambda r: {"input_ids": [t % model.config.vocab_size for t in r["input_ids"]]}
        )
    collator = CountingCollator(trainer.trainer.data_collator)
    trainer.trainer.data_collator = collator
    return trainer.trainer, collator


def run_variant(args: argparse.Namespace) -> dict[str, Any]:
    """One variant, in this process: build, train, measure; returns the result row."""
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(args.threads)
    args.tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = load_model(args.model, args)
    rows, heldout = read_rows(args.train), read_rows(args.heldout)
    if args.device != "cpu":
        rows, heldout = gpu_ids(rows, model.config.vocab_size), gpu_ids(heldout, model.config.vocab_size)
    out = tempfile.mkdtemp(prefix=f"bench-{args.child}-")
    builders = {
        "transformers": lambda: train_transformers(model, rows, args, out),
        "trl-padding-free": lambda: train_trl(model, rows, args, out, packing=False),
        "trl-packing": lambda: train_trl(model, rows, args, out, packing=True),
        "domainft": lambda: train_domainft(model, rows, args, out),
    }
    trainer, collator = builders[args.child]()
    sync(args.device)
    if args.device != "cpu":
        torch.cuda.reset_peak_memory_stats()
    rss_before = peak_rss_mb()
    start = time.perf_counter()
    output = trainer.train()
    sync(args.device)
    seconds = time.perf_counter() - start
    tokens = sum(supervised(r["labels"]) for r in rows) * args.epochs
    trained = trainer.model
    result = {
        "variant": args.child,
        "seconds": seconds,
        "steps": trainer.state.global_step,
        "supervised_tokens": tokens,
        "tokens_per_s": tokens / seconds,
        "precision": "bf16" if trainer.args.bf16 else "fp16" if trainer.args.fp16 else "fp32",
        "padding_fraction": collator.padding_fraction,
        "batches": collator.batches,
        "train_loss": output.training_loss,
        "heldout_loss": heldout_loss(trained, heldout, args.device),
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_train_mb": rss_before,
    }
    if args.device != "cpu":
        result["peak_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
        result.update(model_flops_utilisation(trained, tokens, rows, seconds, args))
    return result


# ------------------------------------------------------------------------------------------------- GPU


def model_flops_utilisation(
    model: Any, supervised_tokens: int, rows: list[dict[str, Any]], seconds: float, args: argparse.Namespace
) -> dict[str, float]:
    """Model FLOPs of LoRA training over every token seen, against the measured bf16 matmul peak.

    Frozen weights cost a forward and an input-gradient backward (4 FLOPs per parameter and token),
    trainable ones also a weight gradient (6); causal attention adds 12 * layers * hidden * context / 2
    per token. Padding does not count: it is not useful work.
    """
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    cfg = model.config
    tokens = sum(len(r["input_ids"]) for r in rows) * args.epochs
    mean_context = sum(len(r["input_ids"]) ** 2 for r in rows) / sum(len(r["input_ids"]) for r in rows)
    attention = 12 * cfg.num_hidden_layers * cfg.hidden_size * mean_context / 2
    flops = tokens * (4 * frozen + 6 * trainable + attention)
    peak = matmul_peak_tflops(args.device)
    achieved = flops / seconds / 1e12
    return {"model_tflops": achieved, "matmul_peak_tflops": peak, "mfu": achieved / peak}


# ------------------------------------------------------------------------------------------------- main


def summarise(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    base_a = results[BASELINE_A]["tokens_per_s"]
    best_b = max(BASELINES_B, key=lambda v: results[v]["tokens_per_s"])
    ours = results["domainft"]["tokens_per_s"]
    for row in results.values():
        row["vs_baseline_a"] = row["tokens_per_s"] / base_a
    ratios = {"vs_baseline_a": ours / base_a, "vs_baseline_b": ours / results[best_b]["tokens_per_s"]}
    return {"best_baseline_b": best_b, "ratios": ratios}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    parser.add_argument(
        "--arch", default="llama-2-7b", choices=sorted(GPU_ARCHS), help="model on --device cuda"
    )
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--examples", type=int, default=240, help="training examples")
    parser.add_argument("--heldout", type=int, default=24, help="held-out examples for the final loss")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--smoke", action="store_true", help="tiny model and data: checks the script runs")
    parser.add_argument("--output", default=None, help="JSON result path (default benchmarks/results/)")
    # internal: one variant in a child process
    for name in ("child", "model", "train"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    parser.add_argument("--heldout-file", dest="heldout_file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    set_offline()
    if args.child:
        args.heldout = args.heldout_file
        print(json.dumps(run_variant(args)))
        return 0
    if args.smoke:
        args.examples, args.heldout = 24, 4
    with tempfile.TemporaryDirectory(prefix="bench-training-") as tmp:
        files = prepare(Path(tmp), args)
        results: dict[str, dict[str, Any]] = {}
        for variant in args.variants:
            print(f"training {variant} ...", file=sys.stderr, flush=True)
            child = [__file__, "--child", variant, "--model", files["model"], "--train", files["train"]]
            child += ["--heldout-file", files["heldout"], "--device", args.device, "--arch", args.arch]
            child += ["--threads", str(args.threads), "--epochs", str(args.epochs)]
            child += ["--batch-size", str(args.batch_size), "--learning-rate", str(args.learning_rate)]
            results[variant] = run_child(child, env={"OMP_WAIT_POLICY": "PASSIVE"})
    summary = summarise(results) if set(VARIANTS) <= set(results) else {"ratios": {}}
    columns = [
        ("variant", "variant", ""),
        ("tokens_per_s", "sup. tok/s", ".0f"),
        ("vs_baseline_a", "vs A", ".2f"),
        ("precision", "precision", ""),
        ("padding_fraction", "padding", ".1%"),
        ("steps", "steps", ""),
        ("seconds", "train s", ".1f"),
        ("train_loss", "train loss", ".3f"),
        ("heldout_loss", "held-out loss", ".3f"),
        ("peak_rss_mb", "peak RSS MB", ".0f"),
    ]
    if args.device != "cpu":
        columns += [("peak_allocated_mb", "peak alloc MB", ".0f"), ("mfu", "MFU", ".1%")]
    print(table(list(results.values()), columns))
    for key, target in TARGETS.items():
        value = summary["ratios"].get(key)
        shown = "n/a" if value is None else f"{value:.2f}x"
        print(f"domainft {key.replace('_', ' ')}: {shown} (target >= {target}x) {verdict(value, target)}")
    model = BENCH_MODEL if args.device == "cpu" else GPU_ARCHS[args.arch]
    payload = {
        "settings": {
            "device": args.device,
            "arch": "bench-model" if args.device == "cpu" else args.arch,
            "model": model,
            "smoke": args.smoke,
            "examples": args.examples,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
            "lora": LORA,
            "threads": args.threads,
        },
        "results": results,
        **summary,
        "targets": TARGETS,
    }
    if not math.isfinite(sum(r["heldout_loss"] for r in results.values())):
        print("a held-out loss is not finite", file=sys.stderr)
        return 1
    print(f"wrote {write_result('training', payload, device=args.device, output=args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
