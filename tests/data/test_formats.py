"""Record formats: alpaca, ShareGPT, messages, dialogue, detection and the registry."""

from __future__ import annotations

import pytest
from datasets import Dataset

from domainft.data.builder import DatasetBuilder
from domainft.data.formats import FORMATS, apply_format, detect_format, known_formats, register_format
from domainft.errors import ConfigError, DataError


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["instruction", "input", "output"], "alpaca"),
        (["conversations", "id"], "sharegpt"),
        (["messages"], "messages"),
        (["dialogue_id", "turn", "speaker", "text"], "dialogue"),
        (["conversation_id", "speaker", "text"], "dialogue"),
        (["prompt", "response"], "prompt_response"),
        (["question", "answer"], None),
    ],
)
def test_detect_format(columns, expected):
    assert detect_format(columns) == expected


def test_alpaca_joins_instruction_and_input():
    ds = Dataset.from_list(
        [
            {"instruction": "Summarise the log.", "input": "E42 at 10:02", "output": "Overheat."},
            {"instruction": "Name the part.", "input": "", "output": "Bearing."},
            {"instruction": "", "input": "", "output": "orphan"},
        ]
    )
    out, rejected = apply_format(ds, "alpaca")
    assert out["prompt"] == ["Summarise the log.\n\nE42 at 10:02", "Name the part.", None]
    assert out["response"] == ["Overheat.", "Bearing.", "orphan"]
    assert "instruction" not in out.column_names and rejected == []


def test_sharegpt_roles_system_and_rejections():
    rows = [
        {
            "id": "c1",
            "conversations": [
                {"from": "system", "value": "You fix lathes."},
                {"from": "human", "value": "Chatter marks?"},
                {"from": "gpt", "value": "Check the tool height."},
                {"from": "human", "value": "Still there."},
                {"from": "gpt", "value": "Reduce the feed."},
            ],
        },
        {"id": "c2", "conversations": [{"from": "human", "value": "Hello?"}]},
        {"id": "c3", "conversations": [{"from": "robot", "value": "x"}, {"from": "gpt", "value": "y"}]},
    ]
    out, rejected = apply_format(Dataset.from_list(rows), "sharegpt")
    assert out.num_rows == 1
    row = out[0]
    assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant", "user", "assistant"]
    assert (row["prompt"], row["response"], row["system"]) == (
        "Still there.",
        "Reduce the feed.",
        "You fix lathes.",
    )
    assert {(r["row"]["id"], r["reason"]) for r in rejected} == {
        ("c2", "no_final_assistant_turn"),
        ("c3", "unknown_role"),
    }


