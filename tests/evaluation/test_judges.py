"""LLM judges: reply parsing, grading and pairwise comparison against a real HTTP server on 127.0.0.1,
retries, timeouts, the disk cache, concurrency, blindness, and the in-process transformers backend."""

from __future__ import annotations

import json
import math
import re
import threading
import time

import pytest

from domainft.data.teachers import Teacher
from domainft.errors import ConfigError
from domainft.evaluation.judges import (
    JudgeConfig,
    PairwiseResult,
    get_judge,
    pairwise_compare,
    parse_score,
    parse_verdict,
    register_judge,
)
from domainft.evaluation.judges.metric import JudgeMetric
from tests.fake_openai import FakeOpenAIServer, error, slow

ANSWER = re.compile(r"\[Answer to grade\]\n(.*?)\n\[End of answer to grade\]", re.S)
FIRST = re.compile(r"\[Assistant 1\]\n(.*?)\n\[End of Assistant 1\]", re.S)
SECOND = re.compile(r"\[Assistant 2\]\n(.*?)\n\[End of Assistant 2\]", re.S)


def graded_answer(request) -> str:
    return ANSWER.search(request.last_user).group(1)


def shown_answers(request) -> tuple[str, str]:
    text = request.last_user
    return FIRST.search(text).group(1), SECOND.search(text).group(1)


def endpoint(server: FakeOpenAIServer, **overrides) -> dict:
    return {"base_url": server.url, "model": "judge-model", "backoff_s": 0.01, "max_retries": 2, **overrides}


def judge_for(server: FakeOpenAIServer, **fields):
    ep = fields.pop("endpoint", {})
    return get_judge("openai", endpoint=endpoint(server, **ep), progress=False, **fields)


# ---------------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"score": 7, "rationale": "ok"}', 7),
        ('```json\n{"score": 8, "rationale": "Correct."}\n```', 8),
        ('{"score": 6, "rationale": "fine"}\nHope this helps! Let me know.', 6),
        ("Score: 7/10", 7),
        ("Rating: [[7]]", 7),
        ("The answer names the cause. **Score:** 9", 9),
        ("I would give it 4 out of 10.", 4),
        ('{"score": "8", "rationale": "good"}', 8),
        ('{"Rating": 9.0}', 9),
        ("5", 5),
        ('{"score": 8, "rationale": "Better than the 3/10 answers I usually see; Score: 3 elsewhere."}', 8),
        ("Score: 7/10. I stand by it: [[7]]", 7),
        ("{'score': 6, 'rationale': 'python dict'}", 6),
    ],
)
def test_parse_score_accepts_the_common_formats(reply, expected):
    parsed = parse_score(reply)
    assert parsed.value == expected, parsed.error
    assert parsed.error is None and parsed.raw == reply


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ('{"score": 11, "rationale": "great"}', "outside the 1-10 scale"),
        ("Score: 0", "outside the 1-10 scale"),
        ("Score: -3", "outside the 1-10 scale"),
        ("Score: 7/10 ... on reflection Rating: [[5]]", "ambiguous"),
        ('{"score": 7} {"score": 9}', "ambiguous"),
        ('{"score": 7, "rationale": "ok"} Final score: 8', "ambiguous"),
        ("Score: 7.5", "not a whole number"),
        ('{"score": "high", "rationale": "?"}', "not a number"),
        ("The answer is quite good overall.", "no score"),
        ("", "no score"),
        ('{"score": <a whole number from 1 to 10>, "rationale": "..."}', "no score"),
    ],
)
def test_parse_score_rejects_invalid_and_ambiguous_replies(reply, reason):
    parsed = parse_score(reply)
    assert parsed.value is None and reason in parsed.error
    assert parsed.raw == reply


