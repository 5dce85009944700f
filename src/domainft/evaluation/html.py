"""``report.html``: an :class:`~domainft.evaluation.report.EvaluationReport` as a page worth reading.

The page is self-contained (inline CSS, charts as PNG data URIs, no script, nothing fetched), so it
opens from disk and survives being mailed around. Sections, in order:

- **Run**: model, adapter, split, examples, systems, decoding, template, statistics settings, judge
  settings, generation failures and cache hits (whatever ``meta`` holds), then the rest of ``meta``;
- **Summary**: one row per metric key, one column per system (``value [CI]``), one per comparison
  (``delta [CI]`` and the adjusted p-value; the unadjusted one in the tooltip); significant deltas are
  marked and coloured green (better) or red (worse), minding lower-is-better keys (perplexity, loss);
- **Diagnostics** (when ``meta["links"]`` names other reports of the run, such as the layer report of
  ``domainft diagnose``): a link and a one-line summary each;
- **Charts**: bars with CI error bars, one small panel per scale;
- **LLM judge**: pairwise win/tie/loss bars with position consistency and reliability, and the
  single-answer grades with their failures;
- **Knowledge probes** (when the report carries them, see :mod:`domainft.evaluation.knowledge`): fact
  recall on the training phrasing and on paraphrases with CIs, facts learned and forgotten, abstention
  on unanswerable questions, the breakdown per group and the worst facts with every answer;
- **Failures**: every example a metric (or the pairwise judge, or generation) could not handle;
- **Regressions**: examples where the last system scored worse than the first on one key;
- **Examples**: side by side, prompt, reference, each system's answer, its scores, the judge's
  rationale and the pairwise verdict.

Every piece of text from the data is HTML-escaped.

Examples:
    >>> from domainft.evaluation.metrics import MetricOutput
    >>> from domainft.evaluation.report import EvaluationReport
    >>> out = lambda s: {"m": MetricOutput({"rougeL": sum(s) / len(s)}, {"rougeL": s})}
    >>> report = EvaluationReport.from_outputs(
    ...     {"base": out([0.9, 0.2]), "tuned": out([0.3, 0.8])},
    ...     references=["r1", "r2"], predictions={"base": ["<script>", "y"], "tuned": ["z", "w"]})
    >>> page = render_html(report, chart_png=b"")
    >>> "&lt;script&gt;" in page and "<script" not in page, "Regressions" in page
    (True, True)
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from domainft.evaluation.report import SIGNIFICANCE_LEVEL, lower_is_better

if TYPE_CHECKING:  # pragma: no cover
    from domainft.evaluation.report import Comparison, EvaluationReport, MetricValue, Regressions

RAW_CHARS = 300
"""Raw judge replies and failure texts are cut to this many characters in the page."""
MAX_REGRESSIONS = 20
"""Regressions listed in the page (the largest drops)."""

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;padding:1.5em 2em;
color:#1f2328;max-width:1500px;line-height:1.45}
h1{font-size:1.55em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #d8dee4;
padding-bottom:.2em}h3{font-size:1.02em;margin:1.1em 0 .4em}
nav{font-size:.9em;margin:.4em 0 1em}nav a{margin-right:1.1em;color:#0550ae;text-decoration:none}
table{border-collapse:collapse;margin:.5em 0;font-size:.88em}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.run th{white-space:nowrap}table.run td{max-width:1100px}
.ci{color:#57606a;font-size:.85em}.muted{color:#57606a;font-size:.85em}.p{display:block;font-size:.8em}
td.better{background:#dafbe1}td.worse{background:#ffebe9}
.sig{font-weight:600}
.bar{display:flex;height:24px;max-width:640px;border:1px solid #8c959f;border-radius:4px;overflow:hidden;
font-size:.78em;margin:.3em 0}
.bar span{display:flex;align-items:center;justify-content:center;color:#fff;white-space:nowrap;
overflow:hidden}
.win{background:#1a7f37}.tie{background:#8c959f}.loss{background:#cf222e}
.example{border:1px solid #d0d7de;border-radius:6px;padding:.6em .9em;margin:1em 0}
.exhead{font-size:.9em;color:#57606a;margin-bottom:.3em}
.qa{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:.8em}
.answers{display:grid;gap:.8em;margin-top:.6em}
.answer{border-left:3px solid #8c959f;padding-left:.6em;min-width:0}
.label{font-weight:600;font-size:.85em;color:#24292f}
pre.text{white-space:pre-wrap;overflow-wrap:anywhere;font-family:inherit;margin:.2em 0;background:#f6f8fa;
padding:.4em .5em;border-radius:4px;max-height:22em;overflow:auto}
.scores{color:#57606a;font-size:.82em;margin-top:.2em}
.verdict{font-size:.88em;margin-top:.5em;padding:.3em .5em;background:#f6f8fa;border-radius:4px}
details summary{cursor:pointer;color:#0550ae;font-size:.85em}
img{max-width:100%}code{white-space:pre-wrap;overflow-wrap:anywhere}
.raw{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8em;white-space:pre-wrap;
overflow-wrap:anywhere;max-width:520px}
"""

