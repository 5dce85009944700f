"""report.html: a self-contained page with CIs, charts, the judge, failures, regressions and examples."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from domainft.data.teachers import Teacher
from domainft.evaluation.html import comparison_direction, render_html
from domainft.evaluation.judges import get_judge
from domainft.evaluation.judges.pairwise import PairwiseResult, pairwise_compare
from domainft.evaluation.metrics import MetricOutput
from domainft.evaluation.report import Comparison, EvaluationReport, MetricValue

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EVIL = "<script>alert('x')</script>"


def _section(page: str, anchor: str) -> str:
    """The HTML of one section, from its heading to the next one."""
    start = page.index(f"<h2 id='{anchor}'>")
    end = page.find("<h2 id=", start + 1)
    return page[start : end if end != -1 else len(page)]


def _mean_output(key: str, scores: list[float | None], **kwargs: Any) -> MetricOutput:
    scored = [s for s in scores if s is not None]
    return MetricOutput({key: sum(scored) / len(scored)}, {key: scores}, **kwargs)


class _PreferTheSeal(Teacher):
    """A pairwise judge in code: prefers the answer that mentions the seal; answers "1" to prompts with
    FLIP in them (pure position bias, a flip) and garbage to prompts with BROKEN in them."""

    backend = "prefer_seal"

    def settings(self) -> dict[str, Any]:
        return {}

    def _complete(
        self, batch: list[list[Mapping[str, Any]]], contexts: list[dict[str, Any]], emit: Any
    ) -> None:
        for i, messages in enumerate(batch):
            text = messages[-1]["content"]
            first = text.split("[Assistant 1]\n", 1)[1].split("\n[End of Assistant 1]", 1)[0]
            second = text.split("[Assistant 2]\n", 1)[1].split("\n[End of Assistant 2]", 1)[0]
            if "BROKEN" in text:
                emit(i, f"I refuse {EVIL}")
            elif "FLIP" in text:
                emit(i, '{"winner": "1", "rationale": "the first one <b>reads</b> better"}')
            else:
                winner = "1" if "seal" in first else "2" if "seal" in second else "tie"
                emit(i, f'{{"winner": "{winner}", "rationale": "mentions the seal {EVIL}"}}')


@pytest.fixture
def report() -> EvaluationReport:
    """Base vs tuned on 60 examples: tuned is better on ROUGE-L except at q003 (a planted regression),
    has a far lower perplexity, an LLM-judge grade with one unparsable reply, and a pairwise judgment."""
    n = 60
    ids = [f"q{i:03d}" for i in range(n)]
    prompts = [
        f"Why does pump {i} leak? {'FLIP' if i == 1 else 'BROKEN' if i == 2 else ''}" for i in range(n)
    ]
    base_answers = [f"check the pump {i}" for i in range(n)]
    tuned_answers = [f"replace the worn seal {i}" for i in range(n)]
    tuned_answers[3] = EVIL
    base_rouge = [0.3] * n
    tuned_rouge = [0.7] * n
    base_rouge[3], tuned_rouge[3] = 0.9, 0.1  # the planted regression
    base_rouge[4], tuned_rouge[4] = 0.2, 0.95  # a large improvement: never a regression
    grades: list[float | None] = [7.0] * n
    grades[5] = None
    outputs = {
        "base": {
            "rouge": _mean_output("rougeL", base_rouge),
            "ppl": _mean_output("perplexity", [20.0 + i % 7 for i in range(n)]),
            "judge": _mean_output("judge_score", [3.0] * n, details={"judge": "j", "scale": [1, 10]}),
        },
        "tuned": {
            "rouge": _mean_output("rougeL", tuned_rouge),
            "ppl": _mean_output("perplexity", [5.0 + i % 7 for i in range(n)]),
            "judge": _mean_output(
                "judge_score",
                grades,
                details={
                    "judge": f"openai:{EVIL}",
                    "scale": [1, 10],
                    "n_scored": n - 1,
                    "parse_failures": 1,
                    "call_failures": 0,
                    "rationales": [f"rationale {i} {EVIL}" if i != 5 else None for i in range(n)],
                },
                failures=[{"index": 5, "reason": "unparsable judge reply: no score", "raw": "x" * 1000}],
            ),
        },
    }
    report = EvaluationReport.from_outputs(
        outputs,
        ids=ids,
        prompts=prompts,
        references=[f"replace the worn seal {i} & <check>" for i in range(n)],
        predictions={"base": base_answers, "tuned": tuned_answers},
        meta={
            "model": "runs/demo/tiny",
            "adapter": "runs/demo/adapter",
            "split": "test",
            "n_examples": n,
            "decoding": {"max_new_tokens": 64, "do_sample": False},
            "template": "chat",
            "judge": {"backend": "openai", "criteria": "machinery_troubleshooting"},
            "generation_failures": {"tuned": [{"index": 9, "reason": "HTTP 500 after 3 retries"}]},
            "cache": {"hits": 120, "misses": 0},
            "note": EVIL,
        },
    )
    judge = get_judge(_PreferTheSeal(), progress=False)
    report.add_pairwise(
        pairwise_compare(judge, prompts, base_answers, tuned_answers, names=("base", "tuned"))
    )
    return report


def test_page_is_self_contained_and_escaped(report: EvaluationReport, tmp_path: Path) -> None:
    page = (report.save(tmp_path) / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page.lower() and "<check>" not in page and "<b>reads</b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page  # answers, rationales, meta ...
    assert "replace the worn seal 0 &amp; &lt;check&gt;" in page
    assert (
        "http://" not in page and "https://" not in page and "<link" not in page and "src='http" not in page
    )
    srcs = re.findall(r"src='([^']*)'", page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert base64.b64decode(srcs[0].split(",", 1)[1]).startswith(PNG_MAGIC)  # the error-bar chart
    for anchor in ("run", "summary", "charts", "judge", "failures", "regressions", "examples"):
        assert f"<h2 id='{anchor}'>" in page and f"href='#{anchor}'" in page


def test_run_settings(report: EvaluationReport) -> None:
    run = _section(report.to_html(chart_png=b""), "run")
    for text in (
        "runs/demo/tiny",
        "runs/demo/adapter",
        "max_new_tokens: 64, do_sample: false",
        "95% percentile bootstrap intervals, 1000 resamples",
        "paired permutation test (2000 permutations), Holm correction across metrics",
        "criteria: machinery_troubleshooting",
        "judges used: j, openai:&lt;script&gt;",
        "tuned: 1 (e.g. HTTP 500 after 3 retries)",
        "hits: 120, misses: 0",
        "<th>note</th>",
    ):
        assert text in run, text


def test_summary_table_has_cis_deltas_and_p_values(report: EvaluationReport) -> None:
    summary = _section(report.to_html(chart_png=b""), "summary")
    rouge = report.systems["tuned"]["rougeL"]
    assert f"{rouge.value:.4f} <span class='ci'>[{rouge.ci_low:.4f}, {rouge.ci_high:.4f}]</span>" in summary
    assert "<th>tuned − base</th>" in summary
    c = next(c for c in report.comparisons if c.metric == "rougeL")
    assert f"{c.delta:+.4f} <span class='ci'>[{c.ci_low:+.4f}, {c.ci_high:+.4f}]</span>" in summary
    assert f"p = {c.p_value:.3g} *" in summary
    assert f"unadjusted p = {c.p_value_raw:.4g}" in summary  # in the tooltip
    judge = report.systems["tuned"]["judge_score"]
    assert judge.n == 59 and "n=59</span>" in summary  # fewer examples scored than shown
    assert "Holm-adjusted" in summary


def test_colours_mind_lower_is_better(report: EvaluationReport) -> None:
    summary = _section(report.to_html(chart_png=b""), "summary")
    rows = {
        m: row
        for m, row in re.findall(r"<tr><th>(\w+)[^<]*(?:<span[^>]*>[^<]*</span>)?</th>(.*?)</tr>", summary)
    }
    # tuned has a lower perplexity (negative delta): better, green
    assert "class='num sig better'" in rows["perplexity"] and "-15.00" in rows["perplexity"]
    assert "lower is better" in summary
    assert "class='num sig better'" in rows["rougeL"] and "class='num sig better'" in rows["judge_score"]
    worse = EvaluationReport(
        systems={"a": {"rougeL": MetricValue(0.5)}, "b": {"rougeL": MetricValue(0.4)}},
        comparisons=[Comparison("a", "b", "rougeL", -0.1, -0.15, -0.05, 0.001, 0.0005)],
    )
    assert "class='num sig worse'" in worse.to_html(chart_png=b"")
    assert comparison_direction(Comparison("a", "b", "perplexity", 2.0, p_value=0.01)) == "worse"
    assert comparison_direction(Comparison("a", "b", "rougeL", 0.2, p_value=0.2)) is None  # not significant
    assert comparison_direction(Comparison("a", "b", "rougeL", 0.2)) is None  # not tested


def test_judge_section(report: EvaluationReport) -> None:
    result = PairwiseResult.from_dict(report.pairwise["tuned vs base"])
    # 57 clear wins for tuned, q001 flips with the order (a tie), q002 unparsable, q003 a tie
    assert (result.wins, result.ties, result.n_failed, result.order_flips) == (57, 2, 1, 1)
    judge = _section(report.to_html(chart_png=b""), "judge")
    assert "<h3>tuned vs base" in judge
    win = f"{100 * result.win_rate:.1f}%"
    assert (
        f"<span class='win' style='width:{100 * result.win_rate:.2f}%'" in judge
        and f"tuned better {win}" in judge
    )
    assert f"<td class='num'>{win} (57)</td>" in judge
    assert f"<td class='num'>{100 * result.position_consistency:.1f}%</td>" in judge
    assert "<th>order flips</th>" in judge and "<th>unparsable replies</th>" in judge
    assert "Single-answer grades" in judge and "openai:&lt;script&gt;" in judge
    assert "<td class='num'>7.0000 [7.0000, 7.0000]</td>" in judge  # the grade's mean and CI


def test_failures_are_listed_with_raw_text_truncated(report: EvaluationReport) -> None:
    failures = _section(report.to_html(chart_png=b""), "failures")
    assert "<td>tuned</td><td>judge</td><td>q005</td><td>unparsable judge reply: no score</td>" in failures
    assert "x" * 300 + "… (700 more characters)" in failures and "x" * 301 not in failures
    assert "<td>tuned</td><td>generation</td><td>q009</td><td>HTTP 500 after 3 retries</td>" in failures
    assert "<td>tuned vs base</td><td>pairwise judge</td><td>q002</td>" in failures
    assert "base first: I refuse &lt;script&gt;" in failures  # the raw reply, escaped
    clean = EvaluationReport(systems={"a": {"x": MetricValue(1.0)}})
    assert "No failures" in _section(clean.to_html(chart_png=b""), "failures")  # the section is never hidden


def test_regressions_list_the_planted_one_and_not_improvements(report: EvaluationReport) -> None:
    regressions = _section(report.to_html(chart_png=b""), "regressions")
    assert "on <b>rougeL</b> by more than 0.0500: 1 of the 60 examples" in regressions
    assert "<a href='#ex-3'>q003</a>" in regressions
    assert "<td class='num'>0.9000</td><td class='num'>0.1000</td><td class='num'>0.8000</td>" in regressions
    assert "q004" not in regressions and "q000" not in regressions
    assert "&lt;script&gt;" in regressions  # the tuned answer, escaped
    by_ppl = _section(report.to_html(chart_png=b"", regression_metric="perplexity"), "regressions")
    assert "scored higher than <b>base</b> on <b>perplexity</b>" in by_ppl and ": 0 of the 60" in by_ppl
    with pytest.raises(ValueError, match="regression_metric='bleu'"):
        report.to_html(chart_png=b"", regression_metric="bleu")


def test_side_by_side_examples(report: EvaluationReport) -> None:
    examples = _section(report.to_html(chart_png=b""), "examples")
    assert "First 50 of 60 examples." in examples
    assert "id='ex-49'" in examples and "id='ex-50'" not in examples
    first = examples[examples.index("id='ex-0'") : examples.index("id='ex-1'")]
    assert "Why does pump 0 leak?" in first and "replace the worn seal 0 &amp; &lt;check&gt;" in first
    assert "check the pump 0" in first and "replace the worn seal 0" in first
    assert "rougeL 0.7000 · perplexity 5.0000 · judge_score 7</div>" in first  # grades as integers
    assert "judge rationale (grade 7)" in first and "rationale 0 &lt;script&gt;" in first
    assert "<b>tuned vs base:</b> tuned better" in first
    flip = examples[examples.index("id='ex-1'") : examples.index("id='ex-2'")]
    assert "tie (the verdict changed when the answers swapped places)" in flip
    assert "the first one &lt;b&gt;reads&lt;/b&gt; better" in flip
    assert "judge failed: base first: unparsable judge reply" in examples
    assert "q003</code> · <b>regression</b>" in examples
    few = report.to_html(2, chart_png=b"")
    assert "First 2 of 60 examples." in few
    assert "<a href='#ex-3'>" not in few and "<td>q003</td>" in few  # no link to an example not shown


def test_loaded_report_renders_the_same_page(report: EvaluationReport, tmp_path: Path) -> None:
    loaded = EvaluationReport.load(report.save(tmp_path))
    assert loaded.to_html(chart_png=b"") == report.to_html(chart_png=b"")
    assert render_html(loaded, chart_png=b"", max_samples=0).count("class='example'") == 0


def test_minimal_reports() -> None:
    only = EvaluationReport(systems={"only": {"x": MetricValue(12.5, 10.0, 15.0, 4)}})
    page = only.to_html()
    assert "12.50 <span class='ci'>[10.00, 15.00]</span>" in page and "data:image/png;base64," in page
    assert "<h2 id='regressions'>" not in page and "<h2 id='examples'>" not in page
    assert "<h2 id='judge'>" not in page and "−" not in _section(page, "summary")  # no comparison column
    assert "No metrics" in EvaluationReport(systems={}).to_html()
    no_keys = EvaluationReport.from_outputs(
        {s: {"m": MetricOutput({"f1": 0.5})} for s in ("a", "b")},
        references=["r"],
        predictions={"a": ["p"], "b": ["q"]},
    )
    assert "No metric has per-example scores" in _section(no_keys.to_html(chart_png=b""), "regressions")
