"""``summary.md``: an :class:`~domainft.evaluation.report.EvaluationReport` as Markdown for a README or a PR.

One table of every metric key with each system's value and confidence interval and each comparison's
delta (with its interval and adjusted p-value; significant ones in bold), then the pairwise judge's
win rates, the number of examples and the failures. Cell text is escaped so that every row of a
table has the same number of cells.

Examples:
    >>> from domainft.evaluation.metrics import MetricOutput
    >>> from domainft.evaluation.report import EvaluationReport
    >>> out = lambda s: {"m": MetricOutput({"rougeL": sum(s) / len(s)}, {"rougeL": s})}
    >>> report = EvaluationReport.from_outputs(
    ...     {"base": out([0.2, 0.4]), "tuned": out([0.6, 0.8])},
    ...     references=["r1", "r2"], predictions={"base": ["a", "b"], "tuned": ["c", "d"]})
    >>> print(report_markdown(report).splitlines()[4])
    | metric | base | tuned | tuned − base |
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from domainft.evaluation.report import SIGNIFICANCE_LEVEL, lower_is_better

if TYPE_CHECKING:  # pragma: no cover
    from domainft.evaluation.report import Comparison, EvaluationReport, MetricValue


def md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, line breaks and HTML brackets neutralised.

    Examples:
        >>> md_cell("a | b\\n<c>")
        'a \\\\| b &lt;c&gt;'
    """
    text = " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _table(header: list[str], rows: list[list[str]], align: list[str]) -> list[str]:
    lines = ["| " + " | ".join(md_cell(h) for h in header) + " |", "|" + "|".join(align) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _fmt(x: float | None, signed: bool = False, like: float | None = None) -> str:
    if x is None:
        return ""
    sign = "+" if signed else ""
    return f"{x:{sign}.4f}" if abs(x if like is None else like) < 10 else f"{x:{sign}.2f}"


def _with_ci(value: float, low: float | None, high: float | None, signed: bool = False) -> str:
    like = max(abs(x) for x in (value, low, high) if x is not None)
    text = _fmt(value, signed, like)
    if low is not None and high is not None:
        text += f" [{_fmt(low, signed, like)}, {_fmt(high, signed, like)}]"
    return text


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _value(v: MetricValue | None, n: int) -> str:
    if v is None:
        return "–"
    text = _with_ci(v.value, v.ci_low, v.ci_high)
    if n and v.n and v.n != n:
        text += f" (n={v.n})"
    return text


def _delta(c: Comparison | None) -> str:
    if c is None:
        return "–"
    text = _with_ci(c.delta, c.ci_low, c.ci_high, signed=True)
    if c.p_value is not None:
        text += f", p={c.p_value:.3g}"
        if c.p_value < SIGNIFICANCE_LEVEL and c.delta != 0:
            better = (c.delta < 0) if lower_is_better(c.metric) else (c.delta > 0)
            text = f"**{text}** {'▲' if better else '▼'}"
    return text


def _statistics_line(stats: Mapping[str, Any], has_comparisons: bool) -> str:
    parts = []
    confidence = stats.get("confidence")
    if stats.get("resamples") and isinstance(confidence, (int, float)):
        parts.append(f"[low, high]: {confidence:.0%} bootstrap confidence interval")
    if has_comparisons and stats.get("test") not in (None, "none"):
        correction = stats.get("correction")
        name = {"holm": "Holm"}.get(str(correction), str(correction))
        adjusted = f", {name}-adjusted" if correction not in (None, "none") else ""
        parts.append(f"p: paired {stats['test']} test{adjusted}")
    if has_comparisons:
        parts.append(f"**bold** ▲/▼: significantly better/worse at p < {SIGNIFICANCE_LEVEL:g}")
    return "; ".join(parts)


def report_markdown(report: EvaluationReport, *, title: str | None = None) -> str:
    """The Markdown summary of ``report`` (``EvaluationReport.to_markdown`` and ``summary.md``)."""
    title = title or str(report.meta.get("title") or "Evaluation summary")
    n = len(report.samples) or int(report.meta.get("n_examples") or 0)
    systems = report.system_names
    lines = [f"## {md_cell(title)}", ""]
    facts = [f"{n} examples" if n else "", f"systems: {', '.join(systems)}" if systems else ""]
    for key in ("model", "adapter", "split"):
        if report.meta.get(key):
            facts.append(f"{key}: {report.meta[key]}")
    lines += [" · ".join(md_cell(f) for f in facts if f), ""]

    if systems and report.metric_names:
        pairs: list[tuple[str, str]] = []
        for c in report.comparisons:
            if (c.a, c.b) not in pairs:
                pairs.append((c.a, c.b))
        by_key = {(c.a, c.b, c.metric): c for c in report.comparisons}
        header = ["metric", *systems, *(f"{b} − {a}" for a, b in pairs)]
        rows = []
        for m in report.metric_names:
            label = m + (" ↓" if lower_is_better(m) else "")
            rows.append(
                [
                    md_cell(label),
                    *(md_cell(_value(report.systems[s].get(m), n)) for s in systems),
                    *(md_cell(_delta(by_key.get((a, b, m)))) for a, b in pairs),
                ]
            )
        lines += _table(header, rows, ["---", *(["---:"] * (len(header) - 1))])
        legend = _statistics_line(report.meta.get("statistics") or {}, bool(report.comparisons))
        if any(lower_is_better(m) for m in report.metric_names):
            legend += ("; " if legend else "") + "↓: lower is better"
        if legend:
            lines += ["", legend + "."]
    else:
        lines.append("No metrics.")

    if report.pairwise:
        lines += ["", "### LLM judge: pairwise", ""]
        header = [
            "comparison",
            "judge",
            "b wins",
            "ties",
            "a wins",
            "judged",
            "failed",
            "position consistency",
        ]
        rows = []
        for key, e in report.pairwise.items():
            rows.append(
                [
                    md_cell(key),
                    md_cell(e.get("judge") or "unknown"),
                    md_cell(f"{_pct(e.get('win_rate'))} ({e.get('b')})"),
                    md_cell(_pct(e.get("tie_rate"))),
                    md_cell(f"{_pct(e.get('loss_rate'))} ({e.get('a')})"),
                    md_cell(e.get("n_judged", "")),
                    md_cell(e.get("n_failed", e.get("failures", 0))),
                    md_cell(_pct(e.get("position_consistency"))),
                ]
            )
        lines += _table(header, rows, ["---", "---", *(["---:"] * 6)])
        lines += ["", "Judged blind in both orders; a verdict that changes with the order counts as a tie."]

    if report.knowledge:
        from domainft.evaluation.knowledge.render import knowledge_markdown

        lines += ["", *knowledge_markdown(report.knowledge)]

    counts = [
        f"{metric} could not score {len(items)} example(s) of {system}"
        for system, metrics in report.failures.items()
        for metric, items in metrics.items()
    ]
    generation = report.meta.get("generation_failures")
    if isinstance(generation, Mapping):
        counts += [
            f"generation failed on {len(items)} example(s) of {system}"
            for system, items in generation.items()
            if isinstance(items, (list, tuple)) and items
        ]
    lines += ["", "**Failures:** " + ("; ".join(md_cell(c) for c in counts) if counts else "none") + "."]
    return "\n".join(lines) + "\n"