_RUN_KEYS = (
    "model",
    "adapter",
    "split",
    "n_examples",
    "systems",
    "metrics",
    "decoding",
    "template",
    "system_prompt",
    "statistics",
    "judge",
    "generation_failures",
    "cache",
)
_RUN_LABELS = {
    "n_examples": "examples",
    "system_prompt": "system prompt",
    "generation_failures": "generation failures",
    "cache": "cache hits",
}


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(x: float | None, signed: bool = False, like: float | None = None) -> str:
    """4 decimals below 10, 2 from there on (judged by ``like`` when given, so a CI matches its value)."""
    if x is None:
        return ""
    sign = "+" if signed else ""
    size = abs(x) if like is None else abs(like)
    return f"{x:{sign}.4f}" if size < 10 else f"{x:{sign}.2f}"


def _fmt_ci(value: float, low: float | None, high: float | None, signed: bool = False) -> tuple[str, str]:
    """``value`` and ``[low, high]`` (empty without an interval), all with the same number of decimals."""
    like = max(abs(x) for x in (value, low, high) if x is not None)
    text = _fmt(value, signed, like)
    if low is None or high is None:
        return text, ""
    return text, f"[{_fmt(low, signed, like)}, {_fmt(high, signed, like)}]"


def _correction_name(correction: Any) -> str:
    return {"holm": "Holm", "bonferroni": "Bonferroni"}.get(str(correction), str(correction))


