from __future__ import annotations

import bisect
import json
import statistics
import struct
import sys

import pandas as pd
import pytest
from datasets import Dataset, DatasetDict

from domainft.cli import main
from domainft.data import sentiment as sentiment_module
from domainft.data.report import DataReportConfig, DatasetReport, dataset_report
from domainft.data.sentiment import (
    NEUTRAL_BAND,
    SENTIMENT_ANALYSERS,
    register_sentiment_analyser,
    sentiment_section,
    sentiment_table,
)
from domainft.errors import ConfigError, DataError

THANKS = "Thank you so much, that was really helpful!"
INSULT = "You are an idiot and this is a stupid question."
COMMAND = "Open the valve and restart the pump."
RUDE_HTML = "<b>Read the manual yourself</b>, this is a stupid and useless question."

PROMPTS = [
    "The conveyor stopped again and I am furious about it.",
    "How do I change the oil filter on the compressor?",
    "Thanks for the quick help yesterday, the press works great now.",
    "What torque do the flange bolts need?",
    "This useless machine keeps failing, what a terrible design.",
    "Where is the reset button of the boiler?",
]
RESPONSES = [
    "Check the drive belt and restart the line.",
    "Happy to help! Unscrew the old filter and fit the new one by hand.",
    "Great to hear, enjoy the rest of your shift.",
    "Use 45 Nm in a star pattern.",
    RUDE_HTML,
    "It is on the left side panel, behind the cover.",
]


def _rows(split: str, n: int, offset: int) -> list[dict]:
    rows = []
    for k in range(n):
        i = (k + offset) % len(PROMPTS)
        rows.append(
            {"id": f"{split}-{k}", "prompt": PROMPTS[i], "response": RESPONSES[(i + k) % len(RESPONSES)]}
        )
    return rows


@pytest.fixture(scope="module")
def dsd() -> DatasetDict:
    train, test = _rows("train", 10, 0), _rows("test", 5, 3)
    train[1]["response"] = None  # missing: counted, not scored
    train[2]["prompt"] = "   "  # blank: counted, not scored
    test[0]["response"] = RUDE_HTML
    return DatasetDict(train=Dataset.from_list(train), test=Dataset.from_list(test))


@pytest.fixture(scope="module")
def table(dsd) -> pd.DataFrame:
    return sentiment_table(dsd)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def test_fixed_sentences_have_the_expected_signs():
    thanks, insult, command = SENTIMENT_ANALYSERS.get("vader")([THANKS, INSULT, COMMAND])
    assert thanks > NEUTRAL_BAND
    assert insult < -NEUTRAL_BAND
    assert -NEUTRAL_BAND < command < NEUTRAL_BAND
    assert all(-1.0 <= x <= 1.0 for x in (thanks, insult, command))


def test_roles_come_from_prompt_and_response(dsd, table):
    assert list(table.columns) == ["split", "id", "role", "turn", "compound", "text"]
    assert set(table["role"]) == {"user", "assistant"}
    assert table["turn"].isna().all()
    # one row per non-blank text, in data order; the missing response and the blank prompt are left out
    expected = [
        (split, row["id"], role, row[column])
        for split, ds in dsd.items()
        for row in ds
        for column, role in (("prompt", "user"), ("response", "assistant"))
        if row[column] and row[column].strip()
    ]
    assert list(zip(table["split"], table["id"], table["role"], table["text"], strict=True)) == expected
    assert len(table) == 2 * 15 - 2
    scores = SENTIMENT_ANALYSERS.get("vader")(list(table["text"]))
    assert table["compound"].tolist() == scores


