"""The "similarity" judge backend: an offline embedding stand-in behind the LLM-judge interface."""

from __future__ import annotations

import json

import pytest

from domainft.errors import ConfigError
from domainft.evaluation.judges import get_judge, pairwise_compare
from domainft.evaluation.metrics import get_metric

QUESTIONS = ["Why does the hydraulic press lose pressure?", "How do I stop the conveyor belt slipping?"]
REFERENCES = [
    "A worn seal in the main cylinder leaks oil; replace the seal and bleed the circuit.",
    "The belt is loose: increase the tension with the take-up screws and check the drum lagging.",
]
PARAPHRASES = [
    "The main cylinder seal is worn and leaking oil, so replace it and bleed the hydraulic circuit.",
    "Tighten the belt using the take-up screws, then inspect the lagging on the drum.",
]
UNRELATED = ["Paris is the capital of France.", "Bake the bread for forty minutes."]


@pytest.fixture(scope="module")
def judge():
    return get_judge("similarity", progress=False)


def test_grades_follow_closeness_to_the_reference(judge):
    close = judge.grade(QUESTIONS, PARAPHRASES, REFERENCES)
    far = judge.grade(QUESTIONS, UNRELATED, REFERENCES)
    same = judge.grade(QUESTIONS, REFERENCES, REFERENCES)
    assert same.scores == [10, 10] and not same.failures
    assert all(c > f for c, f in zip(close.scores, far.scores, strict=True))
    assert all(1 <= s <= 10 for s in close.scores + far.scores)
    assert "cosine similarity" in close.rationales[0]


def test_as_the_judge_metric_and_without_references(judge):
    out = get_metric("judge", judge=judge).compute(PARAPHRASES, REFERENCES, prompts=QUESTIONS)
    assert out.values["judge_score"] >= 6 and not out.failures
    missing = judge.grade(QUESTIONS, PARAPHRASES)  # no reference: listed failures, never a number
    assert missing.scores == [None, None] and len(missing.failures) == 2
    assert "needs the reference" in missing.failures[0]["reason"]


def test_pairwise_prefers_the_answer_closer_to_the_reference(judge):
    result = pairwise_compare(judge, QUESTIONS, UNRELATED, PARAPHRASES, REFERENCES, names=("base", "tuned"))
    assert result.win_rate == 1.0 and result.loss_rate == 0.0
    assert result.position_consistency == 1.0
    wide = get_judge("similarity", tie_margin=0.99, progress=False)
    tied = pairwise_compare(wide, QUESTIONS, UNRELATED, PARAPHRASES, REFERENCES)
    assert tied.tie_rate == 1.0


def test_replies_use_the_judge_format_and_settings_are_checked(judge):
    reply = judge.complete([judge.grading_messages("Q?", "same text", "same text")])[0]
    assert json.loads(reply)["score"] == 10
    scale = get_judge("similarity", min_score=0, max_score=5, progress=False)
    assert scale.grade(["Q?"], ["same text"], ["same text"]).scores == [5]
    with pytest.raises(ConfigError, match="with_reference"):
        get_judge("similarity", with_reference=False)
    with pytest.raises(ConfigError, match="tie_margin"):
        get_judge("similarity", tie_margin=2)
