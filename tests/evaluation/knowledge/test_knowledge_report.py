"""Scoring answers into a KnowledgeReport: statuses, transitions, abstention, groups, CIs, judge, files."""

import json

import pytest

from domainft.data.teachers import Teacher
from domainft.evaluation.judges import JudgeConfig, LLMJudge
from domainft.evaluation.knowledge import FactSet, KnowledgeReport, build_probe_set, score_answers
from domainft.evaluation.report import EvaluationReport

TABLE = [
    {
        "id": "birth",
        "subject": "Hồ Chí Minh",
        "attribute": "birth date",
        "question": "When was he born?",
        "answer": "19 May 1890",
        "group": "early",
    },
    {
        "id": "poems",
        "subject": "the Prison Diary",
        "attribute": "number of poems",
        "question": "How many poems?",
        "answer": "133",
        "group": "writings",
    },
    {
        "id": "ship",
        "subject": "Hồ Chí Minh",
        "attribute": "ship of 1911",
        "question": "Which ship?",
        "answer": "Amiral Latouche-Tréville",
        "group": "voyage",
    },
    {
        "id": "lawyer",
        "subject": "Hồ Chí Minh",
        "attribute": "lawyer in Hong Kong",
        "question": "Who defended him?",
        "answer": "Frank Loseby",
        "aliases": "Loseby",
        "group": "voyage",
    },
]


def probe_set():
    return build_probe_set(
        FactSet.from_table(TABLE),
        paraphrases=3,
        unanswerable=["How tall was he?", "What was his dog called?", "Who was his tailor?"],
        progress=False,
    )


def answers_for(probes, rules, unanswerable):
    """An answer per probe: rules[fact_id] = (training answer, [paraphrase answers])."""
    out, k = [], {}
    for p in probes:
        if p.fact_id is None:
            out.append(unanswerable.pop(0))
        elif p.kind == "training":
            out.append(rules[p.fact_id][0])
        else:
            i = k[p.fact_id] = k.get(p.fact_id, -1) + 1
            out.append(rules[p.fact_id][1][i])
    return out


def test_planted_forgotten_learned_and_phrasing_only_facts_are_classified():
    probes = probe_set()
    base = answers_for(
        probes,
        {
            "birth": (
                "On 19 May 1890.",
                ["19 May 1890", "He was born on May 19, 1890.", "1890-05-19"],
            ),  # known
            "poems": ("About 100.", ["Ninety.", "100", "I don't know."]),
            "ship": ("A ship.", ["A steamer.", "No idea.", "The Titanic."]),
            "lawyer": ("A lawyer.", ["Loseby.", "I am not sure.", "Someone."]),
        },
        ["He was 1.57 m tall.", "I don't know.", "There is no record of his tailor."],
    )
    tuned = answers_for(
        probes,
        {
            "birth": ("On 19 May 1890.", ["In 1890.", "20 May 1890", "Unknown."]),  # forgotten (planted)
            "poems": (
                "133 poems.",
                ["There are 133.", "It has 133 poems.", "One hundred and thirty"],
            ),  # learned
            "ship": (
                "The Amiral Latouche-Treville.",
                ["A steamer.", "The Saigon.", "A boat."],
            ),  # phrasing only
            "lawyer": ("Frank Loseby.", ["Loseby.", "frank loseby", "Mr Loseby."]),  # learned, consistent
        },
        ["About 1.6 metres.", "His dog was Lu.", "I cannot say."],
    )
    report = score_answers(probes, {"base": base, "tuned": tuned})
    moves = report.transitions["tuned vs base"]
    assert moves["forgotten"] == ["birth"] and moves["learned"] == ["poems", "lawyer"]
    assert moves["still unknown"] == ["ship"] and moves["kept"] == []
    status = {r["fact_id"]: r["status"] for r in report.fact_table["tuned"]}
    assert status == {
        "birth": "not learned",
        "poems": "partial",
        "ship": "not learned",
        "lawyer": "consistent",
    }
    assert report.phrasing_only["tuned"] == ["birth", "ship"]  # right when asked as in training only
    assert report.phrasing_only["base"] == []
    tuned_values = report.systems["tuned"]
    assert tuned_values["fact_recall"].value == pytest.approx((0 + 2 / 3 + 0 + 1) / 4)
    assert tuned_values["fact_consistency"].value == 0.25 and tuned_values["training_recall"].value == 1.0
    assert tuned_values["fact_recall"].n == 4 and tuned_values["fact_recall"].ci_low is not None
    assert report.systems["base"]["false_abstention_rate"].value == pytest.approx(
        (0 + 1 / 4 + 1 / 4 + 1 / 4) / 4
    )
    # the unanswerable path: abstentions counted, the rest are hallucinations
    assert report.unanswerable["base"] == {"probes": 3, "abstained": 2, "hallucinated": 1, "failed": 0}
    assert report.unanswerable["tuned"] == {"probes": 3, "abstained": 1, "hallucinated": 2, "failed": 0}
    assert report.systems["tuned"]["hallucination_rate"].value == pytest.approx(2 / 3)
    keys = {c.metric for c in report.comparisons}
    assert {"fact_recall", "training_recall", "abstention_rate"} <= keys
    delta = next(c for c in report.comparisons if c.metric == "training_recall")
    assert delta.delta == pytest.approx(1.0 - 0.25) and delta.p_value is not None
    groups = report.groups
    assert list(groups) == ["early", "writings", "voyage"] and groups["voyage"]["facts"] == 2
    assert groups["voyage"]["transitions"]["tuned vs base"]["learned"] == 1
    assert groups["early"]["transitions"]["tuned vs base"]["forgotten"] == 1
    worst = report.worst_facts()
    assert worst[0]["fact_id"] == "birth" and worst[0]["forgotten"]  # forgotten facts come first
    assert (
        worst[0]["probes"][1]["tuned"]["answer"] == "In 1890."
        and worst[0]["probes"][1]["tuned"]["correct"] is False
    )