def _score_text(key: str, value: float, judge_keys: Mapping[str, Any]) -> str:
    return f"{value:g}" if key in judge_keys else _fmt(value)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _truncate(text: Any, limit: int = RAW_CHARS) -> str:
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def _compact(value: Any) -> str:
    """A setting as short text: strings as they are, mappings as ``key: value`` pairs, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_compact(v)}" for k, v in value.items()) or "{}"
    if isinstance(value, (list, tuple)) and all(not isinstance(v, (Mapping, list, tuple)) for v in value):
        return ", ".join(str(v) for v in value) or "[]"
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _text_block(text: Any) -> str:
    return f"<pre class='text'>{_esc(text)}</pre>"


# ---------------------------------------------------------------------- run settings
def _statistics_text(stats: Mapping[str, Any]) -> str:
    parts = []
    if stats.get("ci_method") and stats.get("resamples"):
        confidence = stats.get("confidence")
        level = f"{confidence:.0%} " if isinstance(confidence, (int, float)) else ""
        parts.append(f"{level}{stats['ci_method']} intervals, {stats['resamples']} resamples")
    else:
        parts.append("no confidence intervals")
    test = stats.get("test")
    if test and test != "none":
        text = f"paired {test} test"
        if test == "permutation" and stats.get("permutations"):
            text += f" ({stats['permutations']} permutations)"
        correction = stats.get("correction")
        if correction not in (None, "none"):
            text += f", {_correction_name(correction)} correction across metrics"
        parts.append(text)
    else:
        parts.append("no paired tests")
    if "seed" in stats:
        parts.append(f"seed {stats['seed']}")
    return "; ".join(parts)


def _systems_text(report: EvaluationReport) -> str:
    info = report.meta.get("systems")
    items = []
    for name in report.system_names:
        extra = info.get(name) if isinstance(info, Mapping) else None
        if isinstance(extra, Mapping):
            bits = []
            for k, v in extra.items():
                if k == "adapter_disabled":
                    if v:
                        bits.append("adapter off")
                elif k == "generation_seconds" and isinstance(v, (int, float)):
                    bits.append(f"{v:g} s to generate")
                else:
                    bits.append(f"{k}: {_compact(v)}")
            items.append(f"{name} ({', '.join(bits)})" if bits else name)
        else:
            items.append(name)
    return "; ".join(items)


def _generation_failures_text(value: Any) -> str:
    if isinstance(value, Mapping):
        bits = []
        for system, items in value.items():
            if isinstance(items, (list, tuple)):
                first = items[0].get("reason", "") if items and isinstance(items[0], Mapping) else ""
                bits.append(f"{system}: {len(items)}" + (f" (e.g. {_truncate(first, 160)})" if first else ""))
            else:
                bits.append(f"{system}: {_compact(items)}")
        return "; ".join(bits) or "none"
    if isinstance(value, (list, tuple)):
        return f"{len(value)}"
    return _compact(value)


def _judges_in_details(report: EvaluationReport) -> list[tuple[str, str, Mapping[str, Any]]]:
    """``(system, metric, details)`` of every judge-graded metric."""
    found = []
    for system, metrics in report.details.items():
        for metric, info in metrics.items():
            if isinstance(info, Mapping) and "judge" in info and "scale" in info:
                found.append((system, metric, info))
    return found


def _run_html(report: EvaluationReport) -> str:
    meta = report.meta
    rows: list[tuple[str, str]] = []
    for key in _RUN_KEYS:
        if key == "n_examples":
            n = meta.get("n_examples", len(report.samples) or None)
            if n is not None:
                rows.append(("examples", str(n)))
            continue
        if key == "systems":
            rows.append(("systems", _systems_text(report)))
            continue
        if key == "judge":
            judges = sorted(
                {str(info.get("judge")) for _, _, info in _judges_in_details(report)}
                | {str(e.get("judge")) for e in report.pairwise.values() if e.get("judge")}
            )
            parts = [_compact(meta["judge"])] if "judge" in meta else []
            if judges:
                parts.append("judges used: " + ", ".join(judges))
            if parts:
                rows.append(("judge", "; ".join(parts)))
            continue
        if key not in meta:
            continue
        value = meta[key]
        if key == "statistics" and isinstance(value, Mapping):
            text = _statistics_text(value)
        elif key == "generation_failures":
            text = _generation_failures_text(value)
        elif key == "system_prompt" and value is None:
            text = "(none)"
        else:
            text = _compact(value)
        rows.append((_RUN_LABELS.get(key, key), text))
    rows.extend(
        (str(k), _compact(v)) for k, v in meta.items() if k not in _RUN_KEYS and k not in ("title", "links")
    )
    body = "".join(f"<tr><th>{_esc(k)}</th><td><code>{_esc(v)}</code></td></tr>" for k, v in rows)
    return f"<table class='run'>{body}</table>"


def _links_html(report: EvaluationReport) -> str:
    """Other reports of the run (``meta["links"]``: name -> ``title``, relative ``href``, ``summary``)."""
    links = report.meta.get("links") or {}
    items = [
        f"<li><a href='{_esc(link['href'])}'>{_esc(link.get('title') or name)}</a>"
        + (f": {_esc(link['summary'])}" if link.get("summary") else "")
        + "</li>"
        for name, link in links.items()
        if isinstance(link, Mapping) and link.get("href")
    ]
    return f"<ul>{''.join(items)}</ul>" if items else ""


# ---------------------------------------------------------------------- summary table
def _pairs(report: EvaluationReport) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for c in report.comparisons:
        if (c.a, c.b) not in pairs:
            pairs.append((c.a, c.b))
    return pairs


def comparison_direction(c: Comparison) -> str | None:
    """``"better"``/``"worse"`` for a significant comparison (p < 0.05, adjusted) of ``b`` against
    ``a``, minding lower-is-better keys; None when not significant or not tested.

    Examples:
        >>> from domainft.evaluation.report import Comparison
        >>> comparison_direction(Comparison("base", "tuned", "perplexity", -3.0, p_value=0.01))
        'better'
        >>> comparison_direction(Comparison("base", "tuned", "rougeL", -0.1, p_value=0.01))
        'worse'
    """
    if c.p_value is None or c.p_value >= SIGNIFICANCE_LEVEL or c.delta == 0:
        return None
    improved = (c.delta < 0) if lower_is_better(c.metric) else (c.delta > 0)
    return "better" if improved else "worse"


_INLINE = {"better": "background:#dafbe1", "worse": "background:#ffebe9"}


def _value_cell(v: MetricValue | None, n_examples: int) -> str:
    if v is None:
        return "<td class='num'>–</td>"
    value, interval = _fmt_ci(v.value, v.ci_low, v.ci_high)
    ci = f" <span class='ci'>{interval}</span>" if interval else ""
    short = f" <span class='muted'>n={v.n}</span>" if n_examples and v.n and v.n != n_examples else ""
    return f"<td class='num' title='n = {v.n}'>{value}{ci}{short}</td>"


def _delta_cell(c: Comparison | None, tests: Mapping[str, Any]) -> str:
    if c is None:
        return "<td class='num'>–</td>"
    delta, interval = _fmt_ci(c.delta, c.ci_low, c.ci_high, signed=True)
    ci = f" <span class='ci'>{interval}</span>" if interval else ""
    direction = comparison_direction(c)
    p = ""
    title = [f"{c.b} − {c.a} on {c.metric}"]
    if c.p_value is not None:
        star = " *" if direction else ""
        p = f"<span class='p'>p = {c.p_value:.3g}{star}</span>"
        title.append(f"p (adjusted) = {c.p_value:.4g}")
        if c.p_value_raw is not None:
            title.append(f"unadjusted p = {c.p_value_raw:.4g}")
        if tests.get(c.metric):
            title.append(f"test: {tests[c.metric]}")
    classes = "num" + (f" sig {direction}" if direction else "")
    style = f" style='{_INLINE[direction]}'" if direction else ""
    return f"<td class='{classes}'{style} title='{_esc('; '.join(title))}'>{delta}{ci}{p}</td>"


def summary_table_html(report: EvaluationReport) -> str:
    """The summary table: metric keys as rows, systems (value [CI]) and comparisons (delta [CI], p) as
    columns; significant deltas coloured by direction. Also the notebook view of a report."""
    if not report.systems or not report.metric_names:
        return "<p>No metrics.</p>"
    n = len(report.samples)
    pairs = _pairs(report)
    by_key = {(c.a, c.b, c.metric): c for c in report.comparisons}
    tests = (report.meta.get("statistics") or {}).get("tests") or {}
    head = (
        "<tr><th>metric</th>"
        + "".join(f"<th>{_esc(s)}</th>" for s in report.system_names)
        + "".join(f"<th>{_esc(b)} − {_esc(a)}</th>" for a, b in pairs)
        + "</tr>"
    )
    rows = []
    for m in report.metric_names:
        arrow = " <span class='muted' title='lower is better'>↓</span>" if lower_is_better(m) else ""
        cells = "".join(_value_cell(report.systems[s].get(m), n) for s in report.system_names)
        deltas = "".join(_delta_cell(by_key.get((a, b, m)), tests) for a, b in pairs)
        rows.append(f"<tr><th>{_esc(m)}{arrow}</th>{cells}{deltas}</tr>")
    return f"<table class='summary'>{head}{''.join(rows)}</table>"


def _summary_legend(report: EvaluationReport) -> str:
    stats = report.meta.get("statistics") or {}
    confidence = stats.get("confidence")
    level = f"{confidence:.0%} " if isinstance(confidence, (int, float)) else ""
    parts = [
        f"Values: score [{level}bootstrap confidence interval]; n shown when fewer examples were scored."
    ]
    if report.comparisons:
        test = stats.get("test") or "paired"
        correction = stats.get("correction")
        adjusted = (
            f"{_correction_name(correction)}-adjusted across the metrics of each pair"
            if correction not in (None, "none")
            else "unadjusted"
        )
        parts.append(
            f"Deltas: later system minus the first, paired bootstrap interval; p: paired {test} test, "
            f"{adjusted} (hover for the unadjusted p). Green / red with *: significantly better / worse "
            f"at p &lt; {SIGNIFICANCE_LEVEL:g}."
        )
    if any(lower_is_better(m) for m in report.metric_names):
        parts.append("↓: lower is better.")
    return f"<p class='muted'>{' '.join(parts)}</p>"


# ---------------------------------------------------------------------- judge
def _outcome_counts(entry: Mapping[str, Any]) -> tuple[int, int, int]:
    """(b wins, ties, a wins) of a pairwise entry, from its examples or its rates."""
    examples = entry.get("examples")
    if isinstance(examples, list) and examples:
        outcomes = [e.get("outcome") for e in examples]
        return outcomes.count("b"), outcomes.count("tie"), outcomes.count("a")
    judged = entry.get("n_judged") or 0
    return tuple(round((entry.get(k) or 0.0) * judged) for k in ("win_rate", "tie_rate", "loss_rate"))  # type: ignore[return-value]


def _pairwise_html(key: str, entry: Mapping[str, Any]) -> str:
    a, b = str(entry.get("a")), str(entry.get("b"))
    wins, ties, losses = _outcome_counts(entry)
    judged = entry.get("n_judged") or 0
    failed = entry.get("n_failed", entry.get("failures", 0)) or 0
    rel = entry.get("reliability") or {}
    parts = [
        f"<h3>{_esc(b)} vs {_esc(a)} "
        f"<span class='muted'>judge: {_esc(entry.get('judge') or 'unknown')}</span></h3>"
    ]
    if judged:
        segments = []
        for cls, label, count, rate in (
            ("win", f"{b} better", wins, entry.get("win_rate")),
            ("tie", "tie", ties, entry.get("tie_rate")),
            ("loss", f"{a} better", losses, entry.get("loss_rate")),
        ):
            share = rate if rate is not None else (count / judged)
            if share > 0:
                segments.append(
                    f"<span class='{cls}' style='width:{100 * share:.2f}%' "
                    f"title='{_esc(label)}: {count} ({_pct(share)})'>{_esc(label)} {_pct(share)}</span>"
                )
        parts.append(f"<div class='bar' role='img' aria-label='{_esc(key)}'>{''.join(segments)}</div>")
    else:
        parts.append("<p>No example could be judged.</p>")
    order_flips = rel.get("order_flips", entry.get("order_flips"))
    cells = [
        (f"{b} wins", f"{_pct(entry.get('win_rate'))} ({wins})"),
        ("ties", f"{_pct(entry.get('tie_rate'))} ({ties})"),
        (f"{a} wins", f"{_pct(entry.get('loss_rate'))} ({losses})"),
        ("judged", str(judged)),
        ("failed", str(failed)),
        ("position consistency", _pct(entry.get("position_consistency"))),
        ("order flips", "" if order_flips is None else str(order_flips)),
        ("inconsistent", str(rel.get("inconsistent", ""))),
        ("unparsable replies", str(rel.get("parse_failures", entry.get("parse_failures", "")))),
        ("failed calls", str(rel.get("call_failures", entry.get("call_failures", "")))),
        ("requests / cache hits", f"{entry.get('requests', '')} / {entry.get('cache_hits', '')}"),
    ]
    parts.append(
        "<table><tr>"
        + "".join(f"<th>{_esc(h)}</th>" for h, _ in cells)
        + "</tr><tr>"
        + "".join(f"<td class='num'>{_esc(v)}</td>" for _, v in cells)
        + "</tr></table>"
    )
    parts.append(
        "<p class='muted'>Blind judgment in both orders; a verdict that changes when the answers swap "
        "places counts as a tie. Position consistency: share of examples whose two verdicts agree. "
        "Failed examples are left out of the rates and listed under Failures.</p>"
    )
    return "".join(parts)


_GRADING_HEAD = (
    "system",
    "metric (judge)",
    "scale",
    "mean grade [CI]",
    "scored",
    "unparsable",
    "failed calls",
    "unscored (listed)",
    "cache hits",
)


def _grading_html(report: EvaluationReport) -> str:
    found = _judges_in_details(report)
    if not found:
        return ""
    rows = []
    for system, metric, info in found:
        value = report.systems.get(system, {}).get(f"{metric}_score")
        scale = info.get("scale") or ["", ""]
        failures = len(report.failures.get(system, {}).get(metric, []))
        rel = info.get("reliability") or {}
        score = "–" if value is None else " ".join(_fmt_ci(value.value, value.ci_low, value.ci_high)).strip()
        text = [f"<td>{_esc(system)}</td>", f"<td>{_esc(metric)} ({_esc(info.get('judge'))})</td>"]
        numbers = (
            f"{scale[0]}–{scale[1]}",
            score,
            info.get("n_scored", ""),
            info.get("parse_failures", ""),
            info.get("call_failures", ""),
            failures,
            rel.get("cache_hits", ""),
        )
        cells = "".join(text) + "".join(f"<td class='num'>{_esc(v)}</td>" for v in numbers)
        rows.append(f"<tr>{cells}</tr>")
    head = "".join(f"<th>{h}</th>" for h in _GRADING_HEAD)
    return (
        f"<h3>Single-answer grades</h3><table><tr>{head}</tr>{''.join(rows)}</table>"
        "<p class='muted'>The mean is over the answers that got a grade; the others are listed under "
        "Failures, never counted as zero.</p>"
    )


def _judge_html(report: EvaluationReport) -> str:
    parts = [_pairwise_html(k, e) for k, e in report.pairwise.items()]
    grading = _grading_html(report)
    if grading:
        parts.append(grading)
    return "".join(parts)


# ---------------------------------------------------------------------- failures
def _failure_rows(report: EvaluationReport) -> list[tuple[str, str, str, str, str]]:
    ids = [r.id for r in report.samples]

    def id_of(index: Any, fallback: Any = "") -> Any:
        if fallback not in ("", None):
            return fallback
        return ids[index] if isinstance(index, int) and 0 <= index < len(ids) else index

    rows = []
    generation = report.meta.get("generation_failures")
    if isinstance(generation, Mapping):
        for system, items in generation.items():
            for item in items if isinstance(items, (list, tuple)) else []:
                if isinstance(item, Mapping):
                    rows.append(
                        (
                            str(system),
                            "generation",
                            str(id_of(item.get("index"), item.get("id"))),
                            str(item.get("reason", "")),
                            _truncate(item.get("raw")),
                        )
                    )
    for system, metrics in report.failures.items():
        for metric, items in metrics.items():
            for f in items:
                raw = f.get("raw")
                rows.append(
                    (
                        system,
                        metric,
                        str(id_of(f.get("index"), f.get("id"))),
                        str(f.get("reason", "")),
                        _truncate(
                            raw
                            if isinstance(raw, str) or raw is None
                            else json.dumps(raw, ensure_ascii=False)
                        ),
                    )
                )
    for key, entry in report.pairwise.items():
        for e in entry.get("examples") or []:
            if e.get("outcome") == "failed":
                order = (("raw_first", f"{entry.get('a')} first"), ("raw_second", f"{entry.get('b')} first"))
                raw = " | ".join(f"{label}: {e[k]}" for k, label in order if e.get(k))
                rows.append(
                    (
                        key,
                        "pairwise judge",
                        str(id_of(e.get("index"))),
                        str(e.get("error") or "failed"),
                        _truncate(raw),
                    )
                )
    return rows


def _failures_html(report: EvaluationReport) -> str:
    rows = _failure_rows(report)
    if not rows:
        return "<p>No failures: every metric scored every example.</p>"
    body = "".join(
        f"<tr><td>{_esc(s)}</td><td>{_esc(m)}</td><td>{_esc(i)}</td><td>{_esc(r)}</td>"
        f"<td class='raw'>{_esc(raw)}</td></tr>"
        for s, m, i, r, raw in rows
    )
    return (
        f"<p>{len(rows)} example(s) could not be handled; they are left out of the values they concern.</p>"
        "<table><tr><th>system</th><th>metric</th><th>id</th><th>reason</th><th>raw (truncated)</th></tr>"
        f"{body}</table>"
    )


# ---------------------------------------------------------------------- regressions
def _regressions_html(report: EvaluationReport, found: Regressions, limit: int, linked: int) -> str:
    if found.metric is None:
        return "<p>No metric has per-example scores for both systems, so no example can be compared.</p>"
    base, tuned, key = found.baseline, found.candidate, found.metric
    judge_keys = report.judge_scales
    worse = "higher" if found.lower_is_better else "lower"
    intro = (
        f"<p>Examples where <b>{_esc(tuned)}</b> scored {worse} than <b>{_esc(base)}</b> on "
        f"<b>{_esc(key)}</b> by more than {_fmt(found.margin)}: {found.total} of the {found.compared} "
        f"examples both scored"
        + (f"; the {limit} largest drops are shown" if found.total > limit else "")
        + ". Choose the key with <code>regression_metric=</code>.</p>"
    )
    if not found.items:
        return intro

    def link(index: int, label: Any) -> str:
        return f"<a href='#ex-{index}'>{_esc(label)}</a>" if index < linked else _esc(label)

    rows = []
    for r in found.items[:limit]:
        s = report.samples[r.index]
        rows.append(
            f"<tr><td>{link(r.index, s.id)}</td>"
            f"<td class='num'>{_score_text(key, r.baseline_score, judge_keys)}</td>"
            f"<td class='num'>{_score_text(key, r.candidate_score, judge_keys)}</td>"
            f"<td class='num'>{_score_text(key, r.drop, judge_keys)}</td>"
            f"<td>{_text_block(s.prompt)}</td><td>{_text_block(s.reference)}</td>"
            f"<td>{_text_block(s.predictions.get(base, ''))}</td>"
            f"<td>{_text_block(s.predictions.get(tuned, ''))}</td></tr>"
        )
    head = (
        f"<tr><th>id</th><th>{_esc(base)}</th><th>{_esc(tuned)}</th><th>drop</th><th>prompt</th>"
        f"<th>reference</th><th>{_esc(base)} answer</th><th>{_esc(tuned)} answer</th></tr>"
    )
    return f"{intro}<table class='regressions'>{head}{''.join(rows)}</table>"


# ---------------------------------------------------------------------- examples
def _rationales(report: EvaluationReport, n: int) -> dict[str, list[tuple[str, list[Any]]]]:
    """system -> [(metric, rationales aligned with the examples)] of the judge metrics."""
    out: dict[str, list[tuple[str, list[Any]]]] = {}
    for system, metrics in report.details.items():
        for metric, info in metrics.items():
            rationales = info.get("rationales") if isinstance(info, Mapping) else None
            if isinstance(rationales, list) and len(rationales) == n:
                out.setdefault(system, []).append((metric, rationales))
    return out


def _verdict_html(entry: Mapping[str, Any], example: Mapping[str, Any]) -> str:
    a, b = str(entry.get("a")), str(entry.get("b"))
    outcome = example.get("outcome")
    if outcome == "failed":
        text = f"judge failed: {example.get('error') or 'no verdict'}"
    elif outcome == "tie":
        if example.get("identical"):
            text = "tie (identical answers, not asked)"
        elif example.get("first") != example.get("second"):
            text = "tie (the verdict changed when the answers swapped places)"
        else:
            text = "tie"
    else:
        text = f"{b if outcome == 'b' else a} better"
    orders = ""
    if example.get("first") is not None or example.get("second") is not None:
        names = {"a": a, "b": b, "tie": "tie", None: "–"}
        orders = (
            f" <span class='muted'>({_esc(a)} shown first: {_esc(names.get(example.get('first')))}; "
            f"{_esc(b)} shown first: {_esc(names.get(example.get('second')))})</span>"
        )
    reasons = [
        (f"{a} shown first (Assistant 1 = {a})", example.get("rationale_first")),
        (f"{b} shown first (Assistant 1 = {b})", example.get("rationale_second")),
    ]
    details = "".join(f"<div class='label'>{_esc(lbl)}</div>{_text_block(t)}" for lbl, t in reasons if t)
    more = f"<details><summary>judge's reasons</summary>{details}</details>" if details else ""
    return f"<div class='verdict'><b>{_esc(b)} vs {_esc(a)}:</b> {_esc(text)}{orders}{more}</div>"


def _examples_html(report: EvaluationReport, max_samples: int, regressed: set[int]) -> str:
    n = len(report.samples)
    shown = report.samples[: max(0, max_samples)]
    systems = report.system_names or sorted({s for r in report.samples for s in r.predictions})
    rationales = _rationales(report, n)
    judge_keys = report.judge_scales
    verdicts = [
        (entry, {e.get("index"): e for e in entry.get("examples") or []})
        for entry in report.pairwise.values()
    ]
    parts = [f"<p class='muted'>First {len(shown)} of {n} examples.</p>"]
    columns = f"grid-template-columns:repeat({max(1, len(systems))},minmax(0,1fr))"
    for i, r in enumerate(shown):
        flag = " · <b>regression</b>" if i in regressed else ""
        answers = []
        for s in systems:
            scores = r.scores.get(s, {})
            score_text = " · ".join(f"{_esc(k)} {_score_text(k, v, judge_keys)}" for k, v in scores.items())
            block = [f"<div class='label'>{_esc(s)}</div>", _text_block(r.predictions.get(s, ""))]
            if score_text:
                block.append(f"<div class='scores'>{score_text}</div>")
            for metric, texts in rationales.get(s, []):
                if texts[i]:
                    grade = scores.get(f"{metric}_score")
                    label = f"{metric} rationale" + (f" (grade {grade:g})" if grade is not None else "")
                    block.append(
                        f"<details><summary>{_esc(label)}</summary>{_text_block(texts[i])}</details>"
                    )
            answers.append(f"<div class='answer'>{''.join(block)}</div>")
        pair = "".join(_verdict_html(entry, by_index[i]) for entry, by_index in verdicts if i in by_index)
        parts.append(
            f"<div class='example' id='ex-{i}'>"
            f"<div class='exhead'>#{i + 1} · id <code>{_esc(r.id)}</code>{flag}</div>"
            f"<div class='qa'><div><div class='label'>Prompt</div>{_text_block(r.prompt)}</div>"
            f"<div><div class='label'>Reference</div>{_text_block(r.reference)}</div></div>"
            f"<div class='answers' style='{columns}'>{''.join(answers)}</div>{pair}</div>"
        )
    return "".join(parts)


# ---------------------------------------------------------------------- page
def render_html(
    report: EvaluationReport,
    *,
    max_samples: int = 50,
    chart_png: bytes | None = None,
    regression_metric: str | None = None,
) -> str:
    """The whole page as a string (see the module docstring for its sections).

    Args:
        report: the report to show.
        max_samples: examples in the side-by-side view (the first ones).
        chart_png: the metrics chart; None draws it with ``report.plot()``, ``b""`` leaves it out.
        regression_metric: the per-example key of the regressions section (default ``rougeL`` when
            present, else the first key with per-example scores); see ``EvaluationReport.regressions``.
    """
    if chart_png is None and report.systems and report.metric_names:
        chart_png = report.plot()
    title = str(report.meta.get("title") or "domainft evaluation report")
    sections: list[tuple[str, str, str]] = [("run", "Run", _run_html(report))]
    summary = summary_table_html(report)
    if report.systems and report.metric_names:
        summary += _summary_legend(report)
    sections.append(("summary", "Summary", summary))
    links = _links_html(report)
    if links:
        sections.append(("related", "Diagnostics", links))
    if chart_png:
        sections.append(
            (
                "charts",
                "Charts",
                f"<p><img alt='bar charts of every metric per system with confidence intervals' "
                f"src='{_data_uri(chart_png)}'></p>",
            )
        )
    judge = _judge_html(report)
    if judge:
        sections.append(("judge", "LLM judge", judge))
    if report.knowledge:
        from domainft.evaluation.knowledge.render import knowledge_html

        sections.append(("knowledge", "Knowledge probes", knowledge_html(report.knowledge)))
    sections.append(("failures", "Failures", _failures_html(report)))
    regressed: set[int] = set()
    if len(report.system_names) >= 2 and report.samples:
        found = report.regressions(regression_metric, limit=None)
        sections.append(
            ("regressions", "Regressions", _regressions_html(report, found, MAX_REGRESSIONS, max_samples))
        )
        regressed = {r.index for r in found.items}
    if report.samples:
        sections.append(("examples", "Examples", _examples_html(report, max_samples, regressed)))
    n = len(report.samples) or report.meta.get("n_examples")
    subtitle = f"{len(report.systems)} system(s)" + (f", {n} example(s)" if n else "")
    nav = "".join(f"<a href='#{anchor}'>{_esc(name)}</a>" for anchor, name, _ in sections)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1><p class='muted'>{_esc(subtitle)}</p><nav>{nav}</nav>",
    ]
    parts.extend(f"<h2 id='{anchor}'>{_esc(name)}</h2>{body}" for anchor, name, body in sections)
    parts.append("</body></html>\n")
    return "".join(parts)
