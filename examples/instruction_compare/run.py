"""One instruction set, two architectures: a dense and a mixture-of-experts model, same LoRA, one table.

    python examples/instruction_compare/run.py [--quick] [--output-dir runs/instruction_compare]
                                               [--judge-url URL --judge-model NAME] [--eval-only]

Stages (one function each): build the two tiny base models (``build_models``), build the data with
the token-length filter (``build_data``), let each base model read the training split as plain text
(``pretrain``, an offline stand-in for a pretrained base), fine-tune each architecture with the same
LoRA settings (``train``), compare base and fine-tuned on the test split (``evaluate``), and assemble
the table (``compare``). Without a judge endpoint the judge is the offline ``similarity`` stand-in and RAGAS
answer correctness, which needs an LLM, is shown as not available. ``--eval-only`` re-evaluates the
adapters already trained in the output folder, e.g. to add an LLM judge to an offline run.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from domainft import DatasetBuilder, Recipe, build_tiny_model
from domainft.workflows import evaluate_from_recipe, train_from_recipe

HERE = Path(__file__).resolve().parent
NAME = "instruction_compare"
#: The two tiny architectures: same width and depth, the MoE one has 4 experts per layer, 2 per token.
ARCHITECTURES: dict[str, dict[str, Any]] = {
    "dense": {"architecture": "llama"},
    "moe": {"architecture": "mixtral", "num_local_experts": 4, "num_experts_per_tok": 2},
}
#: Size shared by both tiny models (TinyModelConfig fields).
TINY_SIZE: dict[str, Any] = {"hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2}
LABELS = {"dense": "dense (llama)", "moe": "MoE (mixtral, 4 experts, top-2)"}
NEEDS_ENDPOINT = "n/a (needs a judge endpoint)"
SIMILARITY_JUDGE = "similarity judge (offline stand-in)"
#: Steps of the offline stand-in for pretraining (full mode, quick mode).
PRETRAIN_STEPS = {False: 300, True: 60}
TABLE_KEYS = ("judge_score", "ragas_answer_correctness", "semantic_similarity", "ragas_semantic_similarity")


def quick_mode(flag: bool = False) -> bool:
    """``--quick`` or ``DOMAINFT_QUICK=1``."""
    return flag or os.environ.get("DOMAINFT_QUICK", "") not in ("", "0", "false", "False")


def load_recipe(output_dir: str | Path, quick: bool = False) -> Recipe:
    """The recipe with its paths under ``output_dir``; quick mode trains fewer steps on fewer tests."""
    recipe = Recipe.from_yaml(HERE / "recipe.yaml").resolve_paths(HERE)
    out = Path(output_dir)
    recipe.training.output_dir = str(out / "dense")
    recipe.model.name_or_path = str(out / "models" / "dense")
    for step in recipe.data.cleaning:
        if step.get("step") == "token_filter":
            step["tokenizer"] = str(out / "models" / "dense")
    recipe.training.disable_tqdm = True
    if quick:  # the two LoRA epochs are cheap; quick mode shortens the rest
        recipe.training.eval_strategy = "no"
        recipe.evaluation.max_samples = 8
        recipe.evaluation.decoding.max_new_tokens = 32
        recipe.evaluation.statistics.resamples = 200
    return recipe


def endpoint_from(url: str | None, model: str | None) -> dict[str, Any] | None:
    """The judge endpoint from the options or ``DOMAINFT_JUDGE_URL`` / ``DOMAINFT_JUDGE_MODEL``."""
    url = url or os.environ.get("DOMAINFT_JUDGE_URL") or None
    model = model or os.environ.get("DOMAINFT_JUDGE_MODEL") or None
    if url is None and model is None:
        return None
    if url is None or model is None:
        raise SystemExit("a judge endpoint needs both --judge-url and --judge-model")
    return {"base_url": url, "model": model, "timeout_s": 120.0, "max_retries": 3}


def build_models(recipe: Recipe, output_dir: str | Path) -> dict[str, Path]:
    """Build one tiny random-init base model per architecture, tokenizer trained on the data's texts.

    Both tokenizers are trained on the same texts, so they are identical: the token-length filter
    and the prompts are the same for both models.
    """
    raw = DatasetBuilder.from_file(recipe.data.path, format=recipe.data.format).dataset
    texts = [f"{p}\n{r}" for p, r in zip(raw["prompt"], raw["response"], strict=True)]
    models = Path(output_dir) / "models"
    return {
        arch: build_tiny_model(texts, models / arch, seed=0, **TINY_SIZE, **fields)
        for arch, fields in ARCHITECTURES.items()
    }


def pretrain_base(
    model_dir: str | Path,
    texts: list[str],
    steps: int = 300,
    lr: float = 3e-3,
    block: int = 128,
    seed: int = 0,
) -> dict[str, Any]:
    """Offline stand-in for a pretrained base: full-parameter causal-LM training on plain ``texts``.

    A random-init model cannot follow instructions after two LoRA epochs; a real base model has
    read a lot of text first. Here the tiny model reads the training split as plain text (no
    template, no instruction markers), packed into blocks of ``block`` tokens, and is saved back in
    place. The test split is never read.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir = Path(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    ids: list[int] = []
    for text in texts:
        ids += tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    rows = torch.tensor(ids[: len(ids) // block * block]).view(-1, block)
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps, pct_start=0.05)
    model.train()
    start, losses = time.time(), []
    for _ in range(steps):
        batch = rows[torch.randint(len(rows), (8,), generator=generator)]
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    model.save_pretrained(model_dir)
    tail = losses[-20:]
    return {
        "steps": steps,
        "tokens": steps * 8 * block,
        "loss_first": round(losses[0], 3),
        "loss_last": round(sum(tail) / len(tail), 3),
        "wall_s": round(time.time() - start, 2),
    }


def pretrain(datasets: Any, output_dir: str | Path, quick: bool = False) -> dict[str, dict[str, Any]]:
    """Run :func:`pretrain_base` on every architecture with the training split's texts; the numbers
    are also written to ``models/pretraining.json``."""
    train_split = datasets["train"]
    texts = [f"{p}\n{r}" for p, r in zip(train_split["prompt"], train_split["response"], strict=True)]
    models = Path(output_dir) / "models"
    numbers = {
        arch: pretrain_base(models / arch, texts, steps=PRETRAIN_STEPS[quick]) for arch in ARCHITECTURES
    }
    (models / "pretraining.json").write_text(json.dumps(numbers, indent=2), encoding="utf-8")
    return numbers


def build_data(recipe: Recipe, output_dir: str | Path) -> tuple[Any, dict[str, Any]]:
    """Alpaca records -> cleaning -> token-length filter -> train/validation/test; with the counts.

    Every dropped row is written to ``data/dropped.jsonl`` with its reason and token count.
    """
    builder = DatasetBuilder.from_config(recipe.data)
    datasets = builder.build()
    report = builder.cleaning_report
    data_dir = Path(output_dir) / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "cleaning_report.json").write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    dropped = builder.dropped()
    with (data_dir / "dropped.jsonl").open("w", encoding="utf-8") as f:
        for row in dropped:
            f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    budgets = {
        step["column"]: step["max_tokens"]
        for step in recipe.data.cleaning
        if step.get("step") == "token_filter"
    }
    counts = {
        "rows_in": report.rows_in,
        "rows_out": report.rows_out,
        "dropped_by_reason": dict(report.dropped_by_reason),
        "too_many_tokens": report.dropped_by_reason.get("too_many_tokens", 0),
        "duplicates": report.dropped_by_reason.get("duplicate", 0),
        "token_budget": budgets,
        "splits": {name: split.num_rows for name, split in datasets.items()},
    }
    return datasets, counts


def arch_recipe(recipe: Recipe, arch: str, output_dir: str | Path) -> Recipe:
    """A copy of ``recipe`` for one architecture: its own base model and run folder."""
    copy = Recipe.from_dict(recipe.to_dict())
    copy.model.name_or_path = str(Path(output_dir) / "models" / arch)
    copy.training.output_dir = str(Path(output_dir) / arch)
    return copy


def train(recipe: Recipe, datasets: Any) -> tuple[Any, dict[str, Any]]:
    """Fine-tune one architecture; the numbers come from the run's ``manifest.json``."""
    outcome = train_from_recipe(recipe, datasets=datasets)
    return outcome, training_numbers(recipe.run_dir)


def training_numbers(run_dir: str | Path) -> dict[str, Any]:
    """Training wall time, tokens/s, losses and model size, read back from ``manifest.json``."""
    manifest = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
    result = manifest["result"]
    wall = result["runtime_s"]
    return {
        "wall_s": round(wall, 2),
        "tokens_seen": result["tokens_seen"],
        "tokens_per_s": round(result["tokens_seen"] / wall, 1) if wall else None,
        "steps": result["global_step"],
        "train_loss": result["train_loss"],
        "initial_eval_loss": result["initial_eval_loss"],
        "eval_loss": result["eval_loss"],
        "parameters": manifest["model"]["parameters"],
        "device": manifest["machine"]["device"],
    }


def configure_judge(recipe: Recipe, endpoint: dict[str, Any] | None) -> str:
    """Offline: the recipe's similarity judge. With an endpoint: that LLM as the judge, plus RAGAS
    answer correctness with the same LLM. Returns the judge's label for the table."""
    if endpoint is None:
        return SIMILARITY_JUDGE
    recipe.evaluation.judge = recipe.evaluation.judge.updated(backend="openai", endpoint=endpoint)
    metrics = list(recipe.evaluation.metrics)
    if "ragas_answer_correctness" not in metrics:
        metrics.insert(metrics.index("judge") + 1, "ragas_answer_correctness")
    recipe.evaluation.metrics = metrics
    options = dict(recipe.evaluation.metric_options)
    options["ragas_answer_correctness"] = {"llm": endpoint, "max_workers": 4}
    recipe.evaluation.metric_options = options
    return f"LLM judge ({endpoint['model']})"


def evaluate(recipe: Recipe, datasets: Any, outcome: Any | None = None) -> Any:
    """Base (adapter off) vs tuned on the test split; the report goes to ``<run>/eval``.

    With ``outcome`` the trained model in memory is used, otherwise base + adapter are loaded from
    the run folder (the generation cache makes a re-evaluation generate nothing twice).
    """
    if outcome is None:
        return evaluate_from_recipe(recipe, datasets=datasets, progress=False)
    return evaluate_from_recipe(
        recipe, datasets=datasets, model=outcome.model, tokenizer=outcome.tokenizer, progress=False
    )


def _value(report: Any, system: str, key: str) -> float | None:
    value = report.systems.get(system, {}).get(key)
    return None if value is None else round(value.value, 4)


def compare(
    reports: dict[str, Any], training: dict[str, dict[str, Any]], judge_label: str, endpoint: bool
) -> dict[str, Any]:
    """One row per (architecture, base/tuned) with training time, tokens/s and the four scores."""
    rows = []
    for arch, report in reports.items():
        for system in ("base", "tuned"):
            row: dict[str, Any] = {"architecture": arch, "label": LABELS[arch], "system": system}
            tuned = system == "tuned"
            row["training_s"] = training[arch]["wall_s"] if tuned else None
            row["tokens_per_s"] = training[arch]["tokens_per_s"] if tuned else None
            for key in TABLE_KEYS:
                row[key] = _value(report, system, key)
            if not endpoint:
                row["ragas_answer_correctness"] = NEEDS_ENDPOINT
            row["n"] = report.meta.get("n_examples")
            rows.append(row)
    return {"judge": judge_label, "rows": rows}


def _cell(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}"


def table_markdown(table: dict[str, Any]) -> str:
    """The comparison table in Markdown (what the README shows)."""
    lines = [
        f"| Architecture | System | Training time (s) | Tokens/s | Judge score 1–10 ({table['judge']}) "
        "| RAGAS answer correctness | Semantic similarity | RAGAS semantic similarity |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in table["rows"]:
        lines.append(
            f"| {row['label']} | {row['system']} | {_cell(row['training_s'], 1)} "
            f"| {_cell(row['tokens_per_s'], 0)} "
            f"| {_cell(row['judge_score'], 2)} | {_cell(row['ragas_answer_correctness'])} "
            f"| {_cell(row['semantic_similarity'])} | {_cell(row['ragas_semantic_similarity'])} |"
        )
    return "\n".join(lines)


def plot_comparison(table: dict[str, Any], path: str | Path) -> Path:
    """Three panels: training time per architecture, judge score and semantic similarity per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = table["rows"]
    archs = list(dict.fromkeys(r["architecture"] for r in rows))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    tuned = {r["architecture"]: r for r in rows if r["system"] == "tuned"}
    axes[0].bar(archs, [tuned[a]["training_s"] or 0 for a in archs], color=["#4c72b0", "#dd8452"])
    axes[0].set_title("LoRA training wall time (s)")
    for ax, key, title, top in (
        (axes[1], "judge_score", "Judge score (1–10)", 10),
        (axes[2], "semantic_similarity", "Semantic similarity", 1),
    ):
        width = 0.38
        for i, system in enumerate(("base", "tuned")):
            values = [
                next(r[key] for r in rows if r["architecture"] == a and r["system"] == system) or 0
                for a in archs
            ]
            xs = [j + (i - 0.5) * width for j in range(len(archs))]
            ax.bar(xs, values, width, label=system, color="#bbbbbb" if system == "base" else "#55a868")
        ax.set_xticks(range(len(archs)), archs)
        ax.set_ylim(0, top)
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle(f"Same LoRA on a dense and a MoE tiny model — judge: {table['judge']}", fontsize=10)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def write_summary(summary: dict[str, Any], output_dir: str | Path) -> None:
    out = Path(output_dir)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    data = summary["data"]
    dropped = ", ".join(f"{k}: {v}" for k, v in sorted(data["dropped_by_reason"].items()))
    md = [
        f"# {NAME}: dense vs mixture of experts, same LoRA{' (quick mode)' if summary['quick'] else ''}",
        "",
        f"Data: {data['rows_in']} alpaca records, {data['rows_out']} kept ({dropped}); "
        f"token budget {data['token_budget']}; splits {data['splits']}.",
        "",
        table_markdown(summary["table"]),
        "",
    ]
    for arch, numbers in summary["training"].items():
        md.append(
            f"- {LABELS[arch]}: {numbers['parameters']['total']:,} parameters "
            f"({numbers['parameters']['trainable']:,} trainable), {numbers['steps']} steps, "
            f"{numbers['tokens_seen']:,} tokens, validation loss {_cell(numbers['initial_eval_loss'])} -> "
            f"{_cell(numbers['eval_loss'])}"
        )
    md.append(f"\nWall time of the whole run: {summary['wall_s']:.0f} s.")
    (out / "summary.md").write_text("\n".join(md) + "\n", encoding="utf-8")


def quiet_progress_bars() -> None:
    """No per-file progress bars from datasets, transformers and the hub client (stage prints remain)."""
    import datasets
    import transformers
    from huggingface_hub.utils import disable_progress_bars

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    disable_progress_bars()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps and test examples (CI, tests)")
    parser.add_argument("--output-dir", default=f"runs/{NAME}")
    parser.add_argument("--judge-url", help="OpenAI-compatible endpoint of an LLM judge (also RAGAS)")
    parser.add_argument("--judge-model", help="model name at --judge-url")
    parser.add_argument(
        "--eval-only", action="store_true", help="re-evaluate the adapters already in --output-dir"
    )
    args = parser.parse_args(argv)
    quick = quick_mode(args.quick)
    out = Path(args.output_dir)
    endpoint = endpoint_from(args.judge_url, args.judge_model)
    start = time.time()
    quiet_progress_bars()
    recipe = load_recipe(out, quick=quick)

    if args.eval_only:
        missing = [a for a in ARCHITECTURES if not (out / a / "manifest.json").exists()]
        if missing:
            raise SystemExit(
                f"--eval-only: no trained run for {missing} in {out}; run without --eval-only first"
            )
    else:
        print(f"[1/6] building tiny random-init base models: {', '.join(ARCHITECTURES)}")
        build_models(recipe, out)
    print("[2/6] data: alpaca -> clean -> token filter -> split")
    datasets, data = build_data(recipe, out)
    print(f"      {data['rows_in']} in, {data['rows_out']} kept, dropped {data['dropped_by_reason']}")

    pretrain_file = out / "models" / "pretraining.json"
    if args.eval_only:
        pretraining = json.loads(pretrain_file.read_text(encoding="utf-8")) if pretrain_file.exists() else {}
    else:
        print(
            "[3/6] offline stand-in for pretraining: each base model reads the training split as plain text"
        )
        pretraining = pretrain(datasets, out, quick=quick)
    reports, training = {}, {}
    for arch in ARCHITECTURES:
        run = arch_recipe(recipe, arch, out)
        outcome = None
        if args.eval_only:
            training[arch] = training_numbers(run.run_dir)
        else:
            print(f"[4/6] LoRA fine-tuning: {LABELS[arch]}")
            outcome, training[arch] = train(run, datasets)
            numbers = training[arch]
            print(
                f"      {numbers['wall_s']:.1f} s, {numbers['tokens_per_s']:.0f} tokens/s, "
                f"{numbers['steps']} steps"
            )
        judge_label = configure_judge(run, endpoint)
        print(f"[5/6] evaluating base vs tuned: {LABELS[arch]} with the {judge_label}")
        reports[arch] = evaluate(run, datasets, outcome)

    print("[6/6] comparison table")
    table = compare(reports, training, judge_label, endpoint is not None)
    chart = plot_comparison(table, out / "comparison.png")
    summary = {
        "recipe": NAME,
        "quick": quick,
        "data": data,
        "judge": {"label": judge_label, "endpoint": endpoint is not None},
        "pretraining": pretraining,
        "training": training,
        "table": table,
        "reports": {arch: str(Path(arch) / "eval") for arch in reports},
        "chart": chart.name,
        "wall_s": round(time.time() - start, 1),
    }
    write_summary(summary, out)
    print(table_markdown(table))
    print(f"summary: {out / 'summary.md'}")
    return summary


if __name__ == "__main__":
    main()
