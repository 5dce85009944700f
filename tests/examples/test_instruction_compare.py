"""examples/instruction_compare: the authored data, the quick run end to end, and the judge-endpoint path.

The quick run builds a dense and a mixture-of-experts tiny model, filters the alpaca set by token
length, trains both with the same LoRA settings and compares base and tuned in one table. The
endpoint path re-evaluates those adapters against a real HTTP server on 127.0.0.1 that plays the
LLM judge and the RAGAS judge.
"""

from __future__ import annotations

import json
import re
import shutil
from types import ModuleType

import pytest

from domainft import EvaluationReport
from tests.examples import EXAMPLES, load_script
from tests.fake_openai import FakeOpenAIServer

EXAMPLE = EXAMPLES / "instruction_compare"
DATA = EXAMPLE / "data" / "instructions.jsonl"
ARCHS = ("dense", "moe")
JUDGE_SCORE = 7  # what the fake LLM judge always answers


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_script(EXAMPLE / "run.py", "example_instruction_compare")


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def quick_run(example, tmp_path_factory):
    out = tmp_path_factory.mktemp("instruction_compare")
    with pytest.MonkeyPatch.context() as mp:  # an endpoint in the environment would change the path
        mp.delenv("DOMAINFT_JUDGE_URL", raising=False)
        mp.delenv("DOMAINFT_JUDGE_MODEL", raising=False)
        summary = example.main(["--quick", "--output-dir", str(out)])
    return out, summary


def _rows(summary: dict) -> dict[tuple[str, str], dict]:
    return {(r["architecture"], r["system"]): r for r in summary["table"]["rows"]}


# --- the data ---------------------------------------------------------------------------------------


def test_data_is_a_varied_alpaca_set_of_at_least_300_items(records):
    assert len(records) >= 300
    assert len({r["id"] for r in records}) == len(records)
    for r in records:
        assert {"instruction", "input", "output"} <= set(r)
        assert r["instruction"].strip() and r["output"].strip()
        assert isinstance(r["input"], str)
    with_input = sum(1 for r in records if r["input"].strip())
    assert 0.2 * len(records) < with_input < 0.8 * len(records)  # input often empty, often not
    categories = {r["category"] for r in records}
    for task in (
        "rewrite",
        "summary",
        "sentiment",
        "extraction",
        "explanation",
        "conversion",
        "list",
        "code",
        "email",
    ):
        assert task in categories
    assert len(categories) >= 10


def test_data_answers_of_generated_items_are_correct(records):
    for r in records:
        if r["category"] == "extraction":
            fields = json.loads(r["output"])
            for value in fields.values():
                assert str(value) in r["input"]  # every extracted field is in the message
        match = re.search(r"(-?\d+) (°C|degrees Celsius)", r["instruction"])
        if r["category"] == "conversion" and match:
            celsius = float(match.group(1))
            assert r["output"].endswith(f"{celsius * 9 / 5 + 32:g} °F.")


def test_generator_reproduces_the_shipped_file(records):
    generator = load_script(EXAMPLE / "data" / "make_instructions.py", "make_instructions")
    assert generator.build() == records


def test_planned_mess_is_present(records):
    long_items = [r for r in records if r["category"] in ("long_digest", "long_guide")]
    assert len(long_items) == 9
    assert all(len(r["input"]) > 1500 or len(r["output"]) > 1000 for r in long_items)
    keys = {}
    for r in records:
        key = " ".join(f"{r['instruction']} {r['input']} {r['output']}".split()).casefold()
        keys.setdefault(key, []).append(r["id"])
    assert sum(len(ids) - 1 for ids in keys.values()) == 3  # three pasted-again duplicates


# --- the quick run ------------------------------------------------------------------------------------


def test_cleaning_and_token_filter_counts(quick_run, records):
    out, summary = quick_run
    data = summary["data"]
    assert data["rows_in"] == len(records)
    assert data["duplicates"] == 3
    assert data["too_many_tokens"] == 9
    assert data["rows_out"] == len(records) - 12
    assert sum(data["splits"].values()) == data["rows_out"]
    assert data["splits"]["test"] == 30
    dropped = [json.loads(line) for line in (out / "data" / "dropped.jsonl").read_text().splitlines()]
    too_long = [d for d in dropped if d["reason"] == "too_many_tokens"]
    assert len(too_long) == 9
    assert all(d["tokens"] > d["limit"] for d in too_long)
    long_ids = {r["id"] for r in records if r["category"] in ("long_digest", "long_guide")}
    assert {d["id"] for d in too_long} == long_ids  # exactly the planned long items, nothing else


def test_table_has_base_and_tuned_for_both_architectures(quick_run, example):
    out, summary = quick_run
    assert json.loads((out / "summary.json").read_text()) == summary
    rows = _rows(summary)
    assert set(rows) == {(a, s) for a in ARCHS for s in ("base", "tuned")}
    assert summary["table"]["judge"] == example.SIMILARITY_JUDGE
    for (_arch, system), row in rows.items():
        assert 1 <= row["judge_score"] <= 10
        assert -1 <= row["semantic_similarity"] <= 1
        # the same local embedding model behind both: RAGAS semantic similarity = the cosine
        assert row["ragas_semantic_similarity"] == pytest.approx(row["semantic_similarity"], abs=1e-3)
        assert row["ragas_answer_correctness"] == example.NEEDS_ENDPOINT  # no LLM, no number
        if system == "tuned":
            assert row["training_s"] > 0 and row["tokens_per_s"] > 0
        else:
            assert row["training_s"] is None and row["tokens_per_s"] is None
    markdown = (out / "summary.md").read_text()
    assert example.NEEDS_ENDPOINT in markdown and "MoE (mixtral" in markdown
    assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"


