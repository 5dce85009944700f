from __future__ import annotations

import json
import math
import re
import struct
from collections import Counter

import pytest
from datasets import Dataset, DatasetDict

from domainft.data.cleaning import CleaningReport
from domainft.data.report import DataReportConfig, DatasetReport, dataset_report
from domainft.errors import ConfigError, DataError, DataFileNotFoundError, ModelError

THEMES = {
    "pump": ["pump", "impeller", "seal", "leak", "pressure"],
    "belt": ["belt", "conveyor", "pulley", "tension", "slip"],
    "oven": ["oven", "heater", "thermostat", "temperature", "element"],
}
SCRIPT = "<script>alert('x')</script> pump seal leak"
LEAK_TRAIN = "Why does the pump seal leak under pressure?"
LEAK_TEST = "  why does the PUMP seal leak\nunder pressure? "  # same after normalising and case folding
NEAR_TRAIN = "How do I replace the worn conveyor belt on the packing line number three today?"
NEAR_TEST = "How do I replace the worn conveyor belt on the packing line number four today?"


def _row(split: str, k: int, i: int) -> dict:
    """Row ``k`` of ``split``; ``i`` (global position) makes every generated prompt unique."""
    w = THEMES[list(THEMES)[i % 3]]
    words = [w[i % 5], w[(i + 1) % 5], w[(i + 2) % 5]]
    if (i // 15) % 2:
        words.reverse()
    return {
        "id": f"{split}-{k}",
        "prompt": f"Why does the {' '.join(words)}?",
        "response": f"The {w[(i + 3) % 5]} and the {w[(i + 4) % 5]} of the {w[i % 5]}.",
        "created_at": f"2024-{1 + (i // 3) % 3:02d}-{1 + (i * 7) % 28:02d}",
    }


def _split(name: str, n: int, start: int) -> list[dict]:
    return [_row(name, k, start + k) for k in range(n)]


@pytest.fixture(scope="module")
def rows() -> dict[str, list[dict]]:
    train, validation, test = _split("train", 18, 0), _split("validation", 3, 18), _split("test", 6, 21)
    train[3]["prompt"] = "Check the belt tension"  # a duplicate group of three in train
    train[6]["prompt"] = "  check the BELT   tension "
    train[9]["prompt"] = "Check the belt tension."  # punctuation differs: not an exact duplicate
    train[12]["prompt"] = "check the belt tension"
    train[0]["prompt"], test[0]["prompt"] = LEAK_TRAIN, LEAK_TEST  # planted exact leak
    train[1]["prompt"], test[1]["prompt"] = SCRIPT, SCRIPT  # user text with HTML in it (and a leak)
    train[2]["prompt"], test[2]["prompt"] = NEAR_TRAIN, NEAR_TEST  # planted near duplicate
    validation[0]["created_at"] = "not a date"
    validation[1]["created_at"] = None
    test[3]["response"] = None
    return {"train": train, "validation": validation, "test": test}


@pytest.fixture(scope="module")
def dsd(rows) -> DatasetDict:
    return DatasetDict({name: Dataset.from_list(r) for name, r in rows.items()})


@pytest.fixture(scope="module")
def report(dsd, tiny_model_dir) -> DatasetReport:
    config = DataReportConfig(n_topics=3, time_frequency="month", near_duplicate_threshold=0.8, seed=1)
    cleaning = CleaningReport(rows_in=30, rows_out=27, dropped_by_reason={"duplicate": 2, "empty_prompt": 1})
    return dataset_report(
        dsd, tokenizer=str(tiny_model_dir), cleaning=cleaning, config=config, source="x.jsonl"
    )


def _p95(values: list[int]) -> float:
    s = sorted(values)
    rank = 0.95 * (len(s) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(s) - 1)
    return s[low] + (s[high] - s[low]) * (rank - low)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def test_rows_and_columns(report):
    assert report.splits == {"train": 18, "validation": 3, "test": 6}
    assert report.text_columns == ["prompt", "response"]


def test_character_length_stats_match_the_data(report, rows):
    for column in ("prompt", "response"):
        for split, split_rows in rows.items():
            values = [len(r[column]) for r in split_rows if r[column] is not None]
            stats = report.lengths["chars"][column][split]
            assert stats["count"] == len(values)
            assert stats["missing"] == len(split_rows) - len(values)
            assert stats["min"] == min(values) and stats["max"] == max(values)
            assert stats["mean"] == pytest.approx(sum(values) / len(values))
            s = sorted(values)
            median = (s[(len(s) - 1) // 2] + s[len(s) // 2]) / 2
            assert stats["median"] == pytest.approx(median)
            assert stats["p95"] == pytest.approx(_p95(values))
            assert stats["total"] == sum(values)
    assert report.lengths["chars"]["response"]["test"]["missing"] == 1


def test_token_lengths_use_the_tokenizer(report, rows, tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    values = [len(tok(r["response"], add_special_tokens=False)["input_ids"]) for r in rows["train"]]
    stats = report.lengths["tokens"]["response"]["train"]
    assert (stats["min"], stats["max"], stats["total"]) == (min(values), max(values), sum(values))
    assert stats["p95"] == pytest.approx(_p95(values))
    assert report.meta["tokenizer"] == str(tiny_model_dir)
    # histogram counts add up to the rows with text, per split
    hist = report.histograms["tokens"]["response"]
    assert sum(hist["counts"]["test"]) == 5 and len(hist["edges"]) == 31


def test_a_tokenizer_object_gives_the_same_token_counts(dsd, report, tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    config = DataReportConfig(n_topics=3, near_duplicate_threshold=None, text_columns=["prompt"])
    other = dataset_report(dsd, tokenizer=tok, config=config)
    assert other.lengths["tokens"]["prompt"] == report.lengths["tokens"]["prompt"]


def test_exact_duplicates_within_each_split(report):
    within = report.duplicates["within"]
    assert report.duplicates["column"] == "prompt"
    assert within["train"]["duplicate_rows"] == 2 and within["train"]["groups"] == 1
    assert within["train"]["examples"][0]["ids"] == ["train-3", "train-6", "train-12"]
    assert within["validation"]["duplicate_rows"] == within["test"]["duplicate_rows"] == 0


def test_planted_train_test_leak_is_found_with_ids(report):
    across = {(e["a"], e["b"]): e for e in report.duplicates["across"]}
    assert set(across) == {("train", "validation"), ("train", "test"), ("validation", "test")}
    leak = across[("train", "test")]
    assert leak["leakage"] is True and leak["n_pairs"] == 2 and leak["b_rows"] == 2
    assert [(p["a_id"], p["b_id"]) for p in leak["pairs"]] == [("train-0", "test-0"), ("train-1", "test-1")]
    assert across[("train", "validation")]["n_pairs"] == 0
    assert any(n.startswith("leakage: 2 train/test pair(s)") for n in report.notes)


def test_near_duplicates_across_train_and_test(report):
    near = {(e["a"], e["b"]): e for e in report.duplicates["near"]}
    assert set(near) == {("train", "validation"), ("train", "test")}
    pairs = [(p["a_id"], p["b_id"]) for p in near[("train", "test")]["pairs"]]
    assert ("train-2", "test-2") in pairs
    assert ("train-0", "test-0") not in pairs  # exact duplicates are reported above, not here
    assert all(p["similarity"] >= 0.8 for p in near[("train", "test")]["pairs"])


def test_top_terms_are_counts_without_stop_words(report, rows):
    terms = {t["term"]: t for t in report.top_terms["response"]}
    assert "the" not in terms and "and" not in terms
    responses = [r["response"] for split_rows in rows.values() for r in split_rows if r["response"]]
    expected = sum(len(re.findall(r"\bpump\b", text.lower())) for text in responses)
    assert terms["pump"]["count"] == expected
    counts = [t["count"] for t in report.top_terms["response"]]
    assert counts == sorted(counts, reverse=True) and len(counts) == 15  # 15 theme words in all


def test_topics_recover_the_planted_themes(report):
    topics = report.topics
    assert topics["method"] == "nmf" and topics["n_topics"] == 3 and len(topics["topics"]) == 3
    found = set()
    for topic in topics["topics"]:
        themes = {name for name, words in THEMES.items() if set(topic["words"][:3]) <= set(words)}
        assert len(themes) == 1, topic["words"]
        found |= themes
    assert found == set(THEMES)
    assert sum(t["share"] for t in topics["topics"]) + topics["unassigned"] / topics["rows_used"] == (
        pytest.approx(1.0)
    )
    assert topics["rows_used"] == 27


def test_lda_topics_have_the_requested_number_and_are_seeded(dsd):
    config = DataReportConfig(n_topics=2, topic_method="lda", near_duplicate_threshold=None, seed=3)
    a = dataset_report(dsd, config=config).topics
    b = dataset_report(dsd, config=config).topics
    assert a["method"] == "lda" and len(a["topics"]) == 2 and a == b


def test_time_trend_counts_per_month(report, rows):
    trend = report.time_trend
    assert trend["column"] == "created_at" and trend["frequency"] == "month"
    assert trend["periods"] == ["2024-01", "2024-02", "2024-03"]
    for split, split_rows in rows.items():
        months = Counter(
            r["created_at"][:7] for r in split_rows if r["created_at"] and r["created_at"][0] == "2"
        )
        assert trend["counts"][split] == [months[p] for p in trend["periods"]]
    assert trend["unparsed"] == 1
    assert any("1 value(s) of 'created_at' are not dates" in n for n in report.notes)


def test_time_frequency_auto_and_timestamp_types():
    import datetime as dt

    days = [dt.datetime(2024, 5, 1) + dt.timedelta(days=k % 10) for k in range(30)]
    ds = Dataset.from_dict(
        {"prompt": [f"question {k}" for k in range(30)], "response": ["yes"] * 30, "when": days}
    )
    trend = dataset_report(ds, config=DataReportConfig(near_duplicate_threshold=None)).time_trend
    assert trend["column"] == "when" and trend["frequency"] == "day" and len(trend["periods"]) == 10
    assert trend["counts"] == {"all": [3] * 10}


def test_no_timestamp_column_means_no_trend(dsd):
    data = dsd.remove_columns("created_at")
    report = dataset_report(data, config=DataReportConfig(near_duplicate_threshold=None))
    assert report.time_trend is None and "time_trend" not in report.images


def test_cleaning_report_is_included(report):
    assert report.cleaning["rows_in"] == 30 and report.cleaning["dropped_by_reason"]["duplicate"] == 2
    assert "dropped" not in report.cleaning  # counts only, not the rows


def test_pngs_are_valid_images(report, tmp_path):
    assert set(report.images) == {"lengths_chars", "lengths_tokens", "time_trend"}
    report.save(tmp_path)
    for name in report.images:
        png = (tmp_path / f"{name}.png").read_bytes()
        width, height = _png_size(png)
        assert len(png) > 1000 and width > 100 and height > 100


def test_html_escapes_user_text_and_embeds_images(report, tmp_path):
    report.save(tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count("data:image/png;base64,") == 3
    for expected in ("train-0", "test-0", "leakage", "created_at", "2024-02", "thermostat", "empty_prompt"):
        assert expected in page


def test_json_round_trip(report, tmp_path):
    out = report.save(tmp_path / "r")
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["splits"] == report.splits and data["images"]["time_trend"] == "time_trend.png"
    loaded = DatasetReport.load(out)
    assert loaded.to_dict() == report.to_dict()
    assert loaded.images == report.images
    assert loaded == report
    assert repr(loaded).startswith("DatasetReport: 27 rows (train 18, validation 3, test 6)")


def test_single_dataset_and_messages_column():
    ds = Dataset.from_list(
        [
            {
                "messages": [
                    {"role": "user", "content": "Hi there"},
                    {"role": "assistant", "content": "Hello"},
                ]
            },
            {
                "messages": [
                    {"role": "user", "content": "Hi there!"},
                    {"role": "assistant", "content": "Hello"},
                ]
            },
            {"messages": None},
        ]
    )
    report = dataset_report(ds, config=DataReportConfig(near_duplicate_threshold=0.5, n_topics=2))
    assert report.splits == {"all": 3} and report.text_columns == ["messages"]
    stats = report.lengths["chars"]["messages"]["all"]
    assert (stats["count"], stats["missing"], stats["min"], stats["max"]) == (2, 1, 14, 15)
    assert report.duplicates["across"] == []
    near = report.duplicates["near"]
    assert len(near) == 1 and near[0]["a"] == near[0]["b"] == "all"
    assert [(p["a_id"], p["b_id"]) for p in near[0]["pairs"]] == [("row-000000", "row-000001")]


def test_errors_name_the_problem(dsd, tmp_path):
    with pytest.raises(ConfigError, match="topic_method.*'kmeans'.*known: lda, nmf"):
        DataReportConfig(topic_method="kmeans")
    with pytest.raises(ConfigError, match="near_duplicate_threshold"):
        DataReportConfig(near_duplicate_threshold=1.5)
    with pytest.raises(ConfigError, match="near_duplicate_method: unknown method 'nope'; known: minhash"):
        DataReportConfig(near_duplicate_method="nope")
    with pytest.raises(DataError, match="'answer' not in the data; found columns: id, prompt"):
        dataset_report(dsd, config=DataReportConfig(text_columns=["prompt", "answer"]))
    with pytest.raises(DataError, match="no text column to analyse"):
        dataset_report(Dataset.from_dict({"x": [1, 2]}))
    with pytest.raises(DataError, match="expects a datasets.DatasetDict or Dataset, got list"):
        dataset_report([{"prompt": "a"}])
    with pytest.raises(DataError, match="'prompt'.*of which 0 parse as dates"):
        dataset_report(dsd, config=DataReportConfig(timestamp_column="prompt", near_duplicate_threshold=None))
    with pytest.raises(ModelError, match="cannot load a tokenizer"):
        dataset_report(dsd, tokenizer=str(tmp_path / "missing"))
    with pytest.raises(DataFileNotFoundError, match="report.json does not exist"):
        DatasetReport.load(tmp_path)