def test_parse_score_honours_the_scale():
    assert parse_score("Score: 4/5", low=1, high=5).value == 4
    assert parse_score("Score: 7", low=1, high=5).value is None


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"winner": "1", "rationale": "a"}', "1"),
        ('{"winner": 2, "rationale": "b"}', "2"),
        ('```json\n{"winner": "Assistant 2", "rationale": "clearer"}\n```', "2"),
        ('{"winner": "tie", "rationale": "same"}', "tie"),
        ('{"verdict": "draw"}', "tie"),
        ("After weighing both, [[1]]", "1"),
        ("[[tie]]", "tie"),
        ("Winner: Assistant 2", "2"),
        ("Assistant 1 is better because it names the part.", "1"),
        ("Both are fine; it's a tie.", "tie"),
        ("2", "2"),
    ],
)
def test_parse_verdict_accepts_the_common_formats(reply, expected):
    parsed = parse_verdict(reply)
    assert parsed.value == expected, parsed.error


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("[[1]] no wait [[2]]", "ambiguous"),
        ('{"winner": "3"}', "not 1, 2 or tie"),
        ("Both answers have merits.", "no verdict"),
        ('{"winner": "1"} Winner: 2', "ambiguous"),
    ],
)
def test_parse_verdict_rejects_invalid_and_ambiguous_replies(reply, reason):
    parsed = parse_verdict(reply)
    assert parsed.value is None and reason in parsed.error


# ---------------------------------------------------------------------------------------------- grading

REPLIES = {
    "ans-0": '{"score": 9, "rationale": "Names the worn seal."}',
    "ans-1": '```json\n{"score": 3, "rationale": "Wrong part."}\n```',
    "ans-2": "Score: 7/10",
    "ans-3": "Rating: [[5]]",
    "ans-4": "This answer is pretty decent overall.",  # no score
    "ans-5": '{"score": 12, "rationale": "Amazing"}',  # out of range
    "ans-6": "Score: 4 ... but really [[8]]",  # ambiguous
}


def test_judge_metric_scores_valid_replies_and_lists_malformed_ones():
    n = len(REPLIES)
    with FakeOpenAIServer(handler=lambda r: REPLIES[graded_answer(r)]) as server:
        metric = JudgeMetric(backend="openai", endpoint=endpoint(server, temperature=0.7), progress=False)
        out = metric.compute(
            [f"ans-{i}" for i in range(n)],
            [f"reference {i}" for i in range(n)],
            prompts=[f"Why does pump {i} leak?" for i in range(n)],
        )
        bodies = [r.body for r in server.requests]
        first = next(r for r in server.requests if graded_answer(r) == "ans-0").messages
    assert out.per_sample["judge_score"] == [9.0, 3.0, 7.0, 5.0, None, None, None]
    assert out.values == {"judge_score": pytest.approx(6.0)}
    assert out.details["parse_failures"] == 3 and out.details["call_failures"] == 0
    assert out.details["rationales"][:2] == ["Names the worn seal.", "Wrong part."]
    assert len(out.details["rationales"]) == n and out.details["rationales"][4] is None
    assert [f["index"] for f in out.failures] == [4, 5, 6]
    assert [f["raw"] for f in out.failures] == [REPLIES["ans-4"], REPLIES["ans-5"], REPLIES["ans-6"]]
    assert "outside the 1-10 scale" in out.failures[1]["reason"]
    assert "ambiguous" in out.failures[2]["reason"]
    json.dumps([out.values, out.per_sample, out.details, out.failures], allow_nan=False)  # never NaN
    # temperature 0 is sent whatever the endpoint says; the reference and the question are shown
    assert len(bodies) == n and all(b["temperature"] == 0 for b in bodies)
    assert "reference 0" in first[-1]["content"] and "Why does pump 0 leak?" in first[-1]["content"]
    assert first[0]["role"] == "system"


def test_judge_metric_with_no_usable_reply_has_no_headline_value():
    with FakeOpenAIServer(handler=lambda r: "no idea") as server:
        out = JudgeMetric(judge_for(server)).compute(["x", "y"], ["r", "s"], prompts=["p", "q"])
    assert out.values == {} and out.per_sample["judge_score"] == [None, None]
    assert out.details["parse_failures"] == 2


