import json

import pytest
import sacrebleu
import torch
from rouge_score import rouge_scorer

from domainft.data.templates import encode_prompt, render_prompt
from domainft.errors import ConfigError, DataError
from domainft.evaluation.evaluator import Evaluator, System, resolve_systems
from domainft.evaluation.metrics.lexical import UnicodeTokenizer
from domainft.evaluation.report import EvaluationReport
from domainft.models.adapters import LoraAdapterFactory
from domainft.models.generation import DecodingConfig, generate_texts
from domainft.models.loading import QuantizedLoader
from tests.conftest import greedy_new_ids


@pytest.fixture()
def fp32_model(tiny_model_dir):
    return QuantizedLoader(tiny_model_dir, quantization=None).load()


def _one_by_one(model, tok, prompts, max_new_tokens):
    out = []
    for p in prompts:
        new = greedy_new_ids(model, tok, p, max_new_tokens)
        if tok.eos_token_id in new:
            new = new[: new.index(tok.eos_token_id)]
        out.append(tok.decode(new, skip_special_tokens=True).strip())
    return out


def test_batched_generation_equals_one_by_one_greedy(fp32_model, tiny_dsd):
    model, tok = fp32_model
    model.eval()
    prompts = tiny_dsd["test"]["prompt"]
    ids = [encode_prompt(tok, render_prompt(tok, p)) for p in prompts]
    assert len({len(i) for i in ids}) > 1  # the batch really needs padding
    batched = generate_texts(model, tok, ids, DecodingConfig(max_new_tokens=12, batch_size=3), progress=False)
    assert batched == _one_by_one(model, tok, prompts, 12)
    assert tok.padding_side == "right"  # restored


def test_generation_stops_at_eos(fp32_model):
    model, tok = fp32_model
    with torch.no_grad():  # make EOS the most likely next token everywhere
        model.lm_head.weight.zero_()
        model.lm_head.weight[tok.eos_token_id] = 1.0
        model.model.norm.weight.fill_(1.0)
    ids = [encode_prompt(tok, render_prompt(tok, "anything"))]
    assert generate_texts(model, tok, ids, DecodingConfig(max_new_tokens=20), progress=False) == [""]


def test_compare_runs_the_base_through_the_adapter_switch(tiny_model_dir, tiny_dsd):
    base, tok = QuantizedLoader(tiny_model_dir, quantization=None).load()
    tuned = LoraAdapterFactory(r=4, alpha=64, target_modules="attention+mlp").apply(base)
    torch.manual_seed(0)
    with torch.no_grad():  # LoRA starts as a no-op (B = 0): give it weights so the adapter changes answers
        for name, param in tuned.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    systems = resolve_systems({"base": base, "tuned": tuned})
    assert systems["base"].model is tuned and systems["base"].disable_adapter
    assert not systems["tuned"].disable_adapter

    evaluator = Evaluator(metrics=["rouge"], decoding={"max_new_tokens": 10}, progress=False)
    report = evaluator.compare({"base": base, "tuned": tuned}, tiny_dsd["test"], tokenizer=tok)
    fresh, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
    fresh_answers = Evaluator(metrics=["rouge"], decoding={"max_new_tokens": 10}, progress=False).generate(
        fresh, tok, tiny_dsd["test"]["prompt"]
    )
    base_answers = [s.predictions["base"] for s in report.samples]
    tuned_answers = [s.predictions["tuned"] for s in report.samples]
    assert base_answers == fresh_answers  # adapter really off for "base"
    assert tuned_answers != base_answers  # and on for "tuned"
    assert report.meta["systems"]["base"]["adapter_disabled"] is True
    assert Evaluator.base_of(tuned).disable_adapter
    with pytest.raises(ConfigError, match="PeftModel"):
        Evaluator.base_of(fresh)


