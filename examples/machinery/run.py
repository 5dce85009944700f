"""Maintenance tickets -> a troubleshooting assistant: QLoRA on a Llama and a Mistral, judged head to head.

    python examples/machinery/run.py [--quick] [--output-dir runs/machinery]
                                     [--teacher-url URL --teacher-model NAME]
                                     [--judge-url URL --judge-model NAME] [--api-key-env VAR]

Stages (one function each): clean the ticket export with a report (``clean_tickets``), translate the
Italian tickets through a teacher (``translate``; offline: the translation memory we wrote, replayed
by the ``lookup`` teacher), turn every ticket into a question and an answer with numbered steps, the
cause and the expected duration (``make_qa``; offline: the deterministic ``template`` teacher), split
80/10/10 by answer length and build two tiny base models (``build_data``, ``build_model``), QLoRA
fine-tuning of each (``train``), base against fine-tuned per architecture (``evaluate``), the ROUGE
before/after chart (``rouge_chart``) and a blind pairwise judge between the two fine-tuned models
(``judge_architectures``; offline: the ``similarity`` stand-in). ``--quick`` (or env
``DOMAINFT_QUICK=1``) is the reduced mode of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path
from typing import Any

# A script run offline: never try a model hub (set before transformers is imported).
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from domainft import (  # noqa: E402
    DatasetBuilder,
    EvaluationReport,
    Evaluator,
    Recipe,
    SyntheticConfig,
    SyntheticQAGenerator,
    build_tiny_model,
    get_teacher,
)
from domainft.data.teachers import Teacher, teacher_text_fn  # noqa: E402
from domainft.evaluation.judges import get_judge  # noqa: E402
from domainft.evaluation.knowledge.render import knowledge_markdown  # noqa: E402
from domainft.evaluation.knowledge.report import SUMMARY_KEYS  # noqa: E402
from domainft.evaluation.metrics import get_metric  # noqa: E402
from domainft.utils.io import atomic_write_jsonl  # noqa: E402
from domainft.workflows import TrainOutcome, evaluate_from_recipe, train_from_recipe  # noqa: E402

HERE = Path(__file__).resolve().parent
NAME = "machinery"
TICKETS = HERE / "data" / "tickets.csv"
TRANSLATION_MEMORY = HERE / "data" / "translations_it_en.jsonl"
DEFAULT_OUTPUT = Path("runs") / NAME
KNOWLEDGE_TICKETS = "knowledge_tickets.jsonl"

TEXT_FIELDS = ["problem", "found_condition", "work_performed", "cause"]
#: A ticket needs these to become a training example (reason ``empty_<field>`` otherwise).
REQUIRED_FIELDS = ["machine_type", "problem", "work_performed", "cause", "hours"]
#: Two architectures, same LoRA settings; the seed is that of the random base weights.
ARCHITECTURES: dict[str, dict[str, Any]] = {
    "llama": {"architecture": "llama", "seed": 0},
    "mistral": {"architecture": "mistral", "seed": 1},
}
ROUGE_KEYS = ["rouge1", "rouge2", "rougeL"]
SIMILARITY_JUDGE = "similarity judge (offline stand-in)"

TRANSLATE_INSTRUCTION = (
    "You translate maintenance tickets from Italian into English. Keep every number, unit, part name "
    "and the sentence order; write the technician's short style. Reply with the translation only."
)
#: What a real teacher is asked (two steps: the question, then the answer to it).
QUESTION_PROMPT = (
    "A maintenance technician is at a {machine_type} with this problem: {problem}\n"
    "Write the question they would type into a troubleshooting assistant, in English, in one or two "
    "sentences and in their own words, naming the machine. Reply with the question only."
)
ANSWER_PROMPT = (
    "A technician asks: {question}\n\n"
    "Maintenance record of the repair that fixed it:\n"
    "Machine: {machine_type}\nFound: {found_condition}\nWork performed: {work_performed}\n"
    "Cause: {cause}\nTime taken: {hours:g} h\n\n"
    "Write the expert's answer using only this record: one line 'Likely finding: ...', then the repair "
    "as numbered steps (1., 2., ...), then a line 'Cause: ...' and a line 'Expected duration: about N h.'"
)
#: The offline stand-in: the same shape, filled in from the ticket without a model.
TEMPLATE_QUESTION = "My {machine_type} has a problem: {problem} What should I do?"
TEMPLATE_ANSWER = (
    "Likely finding: {found_condition}\nSteps:\n{work_steps}\nCause: {cause}\n"
    "Expected duration: about {hours:g} h."
)

#: Italian function words (articles, prepositions, conjunctions, auxiliaries).
_ITALIAN_TEXT = (
    "il lo la gli le un una e ed di del dello della dei degli delle da dal dallo dalla dai al allo alla "
    "ai agli alle nel nello nella nei nelle sul sullo sulla sui con tra che non è sono era erano "
    "stato stata dopo senza anche più perché ogni"
)
_ITALIAN_WORDS = frozenset(_ITALIAN_TEXT.split())
_WORD = re.compile(r"[a-zàèéìòù]+")
_ELISION = re.compile(r"\b(?:l|dell|nell|all|dall|sull|un|c|d)['’][a-zàèéìòù]", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
#: Past tense of the work notes -> the imperative of a step ("Replaced the seal" -> "Replace the seal").
_PAST = (
    "added:add adjusted:adjust aligned:align arranged:arrange bent:bend bled:bleed blew:blow blocked:block "
    "calibrated:calibrate centred:centre changed:change charged:charge checked:check clamped:clamp "
    "cleaned:clean cleared:clear closed:close confirmed:confirm corrected:correct cycled:cycle "
    "depressurised:depressurise did:do dismantled:dismantle drained:drain emptied:empty enabled:enable "
    "entered:enter filled:fill fitted:fit flushed:flush found:find freed:free gave:give greased:grease "
    "handed:hand heated:heat indexed:index informed:inform insulated:insulate isolated:isolate "
    "labelled:label levelled:level locked:lock logged:log lowered:lower lubricated:lubricate made:make "
    "measured:measure monitored:monitor moved:move opened:open paired:pair performed:perform "
    "polished:polish produced:produce pulled:pull pumped:pump purged:purge ran:run re-mastered:re-master "
    "re-phased:re-phase re-taught:re-teach re-tightened:re-tighten readjusted:readjust realigned:realign "
    "reassembled:reassemble recalibrated:recalibrate recorded:record reduced:reduce referenced:reference "
    "refilled:refill refitted:refit removed:remove renewed:renew repaired:repair replaced:replace "
    "rerouted:reroute restarted:restart retightened:retighten reviewed:review sealed:seal "
    "shortened:shorten skimmed:skim squared:square started:start swapped:swap tagged:tag taught:teach "
    "tensioned:tension tested:test throttled:throttle tightened:tighten took:take topped:top traced:trace "
    "turned:turn updated:update vented:vent verified:verify wrapped:wrap wrote:write"
)
_IMPERATIVE = dict(pair.split(":") for pair in _PAST.split())
_VERB_SLOT = re.compile(r"(^|\band |, )([A-Za-z-]+)")


def quick_mode(flag: bool = False) -> bool:
    """``--quick`` or ``DOMAINFT_QUICK=1``."""
    return flag or os.environ.get("DOMAINFT_QUICK", "") not in ("", "0", "false", "False")


def looks_italian(text: str) -> bool:
    """Whether a ticket text is Italian: two Italian function words or elisions, or one in a short text.

    A cheap stand-in for a language detector, checked against every text of the shipped tickets.
    """
    words = _WORD.findall(re.sub(r"\b[a-z]-", " ", text.lower()))  # "E-stop" is not the Italian "e"
    if not words:
        return False
    hits = sum(word in _ITALIAN_WORDS for word in words) + len(_ELISION.findall(text))
    return hits >= 2 or hits / len(words) >= 0.2


def imperative(sentence: str) -> str:
    """A work note as an instruction: known past-tense verbs at the start, after "and " or after a
    comma become imperatives ("Cleaned and greased the jaws" -> "Clean and grease the jaws")."""

    def swap(match: re.Match[str]) -> str:
        lead, word = match.groups()
        base = _IMPERATIVE.get(word.lower())
        if base is None:
            return match.group(0)
        return lead + (base[0].upper() + base[1:] if word[0].isupper() else base)

    return _VERB_SLOT.sub(swap, sentence)


def work_steps(text: str) -> str:
    """The work performed as numbered instructions, one sentence each ("1. ...", "2. ...")."""
    steps = [imperative(s.strip()) for s in _SENTENCE_END.split(text) if s and s.strip()]
    return "\n".join(f"{k}. {step}" for k, step in enumerate(steps, 1))


# ------------------------------------------------------------------------------------------ stage 1: clean


def clean_tickets(path: str | Path = TICKETS) -> DatasetBuilder:
    """Read the CSV export and clean it: HTML to text, whitespace, decimal commas, incomplete rows,
    unparseable hours and exact duplicates. Every dropped row stays in ``builder.cleaning_report``."""
    builder = DatasetBuilder.from_file(path)
    return (
        builder.strip_html(columns=TEXT_FIELDS)
        .normalize(columns=["machine_type", *TEXT_FIELDS, "hours"])
        .replace([(r"^(\d+),(\d+)$", r"\1.\2")], columns=["hours"])  # "1,5" (Italian rows) -> "1.5"
        .drop_missing(fields=REQUIRED_FIELDS)
        .drop_matching(r"^(?!\d+(?:\.\d+)?$)", column="hours", reason="unparseable_hours")
        .dedup(columns=["machine_type", *TEXT_FIELDS, "hours"])
    )


# ------------------------------------------------------------------------------------ stage 2: translate


def make_teacher(url: str, model: str, api_key_env: str | None = None) -> Teacher:
    """The OpenAI-compatible teacher at ``url`` serving ``model`` (greedy, so reruns agree)."""
    return get_teacher("openai", base_url=url, model=model, api_key_env=api_key_env, temperature=0.0)


def translation_teacher(
    url: str | None = None, model: str | None = None, api_key_env: str | None = None
) -> Teacher:
    """The endpoint teacher when one is given, else the translation memory replayed by ``lookup``."""
    if url and model:
        return make_teacher(url, model, api_key_env)
    return get_teacher("lookup", path=TRANSLATION_MEMORY, key="source", value="target")


def translate(builder: DatasetBuilder, teacher: Teacher) -> dict[str, int]:
    """Translate every Italian text field into English through ``teacher`` (``map_text``); a row whose
    translation fails is dropped as ``map_text_error`` and counted. Returns the counts."""
    rows = builder.dataset.to_list()
    italian = sum(any(isinstance(r[f], str) and looks_italian(r[f]) for f in TEXT_FIELDS) for r in rows)
    fn = teacher_text_fn(teacher, instruction=TRANSLATE_INSTRUCTION, when=looks_italian)
    builder.map_text(fn, columns=TEXT_FIELDS, on_error="drop")
    assert builder.cleaning_report is not None
    step = builder.cleaning_report.steps[-1]
    left = sum(
        any(isinstance(r[f], str) and looks_italian(r[f]) for f in TEXT_FIELDS)
        for r in builder.dataset.to_list()
    )
    return {
        "italian_rows": italian,
        "translated": step.changed,
        "failed": step.rows_in - step.rows_out,
        "still_italian": left,
    }


# ---------------------------------------------------------------------------------------- stage 3: Q&A


def ticket_records(builder: DatasetBuilder) -> list[dict[str, Any]]:
    """The cleaned tickets as records for the generator: hours as a number, the work as numbered steps."""
    records = []
    for row in builder.dataset.to_list():
        records.append({**row, "hours": float(row["hours"]), "work_steps": work_steps(row["work_performed"])})
    return records


def make_qa(
    records: list[dict[str, Any]], data_dir: str | Path, teacher: Teacher | None = None
) -> SyntheticQAGenerator:
    """Question from the problem and machine type, answer with the likely finding, numbered steps, the
    cause and the expected duration. ``teacher`` None: the offline template teacher. Writes the
    generator output to ``<data_dir>/synthetic`` and the Q&A file ``<data_dir>/qa.jsonl``."""
    data_dir = Path(data_dir)
    if teacher is None:
        teacher = get_teacher("template", question=TEMPLATE_QUESTION, answer=TEMPLATE_ANSWER)
    config = SyntheticConfig(
        mode="records",
        system_prompt="You help maintenance technicians of industrial machines. You write plain English.",
        question_template=QUESTION_PROMPT,
        answer_template=ANSWER_PROMPT,
        answer_validator="numbered_steps",
        cache_dir=None if teacher.backend == "template" else str(data_dir / "teacher_cache"),
        progress=False,
    )
    generator = SyntheticQAGenerator(config, teacher=teacher)
    dataset = generator.generate(records)
    generator.save(data_dir / "synthetic")
    machine = {r["id"]: r["machine_type"] for r in records}
    with open(data_dir / "qa.jsonl", "w", encoding="utf-8") as fh:
        for row in dataset:
            line = {k: row[k] for k in ("id", "prompt", "response", "source_id")}
            fh.write(
                json.dumps({**line, "machine_type": machine[row["source_id"]]}, ensure_ascii=False) + "\n"
            )
    return generator


# ------------------------------------------------------------------------------- stage 4: recipes, models


def load_recipe(output_dir: str | Path = DEFAULT_OUTPUT, quick: bool = False) -> Recipe:
    """The llama recipe with its paths under ``output_dir``; quick mode trains and evaluates less."""
    recipe = Recipe.from_yaml(HERE / "recipe.yaml").resolve_paths(HERE)
    out = Path(output_dir)
    recipe.data.path = str(out / "data" / "qa.jsonl")
    recipe.model.name_or_path = str(out / "llama" / "tiny-model")
    recipe.training.output_dir = str(out / "llama")
    recipe.training.disable_tqdm = True
    if recipe.evaluation.knowledge is not None:
        recipe.evaluation.knowledge.facts = str(out / "data" / KNOWLEDGE_TICKETS)
    if quick:
        recipe.data.max_samples = 100  # 80/10/10
        recipe.training.max_steps = 30
        recipe.training.eval_steps = 10
        recipe.training.logging_steps = 10
        recipe.evaluation.decoding.max_new_tokens = 48
        recipe.evaluation.statistics.resamples = 200
        if recipe.evaluation.knowledge is not None:
            recipe.evaluation.knowledge.max_facts = 12
    return recipe


def architecture_recipe(recipe: Recipe, arch: str, output_dir: str | Path = DEFAULT_OUTPUT) -> Recipe:
    """The same recipe for another architecture: only the base model and the run folder change."""
    copy = Recipe.from_dict(recipe.to_dict())
    copy.model.name_or_path = str(Path(output_dir) / arch / "tiny-model")
    copy.training.output_dir = str(Path(output_dir) / arch)
    return copy


def build_data(recipe: Recipe) -> Any:
    """The DatasetDict of the recipe (length-stratified 80/10/10 split of ``qa.jsonl``)."""
    from domainft.workflows import build_datasets

    return build_datasets(recipe)


def write_fact_records(records: list[dict[str, Any]], datasets: Any, data_dir: str | Path) -> Path:
    """The tickets behind the training split, as the records of the knowledge probes (``recipe.yaml``:
    ``evaluation.knowledge``): a fine-tune can only be asked to know what it was trained on."""
    trained = set(datasets["train"]["source_id"])
    keep = ("id", "machine_type", "problem", "cause", "hours")
    rows = ({k: r[k] for k in keep} for r in records if r["id"] in trained)
    return atomic_write_jsonl(Path(data_dir) / KNOWLEDGE_TICKETS, rows)


def build_model(recipe: Recipe, datasets: Any, arch: str) -> Path:
    """A tiny random-init model of ``arch`` with a tokenizer trained on the training texts."""
    texts = [f"{r['prompt']}\n{r['response']}" for r in datasets["train"]]
    return build_tiny_model(texts, recipe.model.name_or_path, **ARCHITECTURES[arch])


# ----------------------------------------------------------------------------------- stage 5: training


def train(recipe: Recipe, datasets: Any) -> TrainOutcome:
    """QLoRA: NF4 + double quant + bf16 compute, LoRA on q/k/v/o + lm_head, cosine schedule, evaluation
    every ``eval_steps``; the adapter lands in ``<output_dir>/adapter``."""
    return train_from_recipe(recipe, datasets=datasets)


# --------------------------------------------------------------------------------- stage 6: evaluation


def evaluate(recipe: Recipe, outcome: TrainOutcome) -> EvaluationReport:
    """Base (adapter switched off) against fine-tuned on the test split; saved to ``<output_dir>/eval``."""
    return evaluate_from_recipe(
        recipe,
        datasets=outcome.datasets,
        model=outcome.model,
        tokenizer=outcome.tokenizer,
        adapter_dir=outcome.adapter_dir,
        progress=False,
    )


def rouge_chart(reports: dict[str, EvaluationReport], path: str | Path) -> Path:
    """Grouped bars of ROUGE-1/2/L before (base) and after (tuned) fine-tuning, one panel per architecture,
    with the bootstrap confidence intervals as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(reports), figsize=(5.2 * len(reports), 3.8), sharey=True, squeeze=False)
    width = 0.38
    top = 0.0
    for ax, (arch, report) in zip(axes[0], reports.items(), strict=True):
        for k, (system, colour) in enumerate((("base", "#b0b7c3"), ("tuned", "#2f6db5"))):
            values = [report.systems[system][key] for key in ROUGE_KEYS]
            heights = [v.value for v in values]
            errors = [
                [v.value - (v.ci_low if v.ci_low is not None else v.value) for v in values],
                [(v.ci_high if v.ci_high is not None else v.value) - v.value for v in values],
            ]
            xs = [i + (k - 0.5) * width for i in range(len(ROUGE_KEYS))]
            ax.bar(xs, heights, width, yerr=errors, capsize=3, color=colour, label=system)
            for x, h, up in zip(xs, heights, errors[1], strict=True):
                ax.text(x, h + up + 0.01, f"{h:.2f}", ha="center", va="bottom", fontsize=8)
            top = max(top, *(h + up for h, up in zip(heights, errors[1], strict=True)))
        ax.set_xticks(range(len(ROUGE_KEYS)), ["ROUGE-1", "ROUGE-2", "ROUGE-L"])
        ax.set_title(f"tiny {arch}: before and after QLoRA")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylim(0, min(1.0, top * 1.2 + 0.05))  # shared y axis
    axes[0][0].set_ylabel("F-measure (0-1), 95% CI")
    axes[0][0].legend(loc="upper left")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def make_judge(
    url: str | None = None,
    model: str | None = None,
    api_key_env: str | None = None,
    *,
    cache_dir: str | Path | None = None,
) -> tuple[Any, str]:
    """An LLM judge at an OpenAI-compatible endpoint, else the offline similarity stand-in; and a label."""
    if url and model:
        endpoint = {"base_url": url, "model": model, "api_key_env": api_key_env}
        judge = get_judge(
            "openai",
            endpoint=endpoint,
            criteria="machinery_troubleshooting",
            cache_dir=str(cache_dir) if cache_dir else None,
            progress=False,
        )
        return judge, f"LLM judge ({model})"
    return get_judge("similarity", progress=False), SIMILARITY_JUDGE


