"""Leakage check across train and validation/test, through the function and the builder."""

from __future__ import annotations

import datasets
import pytest

from domainft.data.builder import DatasetBuilder
from domainft.data.leakage import LeakageReport, find_leakage, remove_leakage

QUESTIONS = [
    "The hydraulic press loses pressure after ten minutes of running",
    "Conveyor belt squeaks loudly when the hall is cold",
    "CNC spindle stops with alarm 1012 during tool change",
    "Compressor trips the breaker at start-up every morning",
    "Packaging robot drops boxes at the second station",
    "Cooling tower fan vibrates above 40 hertz",
]


def _dsd():
    train = datasets.Dataset.from_dict(
        {"id": [f"tr{i}" for i in range(6)], "prompt": QUESTIONS, "response": ["r"] * 6}
    )
    test = datasets.Dataset.from_dict(
        {
            "id": ["te0", "te1"],
            "prompt": [QUESTIONS[0].replace("ten", "10"), "Printer prints blank pages after toner change"],
            "response": ["r", "r"],
        }
    )
    val = datasets.Dataset.from_dict({"id": ["va0"], "prompt": [QUESTIONS[3] + "."], "response": ["r"]})
    return datasets.DatasetDict(train=train, validation=val, test=test)


def test_find_leakage_pairs_and_round_trip():
    report = find_leakage(_dsd(), threshold=0.8)
    assert [(p.split, p.eval_id, p.train_id) for p in report.pairs] == [
        ("validation", "va0", "tr3"),
        ("test", "te0", "tr0"),
    ]
    assert all(0.8 <= p.similarity <= 1 for p in report.pairs)
    assert report.count("test") == 1 and "2 pairs" in report.summary()
    assert LeakageReport.from_dict(report.to_dict()) == report
    assert find_leakage(_dsd(), threshold=0.999).pairs == []


@pytest.mark.parametrize(
    ("drop_from", "left"), [("train", {"train": 4, "test": 2}), ("eval", {"train": 6, "test": 1})]
)
def test_remove_leakage(drop_from, left):
    report = find_leakage(_dsd(), threshold=0.8)
    dsd, removed = remove_leakage(_dsd(), report, drop_from)
    assert {k: dsd[k].num_rows for k in ("train", "test")} == left
    assert sum(len(v) for v in removed.values()) == 2


def test_builder_leakage_modes():
    rows = [{"id": f"q{i}", "prompt": q, "response": f"answer {i}"} for i, q in enumerate(QUESTIONS * 2)]
    for i in range(6, 12):  # second copy: light edits of the first
        rows[i]["prompt"] = rows[i]["prompt"].upper() + " again"
    builder = DatasetBuilder.from_records(rows).split(
        validation=0, test=3, seed=0, leakage="report", leakage_threshold=0.6
    )
    dsd = builder.build()
    assert builder.leakage_report.count("test") >= 1 and dsd["train"].num_rows == 9
    builder.split(validation=0, test=3, seed=0, leakage="drop_train", leakage_threshold=0.6)
    dsd = builder.build()
    leaked = builder.dropped("leakage")
    assert dsd["train"].num_rows == 9 - len(leaked) and leaked
    assert {r["id"] for r in leaked}.isdisjoint(dsd["train"]["id"])
    assert find_leakage(dsd, threshold=0.6).pairs == []
