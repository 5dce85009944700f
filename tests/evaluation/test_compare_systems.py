"""Evaluator.compare with endpoint systems, named adapters, the generation cache and perplexity."""

import math

import pytest

from domainft.errors import ConfigError
from domainft.evaluation.config import EvaluationConfig
from domainft.evaluation.evaluator import Evaluator
from domainft.models.loading import QuantizedLoader
from tests.fake_openai import FakeOpenAIServer, error


@pytest.fixture()
def fp32_model(tiny_model_dir):
    return QuantizedLoader(tiny_model_dir, quantization=None).load()


def _served_answer(request):
    question = request.last_user
    return error(400, "refused") if "chiller" in question else f"Served: {question[:20]}"


def test_model_and_endpoint_side_by_side_with_cache_and_perplexity(fp32_model, tiny_dsd, tmp_path):
    model, tok = fp32_model
    rows = tiny_dsd["test"]
    with FakeOpenAIServer(_served_answer) as server:
        endpoint = {"base_url": server.url, "model": "served", "max_retries": 0}
        evaluator = Evaluator(
            metrics=["rouge"], decoding={"max_new_tokens": 6}, progress=False, cache_dir=tmp_path / "cache"
        )
        first = evaluator.compare({"tuned": model, "served": endpoint}, rows, tokenizer=tok)
        sent = server.count
        assert sent == len(rows)
        served = [s.predictions["served"] for s in first.samples]
        refused = [i for i, r in enumerate(rows) if "chiller" in r["prompt"]]
        assert all(served[i] == "" for i in refused) and all(
            served[i].startswith("Served:") for i in range(len(rows)) if i not in refused
        )
        failures = first.meta["generation_failures"].get("served", [])
        assert [f["index"] for f in failures] == refused and all("refused" in f["reason"] for f in failures)
        assert first.meta["systems"]["served"]["kind"] == "endpoint"
        # perplexity only where there are logits
        assert "perplexity" in first.systems["tuned"] and "perplexity" not in first.systems["served"]
        assert math.isfinite(first.systems["tuned"]["perplexity"].value)

        again = Evaluator(
            metrics=["rouge"], decoding={"max_new_tokens": 6}, progress=False, cache_dir=tmp_path / "cache"
        ).compare({"tuned": model, "served": endpoint}, rows, tokenizer=tok)
        # every answer came from the cache except the refused requests, which are asked again
        assert server.count == sent + len(refused)
        assert again.meta["cache"]["hits"] == 2 * len(rows) - len(refused)
        assert [s.predictions for s in again.samples] == [s.predictions for s in first.samples]
        changed = Evaluator(
            metrics=["rouge"], decoding={"max_new_tokens": 7}, progress=False, cache_dir=tmp_path / "cache"
        ).compare({"served": endpoint}, rows, tokenizer=tok)
        assert changed.meta["cache"]["hits"] == 0  # other decoding settings: other answers


def test_cached_answers_equal_fresh_generation(fp32_model, tiny_dsd, tmp_path):
    model, tok = fp32_model
    prompts = tiny_dsd["test"]["prompt"]
    fresh = Evaluator(metrics=["rouge"], decoding={"max_new_tokens": 8}, progress=False).generate(
        model, tok, prompts
    )
    cached = Evaluator(metrics=["rouge"], decoding={"max_new_tokens": 8}, progress=False, cache_dir=tmp_path)
    assert cached.generate(model, tok, prompts) == fresh
    assert cached.generate(model, tok, prompts) == fresh and cached.cache.hits == len(prompts)


def test_metric_options_and_pairwise_config_checks():
    evaluator = Evaluator(
        config=EvaluationConfig(metrics=["rouge"], metric_options={"rouge": {"measures": ["f", "p"]}})
    )
    assert evaluator.metrics[0].compute(["a b"], ["a b"]).values["rouge1_precision"] == 1.0
    with pytest.raises(ConfigError, match="pairwise needs EvaluationConfig.judge"):
        EvaluationConfig(pairwise=[["base", "tuned"]])
    with pytest.raises(ConfigError, match="two systems"):
        EvaluationConfig(
            pairwise=[["base"]],
            judge={"backend": "openai", "endpoint": {"base_url": "http://127.0.0.1:9/v1", "model": "m"}},
        )


def _judge_reply(request):
    text = " ".join(m.get("content", "") for m in request.messages)
    if "Assistant 2" in text:
        return '{"winner": "tie", "rationale": "equally useful"}'
    return '{"score": 7, "rationale": "mostly right"}'


def test_config_judge_grades_and_compares_pairs(fp32_model, tiny_dsd, tmp_path):
    from domainft.evaluation.report import EvaluationReport
    from domainft.models.adapters import LoraAdapterFactory

    base, tok = fp32_model
    tuned = LoraAdapterFactory(r=4, alpha=64, target_modules="attention").apply(base)
    with FakeOpenAIServer(_judge_reply) as server:
        judge = {
            "backend": "openai",
            "endpoint": {"base_url": server.url, "model": "judge"},
            "progress": False,
        }
        config = EvaluationConfig(metrics=["rouge", "judge"], judge=judge, pairwise=[["base", "tuned"]])
        evaluator = Evaluator(config=config, decoding={"max_new_tokens": 4}, progress=False)
        report = evaluator.compare(
            {"base": Evaluator.base_of(tuned), "tuned": tuned}, tiny_dsd["test"], tokenizer=tok
        )
    assert report.systems["tuned"]["judge_score"].value == 7.0
    pair = report.pairwise["tuned vs base"]
    # LoRA starts as a no-op, so the answers are identical: ties without asking the judge
    assert pair["tie_rate"] == 1.0
    report.save(tmp_path / "eval")
    assert EvaluationReport.load(tmp_path / "eval").pairwise.keys() == report.pairwise.keys()
