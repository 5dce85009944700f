"""JSONL export: chat format for hosted fine-tuning APIs, messages, alpaca, ShareGPT; save_to_disk."""

from __future__ import annotations

import json

import datasets
import pytest

from domainft.data.builder import DatasetBuilder
from domainft.data.export import export_jsonl
from domainft.errors import DataError

MULTI = [
    {"role": "user", "content": "Screen flickers."},
    {"role": "assistant", "content": "Which driver?"},
    {"role": "user", "content": "nouveau"},
    {"role": "assistant", "content": "Install the proprietary driver."},
]


def _read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _builder():
    rows = [
        {"id": f"t{i}", "prompt": f"Fault {i}: Hồ Chí Minh museum lift", "response": f"Fix {i}"}
        for i in range(9)
    ]
    rows.append({"id": "m1", "messages": MULTI, "prompt": None, "response": None})
    return DatasetBuilder.from_records(rows, format="messages").split(validation=0, test=1, seed=0)


def test_openai_chat_files_per_split_with_system_prompt(tmp_path):
    paths = _builder().export(tmp_path / "out", format="openai-chat", system_prompt="You help technicians.")
    assert sorted(p.name for p in paths) == ["test.jsonl", "train.jsonl"]  # the empty validation is skipped
    rows = _read(tmp_path / "out" / "train.jsonl") + _read(tmp_path / "out" / "test.jsonl")
    assert len(rows) == 10 and all(set(r) == {"messages"} for r in rows)
    for r in rows:
        roles = [m["role"] for m in r["messages"]]
        assert roles[0] == "system" and roles[-1] == "assistant"
        assert all(set(m) == {"role", "content"} for m in r["messages"])
    multi = next(r for r in rows if len(r["messages"]) == 5)
    assert multi["messages"][1:] == MULTI
    assert "Hồ Chí Minh" in (tmp_path / "out" / "train.jsonl").read_text(encoding="utf-8")


def test_messages_and_sharegpt_round_trip_through_the_readers(tmp_path):
    builder = _builder()
    for fmt in ("messages", "sharegpt"):
        builder.export(tmp_path / fmt, format=fmt)
        back = DatasetBuilder.from_file(tmp_path / fmt / "train.jsonl").dataset
        original = builder.build()["train"]
        assert back["id"] == original["id"] and back["response"] == original["response"]


def test_alpaca_refuses_multi_turn_rows(tmp_path):
    with pytest.raises(DataError, match=r"row 'm1' has 4 turns; alpaca holds one instruction"):
        _builder().export(tmp_path / "a", format="alpaca")
    single = datasets.Dataset.from_list([{"id": "x", "prompt": "p", "response": "r", "system": "s"}])
    (path,) = export_jsonl(single, tmp_path / "x.jsonl", format="alpaca")
    assert _read(path) == [{"instruction": "p", "input": "", "output": "r", "system": "s"}]


def test_openai_chat_rejects_rows_a_hosted_api_would_reject(tmp_path):
    bad = datasets.Dataset.from_list(
        [
            {
                "id": "b",
                "messages": [{"role": "assistant", "content": "hi"}, {"role": "assistant", "content": "x"}],
            }
        ]
    )
    with pytest.raises(DataError, match="row 'b' has two consecutive turns"):
        export_jsonl(bad, tmp_path / "b.jsonl")


def test_save_to_disk_round_trip_keeps_splits_and_drop_log(tmp_path):
    rows = [{"prompt": f"q{i % 8}", "response": f"a{i % 8}"} for i in range(10)]  # 2 duplicates
    builder = DatasetBuilder.from_records(rows).clean().split(validation=1, test=1, seed=0)
    path = builder.save_to_disk(tmp_path / "saved")
    log = json.loads((path / "cleaning.json").read_text())
    assert log["cleaning"]["dropped_by_reason"] == {"duplicate": 2}
    assert [r["id"] for r in log["dropped"]] == ["row-000008", "row-000009"]
    again = DatasetBuilder.from_file(path).build()
    original = builder.build()
    assert all(again[s]["id"] == original[s]["id"] for s in ("train", "validation", "test"))
