"""Knowledge probes in the evaluation report: the page section, the ``summary.md`` lines and the chart.

All three read the dict of :meth:`KnowledgeReport.to_dict` (``EvaluationReport.knowledge``) or only its
summary part (the keys of :data:`~domainft.evaluation.knowledge.report.SUMMARY_KEYS`, which is what a
report loaded from ``metrics.json`` alone holds). Parts that need the probe outcomes (the worst facts,
hallucinated answers, dropped-candidate reasons) are shown only when the full data is there; a missing
optional key leaves its part out, never raises.

- :func:`knowledge_html`: the body of the page's "Knowledge probes" section (self-contained, no script,
  every text from the data escaped);
- :func:`knowledge_markdown`: the lines of the section in ``summary.md``;
- :func:`plot_knowledge`: training-phrasing recall against paraphrase recall and consistency per system
  (the gap is the point: wording learned, not the fact), and the fact status counts per system.

Examples:
    >>> value = lambda v: {"value": v, "ci_low": v - 0.1, "ci_high": v + 0.1, "n": 8}
    >>> data = {"systems": {"base": {"fact_recall": value(0.25), "training_recall": value(0.5)}},
    ...         "status": {"base": {"consistent": 1, "partial": 2, "not learned": 5, "not probed": 0}},
    ...         "phrasing_only": {"base": 3}, "known_threshold": 0.5}
    >>> knowledge_markdown(data)[0]
    '### Knowledge probes'
    >>> "3 of 8 facts right on the training phrasing only" in knowledge_html(data)
    True
    >>> plot_knowledge(data)[:4] == b"\\x89PNG"
    True
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from domainft.errors import DomainftError
from domainft.evaluation.knowledge.report import FACT_KEYS, STATUSES, TRANSITIONS, UNANSWERABLE_KEYS
from domainft.evaluation.report import SIGNIFICANCE_LEVEL, lower_is_better
from domainft.utils.report_files import escape, img_tag

KEYS: tuple[str, ...] = (*FACT_KEYS, *UNANSWERABLE_KEYS)
KEY_HELP: dict[str, str] = {
    "fact_recall": "mean share of a fact's paraphrases answered with its key span",
    "fact_consistency": "share of facts answered right on every paraphrase",
    "training_recall": "share of facts answered right when asked with the training phrasing",
    "false_abstention_rate": "share of a fact's probes the system declined to answer",
    "abstention_rate": "share of unanswerable probes the system declined",
    "hallucination_rate": "share of unanswerable probes the system answered anyway",
}
ANSWER_CHARS = 300
"""Answers in the worst-facts and hallucination tables are cut to this many characters."""
MAX_GROUPS = 100
"""Rows of the per-group breakdown shown in the page (the first groups, in the order of the facts)."""
MAX_HALLUCINATIONS = 5
"""Hallucinated answers to unanswerable probes shown in the page (those of the last system)."""
_PLOT_KEYS = (
    ("training_recall", "training phrasing", "#bf8700"),
    ("fact_recall", "paraphrases (recall)", "#0969da"),
    ("fact_consistency", "consistency (all paraphrases right)", "#8250df"),
)
_STATUS_COLOURS = {
    "consistent": "#1a7f37",
    "partial": "#d4a72c",
    "not learned": "#cf222e",
    "not probed": "#d0d7de",
}
_TRANSITION_COLOURS = {
    "learned": "#1a7f37",
    "kept": "#0969da",
    "still unknown": "#8c959f",
    "forgotten": "#cf222e",
    "not probed": "#d0d7de",
}
_MARKS = {
    "right": ("✓ right", "color:#1a7f37"),
    "wrong": ("✗ wrong", "color:#cf222e"),
    "abstained": ("∅ abstained", "color:#57606a"),
    "not scored": ("not scored", "color:#57606a"),
}


# ---------------------------------------------------------------------- reading the data defensively
def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _count(value: Any) -> int | None:
    """A count, or the length of a list of ids (``transitions_facts`` style); None when neither."""
    if isinstance(value, (list, tuple)):
        return len(value)
    number = _number(value)
    return None if number is None else int(number)


def _metric(entry: Any) -> tuple[float, float | None, float | None, int] | None:
    """``(value, ci_low, ci_high, n)`` of a metric entry (dict or ``MetricValue``); None without a value."""
    get = entry.get if isinstance(entry, Mapping) else (lambda k: getattr(entry, k, None))
    value = _number(get("value"))
    if value is None:
        return None
    low, high = _number(get("ci_low")), _number(get("ci_high"))
    if low is None or high is None:
        low = high = None
    return value, low, high, _count(get("n")) or 0


def _as_value(entry: Any) -> Any:
    """A metric entry as a ``MetricValue`` (None without a value), for the report's own cell formatters."""
    from domainft.evaluation.report import MetricValue

    metric = _metric(entry)
    return None if metric is None else MetricValue(*metric)


