"""RAGAS metrics against a real OpenAI-compatible HTTP server on 127.0.0.1 with a scripted judge.

The judge reads ragas' own prompts (the output schema's title and the ``input:`` JSON) and answers
by exact sentence matching, so every score has a value computed by hand below.
"""

from __future__ import annotations

import json
import math
import re

import pytest

from domainft.errors import ConfigError
from domainft.evaluation.metrics import get_metric
from domainft.evaluation.metrics.ragas_metrics import (
    JudgeOutputError,
    RagasConfig,
    RagasMetric,
    TextJudgeLLM,
    TransformersJudgeLLM,
    import_ragas,
)
from tests.fake_openai import FakeOpenAIServer, error

QUESTIONS = [
    "Why does the spindle make noise?",
    "Why does the turret stop?",
    "The chuck does not clamp. What now?",
]
PREDICTIONS = [
    "The front bearing is worn. Replace the bearing set.",
    "The sensor is loose. The belt is broken.",
    "Reset the pressure switch.",
]
REFERENCES = [
    "The front bearing is worn. Replace the bearing set. Run the warm-up cycle.",
    "The sensor is loose.",
    "Reset the pressure switch.",
]
CONTEXTS = [
    ["The front bearing is worn.", "Replace the bearing set."],
    ["The manual has 40 pages.", "The sensor is loose."],
    ["Reset the pressure switch."],
]

# Hand-computed with the scripted judge (exact sentence matching):
FAITHFULNESS = [1.0, 0.5, 1.0]  # answer sentences found in the contexts
CONTEXT_RECALL = [2 / 3, 1.0, 1.0]  # reference sentences found in the contexts
CONTEXT_PRECISION = [1.0, 0.5, 1.0]  # average precision of the useful contexts (verdicts 11, 01, 1)
STATEMENT_F1 = [0.8, 2 / 3, 1.0]  # answer correctness: TP/FP/FN of answer vs reference sentences
FACTUAL_F1 = [0.8, 0.67, 1.0]  # factual correctness: same F1, rounded to 2 decimals by ragas


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=\.)\s+", text.strip()) if s.strip()]


def _norm(text: str) -> str:
    return text.strip().rstrip(".").lower()


def _inside(statement: str, text: str) -> bool:
    return _norm(statement) in [_norm(s) for s in _sentences(text)]


def _schema_title_and_input(prompt: str) -> tuple[str, dict]:
    schema_text = prompt.split("JSON Schema:\n", 1)[1]
    schema, _ = json.JSONDecoder().raw_decode(schema_text)
    data = json.loads(prompt.rsplit("input: ", 1)[1].rsplit("Output:", 1)[0])
    return schema["title"], data


def scripted_judge(prompt: str) -> str:
    """Answers ragas' structured prompts the way a careful judge would, by exact sentence matching."""
    title, data = _schema_title_and_input(prompt)
    if title == "StatementGeneratorOutput":
        return json.dumps({"statements": _sentences(data["answer"])})
    if title == "ClaimDecompositionOutput":
        return json.dumps({"claims": _sentences(data["response"])})
    if title == "NLIStatementOutput":
        verdicts = [
            {"statement": s, "reason": "checked", "verdict": int(_inside(s, data["context"]))}
            for s in data["statements"]
        ]
        return json.dumps({"statements": verdicts})
    if title == "ClassificationWithReason":
        answer, truth = data["answer"], data["ground_truth"]
        tp = [s for s in answer if any(_norm(s) == _norm(t) for t in truth)]
        fp = [s for s in answer if s not in tp]
        fn = [t for t in truth if not any(_norm(s) == _norm(t) for s in answer)]
        wrap = lambda items: [{"statement": s, "reason": "r"} for s in items]  # noqa: E731
        return json.dumps({"TP": wrap(tp), "FP": wrap(fp), "FN": wrap(fn)})
    if title == "ContextRecallOutput":
        rows = [
            {"statement": s, "reason": "r", "attributed": int(_inside(s, data["context"]))}
            for s in _sentences(data["answer"])
        ]
        return json.dumps({"classifications": rows})
    if title == "ContextPrecisionOutput":
        useful = all(_inside(s, data["answer"]) for s in _sentences(data["context"]))
        return json.dumps({"reason": "r", "verdict": int(useful)})
    raise AssertionError(f"unexpected ragas prompt for {title}")


