"""Linux help-channel dialogues -> a multi-turn support assistant: raw vs cleaned data, early stopping.

Pipeline (one function per stage; the notebook calls them one by one):

1. ``build_data``: the utterances of ``data/dialogues.jsonl`` become one conversation per dialogue
   (``dialogue`` record format). The cleaned set normalises text, drops exact duplicate dialogues,
   removes pasted links (``replace``) and small talk (``drop_small_talk``, a cleaning step registered
   below), then splits 20 validation / 30 test dialogues. The raw set is the same dialogues without
   any cleaning; its training split excludes every validation/test dialogue and their re-posts, so
   all three runs are tested on the same cleaned dialogues and raw training sees none of them.
2. ``report_data``: dataset reports (lengths, duplicates, topics, rows per month, sentiment and tone of
   every turn with the most negative helper answers listed) of the raw file and of the cleaned splits,
   plus charts of turns per dialogue and of the topics.
3. ``build_model`` and ``masking_example``: a tiny random Llama and its tokenizer from the training
   dialogues; one dialogue's labels with the user turns masked (-100) and every helper turn learned.
4. ``train``: three LoRA runs on the 4-bit model with the same seed: raw data, cleaned data, cleaned
   data with early stopping on the validation loss.
5. ``diagnose``: weightwatcher's layer report of each adapter merged into the base (alpha per weight
   matrix, the matrices the fine-tune changed most, those it moved out of the well-trained range),
   written into each run's folder.
6. ``evaluate``: the base model and the three adapters answer the last helper turn of every test
   dialogue given the earlier turns; corpus BLEU with its 1-4-gram precisions and ROUGE-1/2/L with
   bootstrap confidence intervals, in one table that links the layer reports.

Run from the repository root: ``python examples/linux_dialogues/run.py [--quick] [--output-dir DIR]``
(``--quick`` or ``DOMAINFT_QUICK=1``: a few steps on a few test dialogues, for tests and CI).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from domainft import (
    DataReportConfig,
    DatasetBuilder,
    DomainTrainer,
    EvaluationReport,
    Evaluator,
    LoraAdapterFactory,
    QuantizedLoader,
    Recipe,
    build_tiny_model,
    dataset_report,
    encode_conversation,
    layer_report,
    register_cleaning_step,
)
from domainft.data.cleaning import StepOutcome
from domainft.data.formats import check_conversation, conversation_fields
from domainft.data.leakage import find_leakage, remove_leakage

EXAMPLE_DIR = Path(__file__).resolve().parent
RECIPE_PATH = EXAMPLE_DIR / "recipe.yaml"
DEFAULT_OUTPUT = Path("runs/linux_dialogues")
RUN_NAMES = ("raw", "clean", "clean_early_stop")
#: A run's training conversations that resemble a validation/test conversation this much are dropped.
LEAKAGE_THRESHOLD = 0.9

#: A line that is only small talk: greetings, thanks, "np", "lol" ... (checked line by line, whole line).
SMALL_TALK = re.compile(
    r"^\W*(?:(?:hi|hey|hello|morning|good (?:morning|evening)|evening|thanks|thank you|thx|ty|cheers|np"
    r"|no problem|you're welcome|anytime|glad it (?:worked|helped)|happy to help|good luck|lol|haha|heh"
    r"|ok|okay|awesome|great|perfect|cool|that (?:worked|did it)|works now|anyone(?: around)?|all"
    r"|everyone|folks|guys|a lot|so much)\b\W*)+$",
    re.IGNORECASE,
)


# ------------------------------------------------------------------------------------ cleaning step


def strip_small_talk(
    messages: list[dict[str, str]], pattern: re.Pattern[str] = SMALL_TALK
) -> tuple[list[dict[str, str]], int]:
    """The conversation without small-talk lines, and how many lines went.

    Turns left empty disappear, neighbouring turns of one role are joined, and the conversation is
    trimmed to start with the user and end with the assistant (a closing "thanks!" / "np" exchange
    goes entirely).
    """
    kept: list[dict[str, str]] = []
    removed = 0
    for m in messages:
        if m["role"] == "system":
            kept.append(dict(m))
            continue
        lines = m["content"].split("\n")
        lines_left = [line for line in lines if not pattern.match(line.strip())]
        removed += len(lines) - len(lines_left)
        text = "\n".join(lines_left).strip()
        if not text:
            continue
        if kept and kept[-1]["role"] == m["role"]:
            kept[-1] = {"role": m["role"], "content": kept[-1]["content"] + "\n" + text}
        else:
            kept.append({"role": m["role"], "content": text})
    while kept and kept[-1]["role"] != "assistant":
        kept.pop()
    while kept and kept[0]["role"] == "assistant":
        kept.pop(0)
    return kept, removed


@register_cleaning_step("drop_small_talk", overwrite=True)
def drop_small_talk_step(ds: Any, pattern: str | None = None) -> StepOutcome:
    """Remove small-talk lines and turns from every conversation (``messages``), re-deriving ``prompt``
    and ``response``; a conversation with nothing but small talk is dropped as ``small_talk_only``."""
    import datasets

    rx = re.compile(pattern, re.IGNORECASE) if pattern else SMALL_TALK
    rows = ds.to_list()
    changed: set[int] = set()
    drop: dict[int, dict[str, Any]] = {}
    for i, row in enumerate(rows):
        messages = row.get("messages")
        if not messages:
            continue
        new, removed = strip_small_talk(messages, rx)
        if not removed and len(new) == len(messages):
            continue
        reason = check_conversation(new)
        if reason is not None:
            drop[i] = {"reason": "small_talk_only", "detail": reason}
            continue
        row.update(messages=new, **conversation_fields(new))
        if "turns" in row:
            row["turns"] = len(new)
        changed.add(i)
    if not changed:
        return StepOutcome(ds, drop)
    return StepOutcome(datasets.Dataset.from_list(rows, features=ds.features), drop, changed_rows=changed)


# ------------------------------------------------------------------------------------------- config


def is_quick(quick: bool = False) -> bool:
    """Quick mode: the flag, or env ``DOMAINFT_QUICK=1``."""
    return quick or os.environ.get("DOMAINFT_QUICK", "") not in ("", "0", "false", "False")


def load_recipe(output_dir: str | Path = DEFAULT_OUTPUT, *, quick: bool = False) -> Recipe:
    """The recipe with its paths resolved, the model and run folders under ``output_dir``, and the
    quick-mode overrides (a few steps, a few test dialogues, short answers)."""
    output_dir = Path(output_dir)
    recipe = Recipe.from_yaml(RECIPE_PATH).resolve_paths(EXAMPLE_DIR)
    recipe.model.name_or_path = str(output_dir / "tiny-model")
    recipe.training.output_dir = str(output_dir / "runs" / "clean_early_stop")
    recipe.training.disable_tqdm = True
    recipe.evaluation.output_dir = str(output_dir / "eval")
    recipe.evaluation.cache_dir = None
    if quick:
        t = recipe.training
        t.max_steps, t.eval_strategy, t.eval_steps, t.logging_steps = 8, "steps", 4, 4
        t.early_stopping_patience = 2
        recipe.evaluation.max_samples = 6
        recipe.evaluation.decoding.max_new_tokens = 24
        recipe.evaluation.statistics.resamples = 200
        recipe.evaluation.statistics.permutations = 200
    return recipe


# ------------------------------------------------------------------------------------------ 1. data


class DataBundle:
    """Everything ``build_data`` produced: the splits of each run and what happened to the rows.

    ``clean``: the cleaned DatasetDict (its test split is every run's test split); ``raw``: raw training
    conversations (no cleaning) with the same validation and test; ``raw_all``: every raw conversation
    (format only), for the raw data report; ``cleaning_report`` and ``counts``.
    """

    def __init__(
        self, clean: Any, raw: Any, raw_all: Any, cleaning_report: Any, counts: dict[str, Any] | None = None
    ) -> None:
        self.clean = clean
        self.raw = raw
        self.raw_all = raw_all
        self.cleaning_report = cleaning_report
        self.counts = counts or {}


def file_stats(path: str | Path) -> dict[str, Any]:
    """What the raw file holds: utterances, dialogues, empty utterances, small talk, links, time span."""
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [r["text"] for r in rows]
    per_dialogue = Counter(r["dialogue_id"] for r in rows)
    stamps = sorted(r["timestamp"] for r in rows)
    return {
        "utterances": len(rows),
        "dialogues": len(per_dialogue),
        "utterances_per_dialogue": {"min": min(per_dialogue.values()), "max": max(per_dialogue.values())},
        "empty_utterances": sum(not t.strip() for t in texts),
        "small_talk_utterances": sum(bool(t.strip()) and bool(SMALL_TALK.match(t.strip())) for t in texts),
        "utterances_with_links": sum("http://" in t or "https://" in t for t in texts),
        "first": stamps[0],
        "last": stamps[-1],
    }


def _without_leaks(dsd: Any) -> tuple[Any, dict[str, Any]]:
    """Drop training conversations that nearly repeat a validation/test conversation."""
    report = find_leakage(dsd, threshold=LEAKAGE_THRESHOLD, column="messages")
    if report.pairs:
        dsd, _ = remove_leakage(dsd, report, "train")
    return dsd, {"pairs": len(report.pairs), "removed_from_train": len(report.removed_ids)}


def build_data(recipe: Recipe) -> DataBundle:
    """Cleaned splits (the recipe's data section + ``drop_small_talk``) and the raw training split."""
    import datasets

    cfg = recipe.data
    builder = DatasetBuilder.from_config(cfg)
    builder.apply_steps([{"step": "drop_small_talk"}, {"step": "dedup"}])
    clean = builder.build()
    clean, clean_leaks = _without_leaks(clean)

    raw_builder = DatasetBuilder.from_file(cfg.path, format=cfg.format, **cfg.format_options)
    raw_all = raw_builder.dataset
    held_out = set(clean["validation"]["id"]) | set(clean["test"]["id"])
    reposts = {
        row["id"]
        for row in builder.dropped("duplicate")
        if row.get("duplicate_of_id") in held_out or row["id"] in held_out
    }
    raw_train = raw_all.filter(lambda row: row["id"] not in held_out and row["id"] not in reposts)
    columns = clean["train"].column_names
    raw = datasets.DatasetDict(
        train=raw_train.select_columns(columns).cast(clean["train"].features),
        validation=clean["validation"],
        test=clean["test"],
    )
    raw, raw_leaks = _without_leaks(raw)
    report = builder.cleaning_report
    counts = {
        "file": file_stats(cfg.path),
        "format_rejected": {
            "count": len(raw_builder.rejected),
            "reasons": dict(Counter(r["reason"] for r in raw_builder.rejected)),
        },
        "conversations": raw_all.num_rows,
        "cleaning": {
            "rows_in": report.rows_in,
            "rows_out": report.rows_out,
            "dropped_by_reason": dict(report.dropped_by_reason),
            "changed_rows": report.normalised,
            "steps": [
                {"step": s.step, "rows_in": s.rows_in, "rows_out": s.rows_out, "changed": s.changed}
                for s in report.steps
            ],
        },
        "clean": {split: ds.num_rows for split, ds in clean.items()},
        "raw": {split: ds.num_rows for split, ds in raw.items()},
        "raw_train_excluded": {
            "held_out_dialogues": len(held_out),
            "reposts_of_held_out": len(reposts),
            "repost_ids": sorted(reposts),
        },
        "leakage": {"clean": clean_leaks, "raw": raw_leaks, "threshold": LEAKAGE_THRESHOLD},
        "turns": {
            "raw": dict(sorted(Counter(len(m) for m in raw_all["messages"]).items())),
            "clean": dict(
                sorted(Counter(len(m) for split in clean.values() for m in split["messages"]).items())
            ),
        },
    }
    return DataBundle(clean=clean, raw=raw, raw_all=raw_all, cleaning_report=report, counts=counts)


def save_data(data: DataBundle, output_dir: str | Path) -> Path:
    """Save both DatasetDicts (``datasets/clean``, ``datasets/raw``) and ``splits.json``: the dialogue
    ids of every split of each run, and the re-posts kept out of raw training."""
    output_dir = Path(output_dir)
    splits: dict[str, Any] = {}
    for name in ("clean", "raw"):
        dsd = getattr(data, name)
        dsd.save_to_disk(str(output_dir / "datasets" / name))
        splits[name] = {split: list(ds["id"]) for split, ds in dsd.items()}
    splits["raw_train_excluded_reposts"] = data.counts["raw_train_excluded"]["repost_ids"]
    path = output_dir / "splits.json"
    path.write_text(json.dumps(splits, indent=1) + "\n", encoding="utf-8")
    return path


def show_dialogue(messages: list[dict[str, str]], width: int = 110) -> str:
    """A conversation as plain text, one ``role: text`` block per turn (long turns shortened)."""
    out = []
    for m in messages:
        text = m["content"].replace("\n", " / ")
        out.append(f"{m['role']:>9}: {text[:width] + ' ...' if len(text) > width else text}")
    return "\n".join(out)


# -------------------------------------------------------------------------------- 2. dataset report


def _agg_figure(size: tuple[float, float]) -> Any:
    """A matplotlib Figure that is not tied to pyplot or any GUI backend (PNG output only)."""
    from matplotlib.figure import Figure

    return Figure(figsize=size)


def plot_turns(counts: dict[str, Any], path: Path) -> Path:
    """Bars of conversations per number of turns, raw vs cleaned."""
    raw, clean = counts["turns"]["raw"], counts["turns"]["clean"]
    keys = sorted({int(k) for k in raw} | {int(k) for k in clean})
    fig = _agg_figure((6, 3.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.bar([k - 0.2 for k in keys], [raw.get(k, 0) for k in keys], width=0.4, label="raw")
    ax.bar([k + 0.2 for k in keys], [clean.get(k, 0) for k in keys], width=0.4, label="cleaned")
    ax.set_xticks(keys)
    ax.set_xlabel("turns per conversation (after joining consecutive turns of one speaker)")
    ax.set_ylabel("conversations")
    ax.set_title("Small talk removed: fewer closing 'thanks' / 'np' turns")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def plot_topics(topics: dict[str, Any] | None, path: Path) -> Path | None:
    """Horizontal bars: share of dialogues per topic, labelled with the topic's top words."""
    if not topics or not topics.get("topics"):
        return None
    items = list(reversed(topics["topics"]))
    fig = _agg_figure((7, 0.45 * len(items) + 1.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.barh(range(len(items)), [t["share"] for t in items], color="C2")
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([" ".join(t["words"][:4]) for t in items], fontsize=8)
    ax.set_xlabel("share of dialogues (strongest topic)")
    ax.set_title(f"Topics ({topics['method'].upper()}, {topics['n_topics']} topics)")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def report_data(data: DataBundle, output_dir: str | Path, *, tokenizer: Any = None) -> dict[str, Any]:
    """Dataset reports of the raw conversations and of the cleaned splits (report.json, report.html,
    length / time-trend PNGs), plus ``turns_per_dialogue.png`` and ``topics.png``."""
    output_dir = Path(output_dir)
    config = DataReportConfig(
        n_topics=8,
        time_frequency="month",
        timestamp_column="timestamp",
        duplicate_column="messages",
        text_columns=["prompt", "response", "messages"],
        sentiment="vader",  # tone of every turn: rude helper answers would be learned too
    )
    raw = dataset_report(data.raw_all, tokenizer=tokenizer, config=config, source="dialogues.jsonl (raw)")
    clean = dataset_report(
        data.clean,
        tokenizer=tokenizer,
        cleaning=data.cleaning_report,
        config=config,
        source="dialogues.jsonl (cleaned, split)",
    )
    raw.save(output_dir / "data_report" / "raw")
    clean.save(output_dir / "data_report" / "clean")
    charts = output_dir / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    plot_turns(data.counts, charts / "turns_per_dialogue.png")
    plot_topics(clean.topics, charts / "topics.png")
    trend = clean.time_trend or {}
    per_period = [sum(c) for c in zip(*trend.get("counts", {}).values(), strict=True)] if trend else []
    half = len(per_period) // 2
    return {
        "raw": {
            "rows": sum(raw.splits.values()),
            "duplicate_rows": raw.duplicates["within"]["all"]["duplicate_rows"],
        },
        "clean": {"rows": dict(clean.splits)},
        "lengths_chars_median": {
            column: {split: v["median"] for split, v in per_split.items()}
            for column, per_split in clean.lengths["chars"].items()
        },
        "topics": [
            {"words": t["words"][:6], "share": round(t["share"], 4)}
            for t in (clean.topics or {}).get("topics", [])
        ],
        "time_trend": {
            "frequency": trend.get("frequency"),
            "periods": len(per_period),
            "first_half": sum(per_period[:half]),
            "second_half": sum(per_period[half:]),
        },
        "sentiment": {"raw": tone_summary(raw.sentiment), "clean": tone_summary(clean.sentiment)},
        "notes": clean.notes,
    }


def tone_summary(section: dict[str, Any], examples: int = 10) -> dict[str, Any]:
    """Per role: texts, mean compound, strongly negative count; and the most negative helper turns."""
    return {
        "per_role": {
            role: {k: g[k] for k in ("count", "mean", "strong_negative", "share_strong_negative")}
            for role, g in section["overall"].items()
        },
        "most_negative_assistant": [
            {"id": e["id"], "compound": e["compound"], "text": e["text"][:90]}
            for e in section["most_negative_by_role"].get("assistant", [])[:examples]
        ],
    }


# --------------------------------------------------------------------------- 3. model and masking


def build_model(recipe: Recipe, data: DataBundle, *, seed: int = 0) -> Path:
    """A tiny random Llama and a BPE tokenizer trained on the training dialogues (raw, so links and
    small talk have tokens too; no validation or test dialogue)."""
    texts = ["\n".join(m["content"] for m in messages) for messages in data.raw["train"]["messages"]]
    return build_tiny_model(texts, recipe.model.name_or_path, seed=seed)


def masking_example(
    tokenizer: Any, messages: list[dict[str, str]], template: str | None = None
) -> dict[str, Any]:
    """One conversation's labels: segments of text that are learned (label = token id) or masked
    (label = -100), with token counts for learning every helper turn vs only the last one."""
    enc = encode_conversation(tokenizer, messages, template, assistant_turns="all")
    last = encode_conversation(tokenizer, messages, template, assistant_turns="last")
    segments: list[dict[str, Any]] = []
    for token, label in zip(enc["input_ids"], enc["labels"], strict=True):
        learned = label != -100
        if segments and segments[-1]["learned"] == learned:
            segments[-1]["ids"].append(token)
        else:
            segments.append({"learned": learned, "ids": [token]})
    for s in segments:
        s["tokens"] = len(s["ids"])
        s["text"] = tokenizer.decode(s.pop("ids"), skip_special_tokens=False)
    return {
        "tokens": len(enc["input_ids"]),
        "learned_tokens": sum(label != -100 for label in enc["labels"]),
        "learned_tokens_last_turn_only": sum(label != -100 for label in last["labels"]),
        "assistant_turns": sum(m["role"] == "assistant" for m in messages),
        "user_turns": sum(m["role"] == "user" for m in messages),
        "segments": segments,
    }


def masking_html(example: dict[str, Any]) -> str:
    """The segments as HTML: learned text on green, masked text grey."""
    spans = []
    for s in example["segments"]:
        style = "background:#c8f0c8" if s["learned"] else "color:#888"
        spans.append(f"<span style='{style}'>{html.escape(s['text'])}</span>")
    return (
        "<pre style='white-space:pre-wrap;font-size:12px'>" + "".join(spans) + "</pre>"
        f"<p>{example['learned_tokens']} of {example['tokens']} tokens learned (green: every helper turn); "
        f"with assistant_turns='last' only {example['learned_tokens_last_turn_only']}.</p>"
    )


def write_masking_example(recipe: Recipe, data: DataBundle, output_dir: str | Path) -> dict[str, Any]:
    """Pick the first cleaned training dialogue with two helper turns and save its masked labels."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(recipe.model.name_or_path)
    row = next(r for r in data.clean["train"] if sum(m["role"] == "assistant" for m in r["messages"]) >= 2)
    example = {"id": row["id"], **masking_example(tokenizer, row["messages"], recipe.training.template)}
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "masking_example.json").write_text(json.dumps(example, indent=2) + "\n", encoding="utf-8")
    (output_dir / "masking_example.html").write_text(masking_html(example) + "\n", encoding="utf-8")
    return example


# ----------------------------------------------------------------------------------------- 4. train


def run_recipe(recipe: Recipe, name: str, output_dir: str | Path) -> Recipe:
    """The recipe of one of the three runs: raw data / cleaned data without early stopping / as is."""
    if name not in RUN_NAMES:
        raise ValueError(f"unknown run {name!r}; expected one of {RUN_NAMES}")
    early = name == "clean_early_stop"
    training = recipe.training.updated(
        output_dir=str(Path(output_dir) / "runs" / name),
        early_stopping_patience=recipe.training.early_stopping_patience if early else None,
    )
    data = recipe.data.updated(clean=False, cleaning=[]) if name == "raw" else recipe.data
    return recipe.updated(training=training.to_dict(), data=data.to_dict())


def train_one(recipe: Recipe, datasets: Any) -> dict[str, Any]:
    """Load the 4-bit base, attach LoRA, train, save the adapter; returns the run's numbers."""
    model, tokenizer = QuantizedLoader(config=recipe.model).load()
    model = LoraAdapterFactory(recipe.adapter).apply(model)
    trainer = DomainTrainer(model=model, tokenizer=tokenizer, datasets=datasets, config=recipe.training)
    result = trainer.train()
    recipe.to_yaml(Path(recipe.training.output_dir) / "recipe.yaml")
    evals: list[tuple[float, float]] = []  # one per evaluation; the repeat after training is left out
    for entry in result.log_history:
        if "eval_loss" in entry and not (evals and evals[-1][0] == entry["epoch"]):
            evals.append((entry["epoch"], entry["eval_loss"]))
    return {
        "train_rows": datasets["train"].num_rows,
        "steps": result.global_step,
        "train_loss": result.train_loss,
        "initial_eval_loss": result.initial_eval_loss,
        "eval_loss": result.eval_loss,
        "best_eval_loss": min((loss for _, loss in evals), default=None),
        "stopped_early": result.stopped_early,
        "best_checkpoint": Path(result.best_checkpoint).name if result.best_checkpoint else None,
        "runtime_s": round(result.runtime_s, 1),
        "supervised_tokens": result.supervised_tokens,
        "dropped_overlength": len(result.dropped),
        "truncated_overlength": len(result.truncated),
        "eval_curve": [[round(float(e), 3), round(float(v), 4)] for e, v in evals],
        "adapter_dir": str(result.adapter_dir),
    }


def train(recipe: Recipe, data: DataBundle, output_dir: str | Path, *, say: Any = print) -> dict[str, Any]:
    """The three runs, same seed, same validation and test dialogues."""
    runs = {}
    for name in RUN_NAMES:
        datasets = data.raw if name == "raw" else data.clean
        runs[name] = train_one(run_recipe(recipe, name, output_dir), datasets)
        r = runs[name]
        say(
            f"      {name}: {r['train_rows']} dialogues, {r['steps']} steps, validation loss "
            f"{r['initial_eval_loss']:.3f} -> {r['eval_loss']:.3f} ({r['runtime_s']:.0f} s"
            + (", stopped early)" if r["stopped_early"] else ")")
        )
    plot_eval_curves(runs, Path(output_dir) / "charts" / "validation_loss.png")
    return runs


def plot_eval_curves(runs: dict[str, Any], path: Path) -> Path:
    """Validation loss per epoch of every run in one chart."""
    fig = _agg_figure((6, 3.4))
    ax = fig.add_subplot(1, 1, 1)
    for i, (name, run) in enumerate(runs.items()):
        curve = run["eval_curve"]
        if curve:
            ax.plot([c[0] for c in curve], [c[1] for c in curve], marker="o", ms=3, label=name, color=f"C{i}")
        if curve and run["stopped_early"]:
            best = min(curve, key=lambda c: c[1])
            ax.plot([best[0]], [best[1]], marker="*", ms=12, color=f"C{i}", linestyle="none",
                    label=f"{name}: restored best")  # fmt: skip
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation loss (cleaned dialogues)")
    ax.set_title("Validation loss of the three runs")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


# -------------------------------------------------------------------------------------- 5. diagnose


def diagnose(recipe: Recipe, runs: dict[str, Any], *, progress: bool = False) -> dict[str, Any]:
    """The layer report of each run's adapter merged into the (unquantized) base, saved into the run's
    ``diagnostics/`` folder; returns the headline numbers per run."""
    found = {}
    for name, run in runs.items():
        adapter = Path(run["adapter_dir"])
        report = layer_report(recipe.model.name_or_path, adapter, progress=progress)
        report.save(adapter.parent / "diagnostics")
        s = report.summary
        found[name] = {
            "matrices": s["n_matrices"],
            "adapted": s["n_adapted"],
            "mean_alpha": {k: v["mean_alpha"] for k, v in s["systems"].items()},
            "flags": {k: v["flags"] for k, v in s["systems"].items()},
            "most_changed": [
                {
                    "name": r["name"],
                    "relative_change": r["relative_change"],
                    "alpha_change": r["alpha_change"],
                }
                for r in s["most_changed"][:3]
            ],
            "newly_outside": [r["name"] for r in s["newly_outside"]],
        }
    return found


def diagnostics_markdown(found: dict[str, Any]) -> str:
    """One row per run: mean alpha base -> tuned, flags after merging, the matrix changed most."""
    lines = [
        "| run | adapted matrices | mean alpha base -> tuned | tuned: ok / under / over "
        "| changed most (‖ΔW‖/‖W‖) | left the 2-6 range |",
        "|---|---|---|---|---|---|",
    ]
    for name, d in found.items():
        flags = d["flags"]["tuned"]
        top = d["most_changed"][0]
        lines.append(
            f"| {name} | {d['adapted']} of {d['matrices']} | {d['mean_alpha']['base']:.2f} -> "
            f"{d['mean_alpha']['tuned']:.2f} | {flags['ok']} / {flags['under-trained']} / "
            f"{flags['over-trained']} | {top['name'].removeprefix('model.')} ({top['relative_change']:.3f}) "
            f"| {len(d['newly_outside'])} |"
        )
    return "\n".join(lines)


# -------------------------------------------------------------------------------------- 6. evaluate


def evaluate(
    recipe: Recipe, data: DataBundle, runs: dict[str, Any], output_dir: str | Path, *, progress: bool = False
) -> tuple[EvaluationReport, EvaluationReport]:
    """Base and the three adapters (loaded side by side on one 4-bit base) answer the last helper turn of
    each test dialogue. Returns the report against the base (``eval/``) and the same answers compared
    against the raw-data run (``eval_vs_raw/``, nothing generated twice)."""
    from domainft.diagnostics.layer_report import evaluation_link
    from domainft.evaluation.systems import System
    from domainft.models.adapters import load_adapter

    output_dir = Path(output_dir)
    model, tokenizer = QuantizedLoader(config=recipe.model).load()
    names = list(runs)
    model = load_adapter(model, runs[names[0]]["adapter_dir"], name=names[0])
    for name in names[1:]:
        model.load_adapter(runs[name]["adapter_dir"], adapter_name=name)
    systems = {"base": System(model, disable_adapter=True), **{n: System(model, adapter=n) for n in names}}
    evaluator = Evaluator.from_config(
        recipe.evaluation,
        template=recipe.evaluation.template or recipe.training.template,
        system_prompt=recipe.evaluation.system_prompt or recipe.training.system_prompt,
        progress=progress,
    )
    report = evaluator.compare(systems, data.clean["test"], tokenizer=tokenizer)
    report.meta.update({"model": recipe.model.name_or_path, "adapters": names, "split": "test"})
    for name, run in runs.items():  # the layer reports of `diagnose`, when it ran
        link = evaluation_link(Path(run["adapter_dir"]).parent / "diagnostics", output_dir / "eval")
        if link is not None:
            report.meta.setdefault("links", {})[f"layer_report_{name}"] = {**link, "title": f"Layers: {name}"}
    report.save(output_dir / "eval")
    samples = report.samples
    vs_raw = evaluator.score(
        {n: [s.predictions[n] for s in samples] for n in names},
        [s.reference for s in samples],
        ids=[s.id for s in samples],
        prompts=[s.prompt for s in samples],
        meta={"note": "the answers of eval/, compared with the raw-data run"},
    )
    vs_raw.save(output_dir / "eval_vs_raw")
    plot_bleu_precisions(report, output_dir / "charts" / "bleu_precisions.png")
    return report, vs_raw


def results_table(report: EvaluationReport) -> list[dict[str, Any]]:
    """One row per system: BLEU, its 1-4-gram precisions and brevity penalty, ROUGE-1/2/L with CIs."""
    rows = []
    for name in report.system_names:
        values = report.systems[name]
        bleu = report.details.get(name, {}).get("bleu", {})
        row: dict[str, Any] = {"system": name}
        for key in ("bleu", "rouge1", "rouge2", "rougeL"):
            v = values[key]
            row[key] = {"value": v.value, "ci_low": v.ci_low, "ci_high": v.ci_high, "n": v.n}
        row["bleu_precisions"] = bleu.get("precisions")
        row["bleu_bp"] = bleu.get("bp")
        rows.append(row)
    return rows


def _ci(v: dict[str, Any], digits: int) -> str:
    if v["ci_low"] is None:
        return f"{v['value']:.{digits}f}"
    return f"{v['value']:.{digits}f} [{v['ci_low']:.{digits}f}, {v['ci_high']:.{digits}f}]"


def table_markdown(rows: list[dict[str, Any]]) -> str:
    """The evaluation table in Markdown (BLEU 0-100, precisions in %, ROUGE 0-1, 95% bootstrap CIs)."""
    lines = [
        "| system | BLEU [95% CI] | 1-gram | 2-gram | 3-gram | 4-gram | BP "
        "| ROUGE-1 [95% CI] | ROUGE-2 [95% CI] | ROUGE-L [95% CI] |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        p = r["bleu_precisions"] or [float("nan")] * 4
        lines.append(
            f"| {r['system']} | {_ci(r['bleu'], 2)} | {p[0]:.1f} | {p[1]:.1f} | {p[2]:.1f} | {p[3]:.1f} | "
            f"{r['bleu_bp']:.3f} | {_ci(r['rouge1'], 3)} | {_ci(r['rouge2'], 3)} | {_ci(r['rougeL'], 3)} |"
        )
    return "\n".join(lines)


def training_markdown(runs: dict[str, Any]) -> str:
    lines = [
        "| run | training dialogues | steps | validation loss before -> after (best) "
        "| stopped early | time |",
        "|---|---:|---:|---|---|---:|",
    ]
    for name, r in runs.items():
        lines.append(
            f"| {name} | {r['train_rows']} | {r['steps']} | {r['initial_eval_loss']:.3f} -> "
            f"{r['eval_loss']:.3f} ({r['best_eval_loss']:.3f}) | {'yes' if r['stopped_early'] else 'no'} "
            f"| {r['runtime_s']:.0f} s |"
        )
    return "\n".join(lines)


def plot_bleu_precisions(report: EvaluationReport, path: Path) -> Path:
    """Grouped bars: BLEU 1-4-gram precisions per system."""
    names = report.system_names
    fig = _agg_figure((7, 3.4))
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        p = report.details.get(name, {}).get("bleu", {}).get("precisions", [0, 0, 0, 0])
        ax.bar([n + i * width - 0.4 + width / 2 for n in range(4)], p, width=width, label=name, color=f"C{i}")
    ax.set_xticks(range(4))
    ax.set_xticklabels(["1-gram", "2-gram", "3-gram", "4-gram"])
    ax.set_ylabel("precision (%)")
    ax.set_title("BLEU n-gram precisions on the last helper turn")
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


# ------------------------------------------------------------------------------------------ summary


def write_summary(summary: dict[str, Any], output_dir: str | Path) -> None:
    """``summary.json`` (every headline number) and ``summary.md`` (the README tables)."""
    output_dir = Path(output_dir)
    (output_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    ev, data = summary["evaluation"], summary["data"]
    md = [
        "# Linux help dialogues: raw vs cleaned data, early stopping",
        "",
        f"Data: {data['file']['dialogues']} dialogues ({data['file']['utterances']} utterances); cleaning "
        f"{data['cleaning']['rows_in']} -> {data['cleaning']['rows_out']} conversations "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(data['cleaning']['dropped_by_reason'].items()))}); "
        f"splits (cleaned) {data['clean']['train']} / {data['clean']['validation']} / "
        f"{data['clean']['test']}, "
        f"raw training split {data['raw']['train']}.",
        "",
        "## Training",
        "",
        training_markdown(summary["runs"]),
        "",
        "## Layer diagnostics (weightwatcher, each adapter merged into the base)",
        "",
        diagnostics_markdown(summary["diagnostics"]),
        "",
        f"## Evaluation: last helper turn of {ev['n_examples']} test dialogues, given the earlier turns",
        "",
        table_markdown(ev["table"]),
        "",
        f"Wall time: {summary['wall_time_s']:.0f} s{' (quick mode)' if summary['quick'] else ''}.",
        "",
    ]
    (output_dir / "summary.md").write_text("\n".join(md), encoding="utf-8")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run every stage; returns the summary (also written to ``summary.json``)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="a few steps and test dialogues (also DOMAINFT_QUICK=1)"
    )
    parser.add_argument("--output-dir", default=str(DEFAULT_OUTPUT), help="where everything is written")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads during the run (default 1: the tiny model's matrices are too small to gain "
        "from more, and on a busy machine extra threads only wait for each other)",
    )
    args = parser.parse_args(argv)
    quick = is_quick(args.quick)
    import torch

    threads_before = torch.get_num_threads()
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    try:
        return run_all(quick, Path(args.output_dir), args.quiet)
    finally:
        torch.set_num_threads(threads_before)


def run_all(quick: bool, output_dir: Path, quiet: bool = False) -> dict[str, Any]:
    """The six stages in order (what ``main`` runs after parsing its arguments)."""
    say = (lambda *a, **k: None) if quiet else (lambda *a, **k: print(*a, **k, flush=True))
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(stage: str) -> None:
        timings[stage] = round(time.perf_counter() - started - sum(timings.values()), 1)

    output_dir.mkdir(parents=True, exist_ok=True)
    recipe = load_recipe(output_dir, quick=quick)

    say(
        f"[1/6] building the dialogues from {Path(recipe.data.path).name}"
        + (" (quick mode)" if quick else "")
    )
    data = build_data(recipe)
    save_data(data, output_dir)
    c = data.counts
    say(
        f"      {c['conversations']} conversations ({c['format_rejected']['count']} unanswered rejected); "
        f"cleaning {c['cleaning']['rows_in']} -> {c['cleaning']['rows_out']}; cleaned splits {c['clean']}; "
        f"raw train {c['raw']['train']}"
    )
    lap("data")
    say("[2/6] tiny model, dataset reports, masking example")
    build_model(recipe, data)
    reports = report_data(data, output_dir, tokenizer=recipe.model.name_or_path)
    masking = write_masking_example(recipe, data, output_dir)
    say(
        f"      masking: {masking['learned_tokens']} of {masking['tokens']} tokens learned in {masking['id']}"
    )
    tone = reports["sentiment"]["raw"]["per_role"]["assistant"]
    say(f"      tone: {tone['strong_negative']} of {tone['count']} raw helper turns are strongly negative")
    lap("model_report_masking")
    say("[3/6] training: raw, clean, clean + early stopping")
    runs = train(recipe, data, output_dir, say=say)
    lap("training")
    say("[4/6] layer diagnostics: each adapter merged into the base, weightwatcher's alpha per matrix")
    layers = diagnose(recipe, runs)
    for name, d in layers.items():
        alpha = d["mean_alpha"]
        say(
            f"      {name}: mean alpha {alpha['base']:.2f} -> {alpha['tuned']:.2f}, "
            f"{len(d['newly_outside'])} matrix(es) left the well-trained range"
        )
    lap("diagnostics")
    say("[5/6] evaluating base and the three adapters on the test dialogues")
    report, vs_raw = evaluate(recipe, data, runs, output_dir)
    lap("evaluation")
    table = results_table(report)
    summary = {
        "quick": quick,
        "data": c,
        "data_report": reports,
        "masking": {k: v for k, v in masking.items() if k != "segments"},
        "runs": runs,
        "diagnostics": layers,
        "evaluation": {
            "n_examples": report.meta["n_examples"],
            "table": table,
            "comparisons_vs_base": [asdict(cmp) for cmp in report.comparisons],
            "comparisons_vs_raw": [asdict(cmp) for cmp in vs_raw.comparisons],
        },
        "wall_time_s": round(time.perf_counter() - started, 1),
        "timings_s": timings,
    }
    write_summary(summary, output_dir)
    say("[6/6] results")
    say(table_markdown(table))
    say(f"summary: {output_dir / 'summary.md'}; report: {output_dir / 'eval' / 'report.html'}")
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
