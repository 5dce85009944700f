"""EvaluationReport: assembly from metric outputs, the saved formats, exact round trips, pairwise
judgments, regressions, the Markdown summary and the charts (the HTML page: test_html.py)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from domainft.errors import DataError, DataFileNotFoundError
from domainft.evaluation.judges.pairwise import PairwiseExample, PairwiseResult
from domainft.evaluation.metrics import MetricOutput, get_metric
from domainft.evaluation.plots import metric_panels, plot_metric_panels
from domainft.evaluation.report import (
    Comparison,
    EvaluationReport,
    MetricValue,
    SampleRecord,
    lower_is_better,
    metric_scale,
)
from domainft.evaluation.stats import StatisticsConfig, holm

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _outputs(rouge1: list[float], bleu: list[float]) -> dict[str, MetricOutput]:
    return {
        "rouge": MetricOutput({"rouge1": sum(rouge1) / len(rouge1)}, {"rouge1": rouge1}),
        "bleu": MetricOutput(
            {"bleu": 10 * sum(bleu) / len(bleu)}, {"bleu": bleu}, {"bp": 1.0, "precisions": [1, 2]}
        ),
    }


@pytest.fixture
def report() -> EvaluationReport:
    return EvaluationReport.from_outputs(
        {
            "base": _outputs([0.25, 0.5, 0.75], [1.0, 2.0, 3.0]),
            "tuned": _outputs([0.5, 0.5, 1.0], [4.0, 5.0, 6.0]),
        },
        ids=["q1", "q2", 7],
        prompts=["What is <b>?", "Città?", "x"],
        references=["ref & one", "Hồ Chí Minh", "z"],
        predictions={"base": ["p1", "p2", "p3"], "tuned": ["t1", "t2", "t3"]},
        meta={"model": "tiny", "decoding": {"max_new_tokens": 32, "stop": ("\n",)}, "seed": 0},
    )


# ---------------------------------------------------------------- assembly
def test_from_outputs_flattens_metrics(report: EvaluationReport) -> None:
    assert report.system_names == ["base", "tuned"]
    assert report.metric_names == ["rouge1", "bleu"]
    rouge1 = report.systems["base"]["rouge1"]
    assert (rouge1.value, rouge1.n) == (0.5, 3)
    assert 0.25 <= rouge1.ci_low < 0.5 < rouge1.ci_high <= 0.75  # bootstrap of the mean of 3 scores
    # "bleu" here is 10 x the mean of its per-example scores: not their mean, so no honest interval
    assert report.systems["tuned"]["bleu"] == MetricValue(50.0, n=3)
    assert report.details == {
        "base": {"bleu": {"bp": 1.0, "precisions": [1, 2]}},
        "tuned": report.details["tuned"],
    }
    assert report.meta["decoding"]["stop"] == ["\n"]  # made JSON-native


def test_from_outputs_samples(report: EvaluationReport) -> None:
    assert [s.id for s in report.samples] == ["q1", "q2", 7]
    first = report.samples[0]
    assert first == SampleRecord(
        "q1",
        "What is <b>?",
        "ref & one",
        {"base": "p1", "tuned": "t1"},
        {"base": {"rouge1": 0.25, "bleu": 1.0}, "tuned": {"rouge1": 0.5, "bleu": 4.0}},
    )
    assert report.samples[2].scores["tuned"] == {"rouge1": 1.0, "bleu": 6.0}


def test_comparisons_are_first_system_against_each_later(report: EvaluationReport) -> None:
    assert [(c.a, c.b, c.metric) for c in report.comparisons] == [
        ("base", "tuned", "rouge1"),
        ("base", "tuned", "bleu"),
    ]
    assert report.comparisons[0].delta == pytest.approx(2 / 3 - 0.5)
    assert report.comparisons[1].delta == pytest.approx(30.0)
    rouge1, bleu = report.comparisons
    # differences 0.25, 0, 0.25: two non-zero ones, all 4 sign patterns enumerated -> p = 2/4
    assert rouge1.p_value == rouge1.p_value_raw == 0.5  # Holm over one tested key changes nothing
    assert rouge1.ci_low is not None and rouge1.ci_low <= rouge1.delta <= rouge1.ci_high
    assert (bleu.ci_low, bleu.ci_high, bleu.p_value, bleu.p_value_raw) == (None, None, None, None)
    assert report.meta["statistics"]["tests"] == {"rouge1": "permutation", "bleu": None}

    three = EvaluationReport.from_outputs(
        {"a": _outputs([0.1], [1.0]), "b": _outputs([0.3], [2.0]), "c": _outputs([0.6], [0.0])},
        references=["r"],
        predictions={"a": ["x"], "b": ["y"], "c": ["z"]},
    )
    assert [(c.a, c.b, c.metric) for c in three.comparisons] == [
        ("a", "b", "rouge1"),
        ("a", "b", "bleu"),
        ("a", "c", "rouge1"),
        ("a", "c", "bleu"),
    ]
    assert three.comparisons[3].delta == pytest.approx(-10.0)
    assert [s.id for s in three.samples] == [0]
    assert three.samples[0].prompt == ""


def test_single_system_has_no_comparisons() -> None:
    report = EvaluationReport.from_outputs(
        {"only": _outputs([1.0], [1.0])}, references=["r"], predictions={"only": ["p"]}
    )
    assert report.comparisons == []


def test_from_outputs_with_real_metrics() -> None:
    refs = ["the cat sat on the mat", "Hồ Chí Minh là thành phố lớn nhất"]
    preds = {"base": ["a dog", "Hà Nội"], "tuned": ["the cat sat on a mat", "Hồ Chí Minh là thành phố"]}
    rouge, bleu = get_metric("rouge"), get_metric("bleu")
    outputs = {s: {"rouge": rouge.compute(p, refs), "bleu": bleu.compute(p, refs)} for s, p in preds.items()}
    report = EvaluationReport.from_outputs(outputs, references=refs, predictions=preds)
    assert report.metric_names == ["rouge1", "rouge2", "rougeL", "rougeLsum", "bleu"]
    assert report.systems["tuned"]["rouge1"].value == outputs["tuned"]["rouge"].values["rouge1"]
    assert report.samples[1].scores["tuned"]["bleu"] == outputs["tuned"]["bleu"].per_sample["bleu"][1]
    assert all(c.delta > 0 for c in report.comparisons)
    assert set(report.details["tuned"]["bleu"]) == {"precisions", "bp", "sys_len", "ref_len", "signature"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"references": ["r1"]}, "system 'base' has 2 predictions but there are 1 references"),
        ({"ids": [1]}, "1 ids but 2 references"),
        ({"prompts": ["a", "b", "c"]}, "3 prompts but 2 references"),
        ({"predictions": {"base": ["a", "b"]}}, r"no predictions for system\(s\) \['tuned'\]"),
        ({"references": []}, "references is empty"),
    ],
)
def test_from_outputs_validates_lengths(kwargs: dict, match: str) -> None:
    args = {
        "references": ["r1", "r2"],
        "predictions": {"base": ["a", "b"], "tuned": ["c", "d"]},
        **kwargs,
    }
    outputs = {"base": _outputs([0.1, 0.2], [1.0, 2.0]), "tuned": _outputs([0.1, 0.2], [1.0, 2.0])}
    with pytest.raises(ValueError, match=match):
        EvaluationReport.from_outputs(outputs, **args)


def test_from_outputs_rejects_wrong_per_sample_length_and_key_collisions() -> None:
    bad = {"rouge": MetricOutput({"rouge1": 0.5}, {"rouge1": [0.5]})}
    with pytest.raises(ValueError, match=r"per_sample\['rouge1'\] has 1 scores for 2 examples"):
        EvaluationReport.from_outputs({"s": bad}, references=["a", "b"], predictions={"s": ["a", "b"]})
    clash = {"bleu": MetricOutput({"bleu": 1.0}), "hf_bleu": MetricOutput({"bleu": 2.0})}
    with pytest.raises(ValueError, match="metrics 'bleu' and 'hf_bleu' both report 'bleu'"):
        EvaluationReport.from_outputs({"s": clash}, references=["a"], predictions={"s": ["a"]})
    with pytest.raises(ValueError, match="empty"):
        EvaluationReport.from_outputs({}, references=["a"], predictions={})


# ---------------------------------------------------------------- non-finite values
def test_non_finite_values_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"MetricValue\.value is nan"):
        MetricValue(float("nan"))
    with pytest.raises(ValueError, match="ci_high is inf"):
        MetricValue(0.5, 0.4, math.inf)
    with pytest.raises(ValueError, match="p_value must lie in"):
        Comparison("a", "b", "m", 0.1, p_value=1.5)
    nan_out = {"rouge": MetricOutput({"rouge1": float("nan")})}
    with pytest.raises(ValueError, match=r"system 's', metric 'rouge'.*nan"):
        EvaluationReport.from_outputs({"s": nan_out}, references=["a"], predictions={"s": ["a"]})
    nan_sample = {"rouge": MetricOutput({"rouge1": 0.5}, {"rouge1": [math.inf]})}
    with pytest.raises(ValueError, match="sample 0: score 'rouge1' of system 's'"):
        EvaluationReport.from_outputs({"s": nan_sample}, references=["a"], predictions={"s": ["a"]})


def test_save_refuses_nan_and_writes_nothing(report: EvaluationReport, tmp_path: Path) -> None:
    report.systems["tuned"]["bleu"].value = float("nan")  # mutated after construction
    with pytest.raises(ValueError, match=r"system 'tuned', metric 'bleu'.*nan"):
        report.save(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    report.systems["tuned"]["bleu"].value = 1.0
    report.meta["loss"] = float("inf")
    with pytest.raises(ValueError, match=r"meta\.loss is inf"):
        report.save(tmp_path / "out")


# ---------------------------------------------------------------- views
def test_table(report: EvaluationReport) -> None:
    table = report.table
    assert list(table.index) == ["base", "tuned"] and table.index.name == "system"
    assert list(table.columns) == ["rouge1", "bleu"]
    assert all(str(d) == "float64" for d in table.dtypes)
    assert table.loc["tuned", "bleu"] == 50.0
    assert table.loc["base", "rouge1"] == 0.5


def test_table_with_a_metric_missing_for_one_system() -> None:
    report = EvaluationReport(
        systems={"a": {"x": MetricValue(1.0)}, "b": {"x": MetricValue(2.0), "y": MetricValue(3.0)}}
    )
    assert report.metric_names == ["x", "y"]
    assert math.isnan(report.table.loc["a", "y"])
    assert report.table.loc["b", "y"] == 3.0


def test_summary_and_repr(report: EvaluationReport) -> None:
    text = report.summary()
    assert "2 system(s), 3 example(s)" in text
    assert "rouge1" in text and "bleu" in text and "tuned" in text and "50.0000" in text
    base = report.systems["base"]["rouge1"]
    assert f"0.5000 [{base.ci_low:.4f}, {base.ci_high:.4f}]" in text
    assert "95% bootstrap confidence interval" in text
    assert "tuned - base bleu: +30.0000\n" in text + "\n"
    assert repr(report) == text
    report.comparisons[1].ci_low, report.comparisons[1].ci_high, report.comparisons[1].p_value = (
        10.0,
        50.0,
        0.01,
    )
    assert "+30.0000 [+10.0000, +50.0000] p=0.01" in report.summary()
    report.comparisons[1].p_value_raw = 0.005
    assert "p=0.01 (uncorrected 0.005)" in report.summary()
    notebook = report._repr_html_()
    assert notebook.startswith("<table") and "tuned − base" in notebook and "+30.00" in notebook


# ---------------------------------------------------------------- saving and loading
def test_save_writes_the_documented_formats(report: EvaluationReport, tmp_path: Path) -> None:
    out = report.save(tmp_path / "eval")
    assert out == tmp_path / "eval"
    assert {p.name for p in out.iterdir()} == {
        "metrics.json",
        "samples.jsonl",
        "metrics.png",
        "report.html",
        "details.json",
        "summary.md",
    }

    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics) == {"systems", "comparisons", "meta", "failures"}  # "pairwise" once judged
    assert metrics["systems"]["tuned"]["bleu"] == {"value": 50.0, "ci_low": None, "ci_high": None, "n": 3}
    rouge1 = report.systems["tuned"]["rouge1"]
    assert metrics["systems"]["tuned"]["rouge1"] == {
        "value": rouge1.value,
        "ci_low": rouge1.ci_low,
        "ci_high": rouge1.ci_high,
        "n": 3,
    }
    c = report.comparisons[0]
    assert metrics["comparisons"][0] == {
        "a": "base",
        "b": "tuned",
        "metric": "rouge1",
        "delta": c.delta,
        "ci_low": c.ci_low,
        "ci_high": c.ci_high,
        "p_value": 0.5,
        "p_value_raw": 0.5,
    }
    statistics = metrics["meta"].pop("statistics")
    assert metrics["meta"] == {"model": "tiny", "decoding": {"max_new_tokens": 32, "stop": ["\n"]}, "seed": 0}
    assert statistics == {
        **StatisticsConfig().to_dict(),
        "ci_method": "percentile bootstrap",
        "tests": {"rouge1": "permutation", "bleu": None},
    }
    assert metrics["failures"] == {}
    assert (out / "summary.md").read_text(encoding="utf-8") == report.to_markdown()

    lines = (out / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    row = json.loads(lines[1])
    assert row == {
        "id": "q2",
        "prompt": "Città?",
        "reference": "Hồ Chí Minh",
        "predictions": {"base": "p2", "tuned": "t2"},
        "scores": {"base": {"rouge1": 0.5, "bleu": 2.0}, "tuned": {"rouge1": 0.5, "bleu": 5.0}},
    }
    assert "Hồ Chí Minh" in lines[1]  # UTF-8, not \u escapes
    assert (out / "metrics.png").read_bytes().startswith(PNG_MAGIC)


def test_round_trip_is_exact(report: EvaluationReport, tmp_path: Path) -> None:
    report.comparisons[0].ci_low, report.comparisons[0].ci_high, report.comparisons[0].p_value = (
        -0.01,
        0.3,
        0.042,
    )
    report.systems["base"]["rouge1"] = MetricValue(0.1 + 0.2, 0.1, 0.7, 3)  # a float that needs all 17 digits
    loaded = EvaluationReport.load(report.save(tmp_path / "eval"))
    assert loaded.to_dict() == report.to_dict()
    assert loaded == EvaluationReport.from_dict(report.to_dict())
    assert loaded.systems["base"]["rouge1"].value == 0.1 + 0.2
    assert [s.id for s in loaded.samples] == ["q1", "q2", 7]
    assert loaded.details["base"]["bleu"]["precisions"] == [1, 2]
    # saving the loaded report again gives byte-identical data files
    again = loaded.save(tmp_path / "again")
    for name in ("metrics.json", "samples.jsonl", "details.json"):
        assert (again / name).read_bytes() == (tmp_path / "eval" / name).read_bytes()


def test_report_without_details_writes_no_details_file(tmp_path: Path) -> None:
    report = EvaluationReport.from_outputs(
        {"s": {"m": MetricOutput({"x": 1.0}, {"x": [1.0]})}}, references=["r"], predictions={"s": ["p"]}
    )
    out = report.save(tmp_path)
    assert not (out / "details.json").exists()
    assert EvaluationReport.load(out).to_dict() == report.to_dict()


def test_load_errors(tmp_path: Path, report: EvaluationReport) -> None:
    with pytest.raises(DataFileNotFoundError, match=r"metrics\.json does not exist"):
        EvaluationReport.load(tmp_path / "missing")
    out = report.save(tmp_path / "eval")
    (out / "samples.jsonl").write_text('{"id": 1}\n{broken\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"samples.jsonl:2:2: invalid JSON"):
        EvaluationReport.load(out)
    (out / "samples.jsonl").write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"not a valid evaluation report.*prompt"):
        EvaluationReport.load(out)
    (out / "samples.jsonl").unlink()
    assert EvaluationReport.load(out).samples == []  # samples are optional


# ---------------------------------------------------------------- plots
def test_metric_scales_and_panels(tmp_path: Path) -> None:
    assert lower_is_better("perplexity") and lower_is_better("eval_loss") and lower_is_better("ter")
    assert not lower_is_better("rougeL") and not lower_is_better("judge_score")
    assert metric_scale("chrf", [0.5]) == ("percent", (0.0, 100.0))  # never a 0-1 key, even below 1
    assert metric_scale("rouge1", [0.2, 0.9]) == ("unit", (0.0, 1.0))
    assert metric_scale("cosine", [-0.2, 0.9]) == ("other", None)
    assert metric_scale("perplexity", [12.0]) == ("perplexity", None)
    assert metric_scale("strict_score", [7.0], {"strict_score": (0, 5)}) == ("judge", (0.0, 5.0))
    systems = {
        "base": {
            "rouge1": MetricValue(0.3, 0.25, 0.35),
            "bleu": MetricValue(12.0, 9.0, 15.0),
            "judge_score": MetricValue(4.0, 3.5, 4.5),
            "perplexity": MetricValue(14.0),
            "pattern_all": 0.5,
            "chrf": 30.0,
            "margin": -2.5,
        },
        "tuned": {"rouge1": 0.45, "bleu": 20.0, "judge_score": 7.5, "perplexity": 6.0, "chrf": 41.0},
    }
    panels = metric_panels(systems)
    assert panels == [
        ("0-100 scale", ["bleu", "chrf"]),
        ("0-1 scale", ["rouge1", "pattern_all"]),
        ("judge grades (1-10)", ["judge_score"]),
        ("perplexity (lower is better)", ["perplexity"]),
        ("margin", ["margin"]),
    ]
    png = plot_metric_panels(systems, tmp_path / "panels.png", max_row_width=6.0)  # wraps into rows
    assert png.startswith(PNG_MAGIC) and (tmp_path / "panels.png").read_bytes() == png
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_metric_panels({"a": {}})


def test_report_module_imports_no_heavy_libraries() -> None:
    code = (
        "import sys, domainft.evaluation.report; "
        "print(sorted({'torch', 'transformers', 'pandas', 'matplotlib'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------- statistics, unscored examples, failures
def _judge_output(scores: list[float | None]) -> MetricOutput:
    """A judge-like metric: some examples could not be scored (None) and are listed as failures."""
    scored = [s for s in scores if s is not None]
    failures = [
        {"index": i, "reason": "reply has no grade", "raw": f"<reply {i}>"}
        for i, s in enumerate(scores)
        if s is None
    ]
    return MetricOutput({"grade": sum(scored) / len(scored)}, {"grade": scores}, failures=failures)


def test_unscored_examples_and_failures(tmp_path: Path) -> None:
    base = [0.2, None, 0.4, 0.3, 0.5, 0.1, None, 0.3]
    tuned = [0.6, 0.7, None, 0.8, 0.9, 0.5, 0.7, 0.6]
    ids = [f"q{i}" for i in range(8)]
    report = EvaluationReport.from_outputs(
        {"base": {"judge": _judge_output(base)}, "tuned": {"judge": _judge_output(tuned)}},
        ids=ids,
        references=["r"] * 8,
        predictions={"base": ["b"] * 8, "tuned": ["t"] * 8},
    )
    grade = report.systems["base"]["grade"]
    assert grade.n == 6 and grade.value == pytest.approx(1.8 / 6)  # over the scored examples only
    assert grade.ci_low is not None and 0.1 <= grade.ci_low < grade.value < grade.ci_high <= 0.5
    assert report.systems["tuned"]["grade"].n == 7
    assert report.samples[1].scores == {"base": {}, "tuned": {"grade": 0.7}}  # no key for the unscored one
    assert report.failures == {
        "base": {
            "judge": [
                {"id": "q1", "index": 1, "reason": "reply has no grade", "raw": "<reply 1>"},
                {"id": "q6", "index": 6, "reason": "reply has no grade", "raw": "<reply 6>"},
            ]
        },
        "tuned": {"judge": [{"id": "q2", "index": 2, "reason": "reply has no grade", "raw": "<reply 2>"}]},
    }
    (comparison,) = report.comparisons
    # paired on the 5 examples both systems scored, all better: exact p = 2 / 2**5 (two-sided)
    assert comparison.p_value == 2 / 32
    assert "failures: judge could not score 2 example(s) of base" in report.summary()

    out = report.save(tmp_path / "eval")
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["failures"]["base"]["judge"][0] == {
        "id": "q1",
        "index": 1,
        "reason": "reply has no grade",
        "raw": "<reply 1>",
    }
    row = json.loads((out / "samples.jsonl").read_text(encoding="utf-8").splitlines()[1])
    assert row["scores"] == {"base": {}, "tuned": {"grade": 0.7}}
    loaded = EvaluationReport.load(out)
    assert loaded == report and loaded.failures == report.failures


def test_failures_of_a_metric_without_per_sample_scores_reduce_n() -> None:
    out = MetricOutput({"f1": 0.5}, failures=[{"index": 2, "reason": "timeout"}])
    report = EvaluationReport.from_outputs(
        {"s": {"m": out}}, references=["a"] * 4, predictions={"s": ["a"] * 4}
    )
    assert report.systems["s"]["f1"] == MetricValue(0.5, None, None, 3)  # no per-example scores: no CI
    assert report.failures["s"]["m"] == [{"id": 2, "index": 2, "reason": "timeout", "raw": None}]
    bad = MetricOutput({"f1": 0.5}, failures=[{"index": 9, "reason": "timeout"}])
    with pytest.raises(ValueError, match="index 9 is not an example position"):
        EvaluationReport.from_outputs({"s": {"m": bad}}, references=["a"], predictions={"s": ["a"]})


def test_real_metrics_get_intervals_tests_and_holm(tmp_path: Path) -> None:
    refs = [
        "the hydraulic pump leaks oil at the shaft seal",
        "replace the worn bearing and check the alignment",
        "Hồ Chí Minh là thành phố đông dân nhất Việt Nam",
        "reset the controller and clear the fault code",
        "the sensor cable is broken near the connector",
        "tighten or replace the drive belt",
    ] * 5
    weak = ["check the pump", "replace it", "Hà Nội", "reset", "cable", "belt"] * 5
    strong = [r.replace("the ", "a ", 1) for r in refs]
    metrics = [get_metric("rouge", rouge_types=["rouge1", "rougeL"]), get_metric("bleu"), get_metric("chrf")]
    preds = {"base": weak, "tuned": strong}
    outputs = {s: {m.name: m.compute(p, refs) for m in metrics} for s, p in preds.items()}
    report = EvaluationReport.from_outputs(outputs, references=refs, predictions=preds)
    saved = json.loads((report.save(tmp_path) / "metrics.json").read_text(encoding="utf-8"))
    for system in ("base", "tuned"):
        for key in ("rouge1", "rougeL", "bleu", "chrf"):
            value = saved["systems"][system][key]
            assert value["ci_low"] is not None and value["ci_high"] is not None, (system, key)
            assert value["ci_low"] <= value["value"] <= value["ci_high"] and value["n"] == 30
    raw = [c.p_value_raw for c in report.comparisons]
    assert all(p is not None and p < 0.01 for p in raw)
    assert [c.p_value for c in report.comparisons] == holm(raw)
    assert report.meta["statistics"]["tests"] == {
        k: "permutation" for k in ("rouge1", "rougeL", "bleu", "chrf")
    }
    assert all(c.ci_low > 0 for c in report.comparisons)  # the improvement is clear on every key
    table = report.ci_table
    assert table.loc["tuned", ("bleu", "ci_low")] == report.systems["tuned"]["bleu"].ci_low
    assert table.loc["tuned", ("bleu", "n")] == 30 and list(table.columns.names) == ["metric", "statistic"]


def test_statistics_settings() -> None:
    outputs = {s: _outputs([0.1, 0.4, 0.3, 0.9], [1.0, 1.0, 1.0, 1.0]) for s in ("a", "b")}
    args = {"references": ["r"] * 4, "predictions": {"a": ["x"] * 4, "b": ["y"] * 4}}
    off = EvaluationReport.from_outputs(outputs, statistics={"resamples": 0, "test": "none"}, **args)
    assert off.systems["a"]["rouge1"].ci_low is None and off.comparisons[0].p_value is None
    assert off.meta["statistics"]["resamples"] == 0 and off.meta["statistics"]["ci_method"] is None
    first = EvaluationReport.from_outputs(
        outputs, statistics=StatisticsConfig(seed=1, confidence=0.8), **args
    )
    again = EvaluationReport.from_outputs(outputs, statistics={"seed": 1, "confidence": 0.8}, **args)
    assert first == again  # seeded: identical
    wide = EvaluationReport.from_outputs(outputs, statistics={"seed": 1, "confidence": 0.99}, **args)
    narrow, broad = first.systems["a"]["rouge1"], wide.systems["a"]["rouge1"]
    assert broad.ci_low <= narrow.ci_low and narrow.ci_high <= broad.ci_high
    assert first.comparisons[0].p_value == 1.0  # identical scores: nothing to test


def test_reports_without_new_keys_still_load(tmp_path: Path) -> None:
    old = {
        "systems": {"a": {"x": {"value": 1.0, "ci_low": None, "ci_high": None, "n": 2}}},
        "comparisons": [
            {"a": "a", "b": "b", "metric": "x", "delta": 0.5, "ci_low": None, "ci_high": None, "p_value": 0.2}
        ],
        "meta": {},
    }
    (tmp_path / "metrics.json").write_text(json.dumps(old), encoding="utf-8")
    loaded = EvaluationReport.load(tmp_path)
    assert loaded.comparisons[0].p_value_raw is None and loaded.failures == {}
    with pytest.raises(ValueError, match="p_value_raw must lie in"):
        Comparison("a", "b", "m", 0.1, p_value_raw=-0.1)


# ---------------------------------------------------------------- pairwise judgments
def _pairwise(names: tuple[str, str] = ("base", "tuned")) -> PairwiseResult:
    return PairwiseResult(
        names,
        [
            PairwiseExample(
                0, "b", first="b", second="b", rationale_first="2 is right", rationale_second="1"
            ),
            PairwiseExample(1, "tie", first="a", second="b"),  # a flip: a tie
            PairwiseExample(
                2,
                "failed",
                second="a",
                error="base first: no verdict",
                raw_first="<?>",
                failure_kinds=["parse"],
            ),
        ],
        judge="openai:judge",
        requests=6,
    )


def test_add_pairwise_saves_a_summary_and_the_full_result(report: EvaluationReport, tmp_path: Path) -> None:
    result = _pairwise()
    assert report.add_pairwise(result) == "tuned vs base"
    assert report.pairwise["tuned vs base"] == result.to_dict()
    assert "pairwise judge: tuned vs base: tuned wins 50.0%, ties 50.0%, base wins 0.0% of 2 judged" in (
        report.summary()
    )
    out = report.save(tmp_path / "eval")
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["pairwise"] == {
        "tuned vs base": {
            "a": "base",
            "b": "tuned",
            "judge": "openai:judge",
            "n": 3,
            "n_judged": 2,
            "win_rate": 0.5,
            "tie_rate": 0.5,
            "loss_rate": 0.0,
            "position_consistency": 0.5,
            "order_flips": 1,
            "parse_failures": 1,
            "call_failures": 0,
            "failures": 1,
        }
    }
    full = json.loads((out / "pairwise.json").read_text(encoding="utf-8"))
    assert PairwiseResult.from_dict(full["tuned vs base"]) == result
    loaded = EvaluationReport.load(out)
    assert loaded == report and loaded.to_dict() == report.to_dict()
    assert PairwiseResult.from_dict(loaded.pairwise["tuned vs base"]) == result
    # without pairwise.json the summary from metrics.json is still there
    (out / "pairwise.json").unlink()
    assert EvaluationReport.load(out).pairwise["tuned vs base"]["win_rate"] == 0.5
    # a report without pairwise judgments removes a stale pairwise.json
    report.pairwise.clear()
    (out / "pairwise.json").write_text("{}", encoding="utf-8")
    assert not (report.save(out) / "pairwise.json").exists()


def test_add_pairwise_checks_names_and_length(report: EvaluationReport) -> None:
    with pytest.raises(DataError, match="'other' is not a system of this report"):
        report.add_pairwise(_pairwise(("base", "other")))
    short = _pairwise()
    short.examples = short.examples[:2]
    with pytest.raises(DataError, match="covers 2 examples but the report has 3"):
        report.add_pairwise(short)
    with pytest.raises(DataError, match="not a pairwise result"):
        report.add_pairwise({"b": "tuned"})
    assert report.add_pairwise(_pairwise().to_dict()) == "tuned vs base"  # a saved dict works too


# ---------------------------------------------------------------- regressions
def _scored(per_sample: dict[str, list[float | None]]) -> dict[str, MetricOutput]:
    values = {
        k: sum(x for x in v if x is not None) / sum(x is not None for x in v) for k, v in per_sample.items()
    }
    return {"m": MetricOutput(values, per_sample)}


def test_regressions_find_planted_drops_only() -> None:
    base = {"rouge1": [0.5] * 6, "rougeL": [0.8, 0.5, 0.5, 0.5, 0.9, 0.5], "perplexity": [9.0] * 6}
    tuned = {
        "rouge1": [0.1] * 6,
        "rougeL": [0.2, 0.9, 0.47, 0.5, 0.4, None],
        "perplexity": [3, 3, 3, 3, 3, 12.0],
    }
    report = EvaluationReport.from_outputs(
        {"base": _scored(base), "mid": _scored(base), "tuned": _scored(tuned)},
        ids=[f"q{i}" for i in range(6)],
        references=["r"] * 6,
        predictions={s: ["x"] * 6 for s in ("base", "mid", "tuned")},
    )
    found = report.regressions()  # rougeL by default, last system against the first
    assert (found.metric, found.baseline, found.candidate, found.margin) == ("rougeL", "base", "tuned", 0.05)
    # q0 dropped 0.6, q4 0.5; q1 improved, q2 -0.03 is within the margin, q5 unscored by tuned
    assert [(r.id, round(r.drop, 6)) for r in found.items] == [("q0", 0.6), ("q4", 0.5)]
    assert (found.total, found.compared, found.lower_is_better) == (2, 5, False)
    assert [r.id for r in report.regressions(limit=1).items] == ["q0"]
    assert report.regressions(margin=0.55).total == 1
    assert report.regressions(margin=0.0).total == 3  # q2 counts once the margin is zero
    # lower is better: the perplexity regression is the one example that went up
    ppl = report.regressions("perplexity")
    assert ppl.lower_is_better and [(r.id, r.drop) for r in ppl.items] == [("q5", 3.0)]
    assert ppl.margin == pytest.approx(0.05 * (12.0 - 3.0))  # no known range: 5% of the observed one
    assert report.regressions("rougeL", baseline="tuned", candidate="base").items[0].id == "q1"
    with pytest.raises(
        ValueError, match=r"regression_metric='bleu' has no per-example scores.*rouge1, rougeL"
    ):
        report.regressions("bleu")
    with pytest.raises(ValueError, match="candidate='nope' is not a system"):
        report.regressions(candidate="nope")
    single = EvaluationReport.from_outputs(
        {"a": _scored({"x": [1.0]})}, references=["r"], predictions={"a": ["p"]}
    )
    with pytest.raises(ValueError, match="need two systems"):
        single.regressions()
    none = EvaluationReport.from_outputs(
        {s: {"m": MetricOutput({"x": 1.0})} for s in "ab"},
        references=["r"],
        predictions={"a": ["p"], "b": ["q"]},
    )
    assert none.regressions().metric is None and none.regressions().items == []


# ---------------------------------------------------------------- Markdown
def _cells(row: str) -> list[str]:
    """Cells of a Markdown table row, splitting on unescaped pipes only."""
    assert row.startswith("| ") and row.endswith(" |"), row
    return re.split(r"(?<!\\)\|", row[1:-1])


def test_markdown_summary(tmp_path: Path) -> None:
    n = 12
    base = {"rougeL": [0.2] * n, "perplexity": [10.0 + i % 3 for i in range(n)]}
    tuned = {"rougeL": [0.6] * (n - 1) + [None], "perplexity": [4.0 + i % 3 for i in range(n)]}
    outputs = {"base": _scored(base), "tuned | v2": _scored(tuned)}
    outputs["tuned | v2"]["m"].failures.append({"index": n - 1, "reason": "judge reply unparsable"})
    report = EvaluationReport.from_outputs(
        outputs,
        references=["r"] * n,
        predictions={"base": ["x"] * n, "tuned | v2": ["y"] * n},
        meta={"model": "tiny", "split": "test"},
    )
    report.add_pairwise(
        PairwiseResult(
            ("base", "tuned | v2"), [PairwiseExample(i, "b", "b", "b") for i in range(n)], judge="j"
        )
    )
    text = report.to_markdown()
    lines = text.splitlines()
    table = [line for line in lines if line.startswith("|")]
    header = table[0]
    assert _cells(header) == [" metric ", " base ", " tuned \\| v2 ", " tuned \\| v2 − base "]
    counts = {len(_cells(row)) for row in table[:4] if not row.startswith("|-")}
    assert counts == {4}
    assert table[1] == "|---|---:|---:|---:|"
    rouge = next(row for row in table if row.startswith("| rougeL |"))
    assert "0.2000 [0.2000, 0.2000]" in rouge and "0.6000 [0.6000, 0.6000] (n=11)" in rouge
    assert "**+0.4000 [+0.4000, +0.4000], p=" in rouge and rouge.endswith("▲ |")
    ppl = next(row for row in table if row.startswith("| perplexity ↓ |"))
    assert "**-6.0000" in ppl and ppl.endswith("▲ |")  # lower perplexity: better
    pairwise = [row for row in table if "vs base" in row]
    assert len(pairwise) == 1 and "100.0% (tuned \\| v2)" in pairwise[0]
    assert len(_cells(pairwise[0])) == len(_cells(table[table.index(pairwise[0]) - 2])) == 8
    assert "12 examples" in text and "model: tiny" in text
    assert "**Failures:** m could not score 1 example(s) of tuned \\| v2." in text
    assert "Holm-adjusted" in text and "95% bootstrap confidence interval" in text
    assert (report.save(tmp_path) / "summary.md").read_text(encoding="utf-8") == text


def test_markdown_without_comparisons() -> None:
    report = EvaluationReport(systems={"only": {"bleu": MetricValue(31.25, 28.5, 34.0, 40)}})
    text = report.to_markdown(title="My run")
    assert text.startswith("## My run\n")
    assert "| bleu | 31.25 [28.50, 34.00] |" in text and "p=" not in text
    assert "**Failures:** none." in text
    assert "No metrics." in EvaluationReport(systems={}).to_markdown()