def _first_user(request) -> str:
    return next(m["content"] for m in request.messages if m["role"] == "user")


def _server_judge(request) -> str:
    return scripted_judge(_first_user(request))  # a re-ask repeats the conversation


@pytest.fixture(scope="module")
def st_model():
    from domainft.evaluation.metrics.semantic import load_sentence_model

    return load_sentence_model()


def _direct_cosines(model, left, right):
    import numpy as np

    a = model.encode(left, convert_to_numpy=True).astype(np.float64)
    b = model.encode(right, convert_to_numpy=True).astype(np.float64)
    return [float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y))) for x, y in zip(a, b, strict=True)]


def _endpoint(server, **extra):
    return {"base_url": server.url, "model": "judge", "max_retries": 2, "timeout_s": 10.0, **extra}


def _mean(xs):
    return math.fsum(xs) / len(xs)


def test_all_metrics_exact_values_through_http(st_model):
    with FakeOpenAIServer(_server_judge) as server:
        metric = get_metric(
            "ragas",
            llm=_endpoint(server),
            metrics=[
                "faithfulness",
                "answer_correctness",
                "factual_correctness",
                "context_recall",
                "context_precision",
                "semantic_similarity",
            ],
            contexts_column="contexts",
            max_workers=3,
        )
        assert metric.needs == ("prompts", "contexts")
        out = metric.compute(PREDICTIONS, REFERENCES, prompts=QUESTIONS, contexts=CONTEXTS)
        bodies = [r.body for r in server.requests]

    assert out.failures == []
    sims = _direct_cosines(st_model, PREDICTIONS, REFERENCES)
    expected = {
        "ragas_faithfulness": FAITHFULNESS,
        "ragas_context_recall": CONTEXT_RECALL,
        "ragas_context_precision": CONTEXT_PRECISION,
        "ragas_factual_correctness": FACTUAL_F1,
        "ragas_answer_correctness": [0.75 * f + 0.25 * s for f, s in zip(STATEMENT_F1, sims, strict=True)],
        "ragas_semantic_similarity": sims,
    }
    assert set(out.values) == set(expected)
    for key, scores in expected.items():
        assert out.per_sample[key] == pytest.approx(scores, abs=1e-6), key
        assert out.values[key] == pytest.approx(_mean(scores), abs=1e-6), key
    assert out.details["failed"] == dict.fromkeys(expected, 0)
    assert out.details["judge"] == f"judge at {server.url}"
    # the judge was asked for JSON at temperature 0 with the configured model
    assert all(b["model"] == "judge" and b["temperature"] == 0.0 for b in bodies)
    assert all(b["response_format"] == {"type": "json_object"} for b in bodies)


def test_malformed_reply_is_a_listed_failure_not_nan():
    def judge(request):
        if "belt is broken" in request.last_user:  # every call about example 1 gets prose
            return "I am not sure, the statements look fine to me."
        return scripted_judge(request.last_user)

    with FakeOpenAIServer(judge) as server:
        metric = get_metric(
            "ragas_faithfulness", llm=_endpoint(server), contexts_column="contexts", max_workers=2
        )
        out = metric.compute(PREDICTIONS, REFERENCES, prompts=QUESTIONS, contexts=CONTEXTS)

    assert out.per_sample["ragas_faithfulness"] == [1.0, None, 1.0]
    assert out.values == {"ragas_faithfulness": 1.0}
    assert len(out.failures) == 1
    failure = out.failures[0]
    assert failure["index"] == 1 and failure["metric"] == "ragas_faithfulness"
    assert "could not be parsed" in failure["reason"]
    assert failure["raw"] == "I am not sure, the statements look fine to me."
    assert out.details["failed"] == {"ragas_faithfulness": 1}
    assert not any(isinstance(v, float) and math.isnan(v) for v in out.values.values())


def test_parse_retries_reask_the_judge():
    with FakeOpenAIServer(_server_judge) as server:
        server.enqueue("not json at all")
        metric = get_metric(
            "ragas_factual_correctness", llm=_endpoint(server), parse_retries=1, max_workers=1
        )
        out = metric.compute(PREDICTIONS[:1], REFERENCES[:1])
        # 4 judge calls (2 decompositions, 2 verifications) + 1 re-ask after the bad reply
        assert server.count == 5
        reask = server.requests[1].messages
    assert out.failures == []
    assert out.per_sample["ragas_factual_correctness"] == [FACTUAL_F1[0]]
    assert reask[-2] == {"role": "assistant", "content": "not json at all"}


