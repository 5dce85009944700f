from __future__ import annotations

import json

import pytest
from datasets import Dataset

from domainft.data.cleaning import CleaningReport, clean_dataset, normalize_text, run_steps
from domainft.errors import ConfigError, DataError


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


# ------------------------------------------------------------------------------------- pipeline steps


def _rows(**columns):
    n = len(next(iter(columns.values())))
    return Dataset.from_dict({"id": [f"r{i}" for i in range(n)], **columns})


def test_normalize_nfkc_and_message_contents():
    ds = _rows(
        prompt=["ﬁlter  ＡＢＣ", "ok"],
        response=["x", "y"],
        messages=[None, [{"role": "user", "content": "ok  "}, {"role": "assistant", "content": "y"}]],
    )
    out, report = run_steps(ds, [("normalize", {})])
    assert out["prompt"] == ["filter ABC", "ok"]
    assert out["messages"][1][0]["content"] == "ok"
    assert report.steps[0].changed == 2 and report.normalised == 2
    nfc, _ = run_steps(ds, [("normalize", {"form": "NFC"})])
    assert nfc["prompt"][0] == "ﬁlter ＡＢＣ"


def test_strip_html_only_touches_html():
    ds = _rows(
        prompt=["<p>Pump <b>cavitates</b> &amp; rattles</p><script>alert(1)</script>", "a < b and c > d"],
        response=["r", "r2"],
    )
    out, report = run_steps(ds, [("strip_html", {})])
    assert out["prompt"] == ["Pump cavitates & rattles", "a < b and c > d"]
    assert report.steps[0].changed == 1


def test_replace_rules_and_bad_regex():
    ds = _rows(prompt=["Unit SN-12345 trips", "Unit sn-9 trips"], response=["Call 555-0100.", "ok"])
    out, _ = run_steps(ds, [("replace", {"rules": [[r"SN-\d+", "SN-<serial>"]], "flags": "i"})])
    assert out["prompt"] == ["Unit SN-<serial> trips", "Unit SN-<serial> trips"]
    with pytest.raises(ConfigError, match="invalid regular expression"):
        run_steps(ds, [("replace", {"rules": [["(", ""]]})])
    with pytest.raises(ConfigError, match="unknown regex flag"):
        run_steps(ds, [("replace", {"rules": [["a", "b"]], "flags": "q"})])


def test_drop_matching_and_drop_missing_report_reasons():
    ds = _rows(prompt=["a", "b", "", "d"], response=["Thanks!", "Replace the fuse.", "x", None])
    out, report = run_steps(
        ds, [("drop_matching", {"pattern": r"^thanks[.!]*$", "flags": "i"}), ("drop_missing", {})]
    )
    assert out["id"] == ["r1"]
    assert report.dropped_by_reason == {"matched_response_pattern": 1, "empty_prompt": 1, "empty_response": 1}
    assert [r["step"] for r in report.dropped] == ["drop_matching", "drop_missing", "drop_missing"]


def test_dedup_is_case_insensitive_and_names_the_kept_id():
    ds = _rows(prompt=["Belt slips", "BELT  slips", "Fan noise"], response=["Tighten.", "tighten.", "Oil."])
    out, report = run_steps(ds, [("dedup", {})])
    assert out["id"] == ["r0", "r2"]
    (dup,) = report.dropped_rows("duplicate")
    assert (dup["id"], dup["duplicate_of"], dup["duplicate_of_id"]) == ("r1", 0, "r0")


@pytest.mark.parametrize("method", ["tfidf", "minhash"])
def test_near_dedup_keeps_first_of_each_group(method):
    base = "The hydraulic press loses pressure after running for ten minutes at full load"
    ds = _rows(
        prompt=[base, base.replace("ten", "10"), "Conveyor belt squeaks when cold", base + "!"],
        response=["a", "b", "c", "d"],
    )
    out, report = run_steps(ds, [("near_dedup", {"threshold": 0.7, "method": method})])
    assert out["id"] == ["r0", "r2"]
    assert {r["id"]: r["duplicate_of_id"] for r in report.dropped_rows("near_duplicate")} == {
        "r1": "r0",
        "r3": "r0",
    }
    strict, _ = run_steps(ds, [("near_dedup", {"threshold": 1.0, "method": method})])
    assert strict.num_rows >= 3


