"""Fact sets from tables, records and documents (a scripted teacher at the edge), and their files."""

import json

import pytest

from domainft.data.teachers import Teacher, TeacherFailure
from domainft.errors import ConfigError, DataError
from domainft.evaluation.knowledge import FactSet

TICKETS = [
    {
        "id": "WO-1",
        "machine": "press",
        "problem": "no pressure",
        "cause": "Worn seal.",
        "hours": 2.5,
        "line": "A",
    },
    {"id": "WO-2", "machine": "lathe", "problem": "chatter", "cause": "", "hours": 1.0, "line": "B"},
]


def test_table_from_a_csv_file_maps_columns_and_rejects_rows_with_their_line(tmp_path):
    path = tmp_path / "facts.csv"
    path.write_text(
        "who,asked,key,attribute,topic,aliases\n"
        "Hồ Chí Minh,When was he born?,19 May 1890,birth date,early,\n"
        "Hồ Chí Minh,Which village?,,childhood village,early,\n"
        "Hồ Chí Minh,Where did he grow up?,Kim Liên,childhood village,early,Làng Sen|Lotus village\n",
        encoding="utf-8",
    )
    facts = FactSet.from_table(
        path, columns={"subject": "who", "question": "asked", "answer": "key", "group": "topic"}
    )
    assert [f.answer for f in facts] == ["19 May 1890", "Kim Liên"]
    assert facts[1].aliases == ["Làng Sen", "Lotus village"] and facts[1].group == "early"
    assert facts[0].source == f"{path}:2" and facts[0].id == "fact-0001"
    assert len(facts.rejected) == 1 and facts.rejected[0]["where"] == f"{path}:3"
    assert "empty answer" in facts.rejected[0]["reason"]
    with pytest.raises(DataError, match=r"no column 'subject'.*columns=\{'subject'"):
        FactSet.from_table(path)
    with pytest.raises(ConfigError, match="unknown fact field 'subjct'"):
        FactSet.from_table(path, columns={"subjct": "who"})


def test_records_give_one_fact_per_field_with_formatted_spans_and_groups():
    facts = FactSet.from_records(
        TICKETS,
        fields={"cause": "cause", "hours": "repair time"},
        subject="the {machine} with {problem}",
        question="My {machine} has {problem}. What should I do?",
        answers={"hours": "{hours:g} h"},
        kinds={"hours": "number"},
        group="line",
    )
    assert [f.id for f in facts] == ["WO-1:cause", "WO-1:hours", "WO-2:hours"]
    hours = facts.by_id()["WO-2:hours"]
    assert (hours.answer, hours.kind, hours.group, hours.attribute) == ("1 h", "number", "B", "repair time")
    assert hours.question == "My lathe has chatter. What should I do?"
    assert facts.rejected == [{"where": "row 1", "reason": "empty 'cause'", "id": "WO-2:cause"}]
    assert facts.groups() == ["A", "B"]
    with pytest.raises(ConfigError, match="uses the field 'machin'"):
        FactSet.from_records(TICKETS, fields=["hours"], subject="{machin}")
    with pytest.raises(DataError, match="no field 'colour'"):
        FactSet.from_records(TICKETS, fields=["colour"])
    with pytest.raises(ConfigError, match="unknown span kind 'numbr'"):
        FactSet.from_records(TICKETS, fields=["hours"], kinds={"hours": "numbr"})


def test_save_and_load_round_trip(tmp_path):
    facts = FactSet.from_records(TICKETS, fields=["hours"], answers={"hours": "{hours:g} h"}, group="line")
    facts.save(tmp_path / "facts.jsonl")
    again = FactSet.load(tmp_path / "facts.jsonl")
    assert [f.to_dict() for f in again] == [f.to_dict() for f in facts]
    (tmp_path / "bad.jsonl").write_text(
        json.dumps({"id": "x", "subject": "s", "answer": "a", "colour": 1}) + "\n"
    )
    with pytest.raises(DataError, match=r"bad.jsonl: line 1: .*unknown field\(s\) \['colour'\]"):
        FactSet.load(tmp_path / "bad.jsonl")
    with pytest.raises(DataError, match="used twice"):
        FactSet([facts[0], facts[0]])


class ScriptedExtractor(Teacher):
    """Stands in for an extraction model: replies per passage from a script, counting its calls."""

    backend = "scripted-extractor"

    def __init__(self, replies):
        self.replies = replies
        self.calls = 0

    def settings(self):
        return {"replies": len(self.replies)}

    def _complete(self, batch, contexts, emit):
        for i, context in enumerate(contexts):
            self.calls += 1
            reply = self.replies[context["fields"]["id"]]
            emit(i, reply if isinstance(reply, str) else TeacherFailure("server said no", kind="http"))


def test_documents_keep_only_facts_stated_in_their_passage_and_cache_replies(tmp_path):
    passages = [
        {"id": "p1", "source": "early.html", "text": "He was born on 19 May 1890 in Hoàng Trù, Nghệ An."},
        {"id": "p2", "source": "voyage.html", "text": "He sailed on 5 June 1911 as a kitchen helper."},
        {"id": "p3", "source": "paris.html", "text": "He lived in Paris until 1923."},
    ]
    replies = {
        "p1": json.dumps(
            [
                {
                    "subject": "Hồ Chí Minh",
                    "attribute": "birth date",
                    "question": "When was he born?",
                    "answer": "19 May 1890",
                },
                {"subject": "Hồ Chí Minh", "attribute": "birthplace", "answer": "Hoang Tru"},
                {"subject": "Hồ Chí Minh", "attribute": "height", "answer": "1.62 m"},
            ]
        ),
        "p2": "Sure! Here are the facts: none, sorry.",
        "p3": None,
    }
    teacher = ScriptedExtractor(replies)
    facts = FactSet.from_documents(passages, teacher=teacher, cache_dir=tmp_path / "cache", progress=False)
    assert [(f.id, f.answer, f.group) for f in facts] == [
        ("p1:f1", "19 May 1890", "early.html"),
        ("p1:f2", "Hoang Tru", "early.html"),  # stated in the passage once diacritics are ignored
    ]
    reasons = [r["reason"] for r in facts.rejected]
    assert reasons[0] == "the answer is not stated in the passage"  # the invented height
    assert "no JSON array" in reasons[1] and "teacher call failed: server said no" in reasons[2]
    assert teacher.calls == 3
    again = FactSet.from_documents(passages, teacher=teacher, cache_dir=tmp_path / "cache", progress=False)
    assert teacher.calls == 4 and len(again) == 2  # only the failed call is asked again
