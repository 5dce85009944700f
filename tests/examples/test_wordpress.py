"""examples/wordpress: plugin docs -> numbered-steps support assistant (quick mode, fake endpoint)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.examples import EXAMPLES, load_script
from tests.fake_openai import FakeOpenAIServer

EXAMPLE = EXAMPLES / "wordpress"
ENDPOINT_ANSWER = (
    "Here's how:\n1. Open the Kestrel menu in the dashboard.\n2. Change the setting and click Save."
)


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def recipe():
    return load_script(EXAMPLE / "run.py", "example_wordpress")


@pytest.fixture(scope="module")
def run(recipe, tmp_path_factory):
    """One quick run with a fake OpenAI-compatible endpoint as the third system."""
    out = tmp_path_factory.mktemp("wordpress")
    with FakeOpenAIServer(handler=lambda request: ENDPOINT_ANSWER) as server:
        summary = recipe.main(
            [
                "--quick",
                "--output-dir",
                str(out),
                "--endpoint-url",
                server.url,
                "--endpoint-model",
                "hosted-ft",
            ]
        )
        requests = list(server.requests)
    return out, summary, requests


# ---------------------------------------------------------------------------------------------- data files


def test_documentation_pages_are_markdown_with_steps_tables_and_code():
    pages = sorted((EXAMPLE / "data" / "docs").glob("*.md"))
    assert 12 <= len(pages) <= 20
    texts = [p.read_text(encoding="utf-8") for p in pages]
    assert all(t.startswith("# ") for t in texts)
    assert sum("\n| " in t for t in texts) >= 8  # settings tables
    assert sum("```" in t for t in texts) >= 4  # code blocks
    assert sum("Kestrel" in p.name or "kestrel" in p.name for p in pages) >= 6  # the plugin's own pages
    assert all(re.search(r"^1\. .+\n2\. ", t, re.MULTILINE) for t in texts)  # numbered procedures


def test_few_shot_examples_follow_the_pattern():
    from domainft.data.synthetic import get_validator

    shots = _jsonl(EXAMPLE / "data" / "few_shot.jsonl")
    assert 3 <= len(shots) <= 5
    validator = get_validator("numbered_steps")
    for shot in shots:
        assert {"passage", "question", "answer"} <= set(shot)
        assert validator.check(shot["answer"]) is None


def test_qa_table_is_what_the_generator_writes_and_holds_the_planned_mess():
    from domainft.data.synthetic import numbered_steps

    generator = load_script(EXAMPLE / "data" / "make_qa_table.py", "example_wordpress_table")
    import yaml

    fragments = yaml.safe_load((EXAMPLE / "data" / "qa_fragments.yaml").read_text(encoding="utf-8"))
    rows = generator.build_rows(EXAMPLE / "data" / "docs", fragments, frames_per_procedure=1.6)
    table = _jsonl(EXAMPLE / "data" / "qa_table.jsonl")
    assert rows == table  # the committed table is reproducible from the fragments
    assert len({r["page"] for r in table}) == len(list((EXAMPLE / "data" / "docs").glob("*.md")))
    bad_pattern = [r for r in table if r["answer"] and numbered_steps(r["answer"]) is not None]
    assert len(bad_pattern) == sum(generator.MESS[k] for k in ("prose", "one_step", "gap"))
    assert sum(not r["answer"] for r in table) == 2
    normalised = [(" ".join(r["user_question"].split()), r["answer"]) for r in table]
    assert len(normalised) - len(set(normalised)) == generator.MESS["duplicate"]


# ---------------------------------------------------------------------------------------------- the run


def test_data_stage_counts(run):
    out, summary, _ = run
    data = summary["data"]
    table_rows = len(_jsonl(EXAMPLE / "data" / "qa_table.jsonl"))
    assert data["documents"]["accepted"] + data["documents"]["rejected"] == data["passages"] > 80
    assert data["table"]["accepted"] + data["table"]["rejected"] == table_rows
    # the validator rejects the table's broken answers and the one-sentence passages
    assert data["table"]["rejected_by_reason"]["validator:numbered_steps"] == 11
    assert data["documents"]["rejected_by_reason"]["validator:numbered_steps"] >= 1
    assert data["documents"]["rejected_by_reason"]["pattern_mismatch"] >= 2  # settings tables
    assert data["validator"]["rejected"] == sum(
        data[s]["rejected_by_reason"].get("validator:numbered_steps", 0) for s in ("documents", "table")
    )
    assert data["cleaning"]["dropped_by_reason"] == {"duplicate": 4}
    assert data["splits"] == {"train": 470, "validation": 20, "test": 30}
    rejected = _jsonl(out / "synthetic" / "table" / "rejected.jsonl")
    assert {r["reason"] for r in rejected} == {"validator:numbered_steps", "missing_field", "empty_answer"}


def test_export_is_hosted_fine_tuning_jsonl_of_the_same_splits(run):
    from domainft import DatasetBuilder

    out, summary, _ = run
    assert summary["export"]["files"] == {"train.jsonl": 470, "validation.jsonl": 20, "test.jsonl": 30}
    dsd = DatasetBuilder.from_file(out / "dataset").build()
    for split in ("train", "test"):
        lines = _jsonl(out / "export" / f"{split}.jsonl")
        assert [[m["role"] for m in line["messages"]] for line in lines] == [
            ["system", "user", "assistant"]
        ] * len(lines)
        assert [line["messages"][1]["content"] for line in lines] == dsd[split]["prompt"]
        assert [line["messages"][2]["content"] for line in lines] == dsd[split]["response"]


def test_training_used_nf4_and_lora_on_attention_and_mlp(run):
    out, summary, _ = run
    training = summary["training"]
    assert training["quantization"] == "nf4"
    assert sorted(training["target_modules"]) == sorted(
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    assert training["eval_loss"] < training["initial_eval_loss"]
    adapter = json.loads((out / "train" / "adapter" / "adapter_config.json").read_text())
    assert set(adapter["target_modules"]) == set(training["target_modules"])
    assert (
        adapter["modules_to_save"] == training["modules_to_save"] == ["lm_head"]
    )  # tiny model's random head
    assert (out / "train" / "loss_curve.png").stat().st_size > 0


def test_reports_compare_three_systems_under_both_decodings(run):
    from domainft import EvaluationReport

    out, summary, requests = run
    for name in ("greedy", "sampled"):
        report = EvaluationReport.load(out / "eval" / name)
        assert report.system_names == ["base", "tuned", "endpoint"]
        assert len(report.samples) == 6
        for system in report.system_names:
            values = report.systems[system]
            assert 0.0 <= values["pattern_steps"].value <= 1.0
            assert 1.0 <= values["judge_score"].value <= 10.0
            assert values["rougeL"].ci_low <= values["rougeL"].value <= values["rougeL"].ci_high
        # the endpoint always answers in numbered steps: the pattern metric must see it
        assert report.systems["endpoint"]["pattern_steps"].value == 1.0
        assert report.systems["base"]["pattern_steps"].value < 1.0
        assert "tuned vs base" in report.pairwise
        assert summary["evaluation"][name]["systems"]["endpoint"]["pattern_all"]["value"] == 1.0
    sampled = summary["evaluation"]["sampled"]["decoding"]
    assert (sampled["do_sample"], sampled["temperature"], sampled["top_p"], sampled["top_k"]) == (
        True,
        0.7,
        0.9,
        40,
    )
    assert summary["evaluation"]["greedy"]["decoding"]["do_sample"] is False
    # one request per test question and decoding, greedy ones at temperature 0
    temperatures = sorted(r.body["temperature"] for r in requests)
    assert temperatures == [0.0] * 6 + [0.7] * 6
    assert all(r.messages[0]["role"] == "system" for r in requests)
    assert summary["evaluation"]["endpoint"]["used"] is True
    assert summary["evaluation"]["judge"] == "similarity judge (offline stand-in)"


def test_output_files(run):
    out, summary, _ = run
    for name in ("summary.json", "summary.md", "data_funnel.png", "pattern_adherence.png"):
        assert (out / name).stat().st_size > 0
    for name in ("metrics.json", "samples.jsonl", "report.html", "metrics.png"):
        assert (out / "eval" / "greedy" / name).is_file()
    assert json.loads((out / "summary.json").read_text()) == json.loads(json.dumps(summary))
    markdown = (out / "summary.md").read_text()
    assert "| endpoint |" in markdown and "470 / 20 / 30" in markdown


# ---------------------------------------------------------------------------------------------- options


def test_endpoint_options_and_environment(recipe, monkeypatch):
    monkeypatch.delenv("DOMAINFT_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("DOMAINFT_ENDPOINT_MODEL", raising=False)
    args = recipe.parse_args([])
    assert recipe.endpoint_from(args.endpoint_url, args.endpoint_model, None, "endpoint") is None
    monkeypatch.setenv("DOMAINFT_ENDPOINT_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("DOMAINFT_ENDPOINT_MODEL", "ft:model")
    monkeypatch.setenv("DOMAINFT_QUICK", "1")
    args = recipe.parse_args([])
    assert args.quick is True
    assert recipe.endpoint_from(args.endpoint_url, args.endpoint_model, "KEY_VAR", "endpoint") == {
        "base_url": "http://127.0.0.1:9/v1",
        "model": "ft:model",
        "api_key_env": "KEY_VAR",
    }
    with pytest.raises(SystemExit, match="needs both a URL and a model"):
        recipe.endpoint_from("http://127.0.0.1:9/v1", None, None, "judge")


def test_teacher_path_writes_the_data_through_document_mode(recipe, tmp_path):
    """With --teacher-url the pairs come from an LLM: document mode asks for n pairs per passage
    (few-shot turns included) and the table's answers are written by the teacher, all validated."""

    def teacher(request):
        prompt = request.last_user
        n = re.search(r"Write (\d+) question", prompt)
        if n:  # a document-mode request
            numbered = "1. Open the page.\n2. Save." if "Stripe" not in prompt else "Just save it."
            return json.dumps(
                [{"question": f"Q{k} {len(prompt)}?", "answer": numbered} for k in range(int(n[1]))]
            )
        return "1. Do the first step.\n2. Do the second step."

    with FakeOpenAIServer(handler=teacher) as server:
        data = recipe.build_data(
            recipe.load_recipe(quick=True),
            tmp_path,
            teacher={"base_url": server.url, "model": "teacher"},
            questions_per_passage=2,
        )
        document_requests = [r for r in server.requests if "question(s)" in r.last_user]
    few_shot = _jsonl(EXAMPLE / "data" / "few_shot.jsonl")
    assert len(document_requests) == data.passages["passages"]
    assert len(document_requests[0].messages) == 2 + 2 * len(few_shot)  # system, shots, passage
    stats = data.documents.stats
    assert stats.accepted + stats.rejected == 2 * data.passages["passages"]
    assert stats.rejected_by_reason["validator:numbered_steps"] >= 2  # the Stripe passages' prose answers
    assert data.table.stats.rejected_by_reason == {"missing_field": 1}
    assert {name: split.num_rows for name, split in data.datasets.items()} == {
        "train": 470,
        "validation": 20,
        "test": 30,
    }
