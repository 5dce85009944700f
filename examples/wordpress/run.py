"""WordPress plugin documentation -> a support assistant that answers in numbered steps.

    python examples/wordpress/run.py [--quick] [--output-dir runs/wordpress]
        [--teacher-url URL --teacher-model NAME]    # an LLM writes the Q&A from the pages
        [--judge-url URL --judge-model NAME]        # an LLM judge instead of the offline stand-in
        [--endpoint-url URL --endpoint-model NAME]  # a third system, e.g. a hosted fine-tuned model

Stages (one function each): build_data (documentation pages -> document-mode synthetic Q&A with
few-shot examples and the numbered_steps validator, plus the support Q&A table we wrote, replayed
through the same validator -> clean -> 470/20/30 split), export_data (the same splits as
hosted-fine-tuning JSONL), train (tiny Llama in 4-bit NF4, LoRA on every attention and MLP
projection), evaluate (base vs tuned [vs endpoint], greedy and sampled: pattern pass rates, judge
score, ROUGE/BLEU with confidence intervals), then charts and summary.json / summary.md.

Offline (the default) the teacher is domainft's template teacher and the judge is the "similarity"
stand-in (embedding similarity to the reference, not an LLM); every endpoint is optional.
``--quick`` (or DOMAINFT_QUICK=1) trains for a few steps on a subset, for tests and CI.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from domainft import (
    DatasetBuilder,
    DomainTrainer,
    EvaluationReport,
    Evaluator,
    LoraAdapterFactory,
    QuantizedLoader,
    Recipe,
    build_tiny_model,
)
from domainft.data.documents import DocumentConfig, read_documents
from domainft.data.synthetic import SyntheticConfig, SyntheticQAGenerator
from domainft.data.teachers import Teacher, get_teacher
from domainft.evaluation.judges.config import JudgeConfig

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
DEFAULT_OUTPUT = Path("runs/wordpress")

# the teacher's instructions (used by an LLM teacher; the offline template teacher fills the same slots)
TEACHER_SYSTEM_PROMPT = (
    "You write the questions that owners of WordPress sites running the Kestrel Bookings plugin send "
    "to its support team, and the support team's replies. Questions sound like real site owners. "
    "Replies use only the documentation you are given and name the exact admin menus."
)
DOCUMENT_TEMPLATE = (
    'Documentation page {source}:\n"""\n{passage}\n"""\n\n'
    "Write {n} question(s) a site owner could ask that this passage answers, each with the support "
    "reply: an optional one-line opening, then the steps in order."
)
ANSWER_TEMPLATE = (
    "Documentation page: {page_title}\nSection: {section}\nSteps from the documentation:\n{steps_text}\n\n"
    "A site owner asks: {question}\n\nWrite the support team's reply: an optional one-line opening, "
    "then the steps in order, then at most one closing line. Reply with the text only."
)
NO_TABLE_ROWS = r"\A[^|]*\Z"  # answers made of a settings table's rows are not steps


# ---------------------------------------------------------------------------------------------- setup


def load_recipe(quick: bool = False) -> Recipe:
    """The recipe next to this script; quick mode shortens training and evaluation."""
    cfg = Recipe.from_yaml(HERE / "recipe.yaml").resolve_paths(HERE)
    if quick:
        cfg.training.max_steps = 100
        cfg.training.eval_strategy = "no"
        cfg.training.logging_steps = 10
        cfg.evaluation.max_samples = 6
        cfg.evaluation.decoding.max_new_tokens = 48
        cfg.evaluation.statistics.resamples = 200
    return cfg


def endpoint_from(url: str | None, model: str | None, api_key_env: str | None, what: str) -> dict | None:
    """An OpenAI-compatible endpoint config, or None when neither URL nor model is set."""
    if not url and not model:
        return None
    if not (url and model):
        raise SystemExit(
            f"run.py: error: the {what} needs both a URL and a model name (got url={url!r}, model={model!r})"
        )
    endpoint = {"base_url": url, "model": model}
    if api_key_env:
        endpoint["api_key_env"] = api_key_env
    return endpoint


# ---------------------------------------------------------------------------------------------- data


@dataclasses.dataclass
class DataResult:
    """What build_data made: the splits, the builder (cleaning, leakage, export) and both generators."""

    datasets: Any
    builder: DatasetBuilder
    documents: SyntheticQAGenerator
    table: SyntheticQAGenerator
    passages: dict[str, Any]


def _headings(path: Path) -> list[str]:
    """The Markdown headings of a page as read_documents writes them (inline markup removed)."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^#{1,6}\s+(.*)", line):
            found.append(re.sub(r"\*\*|`", "", m.group(1)).strip())
    return found


