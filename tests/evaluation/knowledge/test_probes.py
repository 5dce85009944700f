"""Probe sets: training phrasing, paraphrases that are not training prompts, unanswerable questions."""

import json

import pytest

from domainft.data.near_duplicates import near_duplicate_pairs
from domainft.data.teachers import get_teacher
from domainft.errors import ConfigError
from domainft.evaluation.knowledge import (
    FactSet,
    KnowledgeConfig,
    ProbeSet,
    build_probe_set,
    probe_set_from_config,
)
from tests.fake_openai import FakeOpenAIServer

TABLE = [
    {
        "id": "birth",
        "subject": "Hồ Chí Minh",
        "attribute": "birth date",
        "question": "When was Hồ Chí Minh born?",
        "answer": "19 May 1890",
        "group": "early",
    },
    {
        "id": "ship",
        "subject": "Hồ Chí Minh",
        "attribute": "ship of his 1911 voyage",
        "question": "On which ship did he leave Saigon in 1911?",
        "answer": "Amiral Latouche-Tréville",
        "group": "voyage",
    },
    {
        "id": "poems",
        "subject": "the Prison Diary",
        "attribute": "number of poems",
        "question": "How many poems are in the Prison Diary?",
        "answer": "133",
        "group": "writings",
    },
    {"id": "oil", "subject": "the P-20 press", "attribute": "oil change interval", "answer": "500 hours"},
]


def test_template_probes_never_duplicate_training_prompts():
    facts = FactSet.from_table(TABLE)
    # the training data asks some facts in exactly the words a template would use
    training = [
        "When was Hồ Chí Minh born?",
        "What is the birth date of Hồ Chí Minh?",
        "Tell me the number of poems in the Prison Diary.",  # one word away from a template
        "What is the oil change interval of the P-20 press ?",  # one space away from one
        "How many poems are in the Prison Diary?",
    ]
    probes = build_probe_set(facts, paraphrases=3, training_prompts=training, threshold=0.9, progress=False)
    asked = probes.of_kind("paraphrase")
    assert len(asked) == 3 * len(facts)  # spare templates replace the dropped ones
    pairs = near_duplicate_pairs([p.question for p in asked], training, threshold=0.9)
    assert pairs == []
    assert {p.question for p in asked}.isdisjoint(training)
    dropped = [d for d in probes.dropped if "training prompt" in d["reason"]]
    assert {d["training_prompt"] for d in dropped} == {training[1], training[2], training[3]}
    assert all(d["similarity"] >= 0.9 for d in dropped)
    assert {d["reason"] for d in dropped} == {
        "near-duplicate of a training prompt",
        "is a training prompt (after normalisation)",  # the two exact ones
    }
    training_probes = {p.fact_id: p for p in probes.of_kind("training")}
    assert (
        training_probes["birth"].question == "When was Hồ Chí Minh born?"
        and training_probes["birth"].in_training
    )
    assert training_probes["ship"].in_training is False  # its training row is not among the prompts given
    assert "oil" not in training_probes  # a fact without a question has no training probe
    assert [p.id for p in probes if p.fact_id == "birth"] == ["birth#t", "birth#p1", "birth#p2", "birth#p3"]


def test_probes_that_state_the_answer_or_repeat_are_dropped_and_counted():
    facts = FactSet.from_table(TABLE[:1])
    templates = {
        "birth date": [
            "Was {subject} born on 19 May 1890?",
            "When was {subject} born?",
            "When was {subject} born?",
            "What was the {attribute} of {subject}?",
        ]
    }
    probes = build_probe_set(facts, paraphrases=3, templates=templates, progress=False)
    reasons = [d["reason"] for d in probes.dropped]
    assert reasons == ["states the answer", "repeats another probe", "repeats another probe"]
    assert [p.question for p in probes.of_kind("paraphrase")] == ["What was the birth date of Hồ Chí Minh?"]
    assert probes.counts()["facts_without_paraphrase"] == 0
    bare = FactSet.from_table([{"subject": "the press", "answer": "500 hours"}])
    lonely = build_probe_set(bare, progress=False)
    assert len(lonely) == 0 and lonely.counts()["facts_without_paraphrase"] == 1
    assert "no attribute" in lonely.dropped[0]["reason"]
    with pytest.raises(ConfigError, match=r"probe template .*'colour'"):
        build_probe_set(facts, templates={"*": ["What {colour} is {subject}?"]}, progress=False)