def test_messages_turns_are_scored_once_under_their_roles():
    conversations = [
        [
            {"role": "system", "content": "You are a patient maintenance assistant."},
            {"role": "user", "content": INSULT},
            {"role": "assistant", "content": COMMAND},
            {"role": "user", "content": THANKS},
            {"role": "assistant", "content": ""},
        ],
        [{"role": "user", "content": COMMAND}, {"role": "assistant", "content": THANKS}],
        None,
    ]
    rows = []
    for k, messages in enumerate(conversations):  # dialogue data copies prompt/response/system from the turns
        rows.append(
            {
                "id": f"c{k}",
                "messages": messages,
                "prompt": messages[-2]["content"] if messages else None,
                "response": messages[-1]["content"] if messages else None,
                "system": messages[0]["content"] if messages and messages[0]["role"] == "system" else None,
            }
        )
    ds = Dataset.from_list(rows)
    table = sentiment_table(ds)
    assert list(zip(table["id"], table["role"], table["turn"], strict=True)) == [
        ("c0", "system", 0),
        ("c0", "user", 1),
        ("c0", "assistant", 2),
        ("c0", "user", 3),
        ("c1", "user", 0),
        ("c1", "assistant", 1),
    ]
    section = sentiment_section(ds)
    assert section["skipped_columns"] == ["prompt", "response", "system"]
    assert section["columns"] == ["messages"]
    assert section["roles"] == ["user", "assistant", "system"]
    assert section["n_scored"] == 6 and section["n_empty"] == 1
    assert section["groups"]["all"]["assistant"]["empty"] == 1
    assert section["missing_conversations"] == {"all": 1}
    assert any("count those turns twice" in n for n in section["notes"])
    assert any("1 row(s) have no messages" in n for n in section["notes"])
    # without messages among the columns, prompt and response are scored as user and assistant texts (c0's
    # response is empty and c2 has neither)
    only = sentiment_table(ds, text_columns=["prompt", "response"])
    assert list(zip(only["id"], only["role"], strict=True)) == [
        ("c0", "user"),
        ("c1", "user"),
        ("c1", "assistant"),
    ]


def test_groups_shares_and_histograms_match_the_table(dsd, table):
    threshold = 0.4
    section = sentiment_section(dsd, threshold=threshold)
    assert section["threshold"] == threshold and section["neutral_band"] == NEUTRAL_BAND
    assert section["n_scored"] == len(table) and section["n_empty"] == 2
    for split in ("train", "test"):
        for role in ("user", "assistant"):
            values = table[(table["split"] == split) & (table["role"] == role)]["compound"].tolist()
            g = section["groups"][split][role]
            n = len(values)
            assert g["count"] == n
            assert g["mean"] == pytest.approx(sum(values) / n)
            assert g["median"] == pytest.approx(statistics.median(values))
            negative = sum(v <= -NEUTRAL_BAND for v in values)
            positive = sum(v >= NEUTRAL_BAND for v in values)
            assert g["share_negative"] == pytest.approx(negative / n)
            assert g["share_positive"] == pytest.approx(positive / n)
            assert g["share_neutral"] == pytest.approx((n - negative - positive) / n)
            assert g["strong_negative"] == sum(v <= -threshold for v in values)
            assert g["strong_positive"] == sum(v >= threshold for v in values)
            assert g["share_strong_negative"] == pytest.approx(g["strong_negative"] / n)
            hist = section["histograms"][role]
            edges = hist["edges"]
            assert edges[0] == -1.0 and edges[-1] == 1.0 and len(edges) == 21
            counts = [0] * (len(edges) - 1)
            for v in values:
                counts[min(bisect.bisect_right(edges, v) - 1, len(counts) - 1)] += 1
            assert hist["counts"][split] == counts
    assert section["groups"]["train"]["assistant"]["empty"] == 1
    assert section["groups"]["train"]["user"]["empty"] == 1
    assert section["groups"]["test"]["user"]["strong_negative"] >= 1  # the furious and useless prompts
    overall = section["overall"]["assistant"]
    assert overall["count"] == int((table["role"] == "assistant").sum())
    assert overall["strong_negative"] == int(
        ((table["role"] == "assistant") & (table["compound"] <= -threshold)).sum()
    )
    # every score is retrievable from the compact rows
    expected = [
        [s, i, r, None, c]
        for s, i, r, c in zip(table["split"], table["id"], table["role"], table["compound"], strict=True)
    ]
    assert section["scores"] == expected
    json.dumps(section, allow_nan=False)  # JSON-native