def test_failed_requests_are_left_out_never_scored(tmp_path):
    probes = probe_set()
    right = answers_for(
        probes,
        {
            "birth": ("19 May 1890", ["19 May 1890"] * 3),
            "poems": ("133", ["133"] * 3),
            "ship": ("x", ["x"] * 3),
            "lawyer": ("x", ["x"] * 3),
        },
        ["I don't know."] * 3,
    )
    index = {p.id: i for i, p in enumerate(probes)}
    errors = {"tuned": {index["birth#p1"]: "HTTP 503", index["unanswerable-001"]: "timeout"}}
    report = score_answers(probes, {"tuned": right}, errors=errors)
    row = report.fact_table["tuned"][0]
    assert row["paraphrases_scored"] == 2 and row["recall"] == 1.0
    assert (
        report.results["tuned"]["birth#p1"]["method"] == "failed"
        and report.results["tuned"]["birth#p1"]["error"] == "HTTP 503"
    )
    assert report.unanswerable["tuned"] == {"probes": 3, "abstained": 2, "hallucinated": 0, "failed": 1}
    assert report.systems["tuned"]["abstention_rate"].n == 2
    assert report.transitions == {}  # one system: nothing to compare


class SpanJudge(Teacher):
    """Stands in for a judge model: grade 1 when the answer shares a word with the reference, else 0;
    replies garbage to one answer."""

    backend = "span-judge"

    def settings(self):
        return {}

    def _complete(self, batch, contexts, emit):
        for i, messages in enumerate(batch):
            text = messages[-1]["content"]
            answer = text.split("[Answer to grade]")[1].split("[End of answer to grade]")[0]
            if "garbage" in answer:
                emit(i, "no verdict here")
                continue
            emit(i, json.dumps({"score": 1 if "Latouche" in answer else 0, "rationale": "checked"}))


def test_judge_decides_free_form_spans_and_its_failures_are_counted():
    probes = probe_set()
    tuned = answers_for(
        probes,
        {
            "birth": ("1890", ["May 1890", "x", "x"]),  # dates are never judged
            "poems": ("x", ["x", "x", "x"]),
            "ship": ("x", ["He sailed on the Latouche steamer.", "garbage", "A boat."]),
            "lawyer": ("x", ["x", "x", "x"]),
        },
        ["x"] * 3,
    )
    judge = LLMJudge(JudgeConfig(progress=False), backend=SpanJudge())
    report = score_answers(probes, {"tuned": tuned}, judge=judge)
    ship = report.results["tuned"]
    assert ship["ship#p1"]["correct"] is True and ship["ship#p1"]["method"] == "judge"
    assert ship["ship#p2"]["correct"] is False and ship["ship#p2"]["method"] == "span:string"
    assert report.results["tuned"]["birth#p1"]["method"] == "span:date"
    info = report.meta["judge"]
    assert info["asked"] == 8  # unmatched answers to the two string facts: 4 probes each
    assert info["changed"] == 1 and info["failures"] == 1 and "unparsable" in info["failure_reasons"][0]


def test_round_trips_through_the_evaluation_report_files(tmp_path):
    probes = probe_set()
    a = answers_for(probes, {f["id"]: ("x", ["x"] * 3) for f in TABLE}, ["I don't know."] * 3)
    b = answers_for(probes, {f["id"]: (f["answer"], [f["answer"], "x", "x"]) for f in TABLE}, ["Yes."] * 3)
    knowledge = score_answers(probes, {"base": a, "tuned": b})
    again = KnowledgeReport.from_dict(json.loads(json.dumps(knowledge.to_dict())))
    assert again.summary_dict() == knowledge.summary_dict()
    evaluation = EvaluationReport.from_outputs(
        {"base": {}, "tuned": {}}, references=["r"], predictions={"base": ["p"], "tuned": ["q"]}
    )
    evaluation.add_knowledge(knowledge)
    evaluation.save(tmp_path / "eval")
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["knowledge"]["systems"]["tuned"]["fact_recall"]["value"] == pytest.approx(1 / 3)
    assert metrics["knowledge"]["transitions"]["tuned vs base"]["learned"] == 0  # 1/3 < known_threshold
    assert "results" not in metrics["knowledge"] and (tmp_path / "eval" / "knowledge.json").is_file()
    loaded = EvaluationReport.load(tmp_path / "eval")
    assert loaded.knowledge_report.summary_dict() == knowledge.summary_dict()
    (tmp_path / "eval" / "knowledge.json").unlink()
    assert EvaluationReport.load(tmp_path / "eval").knowledge["systems"] == metrics["knowledge"]["systems"]
    with pytest.raises(ValueError, match="not systems of this report"):
        evaluation.add_knowledge(score_answers(probes, {"other": a}))
