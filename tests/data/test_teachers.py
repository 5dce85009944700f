"""The lookup teacher and teachers as text functions for map_text (translation through a teacher)."""

from __future__ import annotations

import json

import pytest

from domainft import DatasetBuilder
from domainft.data.teachers import get_teacher, teacher_text_fn
from domainft.errors import ConfigError, DataError
from tests.fake_openai import FakeOpenAIServer, error

ROWS = [
    {"id": "1", "prompt": "La pompa perde olio", "response": "Sostituita la guarnizione"},
    {"id": "2", "prompt": "Belt slips", "response": "Tensioned the belt"},
    {"id": "3", "prompt": "Il motore scalda", "response": "Pulito il filtro"},
]
MEMORY = {
    "La pompa perde olio": "The pump leaks oil",
    "Sostituita la guarnizione": "Replaced the seal",
    "Il motore scalda": "The motor overheats",
}


def italian(text: str) -> bool:
    return any(w in text.lower().split() for w in ("la", "il", "perde", "sostituita", "pulito"))


def test_lookup_from_jsonl_translates_rows_and_drops_the_untranslatable(tmp_path):
    path = tmp_path / "tm.jsonl"
    path.write_text("".join(json.dumps({"source": k, "target": v}) + "\n" for k, v in MEMORY.items()))
    teacher = get_teacher("lookup", path=path)
    assert len(teacher) == 3 and teacher.settings()["entries"] == 3
    fn = teacher_text_fn(teacher, "Translate into English.", when=italian)
    builder = DatasetBuilder.from_records(ROWS).map_text(fn, on_error="drop").split(validation=0, test=0)
    ds = builder.build()["train"]
    by_id = {r["id"]: r for r in ds}
    # row 3's answer is missing from the memory: the whole row is dropped with the teacher's error
    assert set(by_id) == {"1", "2"}
    assert by_id["1"]["prompt"] == "The pump leaks oil" and by_id["1"]["response"] == "Replaced the seal"
    assert by_id["2"]["prompt"] == "Belt slips"
    dropped = builder.dropped("map_text_error")
    assert len(dropped) == 1 and "Pulito il filtro" in dropped[0]["error"]


def test_text_fn_sends_instruction_and_text_to_an_endpoint_teacher():
    with FakeOpenAIServer(handler=lambda request: "The motor overheats") as server:
        teacher = get_teacher("openai", base_url=server.url, model="translator", max_retries=0)
        fn = teacher_text_fn(teacher, "Translate into English.")
        assert fn("Il motore scalda") == "The motor overheats"
        assert fn("   ") == "   " and server.count == 1
        messages = server.requests[0].messages
        assert messages[0] == {"role": "system", "content": "Translate into English."}
        assert messages[-1] == {"role": "user", "content": "Il motore scalda"}
        server.enqueue(error(500, "down"))
        with pytest.raises(Exception, match="failed"):
            fn("La pompa perde olio")


def test_lookup_errors_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="exactly one of"):
        get_teacher("lookup")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"source": "a"}\n')
    with pytest.raises(DataError, match="entry 1: needs a string field 'target'"):
        get_teacher("lookup", path=bad)
    with pytest.raises(ConfigError, match="must be a Teacher"):
        teacher_text_fn("not a teacher")