def test_length_outliers_iqr_percentile_and_tokens(tiny_model_dir):
    from transformers import AutoTokenizer

    responses = ["word " * n for n in (10, 11, 12, 12, 13, 14, 15, 300)] + ["w"]
    ds = _rows(prompt=[f"p{i}" for i in range(9)], response=responses)
    out, report = run_steps(ds, [("length_outliers", {"column": "response"})])
    assert set(ds["id"]) - set(out["id"]) == {"r7", "r8"}
    drop = report.dropped_rows("length_outlier")[0]
    assert drop["unit"] == "chars" and drop["length"] == len(responses[drop["row_index"]])
    high_only, _ = run_steps(ds, [("length_outliers", {"side": "high"})])
    assert set(ds["id"]) - set(high_only["id"]) == {"r7"}
    pct, _ = run_steps(ds, [("length_outliers", {"method": "percentile", "lower": 0, "upper": 80})])
    assert pct.num_rows == 7
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    by_tokens, rep = run_steps(ds, [("length_outliers", {"unit": "tokens", "tokenizer": tiny_model_dir})])
    assert rep.dropped_rows()[0]["unit"] == "tokens"
    assert "r7" not in by_tokens["id"]
    assert len(tok("word " * 300, add_special_tokens=False)["input_ids"]) in {
        r["length"] for r in rep.dropped_rows()
    }
    with pytest.raises(ConfigError, match="needs tokenizer"):
        run_steps(ds, [("length_outliers", {"unit": "tokens"})])


def test_token_filter_counts_tokens_with_the_tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    prompts = ["short", "a much longer prompt " * 20]
    limit = len(tok(prompts[1], add_special_tokens=False)["input_ids"]) - 1
    ds = _rows(prompt=prompts, response=["r", "r"])
    out, report = run_steps(ds, [("token_filter", {"tokenizer": tok, "max_tokens": limit})])
    assert out["id"] == ["r0"]
    (row,) = report.dropped_rows("too_many_tokens")
    assert row["tokens"] == limit + 1 and row["limit"] == limit


def test_map_text_hook_and_errors():
    ds = _rows(prompt=["hello", "boom"], response=["world", "x"])
    out, report = run_steps(ds, [("map_text", {"fn": str.upper})])
    assert out["prompt"] == ["HELLO", "BOOM"] and report.steps[0].changed == 2

    def fragile(text):
        if text == "boom":
            raise RuntimeError("teacher timed out")
        return text[::-1]

    with pytest.raises(DataError, match="row 1: the function raised RuntimeError"):
        run_steps(ds, [("map_text", {"fn": fragile})])
    out, report = run_steps(ds, [("map_text", {"fn": fragile, "on_error": "drop"})])
    assert out["prompt"] == ["olleh"]
    assert report.dropped_rows("map_text_error")[0]["error"] == "RuntimeError: teacher timed out"


def test_steps_are_reported_in_order_and_serialise():
    ds = _rows(prompt=["a  b", "a b", "", "c"], response=["x", "x", "y", "z"])
    _, report = run_steps(ds, [("normalize", {}), ("drop_missing", {}), ("dedup", {})])
    assert [(s.step, s.rows_in, s.rows_out) for s in report.steps] == [
        ("normalize", 4, 4),
        ("drop_missing", 4, 3),
        ("dedup", 3, 2),
    ]
    assert CleaningReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    assert "dedup" in report.steps_table()


def test_unknown_step_and_parameter():
    ds = _rows(prompt=["a"], response=["b"])
    with pytest.raises(ConfigError, match="unknown cleaning step 'scrub'"):
        run_steps(ds, [("scrub", {})])
    with pytest.raises(ConfigError, match="cleaning step 'dedup'"):
        run_steps(ds, [("dedup", {"colums": ["prompt"]})])