def heading_question(section: str, title: str) -> str:
    """The question a section heading answers ("Connect Stripe" -> "How do I connect Stripe?")."""
    lower = section[0].lower() + section[1:]
    if section.endswith("?"):
        return section
    if section == title:
        return f"What should I know about {title[0].lower() + title[1:]}?"
    if section.startswith('"'):
        return f"What should I do about {section}?"
    if section.split()[0] in ("The", "Customers"):
        return f"What should I do when {lower}?"
    if len(section.split()) <= 2:
        return f"What are the {lower} settings?"
    return f"How do I {lower}?"


def passage_rows(docs: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Passages of the documentation pages, each with its section heading split off (``section``),
    the rest (``body``) and the question its heading answers (``heading_question``)."""
    passages = read_documents(docs, DocumentConfig(min_chars=40, max_chars=1200))
    headings = {source: set(_headings(docs / source)) for source in {r["source"] for r in passages}}
    rows, current = [], {}
    for row in passages:
        paragraphs = row["text"].split("\n\n")
        lead = []
        while len(paragraphs) > 1 and paragraphs[0] in headings[row["source"]]:
            lead.append(paragraphs.pop(0))
        section = lead[-1] if lead else current.get(row["source"], row["title"])
        current[row["source"]] = section
        rows.append(
            {
                **row,
                "section": section,
                "body": "\n\n".join(paragraphs),
                "heading_question": heading_question(section, row["title"]),
            }
        )
    info = {"files": len(passages.files), "passages": len(rows), "skipped": list(passages.skipped)}
    return rows, info


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def generate_from_documents(
    rows: list[dict[str, Any]], out: Path, teacher: Teacher, questions_per_passage: int = 1
) -> SyntheticQAGenerator:
    """Document mode: each passage -> questions_per_passage pairs, few-shot examples in the prompt,
    answers checked by the numbered_steps validator and the no-table pattern."""
    config = SyntheticConfig(
        mode="documents",
        text_column="body",
        system_prompt=TEACHER_SYSTEM_PROMPT,
        document_template=DOCUMENT_TEMPLATE,
        few_shot=read_jsonl(DATA / "few_shot.jsonl"),
        questions_per_passage=questions_per_passage,
        answer_validator="numbered_steps",
        answer_pattern=NO_TABLE_ROWS,
        cache_dir=str(out / "synthetic_cache"),
        progress=False,
    )
    generator = SyntheticQAGenerator(config, teacher=teacher)
    generator.generate(rows)
    generator.save(out / "synthetic" / "documents")
    return generator


def generate_from_table(out: Path, teacher: Teacher) -> SyntheticQAGenerator:
    """Records mode over the authored Q&A table: the question is ours, the answer comes from the
    teacher (offline: replayed from the table) and must pass the same numbered_steps validator."""
    config = SyntheticConfig(
        mode="records",
        system_prompt=TEACHER_SYSTEM_PROMPT,
        question_template="{user_question}",
        question_source="template",
        answer_template=ANSWER_TEMPLATE,
        answer_source="teacher",
        answer_validator="numbered_steps",
        id_column="id",
        cache_dir=str(out / "synthetic_cache"),
        progress=False,
    )
    generator = SyntheticQAGenerator(config, teacher=teacher)
    generator.generate(read_jsonl(DATA / "qa_table.jsonl"))
    generator.save(out / "synthetic" / "table")
    return generator


def build_data(
    cfg: Recipe,
    out: Path,
    *,
    teacher: dict[str, Any] | None = None,
    questions_per_passage: int | None = None,
) -> DataResult:
    """Docs -> synthetic pairs (documents + table) -> clean -> train/validation/test, saved to out/dataset."""
    rows, info = passage_rows(DATA / "docs")
    if teacher is None:  # offline: the template teacher fills the pattern from the sources themselves
        doc_teacher = get_teacher("template", question="{heading_question}", answer="{steps}")
        table_teacher = get_teacher("template", answer="{answer}")
        n = questions_per_passage or 1
    else:
        options = {"temperature": 0.7, "max_tokens": 1500, **teacher}
        doc_teacher = table_teacher = get_teacher("openai", **options)
        n = questions_per_passage or 4
    documents = generate_from_documents(rows, out, doc_teacher, n)
    table = generate_from_table(out, table_teacher)
    pool = []
    for origin, generator in (("documents", documents), ("table", table)):
        for row in generator.dataset.to_list():
            page = Path(row.get("source") or row["source_id"].split("#")[0]).stem
            pool.append(
                {
                    "id": row["id"],
                    "prompt": row["prompt"],
                    "response": row["response"],
                    "origin": origin,
                    "page": page,
                    "teacher": row["teacher"],
                }
            )
    # table rows name their page in the table, not in source_id
    pages = {r["id"]: r["page"] for r in read_jsonl(DATA / "qa_table.jsonl")}
    for row in pool:
        if row["origin"] == "table":
            row["page"] = pages[row["id"].rsplit("/", 1)[0]]
    d = cfg.data
    builder = (
        DatasetBuilder.from_records(pool, format=None)
        .clean()
        .split(
            train=d.train,
            validation=d.validation,
            test=d.test,
            seed=d.seed,
            stratify=d.stratify,
            leakage=d.leakage,
            leakage_threshold=d.leakage_threshold,
        )
    )
    dsd = builder.build()
    builder.save_to_disk(out / "dataset")
    return DataResult(dsd, builder, documents, table, info)


def export_data(data: DataResult, out: Path, system_prompt: str | None) -> dict[str, int]:
    """The same splits as hosted-fine-tuning JSONL ({"messages": [system, user, assistant]} per line)."""
    paths = data.builder.export(out / "export", format="openai-chat", system_prompt=system_prompt)
    return {p.name: sum(1 for _ in p.open(encoding="utf-8")) for p in paths}


# ---------------------------------------------------------------------------------------------- training


@dataclasses.dataclass
class Trained:
    model: Any
    tokenizer: Any
    result: Any
    model_dir: Path
    adapter: dict[str, Any]


def train(cfg: Recipe, data: DataResult, out: Path, *, quick: bool = False) -> Trained:
    """Tiny Llama built from the training texts, loaded in NF4, LoRA on attention+mlp, trained."""
    import datasets

    dsd = data.datasets
    if quick:  # a subset keeps the quick run short; the full splits are still built and exported
        dsd = datasets.DatasetDict(
            train=dsd["train"].select(range(min(160, dsd["train"].num_rows))),
            validation=dsd["validation"].select(range(min(8, dsd["validation"].num_rows))),
            test=dsd["test"],
        )
    texts = [cfg.training.system_prompt or ""] + [f"{r['prompt']}\n{r['response']}" for r in dsd["train"]]
    model_dir = build_tiny_model(texts, out / "tiny-model", seed=cfg.training.seed)
    model, tokenizer = QuantizedLoader(
        config=dataclasses.replace(cfg.model, name_or_path=str(model_dir))
    ).load()
    factory = LoraAdapterFactory(config=cfg.adapter)
    model = factory.apply(model)
    config = dataclasses.replace(cfg.training, output_dir=str(out / "train"))
    trainer = DomainTrainer(model=model, tokenizer=tokenizer, datasets=dsd, config=config)
    result = trainer.train()
    return Trained(model, tokenizer, result, model_dir, factory.summary.to_dict())


# ---------------------------------------------------------------------------------------------- evaluation


def evaluate(
    cfg: Recipe,
    trained: Trained,
    data: DataResult,
    out: Path,
    *,
    endpoint: dict[str, Any] | None = None,
    judge: dict[str, Any] | None = None,
) -> dict[str, EvaluationReport]:
    """Base vs tuned (vs endpoint) on the test split, once greedy and once with the sampling settings."""
    evaluation = dataclasses.replace(
        cfg.evaluation,
        system_prompt=cfg.evaluation.system_prompt or cfg.training.system_prompt,
        template=cfg.evaluation.template or cfg.training.template,
    )
    if judge is not None:  # an LLM judge with the WordPress support rubric replaces the stand-in
        evaluation.judge = JudgeConfig(
            backend="openai",
            endpoint=judge,
            criteria="wordpress_support",
            cache_dir=str(out / "judge_cache"),
            progress=False,
        )
    systems: dict[str, Any] = {"base": Evaluator.base_of(trained.model), "tuned": trained.model}
    if endpoint is not None:
        systems["endpoint"] = endpoint
    sampled = evaluation.decoding
    decodings = {"greedy": dataclasses.replace(sampled, do_sample=False), "sampled": sampled}
    reports = {}
    for name, decoding in decodings.items():
        evaluator = Evaluator.from_config(
            evaluation, decoding=decoding, progress=False, cache_dir=out / "generation_cache"
        )
        report = evaluator.compare(systems, data.datasets["test"], tokenizer=trained.tokenizer)
        report.meta["decoding_name"] = name
        report.meta["judge_kind"] = judge_label(judge)
        report.save(out / "eval" / name)
        reports[name] = report
    return reports


def judge_label(judge: dict[str, Any] | None) -> str:
    return (
        f"LLM judge {judge['model']} (wordpress_support rubric)"
        if judge
        else "similarity judge (offline stand-in)"
    )


# ---------------------------------------------------------------------------------------------- charts


def plot_data_funnel(summary_data: dict[str, Any], path: Path) -> Path:
    """Horizontal bars: pairs accepted and rejected (by reason) per source, cleaning drops, splits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, values, colours = [], [], []
    for source in ("documents", "table"):
        s = summary_data[source]
        labels.append(f"{source}: accepted")
        values.append(s["accepted"])
        colours.append("#2e7d32")
        for reason, count in sorted(s["rejected_by_reason"].items()):
            labels.append(f"{source}: {reason}")
            values.append(count)
            colours.append("#c62828")
    for reason, count in sorted(summary_data["cleaning"]["dropped_by_reason"].items()):
        labels.append(f"cleaning: {reason}")
        values.append(count)
        colours.append("#ef6c00")
    for split, count in summary_data["splits"].items():
        labels.append(f"split: {split}")
        values.append(count)
        colours.append("#1565c0")
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(labels) + 1))
    ax.barh(labels[::-1], values[::-1], color=colours[::-1])
    for y, v in enumerate(values[::-1]):
        ax.text(v, y, f" {v}", va="center", fontsize=8)
    ax.set_xlabel("rows")
    ax.set_title("From documentation pages to the 470/30 split")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_pattern_adherence(evaluation: dict[str, Any], path: Path) -> Path:
    """Grouped bars with CIs: share of answers in the numbered-steps pattern, per system and decoding."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    decodings = [d for d in ("greedy", "sampled") if d in evaluation]
    systems = list(evaluation[decodings[0]]["systems"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    panels = (("pattern_steps", "numbered steps"), ("pattern_all", "all pattern rules"))
    for ax, (key, title) in zip(axes, panels, strict=True):
        width = 0.8 / len(systems)
        for i, system in enumerate(systems):
            vals = [evaluation[d]["systems"][system][key] for d in decodings]
            heights = [v["value"] for v in vals]
            low = [v["value"] - (v["ci_low"] if v["ci_low"] is not None else v["value"]) for v in vals]
            high = [(v["ci_high"] if v["ci_high"] is not None else v["value"]) - v["value"] for v in vals]
            xs = [j + (i - (len(systems) - 1) / 2) * width for j in range(len(decodings))]
            bars = ax.bar(xs, heights, width, yerr=[low, high], capsize=3, label=system)
            ax.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
        ax.set_xticks(range(len(decodings)), decodings)
        ax.set_ylim(0, 1.15)
        ax.set_ylabel("pass rate")
        ax.set_title(f"Answers with {title}")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------------- summary

HEADLINE_KEYS = ("pattern_steps", "pattern_all", "judge_score", "rougeL", "bleu", "perplexity")


def _value(v: Any) -> dict[str, Any]:
    return {"value": v.value, "ci_low": v.ci_low, "ci_high": v.ci_high, "n": v.n}


def data_summary(data: DataResult) -> dict[str, Any]:
    builder = data.builder
    cleaning = builder.cleaning_report
    summary = {"passages": data.passages["passages"], "files": data.passages["files"]}
    for name, generator in (("documents", data.documents), ("table", data.table)):
        stats = generator.stats
        summary[name] = {
            "items": stats.items,
            "accepted": stats.accepted,
            "rejected": stats.rejected,
            "rejected_by_reason": dict(stats.rejected_by_reason),
            "teacher": generator.teacher_name,
        }
    reasons = {**summary["documents"]["rejected_by_reason"], **summary["table"]["rejected_by_reason"]}
    validator_rejected = sum(
        summary[s]["rejected_by_reason"].get("validator:numbered_steps", 0) for s in ("documents", "table")
    )
    summary["validator"] = {
        "name": "numbered_steps",
        "passed": summary["documents"]["accepted"] + summary["table"]["accepted"],
        "rejected": validator_rejected,
        "rejected_all_reasons": sum(reasons.values()),
    }
    summary["cleaning"] = {
        "rows_in": cleaning.rows_in,
        "rows_out": cleaning.rows_out,
        "dropped_by_reason": dict(cleaning.dropped_by_reason),
    }
    summary["splits"] = {name: split.num_rows for name, split in data.datasets.items()}
    summary["unused_by_split"] = len(builder.dropped("unused_by_split"))
    leakage = builder.leakage_report
    summary["leakage_pairs"] = {
        "test": leakage.count("test") if leakage else 0,
        "validation": leakage.count("validation") if leakage else 0,
    }
    return summary


def evaluation_summary(reports: dict[str, EvaluationReport]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, report in reports.items():
        systems = {
            system: {key: _value(values[key]) for key in HEADLINE_KEYS if key in values}
            for system, values in report.systems.items()
        }
        pairwise = {
            key: {k: p.get(k) for k in ("n_judged", "win_rate", "tie_rate", "loss_rate")}
            for key, p in report.pairwise.items()
        }
        out[name] = {
            "systems": systems,
            "pairwise": pairwise,
            "decoding": report.meta.get("decoding"),
            "n_examples": report.meta.get("n_examples"),
        }
    return out


def _fmt(v: dict[str, Any] | None, digits: int = 3) -> str:
    if v is None:
        return "–"
    ci = f" [{v['ci_low']:.{digits}f}, {v['ci_high']:.{digits}f}]" if v.get("ci_low") is not None else ""
    return f"{v['value']:.{digits}f}{ci}"


def summary_markdown(summary: dict[str, Any]) -> str:
    d, t, e = summary["data"], summary["training"], summary["evaluation"]
    lines = [
        "### Data",
        "",
        "| stage | rows |",
        "|---|---:|",
        f"| documentation pages / passages | {d['files']} / {d['passages']} |",
        f"| document mode ({d['documents']['teacher']}): accepted / rejected | "
        f"{d['documents']['accepted']} / {d['documents']['rejected']} |",
        f"| Q&A table ({d['table']['teacher']}): accepted / rejected | "
        f"{d['table']['accepted']} / {d['table']['rejected']} |",
        f"| rejected by the numbered_steps validator | {d['validator']['rejected']} |",
        f"| cleaning: in / out | {d['cleaning']['rows_in']} / {d['cleaning']['rows_out']} |",
        f"| train / validation / test | {d['splits']['train']} / {d['splits']['validation']} / "
        f"{d['splits']['test']} |",
        f"| test questions nearly repeating a training question | {d['leakage_pairs']['test']} |",
        "",
        "Rejections by reason: "
        + ", ".join(
            f"{src} {k}: {v}"
            for src in ("documents", "table")
            for k, v in sorted(d[src]["rejected_by_reason"].items())
        )
        + ".",
        "",
        "### Training",
        "",
        f"{t['steps']} steps in {t['runtime_s']:.0f} s; validation loss {t['initial_eval_loss']:.3f} -> "
        f"{t['eval_loss']:.3f}; {t['trainable_parameters']:,} trainable parameters "
        f"(LoRA on {', '.join(t['target_modules'])}"
        + (f"; trained fully: {', '.join(t['modules_to_save'])}" if t["modules_to_save"] else "")
        + ").",
    ]
    for name, block in e.items():
        if name not in ("greedy", "sampled"):
            continue
        dec = block["decoding"] or {}
        how = (
            "greedy"
            if name == "greedy"
            else f"sampled: temperature {dec.get('temperature')}, top_p {dec.get('top_p')}, "
            f"top_k {dec.get('top_k')}"
        )
        lines += [
            "",
            f"### Evaluation, {how} ({block['n_examples']} test questions, "
            f"max_new_tokens {dec.get('max_new_tokens')})",
            "",
            "| system | numbered steps | all pattern rules | judge (1-10) | ROUGE-L | BLEU |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for system, v in block["systems"].items():
            lines.append(
                f"| {system} | {_fmt(v.get('pattern_steps'), 2)} | {_fmt(v.get('pattern_all'), 2)} | "
                f"{_fmt(v.get('judge_score'), 2)} | {_fmt(v.get('rougeL'))} | {_fmt(v.get('bleu'), 1)} |"
            )
        for key, p in block["pairwise"].items():
            if p.get("win_rate") is not None:
                lines.append(
                    f"\nPairwise ({key}, {p['n_judged']} judged): wins {p['win_rate']:.0%}, "
                    f"ties {p['tie_rate']:.0%}, losses {p['loss_rate']:.0%}."
                )
    lines += ["", f"Judge: {e['judge']}. Endpoint: {e['endpoint']['note']}", ""]
    return "\n".join(lines)


def endpoint_note(endpoint: dict[str, Any] | None) -> str:
    if endpoint is None:
        return (
            "skipped: no endpoint configured (set --endpoint-url/--endpoint-model or "
            "DOMAINFT_ENDPOINT_URL/DOMAINFT_ENDPOINT_MODEL)"
        )
    return f"compared {endpoint['model']} at {endpoint['base_url']}"


def summarize(
    cfg: Recipe,
    data: DataResult,
    exported: dict[str, int],
    trained: Trained,
    reports: dict[str, EvaluationReport],
    *,
    judge: dict[str, Any] | None = None,
    endpoint: dict[str, Any] | None = None,
    quick: bool = False,
    timing: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Every headline number of the run as one nested dict (what summary.json holds)."""
    r = trained.result
    evaluation = evaluation_summary(reports)
    evaluation["judge"] = judge_label(judge)
    evaluation["endpoint"] = {
        "used": endpoint is not None,
        "note": endpoint_note(endpoint),
        "model": endpoint["model"] if endpoint else None,
    }
    return {
        "mode": "quick" if quick else "full",
        "data": data_summary(data),
        "export": {"format": "openai-chat", "files": exported},
        "training": {
            "steps": r.global_step,
            "train_loss": r.train_loss,
            "initial_eval_loss": r.initial_eval_loss,
            "eval_loss": r.eval_loss,
            "runtime_s": r.runtime_s,
            "trainable_parameters": trained.adapter["trainable"],
            "target_modules": trained.adapter["target_modules"],
            "modules_to_save": list(cfg.adapter.modules_to_save or []),
            "quantization": cfg.model.quantization,
        },
        "evaluation": evaluation,
        "timing": {k: round(v, 1) for k, v in (timing or {}).items()},
    }