def test_messages_format_and_system_column():
    rows = [
        {
            "messages": [
                {"role": "user", "content": "Reset?"},
                {"role": "assistant", "content": "Hold 5 s."},
            ],
            "system": "Be short.",
        },
        {"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "late"}]},
    ]
    out, rejected = apply_format(Dataset.from_list(rows), "messages")
    assert out[0]["messages"][0] == {"role": "system", "content": "Be short."}
    assert out[0]["prompt"] == "Reset?" and out[0]["response"] == "Hold 5 s."
    assert [r["reason"] for r in rejected] == ["system_turn_not_first"]


def test_dialogue_rows_assembled_in_turn_order():
    rows = [
        {"dialogue_id": "d1", "turn": 2, "speaker": "helper", "text": "Run fsck.", "timestamp": "2024-01-01"},
        {"dialogue_id": "d1", "turn": 1, "speaker": "ana", "text": "Disk errors.", "timestamp": "2024-01-01"},
        {
            "dialogue_id": "d1",
            "turn": 3,
            "speaker": "ana",
            "text": "Worked, thanks.",
            "timestamp": "2024-01-01",
        },
        {"dialogue_id": "d2", "turn": 1, "speaker": "bo", "text": "Wifi drops.", "timestamp": "2024-02-01"},
        {
            "dialogue_id": "d2",
            "turn": 2,
            "speaker": "bo",
            "text": "On Ubuntu 24.04.",
            "timestamp": "2024-02-01",
        },
        {
            "dialogue_id": "d2",
            "turn": 3,
            "speaker": "kim",
            "text": "Disable power saving.",
            "timestamp": "2024-02-01",
        },
        {"dialogue_id": "d3", "turn": 1, "speaker": "cy", "text": "Anyone?", "timestamp": "2024-03-01"},
    ]
    out, rejected = apply_format(Dataset.from_list(rows), "dialogue")
    by_id = {r["id"]: r for r in out}
    assert set(by_id) == {"d1", "d2"}
    # the unanswered closing turn of d1 is counted, not silently lost
    assert [m["content"] for m in by_id["d1"]["messages"]] == ["Disk errors.", "Run fsck."]
    assert by_id["d1"]["unanswered_turns"] == 1
    # consecutive utterances of the asker are merged into one user turn
    assert by_id["d2"]["messages"][0] == {"role": "user", "content": "Wifi drops.\nOn Ubuntu 24.04."}
    assert by_id["d2"]["response"] == "Disable power saving." and by_id["d2"]["timestamp"] == "2024-02-01"
    assert [(r["dialogue"], r["reason"]) for r in rejected] == [("d3", "empty_conversation")]


def test_dialogue_assistant_speakers_and_missing_columns():
    rows = [
        {"thread_id": "t", "speaker": "agent", "text": "How can I help?"},
        {"thread_id": "t", "speaker": "user9", "text": "Printer offline."},
        {"thread_id": "t", "speaker": "agent", "text": "Restart CUPS."},
    ]
    out, _ = apply_format(Dataset.from_list(rows), "dialogue", assistant_speakers=["agent"], turn_column=None)
    assert [m["role"] for m in out[0]["messages"]] == ["assistant", "user", "assistant"]
    with pytest.raises(DataError, match="no text column 'body'"):
        apply_format(Dataset.from_list(rows), "dialogue", text_column="body")


def test_auto_leaves_unknown_columns_and_unknown_options_fail():
    ds = Dataset.from_list([{"q": "a", "a": "b"}])
    out, rejected = apply_format(ds, "auto")
    assert out is ds and rejected == []
    with pytest.raises(ConfigError, match="does not take option"):
        apply_format(Dataset.from_list([{"instruction": "a", "output": "b"}]), "alpaca", bogus=1)
    with pytest.raises(ConfigError, match="unknown record format 'xml'"):
        apply_format(ds, "xml")


def test_all_rows_rejected_is_an_error():
    ds = Dataset.from_list([{"conversations": [{"from": "human", "value": "hi"}]}])
    with pytest.raises(DataError, match="no usable rows.*no_final_assistant_turn"):
        apply_format(ds, "sharegpt")


def test_register_format_extends_detection():
    @register_format("qa-test", detect=lambda cols: {"q", "a"} <= cols, consumes=("q", "a"))
    def _qa(rows):
        return [{**r, "prompt": r["q"], "response": r["a"]} for r in rows], []

    try:
        assert "qa-test" in known_formats()
        dsd = DatasetBuilder.from_records([{"q": f"q{i}", "a": f"a{i}"} for i in range(10)]).build()
        assert dsd["train"].column_names == ["id", "prompt", "response"]
    finally:
        FORMATS._items.pop("qa-test")


def test_builder_keeps_rejected_rows_and_source_ids():
    rows = [
        {"conversations": [{"from": "human", "value": f"q{i}"}, {"from": "gpt", "value": f"a{i}"}]}
        for i in range(6)
    ]
    rows.insert(2, {"conversations": [{"from": "human", "value": "lonely"}]})
    builder = DatasetBuilder.from_records(rows).clean()
    rejected = builder.dropped("no_final_assistant_turn")
    assert len(rejected) == 1 and rejected[0]["id"] == "row-000002"
    assert "row-000002" not in builder.dataset["id"] and builder.dataset["id"][2] == "row-000003"
    dsd = builder.split(validation=0, test=1).build()
    assert dsd["train"].features["messages"].feature["role"].dtype == "string"
