"""examples/linux_dialogues: the authored dialogues, the small-talk cleaning step, and one quick run of
the whole recipe (data, reports, masking, three training runs, one evaluation table)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import datasets
import pytest

from domainft.data.leakage import find_leakage
from tests.examples import EXAMPLES, load_script

EXAMPLE = EXAMPLES / "linux_dialogues"
DATA = EXAMPLE / "data" / "dialogues.jsonl"


@pytest.fixture(scope="module")
def example():
    return load_script(EXAMPLE / "run.py", "example_linux_dialogues")


@pytest.fixture(scope="module")
def utterances() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def run(example, tmp_path_factory):
    out = tmp_path_factory.mktemp("linux_dialogues")
    summary = example.main(["--quick", "--quiet", "--output-dir", str(out)])
    return out, summary


# ------------------------------------------------------------------------------------------ the data


def test_data_has_enough_dialogues_of_two_to_six_turns(utterances):
    assert {"dialogue_id", "turn", "timestamp", "speaker", "text"} <= set(utterances[0])
    per_dialogue = Counter(u["dialogue_id"] for u in utterances)
    assert len(per_dialogue) >= 200
    assert min(per_dialogue.values()) >= 2 and max(per_dialogue.values()) <= 6
    assert {u["speaker"] for u in utterances} == {"user", "helper"}
    turns = {}
    for u in utterances:
        turns.setdefault(u["dialogue_id"], []).append(u["turn"])
    assert all(sorted(t) == list(range(1, len(t) + 1)) for t in turns.values())


def test_timestamps_span_two_years_and_volume_grows(utterances):
    stamps = [datetime.fromisoformat(u["timestamp"].replace("Z", "+00:00")) for u in utterances]
    assert (max(stamps) - min(stamps)).days >= 700
    starts = {}
    for u, t in zip(utterances, stamps, strict=True):
        starts.setdefault(u["dialogue_id"], t)
    years = Counter(t.year for t in starts.values())
    assert years[2024] > years[2023] > 0


def test_planned_noise_is_present(example, utterances):
    texts = [u["text"] for u in utterances]
    small_talk = sum(bool(t.strip()) and bool(example.SMALL_TALK.match(t.strip())) for t in texts)
    assert 0.07 <= small_talk / len(texts) <= 0.15
    assert sum("https://" in t for t in texts) >= 15
    assert sum(not t.strip() for t in texts) >= 5
    by_dialogue: dict[str, list[str]] = {}
    for u in utterances:
        by_dialogue.setdefault(u["dialogue_id"], []).append(" ".join(u["text"].lower().split()))
    contents = Counter(tuple(v) for v in by_dialogue.values())
    reposts = sum(n - 1 for n in contents.values())
    assert 0.03 <= reposts / len(by_dialogue) <= 0.08


def test_a_few_helper_answers_are_off_tone(utterances):
    scenarios = load_script(EXAMPLE / "data" / "scenarios.py", "example_linux_scenarios")
    helper = [u["text"] for u in utterances if u["speaker"] == "helper"]
    rude = [t for t in helper if any(t.startswith(opening) for opening in scenarios.OFF_TONE)]
    assert len(rude) >= len(scenarios.OFF_TONE)  # every opening once (a re-post may repeat one)
    assert len(rude) / len(helper) < 0.05


def test_helpers_give_commands(utterances):
    helper = [u["text"] for u in utterances if u["speaker"] == "helper" and len(u["text"]) > 40]
    with_command = sum("`" in t for t in helper)
    assert with_command / len(helper) > 0.9
    joined = "\n".join(helper)
    for command in ("apt", "dnf", "df -h", "chmod", "ssh-keygen", "systemctl", "resolvectl", "crontab", "update-grub",
                    "find", "grep", "kill", "usermod", "mount", "ufw", "rfkill", "swapon"):  # fmt: skip
        assert command in joined, command


# ---------------------------------------------------------------------------------- cleaning step


def test_strip_small_talk_removes_greetings_and_closing_thanks(example):
    messages = [
        {"role": "user", "content": "hi all\nmy disk is full, what now?"},
        {"role": "assistant", "content": "Run `df -h` and `sudo du -xh --max-depth=1 / | sort -h`."},
        {"role": "user", "content": "lol ok"},
        {"role": "user", "content": "Thanks, that worked. One more thing: can I trim the journal?"},
        {"role": "assistant", "content": "`sudo journalctl --vacuum-size=200M`."},
        {"role": "user", "content": "thanks!"},
        {"role": "assistant", "content": "glad it worked :)"},
    ]
    kept, removed = example.strip_small_talk(messages)
    assert removed == 4
    assert [m["role"] for m in kept] == ["user", "assistant", "user", "assistant"]
    assert kept[0]["content"] == "my disk is full, what now?"
    assert kept[2]["content"].startswith("Thanks, that worked. One more thing")
    assert kept[-1]["content"] == "`sudo journalctl --vacuum-size=200M`."


def test_drop_small_talk_step_rewrites_and_drops(example):
    from domainft import DatasetBuilder

    rows = [
        {"id": "a", "messages": [{"role": "user", "content": "hey"}, {"role": "user", "content": "how do I kill firefox?"},
                                 {"role": "assistant", "content": "`pkill firefox`"},
                                 {"role": "user", "content": "thx"}, {"role": "assistant", "content": "np"}]},
        {"id": "b", "messages": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}]},
    ]  # fmt: skip
    builder = DatasetBuilder.from_dataset(datasets.Dataset.from_list(rows), format="messages")
    builder.apply_steps([{"step": "drop_small_talk"}])
    ds = builder.dataset
    assert ds["id"] == ["a"]
    assert ds[0]["prompt"] == "how do I kill firefox?" and ds[0]["response"] == "`pkill firefox`"
    assert len(ds[0]["messages"]) == 2
    assert builder.cleaning_report.dropped_by_reason == {"small_talk_only": 1}
    assert [r["id"] for r in builder.dropped("small_talk_only")] == ["b"]


# ------------------------------------------------------------------------------- the quick run


def test_cleaning_counts(run):
    _, summary = run
    data = summary["data"]
    assert data["file"]["dialogues"] >= 200
    assert data["format_rejected"]["count"] == 3  # the unanswered questions
    cleaning = data["cleaning"]
    assert cleaning["dropped_by_reason"].get("duplicate", 0) >= 10
    assert cleaning["rows_out"] >= 200
    changed = {s["step"]: s["changed"] for s in cleaning["steps"]}
    assert changed["replace"] >= 10 and changed["drop_small_talk"] >= 30
    assert data["clean"]["validation"] == 20 and data["clean"]["test"] == 30
    assert data["raw"]["validation"] == 20 and data["raw"]["test"] == 30
    assert 6 not in {int(k) for k in data["turns"]["clean"]}  # closing thanks/np exchanges are gone
    assert 6 in {int(k) for k in data["turns"]["raw"]}


def test_same_test_split_and_no_leak_into_raw_training(run):
    out, summary = run
    splits = json.loads((out / "splits.json").read_text())
    assert splits["raw"]["test"] == splits["clean"]["test"]
    assert splits["raw"]["validation"] == splits["clean"]["validation"]
    held_out = set(splits["clean"]["test"]) | set(splits["clean"]["validation"])
    assert not held_out & set(splits["raw"]["train"])
    assert not held_out & set(splits["clean"]["train"])
    # re-posts of a held-out dialogue are excluded from raw training too
    assert summary["data"]["raw_train_excluded"]["reposts_of_held_out"] >= 1
    assert not set(splits["raw_train_excluded_reposts"]) & set(splits["raw"]["train"])
    # and no raw training conversation is a near copy of a test conversation
    raw = datasets.load_from_disk(str(out / "datasets" / "raw"))
    clean = datasets.load_from_disk(str(out / "datasets" / "clean"))
    check = datasets.DatasetDict(train=raw["train"], test=clean["test"])
    assert find_leakage(check, threshold=0.9, column="messages").pairs == []


def test_dataset_reports(run):
    from domainft import DatasetReport

    out, summary = run
    raw = DatasetReport.load(out / "data_report" / "raw")
    clean = DatasetReport.load(out / "data_report" / "clean")
    assert raw.duplicates["within"]["all"]["duplicate_rows"] >= 10
    assert sum(v["duplicate_rows"] for v in clean.duplicates["within"].values()) == 0
    assert {"lengths_chars", "lengths_tokens", "time_trend", "sentiment"} <= set(clean.images)
    assert clean.time_trend["frequency"] == "month" and len(clean.time_trend["periods"]) == 24
    assert 4 <= len(clean.topics["topics"]) <= 8
    trend = summary["data_report"]["time_trend"]
    assert trend["second_half"] > trend["first_half"]
    for chart in ("turns_per_dialogue", "topics", "validation_loss", "bleu_precisions"):
        assert (out / "charts" / f"{chart}.png").stat().st_size > 1000, chart


def test_tone_of_the_data(run):
    """The sentiment section scores every user and helper turn; the rudest planted answer tops the list."""
    from domainft import DatasetReport

    out, summary = run
    raw = DatasetReport.load(out / "data_report" / "raw")
    section = raw.sentiment
    assert set(section["overall"]) == {"user", "assistant"}
    assert section["skipped_columns"] == ["prompt", "response"]  # derived from messages: not counted twice
    tone = summary["data_report"]["sentiment"]["raw"]
    lowest = tone["most_negative_assistant"]
    assert lowest[0]["text"].startswith("Ugh, this is a stupid question.")
    assert [e["compound"] for e in lowest] == sorted(e["compound"] for e in lowest)
    assert tone["per_role"]["assistant"]["strong_negative"] >= 1
    page = (out / "data_report" / "raw" / "report.html").read_text()
    assert "Sentiment and tone (vader)" in page and "stupid question" in page


def test_layer_diagnostics_per_run(run):
    from domainft import EvaluationReport, LayerReport

    out, summary = run
    diagnostics = summary["diagnostics"]
    assert list(diagnostics) == ["raw", "clean", "clean_early_stop"]
    for name, d in diagnostics.items():
        report = LayerReport.load(out / "runs" / name / "diagnostics")
        assert report.systems == ["base", "tuned"] and report.meta["adapter"].endswith("adapter")
        assert d["adapted"] == report.summary["n_adapted"] > 0
        assert d["mean_alpha"]["tuned"] != d["mean_alpha"]["base"]
        assert all(r["relative_change"] > 0 for r in report.rows if r["adapted"])
    links = EvaluationReport.load(out / "eval").meta["links"]
    assert set(links) == {f"layer_report_{n}" for n in diagnostics}
    assert links["layer_report_raw"]["href"] == "../runs/raw/diagnostics/layer_report.html"
    assert "Layer diagnostics" in (out / "summary.md").read_text()


def test_masking_example(run):
    out, summary = run
    example = json.loads((out / "masking_example.json").read_text())
    assert example["assistant_turns"] >= 2
    assert 0 < example["learned_tokens_last_turn_only"] < example["learned_tokens"] < example["tokens"]
    segments = example["segments"]
    assert not segments[0]["learned"]  # the first user turn is masked
    learned_runs = [s for s in segments if s["learned"]]
    assert len(learned_runs) == example["assistant_turns"]  # one learned span per helper turn
    assert sum(s["tokens"] for s in learned_runs) == example["learned_tokens"]
    assert summary["masking"]["learned_tokens"] == example["learned_tokens"]


def test_three_runs(run):
    out, summary = run
    runs = summary["runs"]
    assert list(runs) == ["raw", "clean", "clean_early_stop"]
    for name, r in runs.items():
        assert (out / "runs" / name / "adapter" / "adapter_config.json").is_file()
        assert (out / "runs" / name / "manifest.json").is_file()
        assert 0 < r["steps"] <= 8
        assert r["eval_loss"] < r["initial_eval_loss"]
    assert runs["raw"]["train_rows"] != runs["clean"]["train_rows"]
    assert runs["clean"]["train_rows"] == runs["clean_early_stop"]["train_rows"]
    manifest = json.loads((out / "runs" / "clean_early_stop" / "manifest.json").read_text())
    assert manifest["training"]["early_stopping_patience"] is not None
    assert (
        json.loads((out / "runs" / "clean" / "manifest.json").read_text())["training"][
            "early_stopping_patience"
        ]
        is None
    )
    assert (
        manifest["training"]["seed"]
        == json.loads((out / "runs" / "raw" / "manifest.json").read_text())["training"]["seed"]
    )


def test_evaluation_table(run):
    from domainft import EvaluationReport

    out, summary = run
    report = EvaluationReport.load(out / "eval")
    assert report.system_names == ["base", "raw", "clean", "clean_early_stop"]
    n = summary["evaluation"]["n_examples"]
    assert n == 6 and len(report.samples) == n
    for sample in report.samples:  # the last helper turn of a test dialogue, answered after its history
        assert sample.reference and set(sample.predictions) == set(report.system_names)
    table = summary["evaluation"]["table"]
    assert [row["system"] for row in table] == report.system_names
    for row in table:
        assert 0 <= row["bleu"]["value"] <= 100
        assert len(row["bleu_precisions"]) == 4 and all(0 <= p <= 100 for p in row["bleu_precisions"])
        for key in ("rouge1", "rouge2", "rougeL"):
            v = row[key]
            assert 0 <= v["ci_low"] <= v["value"] <= v["ci_high"] <= 1
    tuned = [row for row in table if row["system"] != "base"]
    base = table[0]
    assert max(row["rougeL"]["value"] for row in tuned) > base["rougeL"]["value"]
    vs_raw = EvaluationReport.load(out / "eval_vs_raw")
    assert vs_raw.system_names == ["raw", "clean", "clean_early_stop"]
    assert {c.a for c in vs_raw.comparisons} == {"raw"}
    md = (out / "summary.md").read_text()
    assert "| clean_early_stop |" in md and "4-gram" in md


def test_recipe_validates():
    from domainft import Recipe

    recipe = Recipe.from_yaml(EXAMPLE / "recipe.yaml")
    assert recipe.data.format == "dialogue" and recipe.training.assistant_turns == "all"
    assert recipe.training.early_stopping_patience