def write_outputs(summary: dict[str, Any], out: Path) -> list[Path]:
    """summary.json, summary.md and the two recipe charts."""
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    (out / "summary.md").write_text(summary_markdown(summary), encoding="utf-8")
    return [
        out / "summary.json",
        out / "summary.md",
        plot_data_funnel(summary["data"], out / "data_funnel.png"),
        plot_pattern_adherence(summary["evaluation"], out / "pattern_adherence.png"),
    ]


# ---------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--quick",
        action="store_true",
        default=env("DOMAINFT_QUICK") == "1",
        help="few training steps and a small test subset (tests, CI)",
    )
    p.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT)
    p.add_argument("--teacher-url", default=env("DOMAINFT_TEACHER_URL"))
    p.add_argument("--teacher-model", default=env("DOMAINFT_TEACHER_MODEL"))
    p.add_argument(
        "--teacher-api-key-env", default=None, help="environment variable holding the teacher's key"
    )
    p.add_argument(
        "--questions-per-passage",
        type=int,
        default=None,
        help="document mode: pairs per passage (default 1 offline, 4 with a teacher)",
    )
    p.add_argument("--judge-url", default=env("DOMAINFT_JUDGE_URL"))
    p.add_argument("--judge-model", default=env("DOMAINFT_JUDGE_MODEL"))
    p.add_argument("--judge-api-key-env", default=None)
    p.add_argument(
        "--endpoint-url",
        default=env("DOMAINFT_ENDPOINT_URL"),
        help="OpenAI-compatible endpoint compared as a third system (e.g. a hosted fine-tuned model)",
    )
    p.add_argument("--endpoint-model", default=env("DOMAINFT_ENDPOINT_MODEL"))
    p.add_argument("--endpoint-api-key-env", default=None)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: the tiny model gains nothing from more, and a busy "
        "machine slows badly when threads outnumber free cores)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import datasets
    import torch

    datasets.disable_progress_bars()
    args = parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return run_stages(args)
    finally:
        torch.set_num_threads(threads)