def _as_comparison(c: Mapping[str, Any] | None) -> Any:
    from domainft.evaluation.report import Comparison

    return None if c is None else Comparison.from_dict(c)


#: ``n_examples`` for the report's value formatters that makes them always show ``n``: the knowledge
#: keys count facts or unanswerable probes, never the test examples.
ALWAYS_SHOW_N = -1


def system_names(data: Mapping[str, Any]) -> list[str]:
    """The systems of the knowledge data, in order (the first is the base of the comparisons)."""
    names: list[str] = []
    for key in ("systems", "status", "unanswerable", "phrasing_only", "results"):
        names.extend(str(s) for s in _mapping(data.get(key)) if str(s) not in names)
    return names


def _comparisons(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for c in data.get("comparisons") or []:
        if not isinstance(c, Mapping) or _number(c.get("delta")) is None:
            continue
        if not all(isinstance(c.get(k), str) for k in ("a", "b", "metric")):
            continue
        out.append(dict(c))
    return out


def _pairs(comparisons: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for c in comparisons:
        if (c["a"], c["b"]) not in pairs:
            pairs.append((c["a"], c["b"]))
    return pairs


def _transitions(data: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Pair -> transition -> count, from ``transitions`` (counts) or ``transitions_facts`` (id lists)."""
    source = _mapping(data.get("transitions")) or _mapping(data.get("transitions_facts"))
    out: dict[str, dict[str, int]] = {}
    for pair, moves in source.items():
        counts = {str(t): _count(v) for t, v in _mapping(moves).items()}
        out[str(pair)] = {t: c for t, c in counts.items() if c is not None}
    return out


def _cut(text: Any, limit: int = ANSWER_CHARS) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def _threshold(data: Mapping[str, Any]) -> float | None:
    return _number(data.get("known_threshold"))


def _known_text(data: Mapping[str, Any]) -> str:
    threshold = _threshold(data)
    share = f"{threshold:.0%}" if threshold is not None else "the known threshold"
    return f"known = right on at least {share} of the fact's paraphrases"


def _dropped_text(data: Mapping[str, Any], counts: Mapping[str, Any]) -> str:
    """``N candidate(s) dropped (top reasons with counts)``; empty when nothing is known of them."""
    dropped = data.get("dropped")
    n = _count(counts.get("dropped"))
    reasons: Counter[str] = Counter()
    if isinstance(dropped, list):
        n = len(dropped) if n is None else n
        for item in dropped:
            reason = str(_mapping(item).get("reason") or "no reason given")
            reasons[_cut(reason.split(":", 1)[0], 100)] += 1
    if n is None:
        return ""
    text = f"{n} candidate question(s) dropped"
    if reasons:
        top = reasons.most_common(3)
        rest = sum(reasons.values()) - sum(c for _, c in top)
        text += " (" + ", ".join(f"{c} {r}" for r, c in top) + (f", {rest} other" if rest else "") + ")"
    return text


def _counts_parts(data: Mapping[str, Any]) -> list[str]:
    counts = _mapping(data.get("counts"))
    parts = []
    facts = _count(counts.get("facts"))
    if facts is None and isinstance(data.get("facts"), list):
        facts = len(data["facts"])
    if facts is not None:
        parts.append(f"{facts} facts")
    kinds = [
        f"{c} {label}"
        for kind, label in (
            ("training", "training-phrasing"),
            ("paraphrase", "paraphrase"),
            ("unanswerable", "unanswerable"),
        )
        if (c := _count(counts.get(kind))) is not None
    ]
    if kinds:
        parts.append("probes: " + ", ".join(kinds))
    dropped = _dropped_text(data, counts)
    if dropped:
        parts.append(dropped)
    without = _count(counts.get("facts_without_paraphrase"))
    if without:
        parts.append(f"{without} fact(s) without a paraphrase (no recall for them)")
    return parts


def _statistics_text(stats: Mapping[str, Any]) -> str:
    resamples = _count(stats.get("resamples"))
    confidence = _number(stats.get("confidence"))
    if resamples == 0:
        return "No confidence intervals (resamples 0)."
    level = f"{confidence:.0%} " if confidence is not None else ""
    return (
        f"Intervals: {level}percentile bootstrap that resamples facts (the probes of one fact are not "
        "independent), and unanswerable probes for the abstention and hallucination rates."
    )


def _deltas_text(stats: Mapping[str, Any]) -> str:
    test = stats.get("test")
    correction = stats.get("correction")
    deltas = (
        "Deltas: later system minus the first, paired bootstrap over the same facts (unanswerable probes "
        "for abstention and hallucination)"
    )
    if test == "none":
        return deltas + "; no paired test."
    test_text = f"paired {test} test" if isinstance(test, str) else "paired test"
    across = "across the fact keys of each pair (the two unanswerable keys apart)"
    if correction == "none":
        adjusted = "unadjusted"
    elif correction is None:  # settings not in the data (a summary): the correction is not known by name
        adjusted = f"adjusted {across}"
    else:
        name = "Holm" if correction == "holm" else str(correction)
        adjusted = f"{name}-adjusted {across}"
    return f"{deltas}; p: {test_text}, {adjusted}."


# ---------------------------------------------------------------------- the full report, when present
def _full_report(data: Mapping[str, Any]) -> tuple[Any, str]:
    """``(KnowledgeReport, "")`` rebuilt from full data, ``(None, why)`` otherwise (``why`` empty when the
    data is only the summary)."""
    if not all(k in data for k in ("results", "facts", "probes")):
        return None, ""
    from domainft.evaluation.knowledge.report import KnowledgeReport

    try:
        return KnowledgeReport.from_dict(data), ""
    except (DomainftError, ValueError, TypeError, KeyError) as exc:
        return None, f"the probe outcomes could not be read back ({type(exc).__name__}: {exc})"


# ---------------------------------------------------------------------- HTML
def _table(head: Sequence[str], rows: Sequence[str], cls: str = "") -> str:
    """A table from escaped header labels and ready ``<tr>`` rows."""
    attr = f" class='{cls}'" if cls else ""
    return f"<table{attr}><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{''.join(rows)}</table>"


def _num_cells(values: Sequence[Any]) -> str:
    return "".join(f"<td class='num'>{escape('–' if v is None else v)}</td>" for v in values)


def _intro_html(data: Mapping[str, Any]) -> str:
    parts = _counts_parts(data)
    stats = _mapping(data.get("statistics"))
    threshold = _threshold(data)
    known = (
        f"A fact is <b>known</b> when a system states its key answer on at least {threshold:.0%} of the "
        f"fact's paraphrases (known_threshold {threshold:g}); <b>consistent</b> when on every paraphrase. "
        if threshold is not None
        else "A fact is <b>consistent</b> when a system states its key answer on every paraphrase. "
    )
    line = f"<p>{escape('; '.join(parts))}.</p>" if parts else ""
    return f"{line}<p class='muted'>{known}{escape(_statistics_text(stats))}</p>"


def _values_html(data: Mapping[str, Any], systems: Sequence[str]) -> str:
    from domainft.evaluation.html import _delta_cell, _value_cell

    values = {s: _mapping(_mapping(data.get("systems")).get(s)) for s in systems}
    keys = [k for k in KEYS if any(_metric(values[s].get(k)) for s in systems)]
    keys += [k for s in systems for k in values[s] if k not in keys and _metric(values[s][k])]
    if not keys:
        return "<p>No knowledge values (no probe could be scored).</p>"
    comparisons = _comparisons(data)
    pairs = _pairs(comparisons)
    by_key = {(c["a"], c["b"], c["metric"]): c for c in comparisons}
    head = ["value", *(escape(s) for s in systems), *(f"{escape(b)} − {escape(a)}" for a, b in pairs)]
    rows = []
    for key in keys:
        arrow = " <span class='muted' title='lower is better'>↓</span>" if lower_is_better(key) else ""
        label = f"<th title='{escape(KEY_HELP.get(key, key))}'>{escape(key)}{arrow}</th>"
        cells = "".join(_value_cell(_as_value(values[s].get(key)), ALWAYS_SHOW_N) for s in systems)
        deltas = "".join(_delta_cell(_as_comparison(by_key.get((a, b, key))), {}) for a, b in pairs)
        rows.append(f"<tr>{label}{cells}{deltas}</tr>")
    stats = _mapping(data.get("statistics"))
    notes = ["Values: value [bootstrap interval] and n (facts, or unanswerable probes)."]
    if comparisons:
        notes.append(
            escape(_deltas_text(stats))
            + f" Green / red with *: significantly better / worse at p &lt; {SIGNIFICANCE_LEVEL:g}."
        )
    if any(lower_is_better(k) for k in keys):
        notes.append("↓: lower is better.")
    notes.append(
        "Keys: " + "; ".join(f"{escape(k)}: {escape(KEY_HELP[k])}" for k in keys if k in KEY_HELP) + "."
    )
    return _table(head, rows, "summary") + f"<p class='muted'>{' '.join(notes)}</p>"


def _transitions_html(data: Mapping[str, Any], systems: Sequence[str], full: Any) -> str:
    parts = []
    transitions = _transitions(data)
    if transitions:
        names = [*TRANSITIONS, "not probed"]
        names += [t for moves in transitions.values() for t in moves if t not in names]
        rows = [
            f"<tr><th>{escape(pair)}</th>{_num_cells([moves.get(t, 0) for t in names])}</tr>"
            for pair, moves in transitions.items()
        ]
        parts.append(_table(["pair", *(escape(t) for t in names)], rows))
        parts.append(
            "<p class='muted'>Facts by what the later system knows compared with the first "
            f"({escape(_known_text(data))}): "
            "learned (unknown before, known after), forgotten (known before, lost), kept, still unknown; not "
            "probed: no paraphrase could be scored for one of the two.</p>"
        )
    phrasing = _mapping(data.get("phrasing_only"))
    status = _mapping(data.get("status"))
    items = []
    for s in systems:
        n = _count(phrasing.get(s))
        if n is None:
            continue
        total = sum(c for c in (_count(v) for v in _mapping(status.get(s)).values()) if c is not None)
        of = f" of {total} facts" if total else ""
        items.append(f"<li><b>{escape(s)}</b>: {n}{of} right on the training phrasing only</li>")
    if items:
        parts.append(
            "<p><b>Phrasing only</b>: facts a system states when asked with the training phrasing but on "
            "fewer than the known share of the paraphrases (the wording was learned, not the fact).</p><ul>"
            + "".join(items)
            + "</ul>"
        )
    if full is not None:
        last = full.system_names[-1]
        ids = full.phrasing_only.get(last, [])
        if ids:
            facts = full.facts.by_id()
            listed = "".join(
                f"<li><code>{escape(i)}</code> {escape(facts[i].subject)}"
                + (f" · {escape(facts[i].attribute)}" if facts[i].attribute else "")
                + f": <b>{escape(facts[i].answer)}</b></li>"
                for i in ids[:20]
                if i in facts
            )
            more = f" (first 20 of {len(ids)})" if len(ids) > 20 else ""
            parts.append(
                f"<details><summary>{escape(last)}: the phrasing-only facts{more}</summary>"
                f"<ul>{listed}</ul></details>"
            )
    if not transitions and len(systems) < 2:
        parts.append("<p class='muted'>Transitions need a second system to compare with the first.</p>")
    return "".join(parts)


def _status_html(data: Mapping[str, Any], systems: Sequence[str]) -> str:
    status = _mapping(data.get("status"))
    rows = []
    for s in systems:
        counts = _mapping(status.get(s))
        if not counts:
            continue
        values = [_count(counts.get(k)) or 0 for k in STATUSES]
        rows.append(f"<tr><th>{escape(s)}</th>{_num_cells([*values, sum(values)])}</tr>")
    if not rows:
        return ""
    return _table(["system", *(escape(k) for k in STATUSES), "facts"], rows) + (
        "<p class='muted'>consistent: every paraphrase right; partial: some; not learned: none; not probed: "
        "no paraphrase could be scored.</p>"
    )


def _groups_html(data: Mapping[str, Any], systems: Sequence[str]) -> str:
    from domainft.evaluation.html import _fmt

    groups = _mapping(data.get("groups"))
    if not groups:
        return ""
    pairs = list(_transitions(data))
    head = ["group", "facts"]
    for s in systems:
        head += [f"{escape(s)} recall", f"{escape(s)} consistency"]
    for pair in pairs:
        head += [f"{escape(pair)}: learned", f"{escape(pair)}: forgotten"]
    rows = []
    for name, entry in list(groups.items())[:MAX_GROUPS]:
        entry = _mapping(entry)
        cells = [_count(entry.get("facts"))]
        per_system = _mapping(entry.get("systems"))
        for s in systems:
            values = _mapping(per_system.get(s))
            cells += [
                _fmt(_number(values.get("fact_recall"))) or None,
                _fmt(_number(values.get("fact_consistency"))) or None,
            ]
        moves = _mapping(entry.get("transitions"))
        for pair in pairs:
            counts = _mapping(moves.get(pair))
            cells += [_count(counts.get("learned")), _count(counts.get("forgotten"))]
        rows.append(f"<tr><th>{escape(name)}</th>{_num_cells(cells)}</tr>")
    more = (
        f"<p class='muted'>First {MAX_GROUPS} of {len(groups)} groups.</p>"
        if len(groups) > MAX_GROUPS
        else ""
    )
    return (
        _table(head, rows)
        + more
        + (
            "<p class='muted'>recall: mean paraphrase recall of the group's facts; consistency: share of "
            "its facts right on every paraphrase (no intervals: groups are small).</p>"
        )
    )


def _unanswerable_html(data: Mapping[str, Any], systems: Sequence[str]) -> str:
    table = _mapping(data.get("unanswerable"))
    entries = {s: _mapping(table.get(s)) for s in systems if _mapping(table.get(s))}
    probes = max((_count(e.get("probes")) or 0 for e in entries.values()), default=0)
    counts = _mapping(data.get("counts"))
    if not probes and not _count(counts.get("unanswerable")):
        return "<p>No unanswerable probes were asked, so abstention was not measured.</p>"
    columns = ("probes", "abstained", "hallucinated", "failed")
    rows = [
        f"<tr><th>{escape(s)}</th>{_num_cells([_count(e.get(k)) for k in columns])}</tr>"
        for s, e in entries.items()
    ]
    parts = [
        _table(["system", "probes", "abstained", "hallucinated", "failed"], rows),
        "<p class='muted'>Questions about facts absent from the data: declining is right, any answer is a "
        "hallucination; failed requests are left out of both.</p>",
    ]
    results = _mapping(data.get("results"))
    listed = data.get("probes")
    if systems and isinstance(listed, list) and results:
        last = systems[-1]
        outcomes = _mapping(results.get(last))
        found = []
        for probe in listed:
            probe = _mapping(probe)
            if probe.get("kind") != "unanswerable":
                continue
            outcome = _mapping(outcomes.get(str(probe.get("id"))))
            if outcome and outcome.get("error") is None and not outcome.get("abstained"):
                found.append((probe.get("question"), outcome.get("answer")))
        if found:
            shown = found[:MAX_HALLUCINATIONS]
            rows = [
                f"<tr><td>{escape(q)}</td><td><pre class='text'>{escape(_cut(a))}</pre></td></tr>"
                for q, a in shown
            ]
            what = f"first {len(shown)} of {len(found)}" if len(found) > len(shown) else f"all {len(found)}"
            parts.append(
                f"<h4>Hallucinated answers of {escape(last)} ({what})</h4>"
                + _table(["unanswerable question", f"{escape(last)} answer"], rows)
            )
    return "".join(parts)


def _mark(outcome: Mapping[str, Any]) -> str:
    if outcome.get("correct") is True:
        key = "right"
    elif outcome.get("abstained"):
        key = "abstained"
    elif outcome.get("correct") is False:
        key = "wrong"
    else:
        key = "not scored"
    label, style = _MARKS[key]
    return f"<span style='{style};font-weight:600'>{label}</span>"


def _worst_facts_html(full: Any, max_facts: int) -> str:
    systems = full.system_names
    last = systems[-1]
    worst = full.worst_facts(limit=max_facts)
    if not worst:
        return "<p>No fact was scored, so none can be listed.</p>"
    rows_by = {s: {r["fact_id"]: r for r in full.fact_table[s]} for s in systems}
    total = sum(1 for r in full.fact_table[last] if r["recall"] is not None or r["training"] is not None)
    parts = [
        f"<p>The {len(worst)} facts <b>{escape(last)}</b> knows least"
        + (f" (of {total})" if total > len(worst) else "")
        + ": forgotten ones first, then by paraphrase recall.</p>"
    ]
    for i, item in enumerate(worst, 1):
        fact = item["fact"]
        head = f"#{i} · fact <code>{escape(fact['id'])}</code>"
        if item.get("forgotten"):
            head += " · <b style='color:#cf222e'>forgotten</b>"
        if fact.get("group"):
            head += f" · group {escape(fact['group'])}"
        aliases = fact.get("aliases") or []
        answer = f"<b>{escape(fact['answer'])}</b>" + (
            f" <span class='muted'>(also: {escape(', '.join(aliases))})</span>" if aliases else ""
        )
        what = escape(fact["subject"]) + (f" · {escape(fact['attribute'])}" if fact.get("attribute") else "")
        statuses = []
        for s in systems:
            row = rows_by[s].get(fact["id"])
            if row is None:
                continue
            scored = f" ({row['paraphrases_right']}/{row['paraphrases_scored']} paraphrases)"
            training = {True: "right", False: "wrong", None: "–"}.get(row["training"], "–")
            statuses.append(f"{escape(s)}: {escape(row['status'])}{scored}, training phrasing {training}")
        probe_rows = []
        for probe in item["probes"]:
            outcomes = [_mapping(probe.get(s)) for s in systems]
            answers = "".join(
                f"<td>{_mark(o)}<pre class='text'>{escape(_cut(o.get('answer')))}</pre></td>"
                for o in outcomes
            )
            probe_rows.append(
                f"<tr><td>{escape(probe['kind'])}</td><td>{escape(probe['question'])}</td>{answers}</tr>"
            )
        table = _table(["kind", "question", *(escape(s) for s in systems)], probe_rows)
        parts.append(
            f"<div class='example'><div class='exhead'>{head}</div>"
            f"<div>{what}: {answer}</div><div class='scores'>{'; '.join(statuses)}</div>{table}</div>"
        )
    return "".join(parts)


def _judge_html(data: Mapping[str, Any]) -> str:
    judge = _mapping(_mapping(data.get("meta")).get("judge"))
    if not judge:
        return ""
    asked, changed, failures = (_count(judge.get(k)) or 0 for k in ("asked", "changed", "failures"))
    text = (
        f"<p>Judge <code>{escape(judge.get('name') or 'unknown')}</code> was asked about {asked} answer(s) "
        f"to free-form facts that the string match did not find; it found the fact stated in {changed} "
        f"(counted right); {failures} call(s) failed and kept the string-match verdict.</p>"
    )
    reasons = [r for r in judge.get("failure_reasons") or [] if r]
    if reasons:
        text += (
            "<ul>" + "".join(f"<li class='raw'>{escape(_cut(r, 200))}</li>" for r in reasons[:5]) + "</ul>"
        )
    return text


def knowledge_html(data: Mapping[str, Any], *, max_facts: int = 20, chart_png: bytes | None = None) -> str:
    """The body of the page's "Knowledge probes" section (no ``<h2>``): counts and definitions, values with
    CIs and comparisons, the chart, transitions and phrasing-only counts, statuses, groups, abstention,
    the worst facts with their probes (full data only) and the judge's usage. Every text is escaped.

    ``max_facts`` bounds the worst facts listed; ``chart_png`` is the chart of :func:`plot_knowledge`
    (None draws it, ``b""`` leaves it out)."""
    data = _mapping(data)
    systems = system_names(data)
    if not systems:
        return "<p>No knowledge probes.</p>"
    full, why = _full_report(data)
    sections: list[tuple[str, str]] = [
        ("", _intro_html(data)),
        ("Recall and consistency", _values_html(data, systems)),
    ]
    png = chart_png
    if png is None:
        try:
            png = plot_knowledge(data)
        except ValueError:
            png = b""
    if png:
        sections.append(
            (
                "",
                img_tag(
                    png, "training-phrasing recall against paraphrase recall per system, and fact statuses"
                ),
            )
        )
    sections.append(("Learned, forgotten, phrasing only", _transitions_html(data, systems, full)))
    sections.append(("Fact status", _status_html(data, systems)))
    sections.append(("By group", _groups_html(data, systems)))
    sections.append(("Unanswerable questions", _unanswerable_html(data, systems)))
    if full is not None:
        sections.append(("Worst facts", _worst_facts_html(full, max_facts)))
    elif why:
        sections.append(("Worst facts", f"<p class='muted'>Not shown: {escape(why)}.</p>"))
    sections.append(("Judge", _judge_html(data)))
    return "".join((f"<h3>{escape(title)}</h3>" if title else "") + body for title, body in sections if body)


# ---------------------------------------------------------------------- Markdown
def knowledge_markdown(data: Mapping[str, Any]) -> list[str]:
    """The lines of the knowledge section of ``summary.md`` (from ``### Knowledge probes``; no trailing
    blank line): counts, the values with CIs and the comparisons, transitions, phrasing-only counts and
    abstention. Empty without knowledge data."""
    from domainft.evaluation.markdown import _delta, _value, md_cell
    from domainft.evaluation.markdown import _table as md_table

    data = _mapping(data)
    systems = system_names(data)
    if not systems:
        return []
    lines = ["### Knowledge probes", ""]
    parts = _counts_parts(data)
    if _threshold(data) is not None:
        parts.append(_known_text(data))
    if parts:
        lines += [" · ".join(md_cell(p) for p in parts), ""]
    values = {s: _mapping(_mapping(data.get("systems")).get(s)) for s in systems}
    keys = [k for k in KEYS if any(_metric(values[s].get(k)) for s in systems)]
    keys += [k for s in systems for k in values[s] if k not in keys and _metric(values[s][k])]
    comparisons = _comparisons(data)
    if keys:
        pairs = _pairs(comparisons)
        by_key = {(c["a"], c["b"], c["metric"]): c for c in comparisons}
        header = ["value", *systems, *(f"{b} − {a}" for a, b in pairs)]
        rows = [
            [
                md_cell(key + (" ↓" if lower_is_better(key) else "")),
                *(md_cell(_value(_as_value(values[s].get(key)), ALWAYS_SHOW_N)) for s in systems),
                *(md_cell(_delta(_as_comparison(by_key.get((a, b, key))))) for a, b in pairs),
            ]
            for key in keys
        ]
        lines += md_table(header, rows, ["---", *(["---:"] * (len(header) - 1))])
        stats = _mapping(data.get("statistics"))
        legend = [_statistics_text(stats)]
        if comparisons:
            legend.append(
                _deltas_text(stats)
                + f" **bold** ▲/▼: significantly better/worse at p < {SIGNIFICANCE_LEVEL:g}."
            )
        if any(lower_is_better(k) for k in keys):
            legend.append("↓: lower is better.")
        lines += ["", " ".join(legend)]
    else:
        lines.append("No knowledge values (no probe could be scored).")
    transitions = _transitions(data)
    for pair, moves in transitions.items():
        text = ", ".join(f"{n} {t}" for t, n in moves.items() if n) or "no fact"
        lines += ["", f"**{md_cell(pair)}**: {md_cell(text)}."]
    phrasing = _mapping(data.get("phrasing_only"))
    counted = [(s, _count(phrasing.get(s))) for s in systems]
    counted = [(s, n) for s, n in counted if n is not None]
    if counted:
        text = ", ".join(f"{s} {n}" for s, n in counted)
        lines += [
            "",
            f"**Phrasing only** (right on the training phrasing, not known on paraphrases): {md_cell(text)}.",
        ]
    table = _mapping(data.get("unanswerable"))
    entries = [(s, _mapping(table.get(s))) for s in systems if _mapping(table.get(s))]
    probes = max((_count(e.get("probes")) or 0 for _, e in entries), default=0)
    if probes:
        text = "; ".join(
            f"{s} abstained {_count(e.get('abstained')) or 0}, "
            f"hallucinated {_count(e.get('hallucinated')) or 0}"
            + (f", failed {_count(e.get('failed'))}" if _count(e.get("failed")) else "")
            for s, e in entries
        )
        lines += ["", f"**Unanswerable** ({probes} probes): {md_cell(text)}."]
    return lines


# ---------------------------------------------------------------------- chart
def plot_knowledge(data: Mapping[str, Any], path: str | Path | None = None) -> bytes:
    """PNG: per system, training-phrasing recall vs paraphrase recall vs consistency with CI error bars on
    a fixed 0-1 axis (left), and stacked bars of the fact statuses per system, or of the transitions per
    pair when there are no statuses (right). Also written to ``path``.

    Raises ``ValueError`` when there is nothing to plot."""
    from domainft.utils.plotting import agg_figure, figure_png

    data = _mapping(data)
    systems = system_names(data)
    values = {
        s: {k: _metric(_mapping(_mapping(data.get("systems")).get(s)).get(k)) for k, _, _ in _PLOT_KEYS}
        for s in systems
    }
    has_values = any(v is not None for s in systems for v in values[s].values())
    status = {
        s: {k: _count(_mapping(_mapping(data.get("status")).get(s)).get(k)) or 0 for k in STATUSES}
        for s in systems
    }
    status = {s: c for s, c in status.items() if sum(c.values())}
    transitions = {p: m for p, m in _transitions(data).items() if sum(m.values())}
    stacked: dict[str, dict[str, int]] = status or transitions
    colours = _STATUS_COLOURS if status else _TRANSITION_COLOURS
    if not has_values and not stacked:
        raise ValueError("plot_knowledge: nothing to plot (no recall values, fact statuses or transitions)")
    left_w = max(2.4, 1.4 + 1.0 * len(systems)) if has_values else 0.0
    right_w = 4.4 if stacked else 0.0
    height = max(3.4, 2.0 + 0.42 * len(stacked))
    fig = agg_figure((left_w + right_w, height))
    fig.set_layout_engine("constrained")
    ratios = [w for w in (left_w, right_w) if w]
    grid = fig.add_gridspec(1, len(ratios), width_ratios=ratios)
    column = 0
    if has_values:
        _draw_recall(fig.add_subplot(grid[0, column]), systems, values)
        column += 1
    if stacked:
        what = "fact status" if status else "transitions"
        _draw_stacked(fig.add_subplot(grid[0, column]), stacked, colours, what)
    handles, labels = [], []
    for ax in fig.axes:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    ncol = max(1, min(len(labels), int((left_w + right_w) / 1.45)))
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize=7, frameon=False)
    return figure_png(fig, path)


def _draw_recall(ax: Any, systems: Sequence[str], values: Mapping[str, Mapping[str, Any]]) -> None:
    width = 0.8 / len(_PLOT_KEYS)
    labelled = sum(v is not None for s in systems for v in values[s].values()) <= 12
    for j, (key, label, colour) in enumerate(_PLOT_KEYS):
        xs, hs, lo, hi, ex = [], [], [], [], []
        for i, s in enumerate(systems):
            metric = values[s][key]
            if metric is None:
                continue
            value, low, high, _ = metric
            x = i + (j - (len(_PLOT_KEYS) - 1) / 2) * width
            xs.append(x)
            hs.append(value)
            if low is not None and high is not None:
                ex.append(x)
                lo.append(max(value - low, 0.0))
                hi.append(max(high - value, 0.0))
            if labelled:
                top = high if high is not None else value
                ax.annotate(
                    f"{value:.2f}",
                    (x, top),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
        ax.bar(xs, hs, width=width * 0.92, color=colour, edgecolor="black", linewidth=0.5, label=label)
        if ex:
            ys = [hs[xs.index(x)] for x in ex]
            ax.errorbar(ex, ys, yerr=[lo, hi], fmt="none", ecolor="black", capsize=3, lw=1)
    ax.set_ylim(0.0, 1.18)
    ax.set_yticks([0.0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xticks(range(len(systems)))
    rotate = len(systems) > 3 or max(len(s) for s in systems) > 14
    ax.set_xticklabels(systems, fontsize=8, rotation=25 if rotate else 0, ha="right" if rotate else "center")
    ax.set_xlim(-0.6, len(systems) - 0.4)
    ax.set_title(
        "recall: training phrasing\nvs paraphrases"
        if len(systems) < 3
        else "recall: training phrasing vs paraphrases",
        fontsize=10,
    )
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


def _draw_stacked(
    ax: Any, rows: Mapping[str, Mapping[str, int]], colours: Mapping[str, str], what: str
) -> None:
    names = list(rows)
    segments = list(colours) + [t for m in rows.values() for t in m if t not in colours]
    total = max(sum(m.values()) for m in rows.values())
    for k, segment in enumerate(segments):
        if not any(rows[n].get(segment) for n in names):
            continue
        widths = [rows[n].get(segment, 0) for n in names]
        lefts = [sum(rows[n].get(s, 0) for s in segments[:k]) for n in names]
        colour = colours.get(segment, f"C{k % 10}")
        ax.barh(
            names,
            widths,
            left=lefts,
            height=0.6,
            color=colour,
            edgecolor="black",
            linewidth=0.5,
            label=segment,
        )
        ink = "black" if segment in ("partial", "not probed") else "white"
        for y, (w, x) in enumerate(zip(widths, lefts, strict=True)):
            if w and w / total >= 0.06:
                ax.text(x + w / 2, y, str(w), ha="center", va="center", fontsize=7, color=ink)
    ax.set_ylim(len(names) - 0.2, -0.8)  # first row on top; one row is not a wall of colour
    ax.set_xlim(0, total)
    ax.set_xlabel("facts", fontsize=8)
    ax.set_title(what, fontsize=10)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
