"""examples/machinery: the shipped ticket export, and the recipe run end to end in quick mode."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter

import pytest

from domainft import EvaluationReport, Recipe, SyntheticQAGenerator
from domainft.data.cleaning import CleaningReport, dedup_key
from domainft.data.synthetic import get_validator
from domainft.data.teachers import get_teacher
from tests.examples import EXAMPLES, load_script
from tests.fake_openai import FakeOpenAIServer, error

EXAMPLE = EXAMPLES / "machinery"
TEXT_FIELDS = ["problem", "found_condition", "work_performed", "cause"]
CONTENT = ["machine_type", *TEXT_FIELDS, "hours"]
HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]*>|&(#\d+|[a-zA-Z]{2,8});")


@pytest.fixture(scope="module")
def example():
    return load_script(EXAMPLE / "run.py", "example_machinery")


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with open(EXAMPLE / "data" / "tickets.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def memory() -> dict[str, str]:
    lines = (EXAMPLE / "data" / "translations_it_en.jsonl").read_text(encoding="utf-8").splitlines()
    return {e["source"]: e["target"] for e in map(json.loads, lines)}


@pytest.fixture(scope="module")
def run(example, tmp_path_factory):
    out = tmp_path_factory.mktemp("machinery")
    summary = example.main(["--quick", "--output-dir", str(out)])
    return out, summary


def _duplicates(rows: list[dict[str, str]]) -> int:
    seen: set[tuple[str, ...]] = set()
    count = 0
    for row in rows:
        if not row["problem"].strip() or not row["work_performed"].strip():
            continue
        key = tuple(dedup_key(row[f]) for f in CONTENT)
        count += key in seen
        seen.add(key)
    return count


# ------------------------------------------------------------------------------------------- the data


def test_tickets_have_the_fields_and_variety_asked_for(rows):
    assert len(rows) >= 300
    assert list(rows[0]) == ["id", "date", "machine_type", *TEXT_FIELDS, "hours"]
    machines = Counter(r["machine_type"] for r in rows)
    assert 15 <= len(machines) <= 20
    assert min(machines.values()) >= 8  # every machine type has a fair share of tickets
    problems = {dedup_key(r["problem"]) for r in rows if r["problem"]}
    assert len(problems) > 0.6 * len(rows)  # varied text, not one template
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["date"]) for r in rows)


def test_tickets_carry_the_planned_mess(rows, memory, example):
    n = len(rows)
    italian = [r for r in rows if r["problem"] in memory]
    assert 0.08 * n <= len(italian) <= 0.10 * n
    assert all(r[f] in memory for r in italian for f in TEXT_FIELDS)  # every text field is Italian
    assert any("," in r["hours"] for r in italian)  # the Italian export writes decimal commas
    assert 0.03 * n <= _duplicates(rows) <= 0.05 * n
    incomplete = [r for r in rows if not r["problem"].strip() or not r["work_performed"].strip()]
    assert 0.025 * n <= len(incomplete) <= 0.035 * n
    html = {r["id"] for r in rows if any(HTML.search(r[f]) for f in TEXT_FIELDS)}
    assert 0.04 * n <= len(html) <= 0.07 * n
    assert any("&amp;" in r["work_performed"] for r in rows) and any(
        "<br>" in r["work_performed"] for r in rows
    )
    hours = [float(r["hours"].replace(",", ".")) for r in rows]
    assert all(0 < h <= 12 for h in hours)


def test_the_translation_memory_covers_exactly_the_italian_texts(rows, memory, example):
    values = {r[f] for r in rows for f in TEXT_FIELDS if r[f].strip()}
    italian = {v for v in values if v in memory}
    assert len(italian) == len(memory)  # no unused entries
    assert {v for v in values if example.looks_italian(v)} == italian
    assert not any(example.looks_italian(target) for target in memory.values())


def test_work_notes_become_numbered_instructions(example):
    steps = example.work_steps("Cleaned and greased the jaws. Set the pressure to 25 bar.\nRan 20 cycles.")
    assert steps == "1. Clean and grease the jaws.\n2. Set the pressure to 25 bar.\n3. Run 20 cycles."
    assert get_validator("numbered_steps").check(steps) is None


# ------------------------------------------------------------------------------- cleaning, translation


def test_a_failed_translation_drops_the_row_and_is_counted(example, memory):
    missing = next(iter(memory))
    teacher = get_teacher("lookup", table={k: v for k, v in memory.items() if k != missing})
    builder = example.clean_tickets()
    counts = example.translate(builder, teacher)
    assert counts["failed"] == 1 and counts["translated"] == counts["italian_rows"] - 1
    (dropped,) = builder.dropped("map_text_error")
    assert missing in dropped.values() and "no recorded reply" in dropped["error"]


def test_translation_through_an_openai_compatible_teacher(example, memory):
    refused = sorted(memory)[0]

    def handler(request):
        return error(400, "refused") if request.last_user == refused else memory[request.last_user]

    builder = example.clean_tickets()
    with FakeOpenAIServer(handler=handler) as server:
        counts = example.translate(builder, example.translation_teacher(server.url, "teacher"))
        first = server.requests[0].messages
    assert counts["failed"] == 1 and counts["still_italian"] == 0
    assert counts["translated"] == counts["italian_rows"] - 1
    assert first[0] == {"role": "system", "content": example.TRANSLATE_INSTRUCTION}
    assert sorted(r.last_user for r in server.requests) == sorted(memory)  # one call per Italian text


# ---------------------------------------------------------------------------------------- the quick run


def test_cleaning_report_counts_every_drop(run, rows):
    out, summary = run
    data = summary["data"]
    assert data["tickets"] == len(rows)
    incomplete_problem = sum(not r["problem"].strip() for r in rows)
    incomplete_work = sum(bool(r["problem"].strip()) and not r["work_performed"].strip() for r in rows)
    assert data["dropped_by_reason"] == {
        "duplicate": _duplicates(rows),
        "empty_problem": incomplete_problem,
        "empty_work_performed": incomplete_work,
    }
    assert data["html_rows"] == sum(any(HTML.search(r[f]) for f in TEXT_FIELDS) for r in rows)
    report = CleaningReport.from_dict(json.loads((out / "data" / "cleaning_report.json").read_text()))
    assert report.rows_dropped == sum(data["dropped_by_reason"].values())
    assert {r["reason"] for r in report.dropped_rows()} == set(data["dropped_by_reason"])
    assert all(r.get("id") for r in report.dropped_rows())  # the dropped tickets themselves are kept


def test_italian_tickets_are_translated_before_the_qa(run, memory, example):
    out, summary = run
    translation = summary["data"]["translation"]
    assert translation["italian_rows"] == translation["translated"] > 0
    assert translation["failed"] == translation["still_italian"] == 0
    qa = [json.loads(line) for line in (out / "data" / "qa.jsonl").read_text(encoding="utf-8").splitlines()]
    assert not any(example.looks_italian(r["prompt"]) or example.looks_italian(r["response"]) for r in qa)
    english = set(memory.values())
    assert sum(any(t in r["response"] for t in english) for r in qa) >= translation["translated"] // 2


def test_qa_answers_have_steps_cause_and_duration(run, rows):
    out, summary = run
    qa = [json.loads(line) for line in (out / "data" / "qa.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(qa) == summary["data"]["qa_pairs"] == summary["data"]["after_cleaning"]
    hours = {r["id"]: float(r["hours"].replace(",", ".")) for r in rows}
    machine = {r["id"]: r["machine_type"] for r in rows}
    check = get_validator("numbered_steps").check
    for row in qa:
        assert check(row["response"]) is None
        assert machine[row["source_id"]] in row["prompt"]
        assert "\nCause: " in row["response"]
        duration = re.search(r"Expected duration: about ([\d.]+) h\.$", row["response"])
        assert duration and float(duration.group(1)) == hours[row["source_id"]]
    generator = SyntheticQAGenerator.load(out / "data" / "synthetic")
    assert generator.stats.accepted == len(qa) and generator.teacher_name == "template"


def test_split_is_80_10_10_and_the_recipe_points_at_the_qa_file(run):
    out, summary = run
    splits = summary["data"]["splits"]
    total = sum(splits.values())
    assert splits["validation"] == splits["test"] == round(0.1 * total)
    recipe = Recipe.from_yaml(EXAMPLE / "recipe.yaml")
    assert recipe.data.path.endswith("data/qa.jsonl") and recipe.data.stratify == "length"
    assert (recipe.adapter.r, recipe.adapter.alpha, recipe.adapter.dropout) == (16, 8, 0.1)
    assert (recipe.model.quantization, recipe.model.double_quant, recipe.model.compute_dtype) == (
        "nf4",
        True,
        "bfloat16",
    )


@pytest.mark.parametrize("arch", ["llama", "mistral"])
def test_each_architecture_trained_with_the_qlora_settings(run, arch):
    out, summary = run
    training = summary["training"][arch]
    assert training["optim"] == "paged_adamw_32bit"
    assert training["eval_loss"] < training["initial_eval_loss"]
    assert training["evaluations"] >= training["steps"] // training["eval_steps"]
    manifest = json.loads((out / arch / "manifest.json").read_text())
    assert manifest["model"]["quantization"] == "nf4"
    assert manifest["training"]["lr_scheduler_type"] == "cosine"
    config = json.loads((out / arch / "adapter" / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"], config["lora_dropout"]) == (16, 8, 0.1)
    assert set(config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj", "lm_head"}
    model_type = json.loads((out / arch / "tiny-model" / "config.json").read_text())["model_type"]
    assert model_type == arch


@pytest.mark.parametrize("arch", ["llama", "mistral"])
def test_base_vs_tuned_reports(run, arch):
    out, summary = run
    report = EvaluationReport.load(out / arch / "eval")
    assert report.system_names == ["base", "tuned"]
    assert len(report.samples) == summary["evaluation"][arch]["n"] == summary["data"]["splits"]["test"]
    for system in ("base", "tuned"):
        for key in ("rouge1", "rouge2", "rougeL"):
            value = report.systems[system][key]
            assert 0 <= value.ci_low <= value.value <= value.ci_high <= 1
    # even a few quick steps make the references far more likely than under the random base
    assert report.systems["tuned"]["perplexity"].value < report.systems["base"]["perplexity"].value
    assert (out / arch / "eval" / "report.html").exists()


@pytest.mark.parametrize("arch", ["llama", "mistral"])
def test_knowledge_probes_ask_about_the_trained_tickets(run, arch):
    from domainft.data.near_duplicates import near_duplicate_pairs

    out, summary = run
    tickets = [
        json.loads(line) for line in (out / "data" / "knowledge_tickets.jsonl").read_text().splitlines()
    ]
    qa = [json.loads(line) for line in (out / "data" / "qa.jsonl").read_text().splitlines()]
    trained = Recipe.from_yaml(out / arch / "recipe.yaml")
    assert trained.evaluation.knowledge.facts == str(out / "data" / "knowledge_tickets.jsonl")
    assert len(tickets) == summary["data"]["splits"]["train"]  # one ticket per training pair
    knowledge = EvaluationReport.load(out / arch / "eval").knowledge_report
    facts = knowledge.facts
    assert len(facts) == 12 and {f.attribute for f in facts} == {"repair time", "cause"}  # quick: 6 tickets
    hours = [f for f in facts if f.attribute == "repair time"]
    assert all(f.kind == "number" and f.answer.endswith(" h") for f in hours)
    assert set(facts.groups()) <= {t["machine_type"] for t in tickets}
    ids = {t["id"] for t in tickets}
    prompts = {q["prompt"] for q in qa if q["source_id"] in ids}  # the training split's prompts
    assert all(
        p.question in prompts for p in knowledge.probe_set.of_kind("training")
    )  # the training phrasing
    asked = [p.question for p in knowledge.probe_set if p.kind != "training"]
    assert near_duplicate_pairs(asked, sorted(prompts), threshold=0.9) == []
    assert knowledge.unanswerable["tuned"]["probes"] == 4
    assert summary["evaluation"][arch]["knowledge"]["counts"] == knowledge.probe_set.counts()
    assert f"### Knowledge probes: {arch}" in (out / "summary.md").read_text(encoding="utf-8")


def test_rouge_chart_and_pairwise_judge(run):
    out, summary = run
    assert (out / "rouge_before_after.png").read_bytes()[:4] == b"\x89PNG"
    pairwise = summary["pairwise"]
    assert pairwise["judge"] == "similarity judge (offline stand-in)"
    assert pairwise["n_judged"] + pairwise["failed"] == summary["data"]["splits"]["test"]
    rates = [pairwise["llama_win_rate"], pairwise["tie_rate"], pairwise["mistral_win_rate"]]
    assert sum(rates) == pytest.approx(1.0)
    compare = EvaluationReport.load(out / "compare")
    assert set(compare.system_names) == {"llama", "mistral"}
    assert "mistral vs llama" in compare.pairwise or "llama vs mistral" in compare.pairwise
    assert (out / "compare" / "pairwise.json").exists()
    assert "llama wins" in (out / "summary.md").read_text(encoding="utf-8")
    assert json.loads((out / "summary.json").read_text()) == summary