def run_stages(args: argparse.Namespace) -> dict[str, Any]:
    """The five stages, with progress lines; returns the summary written to summary.json."""
    out: Path = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    teacher = endpoint_from(args.teacher_url, args.teacher_model, args.teacher_api_key_env, "teacher")
    judge = endpoint_from(args.judge_url, args.judge_model, args.judge_api_key_env, "judge")
    endpoint = endpoint_from(args.endpoint_url, args.endpoint_model, args.endpoint_api_key_env, "endpoint")
    cfg = load_recipe(quick=args.quick)
    timing: dict[str, float] = {}
    start = time.perf_counter()

    print(f"[1/5] data: {'teacher ' + teacher['model'] if teacher else 'offline template teacher'} ...")
    t = time.perf_counter()
    data = build_data(cfg, out, teacher=teacher, questions_per_passage=args.questions_per_passage)
    timing["build_data_s"] = time.perf_counter() - t
    print(f"      documents: {data.documents.stats}")
    print(f"      table:     {data.table.stats}")
    splits = {name: split.num_rows for name, split in data.datasets.items()}
    print(f"      {data.builder.cleaning_report}; splits {splits}")

    print("[2/5] export: hosted-fine-tuning JSONL ...")
    exported = export_data(data, out, cfg.training.system_prompt)
    print(f"      {exported} -> {out / 'export'}")

    head = (
        f" (+ {', '.join(cfg.adapter.modules_to_save)} trained fully)" if cfg.adapter.modules_to_save else ""
    )
    print(
        f"[3/5] train: tiny Llama, {cfg.model.quantization}, LoRA on {cfg.adapter.target_modules}{head} ..."
    )
    t = time.perf_counter()
    trained = train(cfg, data, out, quick=args.quick)
    timing["train_s"] = time.perf_counter() - t
    r = trained.result
    print(f"      {r.global_step} steps, validation loss {r.initial_eval_loss:.3f} -> {r.eval_loss:.3f}")

    if endpoint is None:
        print(f"      endpoint comparison {endpoint_note(None)}")
    systems = ", ".join(["base", "tuned"] + (["endpoint"] if endpoint else []))
    print(f"[4/5] evaluate: {systems}; greedy and sampled ...")
    t = time.perf_counter()
    reports = evaluate(cfg, trained, data, out, endpoint=endpoint, judge=judge)
    timing["evaluate_s"] = time.perf_counter() - t

    print("[5/5] charts and summary ...")
    timing["total_s"] = time.perf_counter() - start
    summary = summarize(
        cfg, data, exported, trained, reports, judge=judge, endpoint=endpoint, quick=args.quick, timing=timing
    )
    write_outputs(summary, out)
    evaluation = summary["evaluation"]
    for name in reports:
        tuned = evaluation[name]["systems"]["tuned"]
        base = evaluation[name]["systems"]["base"]
        print(
            f"      {name}: numbered steps base {base['pattern_steps']['value']:.2f} -> tuned "
            f"{tuned['pattern_steps']['value']:.2f}; judge {base['judge_score']['value']:.2f} -> "
            f"{tuned['judge_score']['value']:.2f}"
        )
    print(f"done in {timing['total_s']:.0f} s: {out / 'summary.md'}")
    return summary


if __name__ == "__main__":
    main()
