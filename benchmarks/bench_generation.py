"""Evaluation generation: the seed notebooks' one-prompt-at-a-time ``generate`` vs the Evaluator's engine.

Both sides answer the same 64 machinery prompts, rendered as the Evaluator renders them (the tokenizer's
chat template), with greedy decoding and the same ``max_new_tokens``.

* Baseline (the seed notebooks' loop): for each prompt ``tokenizer(text, return_tensors="pt")``,
  ``model.generate(**inputs, max_new_tokens=N, do_sample=False)``, decode the new tokens.
* Candidate: ``Evaluator(...).generate(model, tokenizer, prompts)``, the public generation path a user
  gets (length-sorted, left-padded batches of ``DecodingConfig.batch_size``, KV cache, stop at EOS), with
  no answer cache, so nothing is served from disk. It runs several times, interleaved with halves of the
  baseline so that load from other processes hits both sides; its median counts. A rerun with the answer
  cache (``cache_dir``) is reported separately.

Correctness (exit 1 when broken): every greedy answer of the candidate equals the baseline's. In fp32
the comparison is strict; in bf16 (GPU mode) an answer that departs from the baseline where the
baseline's own top-two logits are within bf16 rounding of each other is counted as numerical drift and
reported, any other difference fails.

Target: candidate >= 8x the baseline's prompts/s, measured in the same run.

CPU (default): the shared 30M-parameter benchmark Llama (``benchlib.BENCH_MODEL``), random init. A random
model practically never emits EOS, so every answer runs to ``max_new_tokens`` on both sides (the JSON
counts the answers that stopped early); real fine-tuned models stop earlier, which the engine exploits
per batch and the baseline per prompt.

GPU mode: ``--device cuda --arch llama-2-7b|mistral-7b`` builds the architecture from the config below
in bf16 directly on the GPU with random weights (no download; compute and memory equal the real
model's), keeps the tiny tokenizer (prompt ids fit any vocabulary; answers are compared as token ids),
and adds peak GPU memory and model FLOPs utilisation against a bf16 matmul peak measured in the run.

    python benchmarks/bench_generation.py [--max-new-tokens 64] [--batch-size N] [--threads N]
    python benchmarks/bench_generation.py --device cuda --arch mistral-7b
    python benchmarks/bench_generation.py --smoke --output generation-smoke.json   # seconds, smoke test
"""

from __future__ import annotations

import argparse
import os
import statistics
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
    set_offline,
    stopwatch,
    sync,
    table,
    verdict,
    write_result,
)

TARGET_SPEEDUP = 8.0

#: ``--smoke`` keeps an architecture's vocabulary, attention layout and options but shrinks its size.
SMOKE_ARCH = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4}