def test_rubric_reference_and_system_prompt_settings_reach_the_request():
    with FakeOpenAIServer(handler=lambda r: "Score: 6") as server:
        judge = judge_for(server, criteria="museum_qa", with_reference=False, system_prompt="")
        result = judge.grade(["Who painted it?"], ["Hayez."], ["Francesco Hayez, 1859."])
        messages = server.requests[0].messages
    assert result.scores == [6]
    assert [m["role"] for m in messages] == ["user"]
    assert "attribution" in messages[0]["content"]  # the museum rubric
    assert "Francesco Hayez, 1859." not in messages[0]["content"]  # with_reference=False


def test_a_500_is_retried_and_then_scored():
    with FakeOpenAIServer(handler=lambda r: '{"score": 8, "rationale": "ok"}') as server:
        server.enqueue(error(500, "overloaded"))
        result = judge_for(server).grade(["q"], ["a"], ["r"])
        count = server.count
    assert result.scores == [8] and result.failures == []
    assert count == 2  # the failed try plus the retry


def test_a_timeout_is_a_call_failure_for_that_example_only():
    def handler(request):
        if graded_answer(request) == "slow":
            return slow('{"score": 9}', delay_s=2.0)
        return '{"score": 4, "rationale": "meh"}'

    with FakeOpenAIServer(handler=handler) as server:
        metric = JudgeMetric(judge_for(server, endpoint={"timeout_s": 0.2, "max_retries": 1}))
        out = metric.compute(["fast", "slow"], ["r1", "r2"], prompts=["q1", "q2"])
        count = server.count
    assert out.per_sample["judge_score"] == [4.0, None]
    assert out.details["call_failures"] == 1 and out.details["parse_failures"] == 0
    assert out.failures[0]["index"] == 1 and "timeout_s=0.2" in out.failures[0]["reason"]
    assert count == 3  # fast once, slow twice (one retry)


def test_cache_makes_a_rerun_free_and_does_not_keep_failures(tmp_path):
    prompts, answers, refs = ["q0", "q1", "q2"], ["a0", "a1", "a2"], ["r0", "r1", "r2"]
    with FakeOpenAIServer(handler=lambda r: '{"score": 6, "rationale": "fine"}') as server:
        server.enqueue(error(500, "down"))  # the first request fails for good (no retries)
        first = judge_for(server, cache_dir=str(tmp_path), endpoint={"max_retries": 0}).grade(
            prompts, answers, refs
        )
        assert server.count == 3 and first.call_failures == 1 and first.n_scored == 2
        second = judge_for(server, cache_dir=str(tmp_path)).grade(prompts, answers, refs)
        assert server.count == 4  # only the failed request is made again
        assert second.scores == [6, 6, 6] and second.requests == 1 and second.cache_hits == 2
        third_judge = judge_for(server, cache_dir=str(tmp_path))
        third = third_judge.grade(prompts, answers, refs)
        assert server.count == 4  # zero new requests
        assert third.scores == second.scores and third.rationales == second.rationales
        assert third_judge.stats.requests == 0 and third.reliability().cache_hits == 3
        # a different rubric is a different request: not answered from the cache
        judge_for(server, cache_dir=str(tmp_path), criteria="Be exact.").grade(prompts[:1], answers[:1])
        assert server.count == 5


@pytest.mark.parametrize("workers", [1, 3])
def test_max_workers_bounds_the_requests_in_flight(workers):
    # counted inside the handler, which ends before the reply is written: a client cannot send its
    # next request before the count went down (the server's own count ends after the write)
    lock, state = threading.Lock(), {"now": 0, "peak": 0}

    def handler(request):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.15)
        with lock:
            state["now"] -= 1
        return "Score: 5"

    with FakeOpenAIServer(handler=handler) as server:
        result = judge_for(server, max_workers=workers).grade([f"q{i}" for i in range(6)], ["a"] * 6)
    assert result.scores == [5] * 6
    assert state["peak"] == workers


# ---------------------------------------------------------------------------------------------- pairwise

PROMPTS = ["Why does the press stop?", "Why is the belt slipping?", "Why does the pump leak?"]
SHORT = ["Oil.", "Tension it now.", "The seal is worn; replace it and check the shaft."]
LONG = ["Low oil pressure: refill the reservoir.", "Belt.", "Seal."]


