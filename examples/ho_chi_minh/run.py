"""Museum Q&A about Hồ Chí Minh: biography pages -> Q&A -> topic gate -> LoRA -> sweep -> evaluation -> chat.

    python examples/ho_chi_minh/run.py [--quick] [--output-dir runs/ho_chi_minh]
                                       [--teacher-url URL --teacher-model NAME]

Stages (one function each): read the HTML pages into passages and sentences, turn them into
question/answer pairs with a teacher (the offline template teacher unless an OpenAI-compatible
endpoint is given) plus the pairs we wrote by hand, fit a topic gate on the questions against
off-topic ones, build a tiny Llama, train LoRA (r=64, alpha=16, dropout 0.1, attention + MLP, first
half of the blocks frozen) with BLEU from generations and early stopping, sweep a few trials,
compare base and fine-tuned answers, and chat with the gate refusing unrelated questions.
``--quick`` (or env ``DOMAINFT_QUICK=1``) is the reduced mode of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from domainft import (
    ChatSession,
    DatasetBuilder,
    DocumentConfig,
    EvaluationReport,
    Recipe,
    SweepResult,
    SyntheticConfig,
    SyntheticQAGenerator,
    TopicGate,
    TopicGateConfig,
    build_tiny_model,
    get_teacher,
    read_documents,
    run_sweep,
)
from domainft.data.documents import split_sentences
from domainft.data.topic_gate import read_questions
from domainft.evaluation.knowledge.render import knowledge_markdown
from domainft.evaluation.knowledge.report import SUMMARY_KEYS
from domainft.workflows import evaluate_from_recipe, train_from_recipe

EXAMPLE_DIR = Path(__file__).resolve().parent
DATA_DIR = EXAMPLE_DIR / "data"
PAGES_DIR = DATA_DIR / "pages"
EXTRA_QA = DATA_DIR / "qa_extra.jsonl"
OFF_TOPIC = DATA_DIR / "off_topic_questions.txt"
DEFAULT_OUTPUT = Path("runs") / "ho_chi_minh"

#: Passages of 250-600 characters: a few sentences each, one topic of a page.
DOCUMENTS = DocumentConfig(min_chars=250, max_chars=600, languages=["en", "vi"])
#: Offline stand-in for the teacher: a question about the start of a sentence, the sentence as answer.
TEMPLATE_QUESTION = 'What does the room "{title}" say about "{topic}"?'
#: A template answer must be a whole sentence of at least five words (headings are rejected, and counted).
SENTENCE_PATTERN = r"\A(?:\S+\s+){4,}\S*[.!?][\"”’)]*\Z"
TEACHER_SYSTEM_PROMPT = (
    "You write the questions that visitors of a museum about Hồ Chí Minh ask, and the museum guide's "
    "answers. Use only facts stated in the passage, keep a neutral tone, answer in one or two sentences "
    "and write Vietnamese names with their diacritics."
)
#: Tiny Llama: 4 blocks, so that "first half frozen" (adapter.last_n_layers: 2) means something.
TINY_MODEL = {"architecture": "llama", "num_hidden_layers": 4, "hidden_size": 64, "intermediate_size": 128}
DOMAIN = "Hồ Chí Minh's life and the museum"
REFUSAL = "I can only answer questions about {domain}. Please ask me about his life, his work or the museum."
CHAT_QUESTIONS = [
    "Where was Hồ Chí Minh born?",
    "What is the Prison Diary?",
    "How do I bake sourdough bread at home?",
    "Which football team won the last World Cup?",
]
SIDE_BY_SIDE_EXAMPLES = 10


def load_recipe(output_dir: Path, *, quick: bool = False) -> Recipe:
    """The recipe next to this script, run folders under ``output_dir``, plus the quick-mode overrides."""
    recipe = Recipe.from_yaml(EXAMPLE_DIR / "recipe.yaml").resolve_paths(EXAMPLE_DIR)
    recipe.training.output_dir = str(output_dir / "train")
    recipe.model.name_or_path = str(output_dir / "tiny-model")
    recipe.training.disable_tqdm = True
    if quick:  # a few dozen steps and small generation sets: the whole run in well under a minute
        recipe.training.max_steps = 60
        recipe.training.eval_steps = 20
        recipe.training.generation_samples = 8
        recipe.training.generation_max_new_tokens = 24
        recipe.training.early_stopping_patience = 2
        recipe.evaluation.max_samples = 12
        recipe.evaluation.decoding.max_new_tokens = 32
        if recipe.evaluation.knowledge is not None:
            recipe.evaluation.knowledge.max_facts = 10
    return recipe


# ---------------------------------------------------------------------------------------------- data


def read_pages(pages_dir: Path = PAGES_DIR) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """HTML pages -> passages (navigation, header, footer, scripts stripped) and their sentence counts."""
    passages = read_documents(pages_dir, DOCUMENTS)
    sentences = [len(split_sentences(p["text"], passages.splitter)) for p in passages]
    for passage, count in zip(passages, sentences, strict=True):
        passage["sentences"] = count
    stats = {
        "pages": len(passages.files),
        "skipped": passages.skipped,
        "passages": len(passages),
        "sentences": sum(sentences),
        "passage_chars": {
            "min": min(len(p["text"]) for p in passages),
            "max": max(len(p["text"]) for p in passages),
        },
    }
    return list(passages), stats


def synthetic_config(
    output_dir: Path, teacher_url: str | None, teacher_model: str | None, api_key_env: str | None
) -> SyntheticConfig:
    """Documents mode: the template teacher offline, an OpenAI-compatible teacher when a URL is given."""
    if teacher_url:
        options: dict[str, Any] = {"base_url": teacher_url, "model": teacher_model or "default"}
        if api_key_env:
            options["api_key_env"] = api_key_env
        return SyntheticConfig(
            mode="documents",
            teacher="openai",
            teacher_options=options,
            system_prompt=TEACHER_SYSTEM_PROMPT,
            questions_per_passage=3,
            cache_dir=str(output_dir / "synthetic-cache"),
            progress=False,
        )
    return SyntheticConfig(
        mode="documents",
        teacher="template",
        teacher_options={"question": TEMPLATE_QUESTION, "topic_words": 6},
        questions_per_passage=5,
        answer_pattern=SENTENCE_PATTERN,
        progress=False,
    )


def read_extra_pairs(path: Path = EXTRA_QA) -> list[dict[str, Any]]:
    """The question/answer pairs we wrote by hand (a few planned duplicates and empty fields included)."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def build_data(
    recipe: Recipe,
    output_dir: Path,
    *,
    teacher_url: str | None = None,
    teacher_model: str | None = None,
    api_key_env: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Pages -> passages -> synthetic pairs + authored pairs -> cleaned train/validation/test splits.

    Writes ``data/qa_pairs.jsonl`` (every pair before cleaning), ``data/cleaning_report.json`` and the
    generator's folder ``synthetic/`` (pairs, rejections with reasons, stats). Points
    ``recipe.data.path`` at the pairs file. Returns the DatasetDict and the counts.
    """
    data_dir = output_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    passages, page_stats = read_pages()

    config = synthetic_config(output_dir, teacher_url, teacher_model, api_key_env)
    teacher = get_teacher(config.teacher, **config.teacher_options)
    generator = SyntheticQAGenerator(config, teacher=teacher)
    generated = generator.generate(passages)
    generator.save(output_dir / "synthetic")
    rejected = Counter(r["reason"] for r in generator.rejected())

    pairs = [
        {
            "id": row["id"],
            "question": row["prompt"],
            "answer": row["response"],
            "origin": "synthetic",
            "page": row["source"],
        }
        for row in generated
    ]
    extra = read_extra_pairs()
    pairs += [
        {
            "id": r["id"],
            "question": r["question"],
            "answer": r["answer"],
            "origin": "authored",
            "page": r["topic"],
        }
        for r in extra
    ]
    pairs_file = data_dir / "qa_pairs.jsonl"
    with pairs_file.open("w", encoding="utf-8") as handle:
        for row in pairs:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    recipe.data.path = str(pairs_file)
    builder = DatasetBuilder.from_config(recipe.data)
    datasets = builder.build()
    report = builder.cleaning_report
    (data_dir / "cleaning_report.json").write_text(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    kept_origin = Counter(row["origin"] for split in datasets.values() for row in split)
    stats = {
        **page_stats,
        "teacher": teacher.name,
        "synthetic_pairs": len(generated),
        "synthetic_rejected": dict(rejected),
        "authored_pairs": len(extra),
        "pairs_before_cleaning": len(pairs),
        "pairs_after_cleaning": report.rows_out,
        "dropped_by_reason": dict(report.dropped_by_reason),
        "kept_by_origin": dict(kept_origin),
        "splits": {name: split.num_rows for name, split in datasets.items()},
    }
    plot_pairs_per_page(passages, pairs, datasets, output_dir / "qa_per_page.png")
    return datasets, stats


def plot_pairs_per_page(
    passages: list[dict[str, Any]], pairs: list[dict[str, Any]], datasets: Any, path: Path
) -> Path:
    """Bar chart: passages and kept Q&A pairs per page (authored pairs per topic as a last bar)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kept_ids = {row["id"] for split in datasets.values() for row in split}
    pages = sorted({p["source"] for p in passages})
    n_passages = [sum(p["source"] == page for p in passages) for page in pages]
    n_pairs = [sum(r["page"] == page and r["id"] in kept_ids for r in pairs) for page in pages]
    authored = sum(r["origin"] == "authored" and r["id"] in kept_ids for r in pairs)
    labels = [page.removesuffix(".html") for page in pages] + ["authored (all topics)"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], [*n_passages, 0], width=0.4, label="passages")
    ax.bar([x + 0.2 for x in xs], [*n_pairs, authored], width=0.4, label="Q&A pairs kept")
    ax.set_xticks(list(xs), labels, rotation=45, ha="right", fontsize=8)
    ax.set_title("Biography pages: passages and Q&A pairs")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------------- gate