def judge_architectures(
    reports: dict[str, EvaluationReport], judge: Any, output_dir: str | Path
) -> tuple[EvaluationReport, Any]:
    """Blind pairwise comparison of the two fine-tuned models on the same test questions, in both orders
    (``llama`` against ``mistral``: win rate = llama better), plus ROUGE/BLEU and the judge's grades.
    Saved to ``<output_dir>/compare``."""
    llama, mistral = reports["llama"], reports["mistral"]
    other = {s.id: s for s in mistral.samples}
    samples = [s for s in llama.samples if s.id in other]
    evaluator = Evaluator(metrics=["rouge", "bleu", get_metric("judge", judge=judge)], progress=False)
    report = evaluator.score(
        {
            "mistral": [other[s.id].predictions["tuned"] for s in samples],
            "llama": [s.predictions["tuned"] for s in samples],
        },
        [s.reference for s in samples],
        ids=[s.id for s in samples],
        prompts=[s.prompt for s in samples],
        meta={"systems": {"llama": "tiny llama + QLoRA adapter", "mistral": "tiny mistral + QLoRA adapter"}},
    )
    result = evaluator.judge_pairwise(report, "mistral", "llama", judge=judge)
    report.save(Path(output_dir) / "compare")
    return report, result


# -------------------------------------------------------------------------------------------- summary