def test_strongly_negative_assistant_texts_get_a_note(dsd):
    section = sentiment_section(dsd)
    n = section["overall"]["assistant"]["strong_negative"]
    assert n >= 2  # the rude answer is in train and test
    assert any(
        n_.startswith(f"{n} assistant text(s)") and "read them before training" in n_
        for n_ in section["notes"]
    )


def test_most_negative_lists_the_lowest_in_order(dsd, table):
    section = sentiment_section(dsd, examples=3)
    worst = section["most_negative"]
    assert len(worst) == 3
    values = [e["compound"] for e in worst]
    assert values == sorted(values) == sorted(table["compound"])[:3]
    for e in worst:
        row = table[(table["split"] == e["split"]) & (table["id"] == e["id"]) & (table["role"] == e["role"])]
        assert row["compound"].tolist() == [e["compound"]]
        assert e["text"] == row["text"].iloc[0][:200]
    assistant = section["most_negative_by_role"]["assistant"]
    assert len(assistant) == 3 and {e["role"] for e in assistant} == {"assistant"}
    lowest = sorted(table[table["role"] == "assistant"]["compound"])[:3]
    assert [e["compound"] for e in assistant] == lowest
    assert assistant[0]["text"] == RUDE_HTML
    assert len(sentiment_section(dsd, examples=100)["most_negative"]) == len(table)


def test_report_section_round_trips_and_renders(dsd, tmp_path):
    config = DataReportConfig(
        sentiment="vader", sentiment_examples=4, near_duplicate_threshold=None, n_topics=2
    )
    report = dataset_report(dsd, config=config)
    assert report.sentiment is not None and report.sentiment["analyser"] == "vader"
    assert len(report.sentiment["most_negative"]) == 4
    assert "sentiment (vader): mean compound user" in report.summary()
    assert "note: sentiment: " in report.summary()
    out = report.save(tmp_path / "r")
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["sentiment"]["scores"] == report.sentiment["scores"]
    assert data["images"]["sentiment"] == "sentiment.png"
    loaded = DatasetReport.load(out)
    assert loaded.to_dict() == report.to_dict() and loaded.sentiment == report.sentiment
    assert loaded.images["sentiment"] == report.images["sentiment"]
    width, height = _png_size((out / "sentiment.png").read_bytes())
    assert width > 300 and height > 200
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Sentiment and tone (vader)</h2>" in page
    assert "Most negative assistant texts" in page
    assert "&lt;b&gt;Read the manual yourself&lt;/b&gt;" in page and "<b>Read" not in page
    assert page.count("data:image/png;base64,") == 2  # character lengths and sentiment
    # without the option there is no section, and saving into the same folder removes the stale chart
    plain = dataset_report(dsd, config=config.updated(sentiment=None))
    assert plain.sentiment is None and "sentiment" not in plain.images
    plain.save(out)
    assert not (out / "sentiment.png").exists()
    assert "Sentiment and tone" not in (out / "report.html").read_text(encoding="utf-8")


def test_config_fields_are_validated_by_name():
    with pytest.raises(ConfigError, match=r"DataReportConfig.sentiment_threshold must be in \(0, 1\], got 0"):
        DataReportConfig(sentiment_threshold=0.0)
    with pytest.raises(ConfigError, match="sentiment_threshold"):
        DataReportConfig(sentiment_threshold=1.5)
    with pytest.raises(ConfigError, match="DataReportConfig.sentiment_examples must be positive"):
        DataReportConfig(sentiment_examples=0)
    with pytest.raises(
        ConfigError,
        match=r"DataReportConfig.sentiment: unknown sentiment analyser 'vadr'; known: .*vader.*"
        r"Did you mean 'vader'\?.*register_sentiment_analyser",
    ):
        DataReportConfig(sentiment="vadr")
    config = DataReportConfig(sentiment="VADER", sentiment_threshold=1.0, sentiment_examples=3)
    assert DataReportConfig.from_dict(config.to_dict()) == config