def fit_gate(datasets: Any, output_dir: Path) -> tuple[TopicGate, dict[str, Any]]:
    """TopicGate: these questions against the built-in general questions plus our off-topic ones."""
    in_domain = [q for split in datasets.values() for q in split["prompt"]]
    general = read_questions("builtin:general_questions")
    authored = read_questions(OFF_TOPIC)
    gate = TopicGate(TopicGateConfig(seed=42)).fit(in_domain, general + authored)
    gate_dir = output_dir / "topic_gate"
    gate.save(gate_dir)
    report = gate.report
    (gate_dir / "classification_report.txt").write_text(str(report) + "\n", encoding="utf-8")
    (gate_dir / "classification_report.json").write_text(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    stats = {
        "in_domain": len(in_domain),
        "out_of_domain": {"builtin": len(general), "authored": len(authored)},
        "threshold": gate.threshold,
        "held_out": report.n_examples,
        "per_class": report.per_class,
        "accuracy": report.accuracy,
        "roc_auc": report.roc_auc,
        "f1": report.f1,
    }
    return gate, stats


# ------------------------------------------------------------------------------------- model + training


def build_model(datasets: Any, recipe: Recipe, passages_text: list[str] | None = None) -> Path:
    """A tiny random-init Llama whose tokenizer is trained on the training pairs (in the prompt format)."""
    texts = [f"<human>: {r['prompt']}\n<assistant>: {r['response']}" for r in datasets["train"]]
    return build_tiny_model(
        texts + list(passages_text or []), recipe.model.name_or_path, seed=0, **TINY_MODEL
    )


def train(recipe: Recipe, datasets: Any) -> Any:
    """LoRA training with BLEU from generations and early stopping; returns the ``TrainOutcome``."""
    return train_from_recipe(recipe, datasets=datasets)


def training_stats(outcome: Any, recipe: Recipe) -> dict[str, Any]:
    """Headline numbers of the run and its BLEU curve (step -> validation BLEU)."""
    result = outcome.result
    points: dict[int, dict[str, Any]] = {}  # the first evaluation at each step (not the re-run on the best)
    for entry in result.log_history:
        for key, name in (("eval_bleu", "bleu"), ("eval_loss", "loss")):
            if key in entry:
                points.setdefault(entry["step"], {"step": entry["step"]}).setdefault(name, entry[key])
    curve = [p for p in points.values() if "bleu" in p]
    model = outcome.model
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    layers = sorted(
        {int(n.split(".layers.")[1].split(".")[0]) for n, _ in model.named_parameters() if "lora_" in n}
    )
    return {
        "steps": result.global_step,
        "runtime_s": round(result.runtime_s, 1),
        "train_loss": result.train_loss,
        "initial_eval_loss": result.initial_eval_loss,
        "eval_loss": result.eval_loss,
        "best_bleu": result.best_metric,
        "last_bleu": curve[-1]["bleu"] if curve else None,  # at the last step, before the best was restored
        "kept_bleu": result.generation_metrics.get("eval_bleu"),  # of the adapter kept (the best)
        "stopped_early": result.stopped_early,
        "best_checkpoint": Path(result.best_checkpoint).name if result.best_checkpoint else None,
        "best_step": int(Path(result.best_checkpoint).name.split("-")[-1])
        if result.best_checkpoint
        else None,
        "bleu_curve": curve,
        "trainable_parameters": trainable,
        "total_parameters": total,
        "lora": {
            "r": recipe.adapter.r,
            "alpha": recipe.adapter.alpha,
            "dropout": recipe.adapter.dropout,
            "target_modules": recipe.adapter.target_modules,
            "modules_to_save": recipe.adapter.modules_to_save,
        },
        "blocks": model.config.num_hidden_layers,
        "adapted_blocks": layers,
    }


def plot_bleu_curve(stats: dict[str, Any], path: Path) -> Path:
    """Validation BLEU of generations at every evaluation, with the best point and the stop marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [p["step"] for p in stats["bleu_curve"]]
    bleu = [p["bleu"] for p in stats["bleu_curve"]]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, bleu, marker="o", label="validation BLEU (greedy generations)")
    if bleu:
        best = max(range(len(bleu)), key=lambda i: (bleu[i], -i))
        ax.scatter(
            [steps[best]], [bleu[best]], s=120, facecolors="none", edgecolors="red", label="best (kept)"
        )
    if stats["stopped_early"] and steps:
        ax.axvline(steps[-1], color="grey", linestyle="--", label="early stop")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("BLEU (0-100)")
    ax.set_title("BLEU from generations during training")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def sweep(recipe: Recipe, datasets: Any, output_dir: Path, *, quick: bool = False) -> SweepResult:
    """A few trials (learning rate x rank) on the same data, compared in one table and one chart."""
    base = Recipe.from_dict(recipe.to_dict())
    if quick:
        base.training.max_steps = 20
        base.training.eval_steps = 10
        base.training.early_stopping_patience = None
        base.training.metric_for_best_model = "eval_loss"
        base.training.generation_samples = 4
        grid: dict[str, list[Any]] = {"training.learning_rate": [0.003, 0.006]}
    else:
        base.training.max_steps = 120  # short trials: the ranking shows early (docs/sweeps.md, Tips)
        base.training.eval_steps = 40
        base.training.early_stopping_patience = None  # same length for every trial: compare like with like
        base.training.generation_samples = 12
        grid = {"training.learning_rate": [0.002, 0.006], "adapter.r": [16, 64]}
    return run_sweep(base, grid, output_dir / "sweep", datasets=datasets, rerun=True)


# ------------------------------------------------------------------------------------ evaluation + chat


def evaluate(recipe: Recipe, outcome: Any, datasets: Any, output_dir: Path) -> EvaluationReport:
    """Base (adapter off) vs fine-tuned on the test split: ROUGE, BLEU with CIs; also ``side_by_side.md``."""
    report = evaluate_from_recipe(
        recipe, datasets=datasets, model=outcome.model, tokenizer=outcome.tokenizer, progress=False
    )
    write_side_by_side(report, output_dir / "side_by_side.md")
    return report


def write_side_by_side(report: EvaluationReport, path: Path, n: int = SIDE_BY_SIDE_EXAMPLES) -> Path:
    """Markdown with the question, the reference, the base answer and the tuned answer of ``n`` examples."""
    lines = ["# Base vs fine-tuned answers", "", f"First {min(n, len(report.samples))} test questions.", ""]
    for k, sample in enumerate(report.samples[:n], 1):
        bleu = {name: sample.scores.get(name, {}).get("bleu") for name in ("base", "tuned")}
        lines += [
            f"## {k}. {sample.prompt}",
            "",
            f"- **Reference:** {sample.reference}",
            f"- **Base:** {sample.predictions.get('base') or '(empty)'} "
            f"(sentence BLEU {bleu['base'] or 0:.1f})",
            f"- **Tuned:** {sample.predictions.get('tuned') or '(empty)'} "
            f"(sentence BLEU {bleu['tuned'] or 0:.1f})",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def chat(outcome: Any, gate: TopicGate, recipe: Recipe, output_dir: Path) -> list[dict[str, Any]]:
    """Ask museum and unrelated questions; the gate refuses the unrelated ones. Writes the transcript."""
    session = ChatSession(
        outcome.model,
        outcome.tokenizer,
        topic_gate=gate,
        generation={"max_new_tokens": recipe.evaluation.decoding.max_new_tokens, "repetition_penalty": 1.1},
        template=recipe.training.template,
        domain=DOMAIN,
        refusal=REFUSAL,
    )
    turns = []
    lines = [
        "# Chat transcript",
        "",
        f"Topic gate threshold {gate.threshold:.2f}; template `{recipe.training.template}`.",
        "",
    ]
    for question in CHAT_QUESTIONS:
        reply = session.ask(question)
        turns.append(
            {
                "question": question,
                "answer": reply.text,
                "gated": reply.gated,
                "topic_score": reply.topic_score,
                "finish_reason": reply.finish_reason,
            }
        )
        status = "refused by the gate" if reply.gated else "answered"
        lines += [f"**you>** {question}", "", f"**assistant>** {reply.text}", ""]
        lines += [f"*topic score {reply.topic_score:.3f}, {status}*", ""]
    session.close()
    (output_dir / "chat_transcript.md").write_text("\n".join(lines), encoding="utf-8")
    return turns


# ---------------------------------------------------------------------------------------------- summary


def metric(report: EvaluationReport, system: str, name: str) -> dict[str, Any]:
    value = report.systems[system][name]
    return {"value": value.value, "ci_low": value.ci_low, "ci_high": value.ci_high, "n": value.n}


def write_summary(summary: dict[str, Any], sweep_result: SweepResult, output_dir: Path) -> None:
    """``summary.json`` (every headline number) and ``summary.md`` (the README tables)."""
    (output_dir / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    d, g, t, e = summary["data"], summary["gate"], summary["training"], summary["evaluation"]
    per = g["per_class"]
    lines = [
        "| Data | |",
        "|---|---|",
        f"| pages / passages / sentences | {d['pages']} / {d['passages']} / {d['sentences']} |",
        f"| synthetic pairs ({d['teacher']}) | {d['synthetic_pairs']} "
        f"(rejected: {', '.join(f'{k} {v}' for k, v in d['synthetic_rejected'].items()) or 'none'}) |",
        f"| authored pairs | {d['authored_pairs']} |",
        f"| after cleaning | {d['pairs_after_cleaning']} "
        f"(dropped: {', '.join(f'{k} {v}' for k, v in d['dropped_by_reason'].items()) or 'none'}) |",
        f"| train / validation / test | {d['splits']['train']} / {d['splits']['validation']} "
        f"/ {d['splits']['test']} |",
        "",
        f"| Topic gate ({g['held_out']} held-out questions) | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for cls in ("in_domain", "out_of_domain"):
        c = per[cls]
        lines.append(
            f"| {cls} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']:.0f} |"
        )
    lines += [
        "",
        "| Training (LoRA r=64, alpha=16, dropout 0.1, attention+MLP, blocks "
        f"{t['adapted_blocks']} of {t['blocks']}) | |",
        "|---|---|",
        f"| steps (early stop: {'yes' if t['stopped_early'] else 'no'}) | {t['steps']} |",
        f"| validation loss | {t['initial_eval_loss']:.3f} -> {t['eval_loss']:.3f} |",
        f"| validation BLEU: best (step {t['best_step']}, kept) / last step "
        f"| {t['best_bleu'] or 0:.2f} / {t['last_bleu'] or 0:.2f} |",
        f"| trainable / total parameters | {t['trainable_parameters']:,} / {t['total_parameters']:,} |",
        "",
        "Sweep:",
        "",
        sweep_result.to_markdown(),
        "",
        f"| Test set ({e['n']} questions) | base | fine-tuned |",
        "|---|---|---|",
    ]
    for name in ("bleu", "rouge1", "rougeL"):
        b, f = e["base"][name], e["tuned"][name]
        lines.append(
            f"| {name} | {b['value']:.3f} [{b['ci_low']:.3f}, {b['ci_high']:.3f}] "
            f"| {f['value']:.3f} [{f['ci_low']:.3f}, {f['ci_high']:.3f}] |"
        )
    if summary.get("knowledge"):
        lines += ["", *knowledge_markdown(summary["knowledge"])]
    c = summary["chat"]
    lines += [
        "",
        f"Chat: {c['answered']} museum questions answered, "
        f"{c['refused']} unrelated questions refused by the gate.",
        "",
        f"Wall time: {summary['wall_time_s']:.0f} s ({'quick' if summary['quick'] else 'full'} mode).",
        "",
    ]
    (output_dir / "summary.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="reduced mode for tests and CI (also DOMAINFT_QUICK=1)"
    )
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--teacher-url",
        default=os.environ.get("DOMAINFT_TEACHER_URL"),
        help="OpenAI-compatible endpoint that writes the Q&A pairs (default: offline template teacher)",
    )
    parser.add_argument("--teacher-model", default=os.environ.get("DOMAINFT_TEACHER_MODEL"))
    parser.add_argument(
        "--teacher-api-key-env", default=None, help="name of the variable holding the API key"
    )
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("DOMAINFT_QUICK") == "1"
    out: Path = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    stage_times: dict[str, float] = {}
    clock = [start]

    def lap(name: str) -> None:
        now = time.perf_counter()
        stage_times[name] = round(now - clock[0], 1)
        clock[0] = now

    recipe = load_recipe(out, quick=quick)
    print("1/7 data: pages -> passages -> Q&A pairs", flush=True)
    datasets, data_stats = build_data(
        recipe,
        out,
        teacher_url=args.teacher_url,
        teacher_model=args.teacher_model,
        api_key_env=args.teacher_api_key_env,
    )
    print(
        f"    {data_stats['pages']} pages, {data_stats['passages']} passages, "
        f"{data_stats['sentences']} sentences; "
        f"{data_stats['pairs_after_cleaning']} pairs after cleaning {data_stats['splits']}",
        flush=True,
    )
    lap("data")

    print("2/7 topic gate", flush=True)
    gate, gate_stats = fit_gate(datasets, out)
    print(f"    held-out F1 in-domain {gate_stats['f1']:.3f}", flush=True)
    lap("gate")

    print("3/7 tiny model + LoRA training (BLEU from generations, early stopping)", flush=True)
    build_model(datasets, recipe)
    outcome = train(recipe, datasets)
    train_stats = training_stats(outcome, recipe)
    plot_bleu_curve(train_stats, out / "bleu_curve.png")
    print(
        f"    {train_stats['steps']} steps, best validation BLEU {train_stats['best_bleu'] or 0:.1f}, "
        f"stopped early: {train_stats['stopped_early']}",
        flush=True,
    )
    lap("training")

    print("4/7 sweep", flush=True)
    sweep_result = sweep(recipe, datasets, out, quick=quick)
    lap("sweep")

    print("5/7 evaluation: base vs fine-tuned", flush=True)
    report = evaluate(recipe, outcome, datasets, out)
    print(report.summary(), flush=True)
    lap("evaluation")

    print("6/7 chat with the topic gate", flush=True)
    turns = chat(outcome, gate, recipe, out)
    lap("chat")

    n = report.systems["tuned"]["bleu"].n
    summary = {
        "quick": quick,
        "data": data_stats,
        "gate": gate_stats,
        "training": train_stats,
        "sweep": {
            "trials": [
                {
                    "name": t.name,
                    "overrides": t.overrides,
                    "status": t.status,
                    "eval_loss": t.metrics.get("eval_loss"),
                    "eval_bleu": t.metrics.get("eval_bleu"),
                }
                for t in sweep_result.trials
            ],
            "best": sweep_result.best.name if sweep_result.best else None,
            "metric": sweep_result.metric,
        },
        "evaluation": {
            "n": n,
            "base": {m: metric(report, "base", m) for m in ("bleu", "rouge1", "rougeL", "perplexity")},
            "tuned": {m: metric(report, "tuned", m) for m in ("bleu", "rouge1", "rougeL", "perplexity")},
        },
        "knowledge": {k: v for k, v in report.knowledge.items() if k in SUMMARY_KEYS},
        "chat": {
            "turns": turns,
            "answered": sum(not t["gated"] for t in turns),
            "refused": sum(t["gated"] for t in turns),
        },
        "files": [],
        "stage_times_s": stage_times,
        "wall_time_s": 0.0,
    }
    print("7/7 summary", flush=True)
    summary["wall_time_s"] = round(time.perf_counter() - start, 1)
    summary["files"] = sorted(
        str(p.relative_to(out))
        for p in out.glob("*")
        if p.is_file() and p.name not in {"summary.json", "summary.md"}
    )
    write_summary(summary, sweep_result, out)
    print(f"done in {summary['wall_time_s']:.0f} s {stage_times}: {out / 'summary.md'}", flush=True)
    return summary


if __name__ == "__main__":
    main()