def test_a_judge_that_always_prefers_the_first_answer_gives_ties_and_zero_consistency():
    with FakeOpenAIServer(handler=lambda r: '{"winner": "1", "rationale": "first looks good"}') as server:
        result = pairwise_compare(judge_for(server), PROMPTS, SHORT, LONG, names=("base", "tuned"))
        count = server.count
    assert count == 2 * len(PROMPTS)
    assert result.outcomes == ["tie", "tie", "tie"]
    assert result.tie_rate == 1.0 and result.win_rate == 0.0 and result.loss_rate == 0.0
    assert result.position_consistency == 0.0 and result.order_flips == 3 and result.inconsistent == 3
    rel = result.reliability()
    assert rel.order_flips == 3 and rel.judgments == 6 and rel.parse_failures == 0


def test_a_judge_preferring_the_longer_answer_is_consistent_and_blind():
    def longer(request):
        one, two = shown_answers(request)
        return json.dumps({"winner": "1" if len(one) > len(two) else "2", "rationale": "more detail"})

    names = ("BaseModel-Qwen-7B", "FineTuned-Adapter-XYZ")
    with FakeOpenAIServer(handler=longer) as server:
        judge = judge_for(server)
        result = pairwise_compare(judge, PROMPTS, SHORT, LONG, references=["r1", "r2", "r3"], names=names)
        bodies = [json.dumps(r.body) for r in server.requests]
    assert result.outcomes == ["b", "a", "a"]  # b = tuned is longer only on the first prompt
    assert result.win_rate == pytest.approx(1 / 3) and result.loss_rate == pytest.approx(2 / 3)
    assert result.tie_rate == 0.0 and result.position_consistency == 1.0 and result.order_flips == 0
    assert result.rationales[0] == {f"{names[0]} first": "more detail", f"{names[1]} first": "more detail"}
    assert len(bodies) == 6
    for body in bodies:  # blind: no system name in any request; answers labelled by position only
        assert names[0] not in body and names[1] not in body
        assert "Assistant 1" in body and "Assistant 2" in body
        assert json.loads(body)["temperature"] == 0
    # each example is asked in both orders: a's answer first once, b's answer first once
    firsts = sorted(shown_answers(r)[0] for r in server.requests)
    assert firsts == sorted(SHORT + LONG)


def test_pairwise_failures_ties_and_identical_answers():
    def handler(request):
        one, two = shown_answers(request)
        if "garbled" in (one, two) and one == "garbled":
            return "I like both of them."  # unparsable, only in the order where 'garbled' is first
        if one == "tie-me" or two == "tie-me":
            return "[[tie]]"
        return '{"winner": "2"}' if two == "better" else '{"winner": "1"}'

    answers_a = ["plain", "garbled", "tie-me", "same answer"]
    answers_b = ["better", "other", "other", "same answer"]
    with FakeOpenAIServer(handler=handler) as server:
        result = pairwise_compare(judge_for(server), ["q"] * 4, answers_a, answers_b, names=("a", "b"))
        count = server.count
    assert count == 6  # identical answers are a tie without asking
    assert result.outcomes == ["b", "failed", "tie", "tie"]
    assert result.examples[3].identical and result.examples[3].consistent is None
    assert result.n_judged == 3 and result.n_failed == 1
    assert result.win_rate == pytest.approx(1 / 3) and result.tie_rate == pytest.approx(2 / 3)
    assert result.position_consistency == 1.0  # the failed and the identical examples are left out
    failure = result.failures[0]
    assert failure["index"] == 1 and failure["raw_first"] == "I like both of them."
    assert "a first: unparsable judge reply" in failure["reason"]
    assert result.parse_failures == 1 and result.call_failures == 0


def test_pairwise_result_round_trips_and_summarises():
    def handler(request):
        one, two = shown_answers(request)
        return f"Winner: Assistant {'1' if len(one) >= len(two) else '2'}"

    with FakeOpenAIServer(handler=handler) as server:
        server.enqueue(error(500))
        result = pairwise_compare(
            judge_for(server, endpoint={"max_retries": 0}), PROMPTS, SHORT, LONG, names=("base", "tuned")
        )
    assert result.n_failed == 1 and result.call_failures == 1
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    again = PairwiseResult.from_dict(data)
    assert again == result and again.win_rate == result.win_rate
    assert data["reliability"]["call_failures"] == 1
    markdown = result.to_markdown()
    assert "| tuned wins | ties | base wins |" in markdown and "position consistency" in markdown
    assert result.summary().startswith("tuned vs base: tuned wins")


