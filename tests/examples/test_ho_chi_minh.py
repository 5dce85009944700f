"""The Hồ Chí Minh museum Q&A recipe: its authored data, and one quick run of examples/ho_chi_minh/run.py."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from domainft.evaluation.knowledge.matching import detect_kind
from tests.examples import EXAMPLES, load_script
from tests.fake_openai import FakeOpenAIServer, ReceivedRequest

EXAMPLE = EXAMPLES / "ho_chi_minh"
PAGES = sorted((EXAMPLE / "data" / "pages").glob("*.html"))


@pytest.fixture(scope="module")
def script() -> Any:
    return load_script(EXAMPLE / "run.py", "example_ho_chi_minh")


@pytest.fixture(scope="module")
def run(script: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("ho_chi_minh")
    summary = script.main(["--quick", "--output-dir", str(out)])
    return out, summary


def _extra_rows() -> list[dict[str, Any]]:
    lines = (EXAMPLE / "data" / "qa_extra.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


# ---------------------------------------------------------------------------------------------- the data we ship


def test_pages_are_real_html_with_chrome_to_strip() -> None:
    assert 8 <= len(PAGES) <= 12
    for page in PAGES:
        html = page.read_text(encoding="utf-8")
        for tag in ("<head>", "<title>", "<nav", "<h1>", "<h2>", "<p", "<footer"):
            assert tag in html, f"{page.name} lacks {tag}"
    assert sum("<ul" in p.read_text(encoding="utf-8") for p in PAGES) >= 6


def test_pages_cover_the_life_with_vietnamese_diacritics() -> None:
    text = unicodedata.normalize("NFC", " ".join(p.read_text(encoding="utf-8") for p in PAGES))
    for needle in (
        "Nguyễn Sinh Cung",
        "Nguyễn Tất Thành",
        "Nguyễn Ái Quốc",
        "Kim Liên",
        "Nghệ An",
        "1930",
        "Pác Bó",
        "Việt Minh",
        "Ba Đình",
        "2 September 1945",
        "Prison Diary",
        "stilt house",
        "1969",
        "mausoleum",
    ):
        assert needle in text, needle


def test_one_page_is_stored_in_decomposed_unicode() -> None:
    decomposed = [p.name for p in PAGES if unicodedata.normalize("NFC", t := p.read_text("utf-8")) != t]
    assert decomposed == ["06-pac-bo.html"]


def test_authored_pairs_and_their_planned_mess() -> None:
    rows = _extra_rows()
    assert len(rows) >= 150
    assert all({"id", "topic", "question", "answer"} <= set(r) for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
    assert sum(not r["answer"].strip() for r in rows) == 1
    assert sum(not r["question"].strip() for r in rows) == 1
    keys = [
        (" ".join(r["question"].split()).casefold(), " ".join(r["answer"].split()).casefold()) for r in rows
    ]
    assert len(keys) - len(set(keys)) == 3  # an exact copy, one with extra spaces, one in capitals
    assert sum(r["topic"] == "vietnamese" for r in rows) >= 8


def test_fact_table_asks_as_the_training_pairs_and_their_answers_state_the_key() -> None:
    from domainft.evaluation.knowledge import FactSet
    from domainft.evaluation.knowledge.matching import match_span

    facts = FactSet.from_table(EXAMPLE / "data" / "facts.csv")
    assert len(facts) >= 40 and not facts.rejected and len(facts.groups()) >= 8
    answers = {r["question"]: r["answer"] for r in _extra_rows()}
    for fact in facts:  # the training phrasing is an authored question whose answer states the key span
        assert fact.question in answers, fact.id
        assert match_span(answers[fact.question], fact.answer, aliases=fact.aliases).matched, fact.id
    kinds = Counter(fact.kind if fact.kind != "auto" else detect_kind(fact.answer) for fact in facts)
    assert kinds["date"] >= 15 and kinds["number"] >= 3 and kinds["string"] >= 15


def test_off_topic_questions() -> None:
    lines = (EXAMPLE / "data" / "off_topic_questions.txt").read_text(encoding="utf-8").splitlines()
    assert len([line for line in lines if line.strip()]) >= 30
    assert not any("Hồ Chí Minh" in line for line in lines)


def test_recipe_has_the_original_lora_settings() -> None:
    from domainft import Recipe

    recipe = Recipe.from_yaml(EXAMPLE / "recipe.yaml")
    assert (recipe.adapter.r, recipe.adapter.alpha, recipe.adapter.dropout) == (64, 16, 0.1)
    assert recipe.adapter.target_modules == "attention+mlp"
    assert recipe.adapter.last_n_layers == 2
    assert recipe.training.template == "human-assistant"
    assert recipe.training.generation_metrics == ["bleu"]
    assert recipe.training.metric_for_best_model == "bleu"
    assert recipe.training.early_stopping_patience


def test_pages_read_into_clean_passages(script: Any) -> None:
    passages, stats = script.read_pages()
    assert stats["pages"] == len(PAGES) and not stats["skipped"]
    assert stats["passages"] == len(passages) >= 40
    assert stats["sentences"] > stats["passages"]
    text = "\n".join(p["text"] for p in passages)
    for chrome in ("Twelve rooms", "Back to top", "Plan your visit", "querySelectorAll", "cookies"):
        assert chrome not in text
    assert unicodedata.normalize("NFC", text) == text
    assert "Cốc Bó" in text  # the decomposed page reads as precomposed text
    assert "19 May 1890" in text  # &nbsp; decoded


def test_teacher_endpoint_writes_and_caches_the_pairs(script: Any, tmp_path: Path) -> None:
    def teacher(request: ReceivedRequest) -> str:
        passage = request.last_user.split("\n\n", 1)[-1]
        words = passage.split()
        return json.dumps(
            [
                {
                    "question": f"Question {k} about {' '.join(words[k : k + 5])}?",
                    "answer": " ".join(words[:12]),
                }
                for k in range(3)
            ],
            ensure_ascii=False,
        )

    recipe = script.load_recipe(tmp_path, quick=True)
    with FakeOpenAIServer(teacher) as server:
        _, stats = script.build_data(recipe, tmp_path, teacher_url=server.url, teacher_model="museum-teacher")
        calls = server.count
        again = script.load_recipe(tmp_path, quick=True)
        _, rerun = script.build_data(again, tmp_path, teacher_url=server.url, teacher_model="museum-teacher")
        assert server.count == calls  # every reply came from the cache
        system = server.requests[0].messages[0]
    assert calls == stats["passages"]
    assert system["role"] == "system" and "Hồ Chí Minh" in system["content"]
    assert stats["teacher"] == "openai:museum-teacher"
    assert stats["synthetic_pairs"] == 3 * stats["passages"] and not stats["synthetic_rejected"]
    assert rerun["pairs_after_cleaning"] == stats["pairs_after_cleaning"] >= 300


# ---------------------------------------------------------------------------------------------- one quick run


def test_data_counts(run: tuple[Path, dict[str, Any]]) -> None:
    out, summary = run
    data = summary["data"]
    assert data["pairs_after_cleaning"] >= 300
    assert data["pairs_before_cleaning"] == data["synthetic_pairs"] + data["authored_pairs"]
    assert data["dropped_by_reason"]["duplicate"] >= 3
    assert data["dropped_by_reason"]["empty_response"] == 1
    assert data["dropped_by_reason"]["empty_prompt"] == 1
    assert data["synthetic_rejected"]["pattern_mismatch"] > 0  # headings are not answers
    assert sum(data["splits"].values()) == data["pairs_after_cleaning"]
    assert set(data["kept_by_origin"]) == {"synthetic", "authored"}
    pairs = (out / "data" / "qa_pairs.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(pairs) == data["pairs_before_cleaning"]
    cleaning = json.loads((out / "data" / "cleaning_report.json").read_text(encoding="utf-8"))
    assert cleaning["rows_out"] == data["pairs_after_cleaning"]


def test_topic_gate_report_and_refusals(run: tuple[Path, dict[str, Any]]) -> None:
    from domainft import TopicGate

    out, summary = run
    gate_stats = summary["gate"]
    assert set(gate_stats["per_class"]) == {"in_domain", "out_of_domain"}
    assert gate_stats["f1"] > 0.7
    assert gate_stats["out_of_domain"]["builtin"] >= 300 and gate_stats["out_of_domain"]["authored"] >= 30
    report = (out / "topic_gate" / "classification_report.txt").read_text(encoding="utf-8")
    assert "precision" in report and "in_domain" in report
    gate = TopicGate.load(out / "topic_gate")
    assert gate("When did Hồ Chí Minh write the Prison Diary?")
    assert not gate("What is a good recipe for banana bread?")


def test_training_freezes_the_first_half_and_logs_bleu(run: tuple[Path, dict[str, Any]]) -> None:
    out, summary = run
    training = summary["training"]
    assert training["blocks"] == 4 and training["adapted_blocks"] == [2, 3]
    assert 0 < training["trainable_parameters"] < training["total_parameters"]
    curve = training["bleu_curve"]
    assert curve[0]["step"] == 0 and len(curve) >= 3
    assert all(0 <= point["bleu"] <= 100 for point in curve)
    assert training["eval_loss"] < training["initial_eval_loss"]
    adapter = json.loads((out / "train" / "adapter" / "adapter_config.json").read_text(encoding="utf-8"))
    assert (adapter["r"], adapter["lora_alpha"], adapter["lora_dropout"]) == (64, 16, 0.1)
    assert adapter["layers_to_transform"] == [2, 3]
    assert {"q_proj", "v_proj", "gate_proj", "down_proj"} <= set(adapter["target_modules"])
    state = json.loads((out / "train" / "trainer_state.json").read_text(encoding="utf-8"))
    assert any("eval_bleu" in entry for entry in state["log_history"])
    assert (out / "bleu_curve.png").stat().st_size > 0


def test_sweep_table_and_chart(run: tuple[Path, dict[str, Any]]) -> None:
    out, summary = run
    trials = summary["sweep"]["trials"]
    assert len(trials) == 2 and all(t["status"] == "ok" for t in trials)
    assert summary["sweep"]["best"] in {t["name"] for t in trials}
    for name in ("sweep.md", "sweep.csv", "sweep.json", "loss_curves.png"):
        assert (out / "sweep" / name).stat().st_size > 0
    assert "learning_rate" in (out / "sweep" / "sweep.md").read_text(encoding="utf-8")


def test_evaluation_report_and_side_by_side(run: tuple[Path, dict[str, Any]]) -> None:
    from domainft import EvaluationReport

    out, summary = run
    report = EvaluationReport.load(out / "train" / "eval")
    assert report.system_names == ["base", "tuned"]
    for system in ("base", "tuned"):
        bleu = report.systems[system]["bleu"]
        assert (
            0 <= bleu.value <= 100 and bleu.ci_low is not None and bleu.ci_low <= bleu.value <= bleu.ci_high
        )
        assert 0 <= report.systems[system]["rougeL"].value <= 1
    assert summary["evaluation"]["n"] == len(report.samples) == 12
    for name in ("metrics.json", "samples.jsonl", "report.html", "metrics.png"):
        assert (out / "train" / "eval" / name).is_file()
    side = (out / "side_by_side.md").read_text(encoding="utf-8")
    assert side.count("\n## ") == 10
    assert side.count("**Reference:**") == side.count("**Base:**") == side.count("**Tuned:**") == 10


def test_knowledge_probes_in_the_evaluation(run: tuple[Path, dict[str, Any]]) -> None:
    from domainft import EvaluationReport

    out, summary = run
    report = EvaluationReport.load(out / "train" / "eval")
    knowledge = report.knowledge_report
    counts = knowledge.probe_set.counts()
    assert counts["facts"] == 10 and counts["paraphrase"] == 30  # quick mode: the first 10 facts
    assert counts["unanswerable"] == 9  # 6 questions and 3 subjects the data never mentions
    checked = knowledge.probe_set.meta["near_duplicate"]
    assert checked["training_prompts"] == summary["data"]["splits"]["train"] and checked["threshold"] == 0.9
    for system in ("base", "tuned"):
        values = knowledge.systems[system]
        assert values["fact_recall"].n == 10 and values["abstention_rate"].n == 9
        assert 0 <= values["training_recall"].value <= 1
    moves = knowledge.transitions["tuned vs base"]
    assert sum(len(v) for v in moves.values()) == 10
    assert summary["knowledge"]["counts"] == counts
    assert "### Knowledge probes" in (out / "summary.md").read_text(encoding="utf-8")
    assert "Knowledge probes" in (out / "train" / "eval" / "report.html").read_text(encoding="utf-8")


def test_chat_refuses_unrelated_questions(run: tuple[Path, dict[str, Any]]) -> None:
    out, summary = run
    turns = summary["chat"]["turns"]
    assert [t["gated"] for t in turns] == [False, False, True, True]
    assert summary["chat"] == {**summary["chat"], "answered": 2, "refused": 2}
    refused = [t for t in turns if t["gated"]]
    assert all("only answer questions about" in t["answer"] and t["topic_score"] < 0.5 for t in refused)
    transcript = (out / "chat_transcript.md").read_text(encoding="utf-8")
    assert transcript.count("refused by the gate") == 2


def test_summary_files(run: tuple[Path, dict[str, Any]]) -> None:
    out, summary = run
    saved = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert saved["quick"] is True and saved["wall_time_s"] > 0
    markdown = (out / "summary.md").read_text(encoding="utf-8")
    for heading in ("pages / passages / sentences", "Topic gate", "Test set", "Sweep"):
        assert heading in markdown
    for name in ("qa_per_page.png", "bleu_curve.png", "side_by_side.md", "chat_transcript.md"):
        assert name in saved["files"]
    assert (out / "train" / "loss_curve.png").is_file()