def test_unknown_analyser_and_bad_columns(dsd):
    with pytest.raises(ConfigError, match="unknown sentiment analyser 'textblob'; known: .*vader"):
        sentiment_table(dsd, analyser="textblob")
    with pytest.raises(DataError, match="text_columns: column\\(s\\) 'answer' not in the data"):
        sentiment_table(dsd, text_columns=["answer"])
    with pytest.raises(ConfigError, match="threshold must be in"):
        sentiment_section(dsd, threshold=0)


def test_a_registered_analyser_is_used(dsd, tmp_path):
    @register_sentiment_analyser("test-exclamations", overwrite=True)
    def exclamations(texts):
        return [-1.0 if "stupid" in t else min(1.0, t.count("!") / 2) for t in texts]

    table = sentiment_table(dsd, analyser="test-exclamations")
    assert table["compound"].tolist() == exclamations(list(table["text"]))
    report = dataset_report(
        dsd, config=DataReportConfig(sentiment="test-exclamations", near_duplicate_threshold=None, n_topics=2)
    )
    assert report.sentiment["analyser"] == "test-exclamations"
    assert report.sentiment["most_negative"][0]["compound"] == -1.0

    register_sentiment_analyser("test-short", overwrite=True)(lambda texts: [0.0])
    with pytest.raises(ConfigError, match="'test-short' returned 1 score\\(s\\) for 28 text\\(s\\)"):
        sentiment_table(dsd, analyser="test-short")
    register_sentiment_analyser("test-range", overwrite=True)(lambda texts: [2.0] * len(texts))
    with pytest.raises(
        ConfigError, match="'test-range' returned 2.0 for text 0.*must be numbers in \\[-1, 1\\]"
    ):
        sentiment_table(dsd, analyser="test-range")
    with pytest.raises(ConfigError, match="already registered"):
        register_sentiment_analyser("vader")(exclamations)


def test_missing_vader_package_says_what_to_install(dsd, monkeypatch):
    monkeypatch.setitem(sys.modules, "vaderSentiment", None)
    sentiment_module._vader_analyser.cache_clear()  # the analyser built by an earlier test
    try:
        with pytest.raises(
            ConfigError, match=r"needs the vaderSentiment package.*pip install 'domainft\[diagnostics\]'"
        ):
            sentiment_table(dsd)
    finally:
        sentiment_module._vader_analyser.cache_clear()


def test_progress_bar_only_when_asked_or_many_texts(dsd, capsys):
    sentiment_table(dsd)
    assert "sentiment (vader)" not in capsys.readouterr().err
    sentiment_table(dsd, progress=True)
    assert "sentiment (vader)" in capsys.readouterr().err


def test_cli_writes_the_section(tmp_path, capsys):
    data = tmp_path / "tickets.jsonl"
    rows = _rows("r", 8, 0)
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "report"
    assert main(["data", "report", str(data), "--sentiment", "--topics", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sentiment (vader): mean compound" in printed and "sentiment.png" in printed
    saved = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert saved["sentiment"]["analyser"] == "vader" and saved["sentiment"]["n_scored"] == 16
    assert saved["meta"]["config"]["sentiment"] == "vader"
    assert (out / "sentiment.png").is_file()
    assert main(["data", "report", str(data), "--sentiment", "nope", "--out", str(tmp_path / "x")]) == 2
    assert "unknown sentiment analyser 'nope'" in capsys.readouterr().err
