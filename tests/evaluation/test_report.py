"""EvaluationReport: assembly from metric outputs, the saved formats, exact round trips, rendering."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from domainft.errors import DataError, DataFileNotFoundError
from domainft.evaluation.metrics import MetricOutput, get_metric
from domainft.evaluation.plots import plot_metrics
from domainft.evaluation.report import Comparison, EvaluationReport, MetricValue, SampleRecord

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
    assert report.systems["base"]["rouge1"] == MetricValue(0.5, None, None, 3)
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
    assert all(c.ci_low is None and c.ci_high is None and c.p_value is None for c in report.comparisons)

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
    assert "tuned - base bleu: +30.0000" in text
    assert repr(report) == text
    report.comparisons[1].ci_low, report.comparisons[1].ci_high, report.comparisons[1].p_value = (
        10.0,
        50.0,
        0.01,
    )
    assert "+30.0000 [+10.0000, +50.0000] p=0.01" in report.summary()
    assert "<table>" in report._repr_html_()


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
    }

    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics) == {"systems", "comparisons", "meta"}
    assert metrics["systems"]["tuned"]["bleu"] == {"value": 50.0, "ci_low": None, "ci_high": None, "n": 3}
    assert metrics["comparisons"][0] == {
        "a": "base",
        "b": "tuned",
        "metric": "rouge1",
        "delta": report.comparisons[0].delta,
        "ci_low": None,
        "ci_high": None,
        "p_value": None,
    }
    assert metrics["meta"] == {"model": "tiny", "decoding": {"max_new_tokens": 32, "stop": ["\n"]}, "seed": 0}

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


# ---------------------------------------------------------------- HTML
def test_html_is_escaped_and_self_contained(tmp_path: Path) -> None:
    evil = "<script>alert('x')</script>"
    n = 60
    report = EvaluationReport.from_outputs(
        {
            "base": {"m": MetricOutput({"score": 0.5}, {"score": [0.5] * n})},
            "tuned <i>": {"m": MetricOutput({"score": 0.75}, {"score": [0.75] * n})},
        },
        ids=[f"ex-{i:03d}" for i in range(n)],
        prompts=[f"{evil} prompt {i}" for i in range(n)],
        references=["ref & <ref>"] * n,
        predictions={"base": [evil] * n, "tuned <i>": ['"quoted" & Hồ'] * n},
        meta={"title": f"Report {evil}", "note": "<img src=x onerror=alert(1)>"},
    )
    page = (report.save(tmp_path) / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<i>" not in page and "<img src=x" not in page and "<ref>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "tuned &lt;i&gt;" in page and "&quot;quoted&quot; &amp; Hồ" in page
    assert "<title>Report &lt;script&gt;" in page
    assert "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert "ex-049" in page and "ex-050" not in page  # first 50 samples only
    assert "first 50 of 60" in page
    assert "Comparisons" in page and "+0.2500" in page


def test_html_without_comparisons_or_samples() -> None:
    report = EvaluationReport(systems={"only": {"x": MetricValue(12.5, 10.0, 15.0, 4)}})
    page = report.to_html()
    assert "Comparisons" not in page and "Samples" not in page
    assert "12.50" in page and "[10.00, 15.00]" in page
    assert "No metrics" in EvaluationReport(systems={}).to_html()


# ---------------------------------------------------------------- plots
def test_plot_metrics(tmp_path: Path) -> None:
    systems = {
        "base": {"rouge1": MetricValue(0.3, 0.25, 0.35), "bleu": MetricValue(12.0)},
        "tuned": {"rouge1": 0.45},  # plain floats and missing metrics are fine
        "neg": {"rouge1": -0.1, "bleu": 0.0},
    }
    png = plot_metrics(systems, tmp_path / "chart.png", title="t")
    assert png.startswith(PNG_MAGIC)
    assert (tmp_path / "chart.png").read_bytes() == png
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_metrics({})


def test_report_module_imports_no_heavy_libraries() -> None:
    code = (
        "import sys, domainft.evaluation.report; "
        "print(sorted({'torch', 'transformers', 'pandas', 'matplotlib'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