def test_server_error_is_retried_then_scored():
    with FakeOpenAIServer(_server_judge) as server:
        server.enqueue(error(500, "overloaded"))
        metric = get_metric("ragas_context_recall", llm=_endpoint(server), contexts_column="contexts")
        out = metric.compute(PREDICTIONS, REFERENCES, prompts=QUESTIONS, contexts=CONTEXTS)
        assert server.count == len(PREDICTIONS) + 1  # one call per example + the retried one
    assert out.failures == []
    assert out.per_sample["ragas_context_recall"] == pytest.approx(CONTEXT_RECALL)


def test_persistent_server_error_fails_the_example_with_the_status():
    def judge(request):
        if "turret" in request.last_user:
            return error(503, "model is loading")
        return scripted_judge(request.last_user)

    with FakeOpenAIServer(judge) as server:
        metric = get_metric(
            "ragas_context_recall", llm=_endpoint(server, max_retries=1), contexts_column="contexts"
        )
        out = metric.compute(PREDICTIONS, REFERENCES, prompts=QUESTIONS, contexts=CONTEXTS)
    assert out.per_sample["ragas_context_recall"] == pytest.approx([2 / 3, None, 1.0])
    (failure,) = out.failures
    assert failure["index"] == 1
    assert "HTTP 503" in failure["reason"] and "after 1 retries" in failure["reason"]
    assert "model is loading" in failure["raw"]


def test_nan_from_ragas_becomes_a_failure():
    def judge(request):
        title, _ = _schema_title_and_input(request.last_user)
        if title == "StatementGeneratorOutput" and "Reset the pressure" in request.last_user:
            return json.dumps({"statements": []})  # ragas scores this as NaN
        return scripted_judge(request.last_user)

    with FakeOpenAIServer(judge) as server:
        metric = get_metric("ragas_faithfulness", llm=_endpoint(server), contexts_column="contexts")
        out = metric.compute(PREDICTIONS, REFERENCES, prompts=QUESTIONS, contexts=CONTEXTS)
    assert out.per_sample["ragas_faithfulness"] == [1.0, 0.5, None]
    assert out.values["ragas_faithfulness"] == pytest.approx(0.75)
    assert out.failures[0]["index"] == 2 and "NaN" in out.failures[0]["reason"]


def test_telemetry_is_forced_off_and_nothing_is_posted(monkeypatch):
    ragas = import_ragas()
    from ragas import _analytics

    posted = []
    monkeypatch.setattr(_analytics.requests, "post", lambda *a, **k: posted.append((a, k)))
    # the spy sees ragas' tracking when it is on ...
    monkeypatch.setenv("RAGAS_DO_NOT_TRACK", "false")
    _analytics.do_not_track.cache_clear()
    _analytics.track(_analytics.LLMUsageEvent(provider="test", llm_type="test"))
    assert len(posted) == 1 and posted[0][0][0] == _analytics.USAGE_TRACKING_URL
    posted.clear()
    # ... and the metric turns it off even when the user set it to false
    with FakeOpenAIServer(_server_judge) as server:
        out = get_metric("ragas_factual_correctness", llm=_endpoint(server)).compute(
            PREDICTIONS[:2], REFERENCES[:2]
        )
    assert out.failures == []
    assert posted == []
    assert ragas is not None
    import os

    assert os.environ["RAGAS_DO_NOT_TRACK"] == "true"
    assert _analytics.do_not_track() is True


def test_text_judge_in_process_gives_the_same_scores():
    judge = TextJudgeLLM(scripted_judge, name="scripted")
    metric = get_metric(
        "ragas", metrics=["faithfulness", "context_precision"], contexts_column="ctx", llm=judge
    )
    out = metric.compute(PREDICTIONS, REFERENCES, prompts=QUESTIONS, contexts=CONTEXTS)
    assert out.failures == []
    assert out.per_sample["ragas_faithfulness"] == pytest.approx(FAITHFULNESS)
    assert out.per_sample["ragas_context_precision"] == pytest.approx(CONTEXT_PRECISION)
    assert out.details["judge"] == "scripted"
    assert judge.calls == 2 * 3 + 5  # faithfulness: 2 per example; precision: one per context