def test_unanswerable_probes_avoid_subjects_the_training_data_mentions():
    facts = FactSet.from_table(TABLE)
    probes = build_probe_set(
        facts,
        paraphrases=1,
        training_prompts=["When was Hồ Chí Minh born?"],
        training_texts=["Trần Phú was general secretary in 1930."],
        unanswerable=["How tall was Hồ Chí Minh?"],
        unanswerable_subjects=["Lê Văn Tường", "Tran Phu", "the P-90 lathe"],
        progress=False,
    )
    asked = probes.of_kind("unanswerable")
    assert [p.question for p in asked] == [
        "How tall was Hồ Chí Minh?",
        "What is the birth date of Lê Văn Tường?",
        "What is the number of poems of the P-90 lathe?",  # subjects cycle over the facts' attributes
    ]
    assert all(p.fact_id is None and p.id.startswith("unanswerable-") for p in asked)
    dropped = [d for d in probes.dropped if d["kind"] == "unanswerable"]
    assert dropped == [
        {
            "fact_id": None,
            "question": "Tran Phu",  # named in a training answer, with diacritics
            "kind": "unanswerable",
            "reason": "the subject occurs in the training data, so the question may be answerable",
        }
    ]


def test_probe_set_save_load_round_trip(tmp_path):
    probes = build_probe_set(
        FactSet.from_table(TABLE), paraphrases=2, unanswerable=["Who built it?"], progress=False
    )
    probes.save(tmp_path / "probes")
    again = ProbeSet.load(tmp_path / "probes")
    assert [p.to_dict() for p in again] == [p.to_dict() for p in probes]
    assert again.dropped == probes.dropped and again.meta == probes.meta
    assert json.loads((tmp_path / "probes" / "probe_set.json").read_text())["counts"] == probes.counts()
    config = KnowledgeConfig(facts=str(tmp_path / "probes"))
    assert len(probe_set_from_config(config)) == len(probes)  # a saved probe set is used as it is


def test_teacher_paraphrases_over_http_are_filtered_like_template_ones():
    facts = FactSet.from_table(TABLE[:2])

    def reply(request):
        question = request.body["messages"][-1]["content"].split("Question: ")[1].split("\n")[0]
        if "born" in question:
            return json.dumps(
                [
                    "When was Hồ Chí Minh born?",
                    "What year and day was Hồ Chí Minh born?",
                    "Was he born on 19 May 1890?",
                    "On what date did Hồ Chí Minh come into the world?",
                ]
            )
        return "I cannot help with that."

    with FakeOpenAIServer(handler=reply) as server:
        teacher = get_teacher("openai", base_url=server.url, model="fake", max_retries=0)
        probes = build_probe_set(
            facts,
            paraphrases=2,
            teacher=teacher,
            training_prompts=["When was Hồ Chí Minh born?"],
            progress=False,
        )
        assert server.count == 2
    assert [p.question for p in probes.of_kind("paraphrase")] == [
        "What year and day was Hồ Chí Minh born?",
        "On what date did Hồ Chí Minh come into the world?",
    ]
    assert all(p.origin == "teacher" for p in probes.of_kind("paraphrase"))
    reasons = {d["reason"] for d in probes.dropped}
    assert {"repeats another probe", "states the answer"} <= reasons  # the training question, the date
    assert any(r.startswith("unparsable: I cannot help") for r in reasons)
    assert probes.meta["paraphrase_source"] == "teacher" and probes.meta["teacher"] == "openai:fake"


def test_config_checks_fields_and_teacher():
    with pytest.raises(ConfigError, match="source 'records' needs the record fields"):
        KnowledgeConfig(facts="t.csv", source="records")
    with pytest.raises(ConfigError, match="paraphrase_source 'teacher' needs a teacher"):
        KnowledgeConfig(facts="t.csv", paraphrase_source="teacher")
    with pytest.raises(ConfigError, match="near_duplicate_threshold must be in"):
        KnowledgeConfig(near_duplicate_threshold=1.5)
    with pytest.raises(ConfigError, match="is not a regex"):
        KnowledgeConfig(abstention_patterns=["(unclosed"])
    cfg = KnowledgeConfig(facts="facts.csv", templates={"birth date": ["When was {subject} born?"]})
    assert KnowledgeConfig.from_dict(cfg.to_dict()) == cfg


def test_facts_of_one_record_share_their_training_question():
    tickets = [
        {"id": "WO-1", "machine": "press", "problem": "no pressure", "cause": "Worn seal.", "hours": 2.5}
    ]
    facts = FactSet.from_records(
        tickets,
        fields={"cause": "cause", "hours": "repair time"},
        subject="the {machine} that reported: {problem}",
        question="My {machine} has a problem: {problem} What should I do?",
        answers={"hours": "{hours:g} h"},
    )
    probes = build_probe_set(
        facts,
        paraphrases=2,
        training_prompts=["My press has a problem: no pressure What should I do?"],
        progress=False,
    )
    training = probes.of_kind("training")
    assert [(p.id, p.in_training) for p in training] == [("WO-1:cause#t", True), ("WO-1:hours#t", True)]
    assert len({p.question for p in training}) == 1 and probes.dropped == []
    assert (
        probes.of_kind("paraphrase")[2].question
        == "What is the repair time of the press that reported: no pressure?"
    )