def test_same_lora_on_a_dense_and_a_moe_model(quick_run):
    out, summary = quick_run
    manifests = {a: json.loads((out / a / "manifest.json").read_text()) for a in ARCHS}
    configs = {a: json.loads((out / "models" / a / "config.json").read_text()) for a in ARCHS}
    assert configs["dense"]["model_type"] == "llama"
    assert configs["moe"]["model_type"] == "mixtral"
    assert (configs["moe"]["num_local_experts"], configs["moe"]["num_experts_per_tok"]) == (4, 2)
    for arch in ARCHS:
        adapter = json.loads((out / arch / "adapter" / "adapter_config.json").read_text())
        assert (adapter["r"], adapter["lora_alpha"], adapter["lora_dropout"]) == (64, 16, 0.1)
        manifest = manifests[arch]
        assert manifest["template"] == "llama2-inst"
        assert manifest["training"]["warmup_ratio"] == 0.03
        assert manifest["training"]["num_train_epochs"] == 2
        numbers = summary["training"][arch]
        result = manifest["result"]
        batches = -(
            -summary["data"]["splits"]["train"] // manifest["training"]["per_device_train_batch_size"]
        )
        assert numbers["steps"] == result["global_step"] == 2 * batches  # two full epochs, quick mode too
        assert numbers["tokens_per_s"] == pytest.approx(result["tokens_seen"] / result["runtime_s"], rel=1e-3)
        pre = summary["pretraining"][arch]
        assert pre["loss_last"] < pre["loss_first"]  # the stand-in pretraining learned something
    params = {a: manifests[a]["model"]["parameters"] for a in ARCHS}
    assert params["dense"]["trainable"] == params["moe"]["trainable"]  # same adapter shapes
    assert params["moe"]["total"] > params["dense"]["total"]  # four experts per layer


def test_reports_load_and_hold_every_score(quick_run):
    out, summary = quick_run
    for arch in ARCHS:
        report = EvaluationReport.load(out / summary["reports"][arch])
        assert report.system_names == ["base", "tuned"]
        assert len(report.samples) == 8  # quick mode
        for system in ("base", "tuned"):
            assert {"judge_score", "semantic_similarity", "ragas_semantic_similarity"} <= set(
                report.systems[system]
            )
        assert report.meta["systems"]["base"]["adapter_disabled"] is True
        for name in ("metrics.json", "samples.jsonl", "report.html", "metrics.png"):
            assert (out / summary["reports"][arch] / name).exists()


# --- the judge endpoint path --------------------------------------------------------------------------


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]


def _norm(text: str) -> str:
    return text.strip().rstrip(".").casefold()


def _fake_llm(request) -> str:
    """The judge's grade, or ragas' structured answers by exact sentence matching."""
    prompt = request.last_user
    if "JSON Schema:" not in prompt:
        return json.dumps({"score": JUDGE_SCORE, "rationale": "Partly correct."})
    schema, _ = json.JSONDecoder().raw_decode(prompt.split("JSON Schema:\n", 1)[1])
    data = json.loads(prompt.rsplit("input: ", 1)[1].rsplit("Output:", 1)[0])
    if schema["title"] == "StatementGeneratorOutput":
        return json.dumps({"statements": _sentences(data["answer"]) or [data["answer"]]})
    if schema["title"] == "ClassificationWithReason":
        truth = data["ground_truth"]
        tp = [s for s in data["answer"] if any(_norm(s) == _norm(t) for t in truth)]
        fp = [s for s in data["answer"] if s not in tp]
        fn = [t for t in truth if not any(_norm(s) == _norm(t) for s in data["answer"])]

        def wrap(items: list[str]) -> list[dict]:
            return [{"statement": s, "reason": "compared"} for s in items]

        return json.dumps({"TP": wrap(tp), "FP": wrap(fp), "FN": wrap(fn)})
    raise AssertionError(f"unexpected ragas prompt {schema['title']}")


def test_judge_endpoint_gives_llm_scores_and_ragas_answer_correctness(quick_run, example, tmp_path):
    out, offline = quick_run
    copy = tmp_path / "with_judge"
    shutil.copytree(out, copy)
    with FakeOpenAIServer(_fake_llm) as server:
        summary = example.main(
            [
                "--quick",
                "--output-dir",
                str(copy),
                "--eval-only",
                "--judge-url",
                server.url,
                "--judge-model",
                "judge-llm",
            ]
        )
        bodies = [r.body for r in server.requests]
    assert summary["table"]["judge"] == "LLM judge (judge-llm)"
    assert bodies and all(b["model"] == "judge-llm" for b in bodies)
    assert any("JSON Schema" in json.dumps(b) for b in bodies)  # RAGAS asked the same endpoint
    for (arch, system), row in _rows(summary).items():
        assert row["judge_score"] == JUDGE_SCORE  # the endpoint's grades, not the similarity judge's
        assert isinstance(row["ragas_answer_correctness"], float)
        assert 0 <= row["ragas_answer_correctness"] <= 1
        assert row["semantic_similarity"] == pytest.approx(
            _rows(offline)[(arch, system)]["semantic_similarity"]
        )
    assert summary["training"] == offline["training"]  # re-evaluated, not retrained
    for arch in ARCHS:  # the adapters reloaded from disk answer exactly as the trained ones did
        before = EvaluationReport.load(out / offline["reports"][arch])
        after = EvaluationReport.load(copy / summary["reports"][arch])
        assert [s.predictions for s in after.samples] == [s.predictions for s in before.samples]