def test_text_judge_reply_in_prose_and_fences_is_parsed_and_garbage_reported():
    def chatty(prompt: str) -> str:
        reply = scripted_judge(prompt)
        if "sensor" in prompt:
            return "<think>hmm</think>"  # nothing usable
        return f"Sure, here you go:\n```json\n{reply}\n```\nHope this helps."

    metric = get_metric("ragas_faithfulness", contexts_column="ctx", llm=TextJudgeLLM(chatty))
    out = metric.compute(PREDICTIONS, REFERENCES, prompts=QUESTIONS, contexts=CONTEXTS)
    assert out.per_sample["ragas_faithfulness"] == [1.0, None, 1.0]
    assert out.failures[0]["raw"] == "<think>hmm</think>"
    assert "no JSON object found" in out.failures[0]["reason"]


def test_transformers_judge_runs_the_model_and_reports_unparsable_output(tiny_model_dir):
    from pydantic import BaseModel

    class Verdict(BaseModel):
        verdict: int

    judge = TransformersJudgeLLM(str(tiny_model_dir), max_new_tokens=16)
    ids = judge.teacher.render(judge.messages("Is the pump fine?"))
    assert "<|assistant|>" in judge.teacher._tokenizer.decode(ids)  # the chat template was applied
    with pytest.raises(JudgeOutputError) as info:
        judge.generate("Is the pump fine? Answer in JSON.", Verdict)  # a random tiny model cannot
    assert isinstance(info.value.raw, str)
    assert judge.calls == 1
    # through ragas, configured by path: a real reply that is not JSON is a listed failure
    metric = get_metric("ragas_factual_correctness", llm=judge)
    out = metric.compute(PREDICTIONS[:1], REFERENCES[:1])
    assert out.per_sample["ragas_factual_correctness"] == [None]
    assert out.values == {}
    assert "judge reply is not a" in out.failures[0]["reason"]
    # a ragas prompt that does not fit the model's context is not truncated: a clear failure
    metric = get_metric(
        "ragas_factual_correctness", judge_model=str(tiny_model_dir), judge_max_new_tokens=1000
    )
    out = metric.compute(PREDICTIONS[:1], REFERENCES[:1])
    assert out.per_sample["ragas_factual_correctness"] == [None]
    reason = out.failures[0]["reason"]
    assert "judge transformers:" in reason and "exceeds the model's 1024 positions" in reason
    assert out.details["judge"] == f"transformers:{tiny_model_dir.name}"


def test_config_validation_and_needs():
    cfg = RagasConfig(contexts_column="passages")
    assert cfg.resolved_metrics()[-3:] == ["faithfulness", "context_precision", "context_recall"]
    assert RagasConfig().resolved_metrics() == [
        "answer_correctness",
        "factual_correctness",
        "semantic_similarity",
    ]
    assert RagasConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="contexts_column is required by faithfulness"):
        RagasConfig(metrics=["faithfulness"])
    with pytest.raises(ConfigError, match="unknown RAGAS metric 'bleu'"):
        RagasConfig(metrics=["bleu"])
    with pytest.raises(ConfigError, match="need a judge LLM"):
        RagasMetric(metrics=["answer_correctness"])
    with pytest.raises(ConfigError, match="always computes"):
        get_metric("ragas_faithfulness", metrics=["context_recall"], contexts_column="c")
    shared = RagasConfig(metrics=["semantic_similarity", "context_recall"], contexts_column="c", llm=None)
    judge = TextJudgeLLM(scripted_judge)
    assert get_metric("ragas_faithfulness", config=shared, llm=judge).keys == ["ragas_faithfulness"]
    with pytest.raises(ConfigError, match="answer_correctness_weights"):
        RagasConfig(answer_correctness_weights=[0.0, 0.0])
    with pytest.raises(ConfigError, match="not set or empty"):
        m = get_metric(
            "ragas_factual_correctness",
            llm={"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key_env": "DOMAINFT_NO_SUCH_KEY"},
        )
        m.compute(["a"], ["a"])
    assert get_metric("ragas_semantic_similarity").needs == ()
    assert get_metric("ragas_answer_correctness", llm=TextJudgeLLM(scripted_judge)).needs == ("prompts",)
    with pytest.raises(ValueError, match="needs contexts"):
        get_metric("ragas_context_recall", llm=TextJudgeLLM(scripted_judge), contexts_column="c").compute(
            ["a"], ["a"], prompts=["q"]
        )
