from __future__ import annotations

import json

import pytest
from datasets import Dataset

from domainft.data.cleaning import CleaningReport, clean_dataset, normalize_text
from domainft.errors import DataError


def test_normalize_text():
    assert normalize_text("  a \t\t b  ") == "a b"
    assert normalize_text("line one  \n  line two") == "line one\nline two"
    assert normalize_text("p1\r\n\r\n\r\n\r\np2") == "p1\n\np2"
    assert normalize_text("cafe\u0301") == "caf\u00e9"  # NFC
    assert normalize_text("a\u00a0\u00a0b") == "a b"  # no-break spaces count as spaces


def test_counts_by_reason_and_nothing_lost(dirty_records):
    clean, report = clean_dataset(Dataset.from_list(dirty_records))
    assert report.rows_in == 10
    assert report.rows_out == clean.num_rows == 3
    assert report.dropped_by_reason == {"empty_prompt": 2, "empty_response": 2, "duplicate": 3}
    assert report.rows_dropped == len(report.dropped) == 7
    assert report.rows_out + sum(report.dropped_by_reason.values()) == report.rows_in
    assert clean.to_list() == [
        {"prompt": "Oil interval?", "response": "Every 500 h."},
        {"prompt": "Belt slips?", "response": "Tighten the belt."},
        {"prompt": "Noise?", "response": "Grease the\n\nbearing."},
    ]


def test_dropped_rows_are_retrievable_as_originals(dirty_records):
    _, report = clean_dataset(Dataset.from_list(dirty_records))
    assert [r["row_index"] for r in report.dropped_rows("empty_prompt")] == [2, 3]
    assert [r["row_index"] for r in report.dropped_rows("empty_response")] == [4, 6]
    dups = report.dropped_rows("duplicate")
    assert [(r["row_index"], r["duplicate_of"]) for r in dups] == [(1, 0), (7, 5), (9, 0)]
    # the original, un-normalised text is kept for inspection
    assert dups[0]["prompt"] == "  Oil interval?\t"
    assert dups[0]["response"] == "Every   500 h. "
    assert all(set(r) >= {"prompt", "response", "reason", "row_index"} for r in report.dropped)


def test_dedup_after_whitespace_normalisation():
    ds = Dataset.from_list(
        [
            {"prompt": "Check  the\tbelt", "response": "Tighten it.\n"},
            {"prompt": " Check the belt ", "response": "Tighten  it."},
            {"prompt": "Check the belt", "response": "Tighten it again."},  # different response: kept
        ]
    )
    clean, report = clean_dataset(ds)
    assert clean["response"] == ["Tighten it.", "Tighten it again."]
    assert report.dropped_by_reason == {"duplicate": 1}


def test_dedup_can_be_disabled():
    ds = Dataset.from_list([{"prompt": "a", "response": "b"}] * 3)
    clean, report = clean_dataset(ds, dedup=False)
    assert clean.num_rows == 3 and report.rows_dropped == 0


def test_other_columns_and_features_kept():
    ds = Dataset.from_list(
        [
            {"id": " T1 ", "prompt": "a  b", "response": "c", "hours": 1.5, "machine": " lathe  x"},
            {"id": "T2", "prompt": "", "response": "c", "hours": 2.0, "machine": "press"},
        ]
    )
    clean, report = clean_dataset(ds)
    assert clean.features == ds.features
    assert clean.to_list() == [
        {"id": " T1 ", "prompt": "a b", "response": "c", "hours": 1.5, "machine": "lathe x"}
    ]
    assert report.normalised == 1


def test_custom_required_columns():
    ds = Dataset.from_list([{"text": "x", "label": "y"}, {"text": "  ", "label": "z"}])
    clean, report = clean_dataset(ds, required=("text",))
    assert clean["text"] == ["x"]
    assert report.dropped_by_reason == {"empty_text": 1}


def test_missing_required_column_lists_found():
    ds = Dataset.from_list([{"question": "q", "answer": "a"}])
    with pytest.raises(
        DataError, match=r"missing column.*'prompt', 'response'.*found columns: question, answer"
    ):
        clean_dataset(ds)


def test_all_rows_dropped_keeps_columns():
    ds = Dataset.from_list([{"prompt": "", "response": "a"}, {"prompt": "b", "response": None}])
    clean, report = clean_dataset(ds)
    assert clean.num_rows == 0 and clean.column_names == ["prompt", "response"]
    assert report.dropped_by_reason == {"empty_prompt": 1, "empty_response": 1}


def test_report_serialisation_and_summary(dirty_records):
    _, report = clean_dataset(Dataset.from_list(dirty_records))
    data = report.to_dict()
    json.dumps(data)  # JSON-serialisable
    assert data["rows_dropped"] == 7 and len(data["dropped"]) == 7
    assert "dropped" not in report.to_dict(include_rows=False)
    assert CleaningReport.from_dict(data) == report
    assert report.summary() == (
        "cleaning: 10 rows in, 3 out, 7 dropped (duplicate: 3, empty_prompt: 2, empty_response: 2)"
    )
    assert str(report) == report.summary()
    assert CleaningReport(rows_in=2, rows_out=2).summary() == "cleaning: 2 rows in, 2 out, 0 dropped"