def test_reported_metrics_equal_the_libraries_own_numbers(fp32_model, tiny_dsd, tmp_path):
    model, tok = fp32_model
    report = Evaluator(
        metrics=["rouge", "bleu"], decoding=DecodingConfig(max_new_tokens=16), progress=False
    ).evaluate(model, tok, tiny_dsd["test"], name="tiny")
    preds = [s.predictions["tiny"] for s in report.samples]
    refs = tiny_dsd["test"]["response"]
    assert [s.reference for s in report.samples] == refs and [s.id for s in report.samples] == tiny_dsd[
        "test"
    ]["id"]
    scorer = rouge_scorer.RougeScorer(
        ["rouge1", "rouge2", "rougeL", "rougeLsum"], tokenizer=UnicodeTokenizer()
    )
    scores = [scorer.score(r, p) for r, p in zip(refs, preds, strict=True)]
    for key in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        expected = sum(s[key].fmeasure for s in scores) / len(scores)
        assert report.systems["tiny"][key].value == pytest.approx(expected, abs=1e-12)
    assert report.systems["tiny"]["bleu"].value == pytest.approx(sacrebleu.corpus_bleu(preds, [refs]).score)
    assert report.systems["tiny"]["bleu"].n == len(refs)

    out = report.save(tmp_path / "eval")
    for name in ("metrics.json", "samples.jsonl", "report.html", "metrics.png"):
        assert (out / name).is_file()
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"systems", "comparisons", "meta", "failures"}
    for key in ("rouge1", "rougeL", "bleu"):  # every headline has its bootstrap interval
        value = metrics["systems"]["tiny"][key]
        assert value["ci_low"] is not None and value["ci_low"] <= value["value"] <= value["ci_high"]
    assert metrics["meta"]["statistics"]["resamples"] == 1000
    assert metrics["systems"]["tiny"]["bleu"]["value"] == pytest.approx(report.systems["tiny"]["bleu"].value)
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert len(lines) == len(refs) and set(json.loads(lines[0])) == {
        "id",
        "prompt",
        "reference",
        "predictions",
        "scores",
    }
    assert EvaluationReport.load(out).to_dict() == report.to_dict()


def test_score_and_input_errors(fp32_model, tiny_dsd):
    model, tok = fp32_model
    ev = Evaluator(metrics=["bleu"], progress=False)
    ref = "the hydraulic pump leaks oil at the shaft seal"
    report = ev.score(
        {"a": ["the pump is fine and runs"], "b": ["the hydraulic pump leaks oil at the seal"]}, [ref]
    )
    assert report.systems["b"]["bleu"].value > report.systems["a"]["bleu"].value
    assert report.comparisons[0].a == "a" and report.comparisons[0].delta > 0
    with pytest.raises(DataError, match="2 predictions for 1 references"):
        ev.score({"a": ["x", "y"]}, ["x"])
    with pytest.raises(DataError, match="empty"):
        ev.evaluate(model, tok, tiny_dsd["test"].select([]))
    with pytest.raises(DataError, match="lacks column"):
        ev.evaluate(model, tok, [{"question": "q", "answer": "a"}])
    with pytest.raises(ConfigError, match="unknown metric"):
        Evaluator(metrics=["rouge", "meteor-xyz"])
    with pytest.raises(ConfigError, match="at least one system"):
        ev.compare({}, tiny_dsd["test"], tokenizer=tok)
    assert isinstance(resolve_systems({"x": System(model)})["x"], System)


def test_decoding_config_validation_and_kwargs():
    assert DecodingConfig(do_sample=True, temperature=0.7).generate_kwargs()["temperature"] == 0.7
    assert DecodingConfig().generate_kwargs()["temperature"] is None
    with pytest.raises(ConfigError, match="top_p"):
        DecodingConfig(top_p=0)
    with pytest.raises(ConfigError, match="max_new_tokens"):
        DecodingConfig(max_new_tokens=0)


def test_duplicate_metric_names_are_refused():
    from domainft.evaluation.metrics import get_metric

    with pytest.raises(ConfigError, match="more than once"):
        Evaluator(metrics=["rouge", get_metric("rouge", rouge_types=["rouge1"])])


def test_multi_turn_rows_are_answered_with_their_history(fp32_model):
    from domainft.data.templates import conversation_prompt_ids, prompt_ids

    model, tok = fp32_model
    messages = [
        {"role": "user", "content": "Machine: lathe. Problem: chatter marks."},
        {"role": "assistant", "content": "Check the tool height."},
        {"role": "user", "content": "Still there after that."},
        {"role": "assistant", "content": "Reduce the feed rate."},
    ]
    rows = [
        {
            "id": "c1",
            "prompt": messages[2]["content"],
            "response": messages[3]["content"],
            "messages": messages,
        }
    ]
    evaluator = Evaluator(metrics=["rouge"], decoding=DecodingConfig(max_new_tokens=8), progress=False)
    report = evaluator.compare({"m": model}, rows, tokenizer=tok)
    history_ids = conversation_prompt_ids(tok, messages[:3])
    assert history_ids != prompt_ids(tok, messages[2]["content"])  # the history is really longer
    assert len(history_ids) > len(prompt_ids(tok, messages[2]["content"])) + 5
    expected = generate_texts(model, tok, [history_ids], DecodingConfig(max_new_tokens=8), progress=False)
    assert report.samples[0].predictions["m"] == expected[0]