# --------------------------------------------------------------------------------------------- model
def smoke_or_full_config(arch: str, tokenizer: Any, smoke: bool) -> Any:
    """The transformers config of ``arch`` (shrunk with ``smoke``), with the tokenizer's special ids."""
    fields: dict[str, Any] = {}
    if smoke:
        spec = GPU_ARCHS[arch]
        groups = spec["num_attention_heads"] // spec["num_key_value_heads"]
        fields.update(SMOKE_ARCH, num_key_value_heads=max(1, SMOKE_ARCH["num_attention_heads"] // groups))
    return arch_config(
        arch,
        **fields,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def decode_as_ids(tokenizer: Any) -> None:
    """Make ``tokenizer.decode`` write token ids (special ones dropped when asked), for a vocabulary the
    tiny tokenizer does not cover: comparing such texts compares tokens. Both sides decode through it."""
    special = set(tokenizer.all_special_ids)

    def decode(ids: Any, skip_special_tokens: bool = False, **_: Any) -> str:
        ids = ids.tolist() if hasattr(ids, "tolist") else list(ids)
        return " ".join(str(i) for i in ids if not (skip_special_tokens and i in special))

    tokenizer.decode = decode
    tokenizer.decodes_ids = True


def load_model(args: argparse.Namespace, workdir: Path) -> tuple[Any, Any, dict[str, Any]]:
    """``(model, tokenizer, description)`` for the run's device and architecture."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # the bench model at full size only when it is the measured model; otherwise only its tokenizer is used
    small = {**SMOKE_ARCH, "num_key_value_heads": SMOKE_ARCH["num_attention_heads"]}
    overrides = small if args.smoke or args.arch != "bench" else {}
    folder = build_bench_model(workdir, **overrides)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]
    if args.arch == "bench":
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(args.device)
        config = {**BENCH_MODEL, **overrides}
    else:
        cfg = smoke_or_full_config(args.arch, tokenizer, args.smoke)
        torch.manual_seed(0)
        with torch.device(args.device):
            model = AutoModelForCausalLM.from_config(cfg, dtype=dtype)
        config = {"arch": args.arch, **cfg.to_diff_dict()}
        if model.config.vocab_size > len(tokenizer):
            decode_as_ids(tokenizer)
    model.eval()
    info = {
        "name": args.arch,
        "parameters": sum(p.numel() for p in model.parameters()),
        "parameters_without_embeddings": model.num_parameters(exclude_embeddings=True),
        "dtype": args.dtype,
        "attention": model.config._attn_implementation,
        "weights": "random init (no EOS training: answers run to max_new_tokens unless EOS is argmax)",
        "tokenizer_vocab": len(tokenizer),
        "answers_compared_as": "token ids" if getattr(tokenizer, "decodes_ids", False) else "decoded text",
        "config": config,
    }
    return model, tokenizer, info


# --------------------------------------------------------------------------------------------- the two sides
def reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device: str) -> float | None:
    """Peak GPU memory allocated since the last ``reset_peak`` (weights included); None on CPU."""
    if not device.startswith("cuda"):
        return None
    import torch

    return torch.cuda.max_memory_allocated(device) / 2**30


def baseline(
    model: Any, tokenizer: Any, texts: list[str], max_new_tokens: int, device: str
) -> dict[str, Any]:
    """The seed notebooks' loop: one ``generate`` per prompt, greedy, decode the new tokens."""
    import torch

    answers, new_ids, prompt_ids = [], [], []
    reset_peak(device)
    with stopwatch() as t:
        for text in texts:
            inputs = tokenizer(text, return_tensors="pt").to(device)
            with torch.no_grad():
                out = model.generate(
                    **inputs,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                )
            new = out[0, inputs["input_ids"].shape[1] :]
            answers.append(tokenizer.decode(new, skip_special_tokens=True).strip())
            new_ids.append(new.tolist())
            prompt_ids.append(inputs["input_ids"][0].tolist())
        sync(device)
    return {
        "seconds": t["seconds"],
        "answers": answers,
        "new_ids": new_ids,
        "prompt_ids": prompt_ids,
        "peak_gib": peak_gib(device),
    }


def candidate(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    max_new_tokens: int,
    batch_size: int | None,
    device: str,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """The Evaluator's public generation path, as a user calls it (no answer cache unless ``cache_dir``)."""
    from domainft import Evaluator
    from domainft.models.generation import DecodingConfig

    decoding = DecodingConfig(max_new_tokens=max_new_tokens)
    if batch_size is not None:
        decoding = decoding.updated(batch_size=batch_size)
    evaluator = Evaluator(
        metrics=["exact_match"], decoding=decoding, progress=False, perplexity=False, cache_dir=cache_dir
    )
    reset_peak(device)
    with stopwatch() as t:
        answers = evaluator.generate(model, tokenizer, prompts)
        sync(device)
    hits = evaluator.cache.hits if evaluator.cache is not None else None
    return {
        "seconds": t["seconds"],
        "answers": answers,
        "decoding": decoding,
        "cache_hits": hits,
        "peak_gib": peak_gib(device),
    }


def warm_up(model: Any, tokenizer: Any, texts: list[str], prompts: list[str], device: str) -> None:
    """One short generation per side, so one-time initialisation is timed by neither."""
    baseline(model, tokenizer, texts[:1], 2, device)
    candidate(model, tokenizer, prompts[:2], 2, 2, device)


# --------------------------------------------------------------------------------------------- checks
def first_difference(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def explain_differences(
    model: Any, base: dict[str, Any], answers: list[str], device: str, bf16: bool
) -> list[dict[str, Any]]:
    """For each differing answer: where it departs and, when answers are token ids, the baseline's logit
    margin there between its token and the candidate's (``numerical`` when within bf16 rounding)."""
    import torch

    details = []
    for i, (ref, got) in enumerate(zip(base["answers"], answers, strict=True)):
        if ref == got:
            continue
        entry: dict[str, Any] = {"index": i, "baseline": ref[:80], "candidate": got[:80], "numerical": False}
        try:
            cand_ids = [int(x) for x in got.split()]
        except ValueError:
            cand_ids = None  # decoded text: compared strictly
        if cand_ids is not None:
            ref_ids = base["new_ids"][i]
            k = first_difference(ref_ids, cand_ids)
            entry["first_diff_token"] = k
            if k < len(ref_ids) and k < len(cand_ids):
                ids = torch.tensor([base["prompt_ids"][i] + ref_ids[:k]], device=device)
                with torch.no_grad():
                    logits = model(input_ids=ids).logits[0, -1].float()
                margin = float(logits[ref_ids[k]] - logits[cand_ids[k]])
                scale = float(logits.abs().max())
                entry.update(logit_margin=margin, logit_scale=scale)
                # bf16 keeps 8 significant bits; a margin within a few of its steps is a near tie
                entry["numerical"] = bool(bf16 and abs(margin) <= 2**-6 * max(1.0, scale))
        details.append(entry)
    return details


# --------------------------------------------------------------------------------------------- GPU figures
def mfu(params: int, tokens: int, seconds: float, peak_tflops: float | None) -> float | None:
    """Model FLOPs utilisation: ``2 * params`` FLOPs per processed token (prompt and answer) over the peak."""
    if not peak_tflops:
        return None
    return 2 * params * tokens / seconds / (peak_tflops * 1e12)


# --------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    parser.add_argument("--arch", default="bench", choices=["bench", *GPU_ARCHS])
    parser.add_argument(
        "--dtype", default=None, choices=["float32", "bfloat16"], help="Default: fp32 on CPU."
    )
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=None, help="Default: the library's default.")
    parser.add_argument("--repeats", type=int, default=3, help="Candidate runs (median counts).")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--smoke", action="store_true", help="Tiny sizes (seconds); for the smoke test.")
    parser.add_argument("--output", default=None, help="Result file (default benchmarks/results/...).")
    args = parser.parse_args(argv)
    gpu = args.device.startswith("cuda")
    if args.dtype is None:
        args.dtype = "bfloat16" if gpu or args.arch != "bench" else "float32"
    if args.arch != "bench" and not gpu and not args.smoke:
        parser.error(f"--arch {args.arch} builds a 7B model: run it with --device cuda (or --smoke)")
    if args.smoke:
        if not args.output:
            parser.error("--smoke needs --output (smoke runs never write to benchmarks/results)")
        args.prompts, args.max_new_tokens, args.repeats = 6, 5, 1
        args.batch_size = args.batch_size or 4
    set_offline()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `make bench` runs it; idle threads yield the CPU
    import torch

    torch.set_num_threads(args.threads)
    from domainft.data.templates import prompt_ids, render_prompt, resolve_template_name
    from domainft.models.generation import plan_batches

    with tempfile.TemporaryDirectory(prefix="bench-generation-") as tmp:
        with stopwatch() as build:
            model, tokenizer, model_info = load_model(args, Path(tmp))
        prompts = [p["prompt"] for p in machinery_pairs()[: args.prompts]]
        if len(prompts) < args.prompts:
            raise SystemExit(f"only {len(prompts)} machinery prompts; asked for {args.prompts}")
        template = resolve_template_name(tokenizer, None)  # the Evaluator's default: the chat template
        texts = [render_prompt(tokenizer, p, template) for p in prompts]
        warm_up(model, tokenizer, texts, prompts, args.device)

        # candidate runs interleaved with the two halves of the baseline
        half = len(texts) // 2
        runs, base_parts = [], []
        for r in range(args.repeats):
            runs.append(
                candidate(model, tokenizer, prompts, args.max_new_tokens, args.batch_size, args.device)
            )
            if r < 2:
                part = texts[:half] if r == 0 else texts[half:]
                base_parts.append(baseline(model, tokenizer, part, args.max_new_tokens, args.device))
        if len(base_parts) < 2:
            base_parts.append(baseline(model, tokenizer, texts[half:], args.max_new_tokens, args.device))
        base = {k: base_parts[0][k] + base_parts[1][k] for k in ("answers", "new_ids", "prompt_ids")}
        base["seconds"] = base_parts[0]["seconds"] + base_parts[1]["seconds"]
        peak_gpu = (
            {
                "baseline": max(p["peak_gib"] for p in base_parts),
                "candidate": max(r["peak_gib"] for r in runs),
            }
            if gpu
            else None
        )
        cand_seconds = statistics.median(r["seconds"] for r in runs)
        cand = runs[0]

        with tempfile.TemporaryDirectory(prefix="bench-generation-cache-") as cache:
            fill = candidate(
                model, tokenizer, prompts, args.max_new_tokens, args.batch_size, args.device, Path(cache)
            )
            hit = candidate(
                model, tokenizer, prompts, args.max_new_tokens, args.batch_size, args.device, Path(cache)
            )

        # correctness
        library_ids = [prompt_ids(tokenizer, p, template) for p in prompts]
        decoding = cand["decoding"]
        batches = plan_batches(
            [len(i) for i in library_ids],
            decoding.batch_size,
            decoding.max_new_tokens,
            decoding.max_batch_tokens,
        )
        prompt_ids_identical = sum(a == b for a, b in zip(library_ids, base["prompt_ids"], strict=True))
        differences = explain_differences(
            model, base, cand["answers"], args.device, bf16=args.dtype == "bfloat16"
        )
        real_differences = [d for d in differences if not d["numerical"]]
        deterministic = all(r["answers"] == cand["answers"] for r in [*runs, fill, hit])

    n = len(prompts)
    new_tokens = sum(len(ids) for ids in base["new_ids"])
    eos = tokenizer.eos_token_id
    stopped_at_eos = sum(1 for ids in base["new_ids"] if eos in ids or len(ids) < args.max_new_tokens)
    processed = new_tokens + sum(len(ids) for ids in base["prompt_ids"])
    peak_tflops = matmul_peak_tflops(args.device, model.dtype) if gpu else None
    flops_params = model_info["parameters_without_embeddings"]
    speedup = base["seconds"] / cand_seconds

    def figures(seconds: float) -> dict[str, Any]:
        return {
            "seconds": seconds,
            "prompts_per_s": n / seconds,
            "new_tokens_per_s": new_tokens / seconds,
            "mfu": mfu(flops_params, processed, seconds, peak_tflops),
        }

    rows = [
        {"variant": "baseline: generate per prompt", "batch": 1, **figures(base["seconds"]), "ratio": 1.0},
        {
            "variant": f"Evaluator.generate (median of {len(runs)})",
            "batch": max(len(b) for b in batches),
            **figures(cand_seconds),
            "ratio": speedup,
            "target": f">= {TARGET_SPEEDUP:g}x",
            "verdict": verdict(speedup, TARGET_SPEEDUP),
        },
        {
            "variant": "Evaluator.generate, cache filled",
            "batch": max(len(b) for b in batches),
            **figures(fill["seconds"]),
            "ratio": base["seconds"] / fill["seconds"],
        },
        {
            "variant": f"Evaluator.generate, cached rerun ({hit['cache_hits']} hits)",
            "batch": max(len(b) for b in batches),
            **figures(hit["seconds"]),
            "ratio": base["seconds"] / hit["seconds"],
        },
    ]
    columns = [
        ("variant", "variant", ""),
        ("batch", "batch", ""),
        ("seconds", "seconds", ".2f"),
        ("prompts_per_s", "prompts/s", ".2f"),
        ("new_tokens_per_s", "new tok/s", ".1f"),
        ("ratio", "ratio", ".1f"),
        ("target", "target", ""),
        ("verdict", "verdict", ""),
    ]
    if gpu:
        columns.insert(5, ("mfu", "MFU", ".3f"))
    print(
        f"{model_info['name']} ({model_info['parameters'] / 1e6:.0f}M params, {args.dtype}, random init) "
        f"on {args.device}, {args.threads} threads; {n} prompts, max_new_tokens={args.max_new_tokens}, "
        f"greedy; {new_tokens} new tokens ({stopped_at_eos} answers stopped at EOS)"
    )
    print(table(rows, columns))
    print(
        f"identical greedy answers: {n - len(differences)}/{n}"
        + (f" ({len(differences) - len(real_differences)} numerical drift)" if differences else "")
        + f"; prompt ids identical: {prompt_ids_identical}/{n}; candidate runs identical: {deterministic}"
    )
    if gpu:
        print(
            f"peak GPU memory: baseline {peak_gpu['baseline']:.2f} GiB, "
            f"candidate {peak_gpu['candidate']:.2f} GiB "
            f"(weights included); {args.dtype} matmul peak {peak_tflops:.0f} TFLOP/s"
        )
    path = write_result(
        "generation",
        {
            "smoke": args.smoke,
            "settings": {
                "device": args.device,
                "arch": args.arch,
                "dtype": args.dtype,
                "prompts": n,
                "max_new_tokens": args.max_new_tokens,
                "decoding": "greedy",
                "template": template,
                "candidate_batch_size": decoding.batch_size,
                "candidate_max_batch_tokens": decoding.max_batch_tokens,
                "candidate_batches": [len(b) for b in batches],
                "candidate_repeats": len(runs),
                "threads": args.threads,
            },
            "model": {**model_info, "build_and_load_seconds": build["seconds"]},
            "inputs": {
                "prompt_tokens": sum(len(ids) for ids in base["prompt_ids"]),
                "new_tokens": new_tokens,
                "answers_stopped_at_eos": stopped_at_eos,
            },
            "target": {"speedup_at_least": TARGET_SPEEDUP},
            "baseline": figures(base["seconds"]),
            "candidate": {**figures(cand_seconds), "runs_seconds": [r["seconds"] for r in runs]},
            "candidate_cache_fill": figures(fill["seconds"]),
            "candidate_cached_rerun": {**figures(hit["seconds"]), "cache_hits": hit["cache_hits"]},
            "speedup": speedup,
            "verdict": verdict(speedup, TARGET_SPEEDUP),
            "peak_gpu_memory_gib": peak_gpu,
            "matmul_peak_tflops": peak_tflops,
            "peak_rss_mb": peak_rss_mb(),
            "checks": {
                "outputs_identical": not real_differences,
                "identical_answers": n - len(differences),
                "differing_answers": len(differences),
                "numerical_drift_answers": len(differences) - len(real_differences),
                "differences": differences[:10],
                "prompt_ids_identical": prompt_ids_identical == n,
                "candidate_runs_identical": deterministic,
                "cache_served_all": hit["cache_hits"] == n,
            },
        },
        device=args.device,
        output=args.output,
    )
    print(f"wrote {path}")
    failed = [d["index"] for d in real_differences]
    if failed or prompt_ids_identical != n or not deterministic:
        print(
            f"CORRECTNESS FAILED: answers differ at {failed}; "
            f"prompt ids identical {prompt_ids_identical}/{n}; "
            f"candidate runs identical {deterministic}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"bench_generation finished in {time.perf_counter() - start:.1f} s")
    sys.exit(code)