def _metric(report: EvaluationReport, system: str, key: str) -> float | None:
    value = report.systems.get(system, {}).get(key)
    return None if value is None else round(float(value.value), 4)


def _comparison(report: EvaluationReport, key: str) -> dict[str, Any]:
    for c in report.comparisons:
        if c.metric == key:
            return {"delta": round(c.delta, 4), "p_value": c.p_value}
    return {}


def write_summary(summary: dict[str, Any], output_dir: str | Path) -> None:
    """``summary.json`` (every number) and ``summary.md`` (the README tables)."""
    out = Path(output_dir)
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    data, ev, pw = summary["data"], summary["evaluation"], summary["pairwise"]
    lines = [
        "| data | rows |",
        "|---|---:|",
        f"| tickets in the export | {data['tickets']} |",
    ]
    for reason, n in sorted(data["dropped_by_reason"].items()):
        lines.append(f"| dropped: {reason} | {n} |")
    lines += [
        f"| HTML fields turned into text | {data['html_rows']} |",
        f"| Italian tickets translated (failed) | {data['translation']['translated']} "
        f"({data['translation']['failed']}) |",
        f"| Q&A pairs (rejected) | {data['qa_pairs']} ({sum(data['qa_rejected'].values())}) |",
        f"| train / validation / test | {data['splits']['train']} / {data['splits']['validation']} / "
        f"{data['splits']['test']} |",
        "",
        "| architecture | validation loss before → after | system | ROUGE-1 | ROUGE-2 | ROUGE-L | BLEU |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for arch, metrics in ev.items():
        tr = summary["training"][arch]
        loss = f"{tr['initial_eval_loss']:.2f} → {tr['eval_loss']:.2f}"
        for system in ("base", "tuned"):
            m = metrics[system]
            lines.append(
                f"| {arch} | {loss if system == 'base' else ''} | {system} | {m['rouge1']:.3f} | "
                f"{m['rouge2']:.3f} | {m['rougeL']:.3f} | {m['bleu']:.1f} |"
            )
    lines += [
        "",
        f"Pairwise, tuned llama against tuned mistral ({pw['judge']}, {pw['n_judged']} test questions, "
        "both orders):",
        "",
        "| llama wins | ties | mistral wins | position consistency | judge score llama / mistral |",
        "|---:|---:|---:|---:|---|",
        f"| {_pct(pw['llama_win_rate'])} | {_pct(pw['tie_rate'])} | {_pct(pw['mistral_win_rate'])} | "
        f"{_pct(pw['position_consistency'])} | {_num(pw['judge_score']['llama'])} / "
        f"{_num(pw['judge_score']['mistral'])} |",
        "",
    ]
    for arch, metrics in ev.items():  # does it know each ticket's cause and repair time? (docs/knowledge.md)
        if metrics.get("knowledge"):
            heading, *section = knowledge_markdown(metrics["knowledge"])
            lines += [f"{heading}: {arch}", *section, ""]
    (out / "summary.md").write_text("\n".join(lines), encoding="utf-8")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


# ----------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced run (tests, CI); also DOMAINFT_QUICK=1")
    parser.add_argument("--output-dir", default=str(DEFAULT_OUTPUT))
    parser.add_argument("--teacher-url", default=os.environ.get("DOMAINFT_TEACHER_URL"))
    parser.add_argument("--teacher-model", default=os.environ.get("DOMAINFT_TEACHER_MODEL"))
    parser.add_argument("--judge-url", default=os.environ.get("DOMAINFT_JUDGE_URL"))
    parser.add_argument("--judge-model", default=os.environ.get("DOMAINFT_JUDGE_MODEL"))
    parser.add_argument("--api-key-env", default=None, help="environment variable holding the endpoints' key")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: tiny models gain nothing from more, and on a shared machine "
        "extra threads only spin; raise it for real models)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import torch

    args = parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return run(args)
    finally:
        torch.set_num_threads(threads)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """All stages, in order; returns the summary (also written to summary.json and summary.md)."""
    quick = quick_mode(args.quick)
    out = Path(args.output_dir)
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    endpoint_teacher = bool(args.teacher_url and args.teacher_model)

    print(f"[1/7] cleaning {TICKETS.name}")
    builder = clean_tickets()
    print(f"      {builder.cleaning_report.summary()}")
    html_rows = next(s.changed for s in builder.cleaning_report.steps if s.step == "strip_html")

    print(
        "[2/7] translating the Italian tickets"
        + (" (endpoint teacher)" if endpoint_teacher else " (translation memory)")
    )
    teacher = translation_teacher(args.teacher_url, args.teacher_model, args.api_key_env)
    translation = translate(builder, teacher)
    report = builder.cleaning_report
    report_path = data_dir / "cleaning_report.json"
    report_path.write_text(
        json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(
        f"      {translation['translated']} of {translation['italian_rows']} rows translated, "
        f"{translation['failed']} failed"
    )

    print(
        "[3/7] writing questions and answers"
        + (" (endpoint teacher)" if endpoint_teacher else " (template teacher)")
    )
    qa_teacher = (
        make_teacher(args.teacher_url, args.teacher_model, args.api_key_env) if endpoint_teacher else None
    )
    records = ticket_records(builder)
    generator = make_qa(records, data_dir, qa_teacher)
    print(f"      {generator.stats.summary()}")

    print("[4/7] splitting 80/10/10 by length and building the tiny models")
    recipe = load_recipe(out, quick)
    recipes = {arch: architecture_recipe(recipe, arch, out) for arch in ARCHITECTURES}
    datasets = build_data(recipes["llama"])
    print("      " + ", ".join(f"{split}: {len(ds)}" for split, ds in datasets.items()))
    write_fact_records(records, datasets, data_dir)
    for arch, rec in recipes.items():
        build_model(rec, datasets, arch)

    outcomes: dict[str, TrainOutcome] = {}
    reports: dict[str, EvaluationReport] = {}
    for arch, rec in recipes.items():
        print(f"[5/7] QLoRA fine-tuning the tiny {arch} ({rec.training.resolved_optim()})")
        outcomes[arch] = train(rec, datasets)
        res = outcomes[arch].result
        print(
            f"      validation loss {res.initial_eval_loss:.3f} -> {res.eval_loss:.3f} "
            f"({res.global_step} steps, {res.runtime_s:.0f} s)"
        )
        print(f"[6/7] evaluating base vs tuned {arch}")
        reports[arch] = evaluate(rec, outcomes[arch])
        print(
            f"      ROUGE-L base {_metric(reports[arch], 'base', 'rougeL')}, "
            f"tuned {_metric(reports[arch], 'tuned', 'rougeL')}"
        )
    chart = rouge_chart(reports, out / "rouge_before_after.png")

    judge, judge_label = make_judge(
        args.judge_url, args.judge_model, args.api_key_env, cache_dir=out / "judge_cache"
    )
    print(f"[7/7] pairwise: tuned llama vs tuned mistral ({judge_label})")
    compare_report, pairwise = judge_architectures(reports, judge, out)
    print(f"      {pairwise.summary()}")

    summary: dict[str, Any] = {
        "quick": quick,
        "data": {
            "tickets": report.rows_in,
            "after_cleaning": report.rows_out,
            "dropped_by_reason": dict(report.dropped_by_reason),
            "html_rows": html_rows,
            "translation": translation,
            "translation_teacher": teacher.name,
            "qa_teacher": generator.teacher_name,
            "qa_pairs": generator.stats.accepted,
            "qa_rejected": dict(generator.stats.rejected_by_reason),
            "splits": {split: len(ds) for split, ds in datasets.items()},
        },
        "training": {
            arch: {
                "optim": recipes[arch].training.resolved_optim(),
                "steps": o.result.global_step,
                "initial_eval_loss": o.result.initial_eval_loss,
                "eval_loss": o.result.eval_loss,
                "train_loss": o.result.train_loss,
                "runtime_s": round(o.result.runtime_s, 1),
                "eval_steps": recipes[arch].training.eval_steps,
                "evaluations": sum(1 for e in o.result.log_history if "eval_loss" in e),
            }
            for arch, o in outcomes.items()
        },
        "evaluation": {
            arch: {
                "n": len(r.samples),
                "base": {k: _metric(r, "base", k) for k in [*ROUGE_KEYS, "bleu"]},
                "tuned": {k: _metric(r, "tuned", k) for k in [*ROUGE_KEYS, "bleu"]},
                "tuned_minus_base": {k: _comparison(r, k) for k in [*ROUGE_KEYS, "bleu"]},
                "knowledge": {k: v for k, v in r.knowledge.items() if k in SUMMARY_KEYS},
            }
            for arch, r in reports.items()
        },
        "pairwise": {
            "judge": judge_label,
            "a": "mistral",
            "b": "llama",
            "n_judged": pairwise.n_judged,
            "failed": pairwise.n_failed,
            "llama_win_rate": pairwise.win_rate,
            "tie_rate": pairwise.tie_rate,
            "mistral_win_rate": pairwise.loss_rate,
            "position_consistency": pairwise.position_consistency,
            "judge_score": {
                arch: _metric(compare_report, arch, "judge_score") for arch in ("llama", "mistral")
            },
        },
        "files": {
            "tickets": str(TICKETS.relative_to(HERE.parent.parent)),
            "cleaning_report": str(report_path),
            "qa": str(data_dir / "qa.jsonl"),
            "synthetic": str(data_dir / "synthetic"),
            "chart": str(chart),
            "reports": {arch: str(recipes[arch].eval_dir) for arch in recipes},
            "compare": str(out / "compare"),
        },
    }
    summary["wall_time_s"] = round(time.perf_counter() - started, 1)
    write_summary(summary, out)
    print(f"done in {summary['wall_time_s']:.0f} s: {out / 'summary.md'}")
    return summary


if __name__ == "__main__":
    main()