def test_pairwise_checks_its_inputs():
    judge = get_judge(_ConstantTeacher('{"winner": "tie"}'), progress=False)
    with pytest.raises(ConfigError, match="two different"):
        pairwise_compare(judge, ["q"], ["a"], ["b"], names=("x", "x"))
    with pytest.raises(ValueError, match="answers_b"):
        pairwise_compare(judge, ["q", "r"], ["a", "b"], ["c"])
    empty = pairwise_compare(judge, ["q"], ["same"], ["same"])
    assert empty.outcomes == ["tie"] and empty.position_consistency is None and empty.requests == 0


# ---------------------------------------------------------------------------------------------- backends


class _ConstantTeacher(Teacher):
    backend = "constant"

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def settings(self):
        return {"reply": self.reply}

    def _complete(self, batch, contexts, emit):
        for i in range(len(batch)):
            emit(i, self.reply)


def test_register_judge_adds_a_backend():
    @register_judge("test_constant_judge", overwrite=True)
    def constant(config, *, reply="Score: 3"):
        return _ConstantTeacher(reply)

    judge = get_judge("test_constant_judge", reply="[[9]]", progress=False)
    assert judge.grade(["q"], ["a"]).scores == [9]
    assert JudgeConfig(backend="test_constant_judge").backend == "test_constant_judge"
    with pytest.raises(ConfigError, match="unexpected keyword"):
        get_judge("test_constant_judge", temperature=0.5)


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match="JudgeConfig.endpoint is required"):
        get_judge("openai")
    with pytest.raises(ConfigError, match="unknown judge backend 'vllm'"):
        JudgeConfig(backend="vllm")
    with pytest.raises(ConfigError, match="looks like a rubric name"):
        JudgeConfig(criteria="machinery")
    with pytest.raises(ConfigError, match="max_score"):
        JudgeConfig(min_score=5, max_score=5)
    with pytest.raises(ConfigError, match="local_model is required"):
        get_judge("transformers")
    cfg = JudgeConfig(
        endpoint={"base_url": "http://127.0.0.1:9/v1", "model": "m"},
        criteria="Cite the manual.",
        cache_dir="c",
    )
    cfg.to_yaml(tmp_path / "judge.yaml")
    assert JudgeConfig.from_yaml(tmp_path / "judge.yaml") == cfg


def test_transformers_backend_runs_a_local_model_and_reports_parse_failures(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    fields = {"max_new_tokens": 6, "progress": False, "cache_dir": str(tmp_path / "cache")}
    judge = get_judge("transformers", local_model=str(tiny_model_dir), **fields)
    prompts, answers = ["Machine: press. Problem: no pressure"] * 2, ["Replace the seal.", "Refill the oil."]
    first = judge.grade(prompts, answers, ["Cause: worn seal.", "Cause: low oil."])
    assert len(first.scores) == 2 and first.requests == 2
    assert first.parse_failures + first.n_scored == 2 and first.call_failures == 0
    assert first.parse_failures == 2  # an untrained tiny model writes garbage, reported, not raised
    assert all(isinstance(f["raw"], str) for f in first.failures)
    out = first.to_metric_output()
    assert out.values == {} and not any(
        isinstance(x, float) and math.isnan(x) for x in out.per_sample["judge_score"]
    )
    again = get_judge("transformers", local_model=str(tiny_model_dir), **fields)
    assert again.grade(prompts, answers, ["Cause: worn seal.", "Cause: low oil."]).requests == 0  # cached

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    loaded = get_judge("transformers", model=model, tokenizer=tokenizer, max_new_tokens=6, progress=False)
    result = pairwise_compare(loaded, prompts, answers, ["Check the valve.", "Oil."], names=("a", "b"))
    assert result.n_failed == 2 and result.parse_failures == 4 and result.win_rate is None
    assert "no example could be judged" in result.summary()