def _context_metric():
    """A metric reading the questions and the retrieved passages (as RAGAS or a judge does); an example
    without passages cannot be scored and is reported as a failure."""
    from domainft.evaluation.metrics import Metric, MetricOutput

    class ContextRecall(Metric):
        name = "context_recall"
        needs = ("prompts", "contexts")

        def __init__(self):
            self.seen = []

        def _compute(self, predictions, references, prompts, contexts):
            self.seen.append((prompts, contexts))
            scores = [
                float(any(w.lower() in " ".join(ctx).lower() for w in pred.split())) if ctx else None
                for pred, ctx in zip(predictions, contexts, strict=True)
            ]
            failures = [{"index": i, "reason": "no context"} for i, s in enumerate(scores) if s is None]
            scored = [s for s in scores if s is not None]
            return MetricOutput(
                {"context_recall": sum(scored) / len(scored)}, {"context_recall": scores}, failures=failures
            )

    return ContextRecall()


def test_score_passes_prompts_and_contexts_and_reports_failures():
    metric = _context_metric()
    ev = Evaluator(metrics=[metric, "rouge"], progress=False, statistics={"resamples": 200, "seed": 3})
    preds = {"a": ["pump", "belt", "seal", "x"], "b": ["pump", "bearing", "seal", "valve"]}
    refs = ["replace the pump", "replace the bearing", "replace the seal", "open the valve"]
    prompts = ["q1", "q2", "q3", "q4"]
    contexts = [["the pump"], ["the bearing"], [], ["the valve"]]
    report = ev.score(preds, refs, ids=["i1", "i2", "i3", "i4"], prompts=prompts, contexts=contexts)
    assert metric.seen[0] == (prompts, contexts)
    assert report.systems["b"]["context_recall"].value == 1.0 and report.systems["b"]["context_recall"].n == 3
    assert report.failures["a"]["context_recall"] == [
        {"id": "i3", "index": 2, "reason": "no context", "raw": None}
    ]
    assert "context_recall" not in report.samples[2].scores["a"]
    assert report.meta["statistics"]["resamples"] == 200 and report.meta["statistics"]["seed"] == 3
    assert report.systems["a"]["rouge1"].ci_low is not None
    with pytest.raises(ValueError, match="needs contexts"):
        ev.score(preds, refs, prompts=prompts)
    with pytest.raises(DataError, match="3 contexts for 4 references"):
        ev.score(preds, refs, prompts=prompts, contexts=contexts[:3])
    with pytest.raises(ConfigError, match="statistics"):
        Evaluator(metrics=["rouge"], statistics=42)
    with pytest.raises(ConfigError, match="at least 100"):
        Evaluator(metrics=["rouge"], statistics={"resamples": 5})


def test_statistics_come_from_the_config_and_can_be_switched_off():
    from domainft.evaluation.config import EvaluationConfig

    config = EvaluationConfig.from_dict(
        {"metrics": ["rouge"], "statistics": {"resamples": 0, "test": "none"}}
    )
    assert EvaluationConfig.from_dict(config.to_dict()) == config
    report = Evaluator(config=config, progress=False).score({"a": ["x y"], "b": ["x z"]}, ["x y"])
    assert report.systems["a"]["rouge1"].ci_low is None and report.comparisons[0].p_value is None
    assert report.meta["statistics"]["test"] == "none"


def test_compare_reads_the_contexts_column(fp32_model):
    model, tok = fp32_model
    metric = _context_metric()
    rows = [
        {"id": "r1", "prompt": "Pump leaks?", "response": "Replace the seal.", "contexts": ["seal kit"]},
        {"id": "r2", "prompt": "Belt slips?", "response": "Tighten it.", "contexts": ["belt tension"]},
    ]
    ev = Evaluator(metrics=[metric], decoding=DecodingConfig(max_new_tokens=4), progress=False)
    ev.compare({"m": model}, rows, tokenizer=tok)
    assert metric.seen[0] == (["Pump leaks?", "Belt slips?"], [["seal kit"], ["belt tension"]])
    with pytest.raises(DataError, match="'contexts' must be a list of strings"):
        ev.compare({"m": model}, [{**rows[0], "contexts": [1, 2]}], tokenizer=tok)
