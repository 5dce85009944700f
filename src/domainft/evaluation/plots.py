"""Charts for evaluation reports (matplotlib, Agg, no pyplot global state).

``plot_metric_panels`` (the report's ``metrics.png``) draws grouped bars with confidence intervals as
error bars, one small panel per scale, so that BLEU (0-100), ROUGE (0-1), a judge's grades (1-10) and
perplexity never share an axis.

Examples:
    >>> from domainft.evaluation.plots import metric_panels, plot_metric_panels
    >>> [title for title, _ in metric_panels({"base": {"rouge1": 0.31, "rougeL": 0.3, "bleu": 12.0}})]
    ['0-100 scale', '0-1 scale']
    >>> plot_metric_panels({"base": {"rouge1": 0.31, "bleu": 12.0}})[:4] == b"\\x89PNG"
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from domainft.evaluation.report import ScaleKind, lower_is_better, metric_scale
from domainft.utils.plotting import agg_figure, figure_png


def _unpack(value: Any) -> tuple[float, float | None, float | None]:
    """Accept a float or anything with ``value``/``ci_low``/``ci_high`` (a ``MetricValue``)."""
    if hasattr(value, "value"):
        return float(value.value), getattr(value, "ci_low", None), getattr(value, "ci_high", None)
    return float(value), None, None


Scales = Mapping[str, tuple[ScaleKind, "tuple[float, float] | None"]]
_PANEL_ORDER = {"percent": 0, "unit": 1, "judge": 2, "perplexity": 3, "other": 4}


def _scales_of(systems: Mapping[str, Mapping[str, Any]], keys: list[str]) -> dict[str, Any]:
    out = {}
    for key in keys:
        values: list[float] = []
        for metrics in systems.values():
            if key in metrics:
                value, low, high = _unpack(metrics[key])
                values.extend(x for x in (value, low, high) if x is not None)
        out[key] = metric_scale(key, values)
    return out


def metric_panels(
    systems: Mapping[str, Mapping[str, Any]], scales: Scales | None = None
) -> list[tuple[str, list[str]]]:
    """``(title, keys)`` of each panel of :func:`plot_metric_panels`: one per scale (0-100, 0-1, each
    judge range), and one per key of no shared scale (perplexity, others), in that order."""
    keys: list[str] = []
    for metrics in systems.values():
        keys.extend(m for m in metrics if m not in keys)
    known = _scales_of(systems, [k for k in keys if not scales or k not in scales])
    resolved = {k: (scales[k] if scales and k in scales else known[k]) for k in keys}
    panels: dict[tuple[Any, ...], tuple[str, list[str]]] = {}
    for key in keys:
        kind, span = resolved[key]
        if kind == "percent":
            group, title = ("percent",), "0-100 scale"
        elif kind == "unit":
            group, title = ("unit",), "0-1 scale"
        elif kind == "judge" and span is not None:
            group, title = ("judge", span), f"judge grades ({span[0]:g}-{span[1]:g})"
        else:
            group, title = (kind, key), key + (" (lower is better)" if lower_is_better(key) else "")
        panels.setdefault(group, (title, []))[1].append(key)
    order = sorted(panels, key=lambda g: (_PANEL_ORDER.get(g[0], 9), keys.index(panels[g][1][0])))
    return [panels[g] for g in order]


def plot_metric_panels(
    systems: Mapping[str, Mapping[str, Any]],
    path: str | Path | None = None,
    *,
    scales: Scales | None = None,
    title: str | None = None,
    max_row_width: float = 14.0,
) -> bytes:
    """Grouped bar charts (bars = systems, groups = metric keys) with CIs as error bars; returns PNG bytes.

    Keys on one scale share a panel and its axis: 0-1 keys (ROUGE, pass rates ...) on a fixed 0-1
    axis, 0-100 keys (BLEU, chrF), a judge's grades on its own range; perplexity and keys of no known
    range get a panel each. Lower-is-better keys are marked with an arrow.

    Args:
        systems: system name -> metric key -> float or ``MetricValue`` (with ``ci_low``/``ci_high``).
        path: also write the PNG there (atomically).
        scales: key -> ``(kind, range)`` as returned by :func:`~domainft.evaluation.report.metric_scale`
            (``EvaluationReport.metric_scales()``); missing keys are guessed from their name and values.
        title: figure title.
        max_row_width: width in inches at which panels wrap to a new row.
    """
    system_names = list(systems)
    panels = metric_panels(systems, scales)
    if not system_names or not panels:
        raise ValueError("plot_metric_panels: nothing to plot (no systems or no metrics)")
    n_sys = len(system_names)
    colours = [f"C{i % 10}" for i in range(n_sys)]
    widths = [max(2.6, 0.8 + len(keys) * (0.32 * n_sys + 0.3)) for _, keys in panels]
    rows: list[list[int]] = [[]]
    for i, width in enumerate(widths):
        if rows[-1] and sum(widths[j] for j in rows[-1]) + width > max_row_width:
            rows.append([])
        rows[-1].append(i)
    fig_w = max(sum(widths[j] for j in row) for row in rows)
    fig = agg_figure((fig_w, 3.0 * len(rows) + 0.5 + (0.3 if title else 0.0)))
    fig.set_layout_engine("constrained")
    outer = fig.add_gridspec(len(rows), 1)
    for r, row in enumerate(rows):
        used = sum(widths[j] for j in row)
        ratios = [widths[j] for j in row] + ([fig_w - used] if fig_w - used > 0.05 else [])
        inner = outer[r].subgridspec(1, len(ratios), width_ratios=ratios)
        for c, p in enumerate(row):
            _draw_panel(fig.add_subplot(inner[0, c]), panels[p], systems, system_names, colours, scales)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=colours[i], edgecolor="black", linewidth=0.5) for i in range(n_sys)]
    fig.legend(
        handles, system_names, loc="outside upper center", ncol=min(n_sys, 6), fontsize=8, frameon=False
    )
    if title:
        fig.suptitle(title, fontsize=11)
    return figure_png(fig, path)


def _draw_panel(
    ax: Any,
    panel: tuple[str, list[str]],
    systems: Mapping[str, Mapping[str, Any]],
    system_names: list[str],
    colours: list[str],
    scales: Scales | None,
) -> None:
    title, keys = panel
    n_sys = len(system_names)
    width = 0.8 / n_sys
    heights: list[float] = []
    lows: list[float] = [0.0]
    tops: list[float] = [0.0]
    bars: list[tuple[float, float, float]] = []
    for i, system in enumerate(system_names):
        xs, hs, err_x, err_y, err_lo, err_hi = [], [], [], [], [], []
        for j, key in enumerate(keys):
            if key not in systems[system]:
                continue
            value, low, high = _unpack(systems[system][key])
            x = j + (i - (n_sys - 1) / 2) * width
            xs.append(x)
            hs.append(value)
            top = max(value, high if high is not None else value)
            bars.append((x, value, top))
            tops.append(top)
            lows.append(min(value, low if low is not None else value))
            if low is not None or high is not None:
                err_x.append(x)
                err_y.append(value)
                err_lo.append(value - low if low is not None else 0.0)
                err_hi.append(high - value if high is not None else 0.0)
        heights.extend(hs)
        ax.bar(xs, hs, width=width * 0.92, color=colours[i], edgecolor="black", linewidth=0.5)
        if err_x:
            ax.errorbar(err_x, err_y, yerr=[err_lo, err_hi], fmt="none", ecolor="black", capsize=3, lw=1)
    lowest, highest = min(lows), max(tops)
    kind, span = (scales or {}).get(keys[0], metric_scale(keys[0], heights))
    if title == "0-1 scale":
        lowest, highest = min(lowest, 0.0), max(highest, 1.0)
    elif kind == "judge" and span is not None:
        lowest, highest = min(lowest, 0.0), max(highest, span[1])
    span_y = (highest - lowest) or 1.0
    ax.set_ylim(lowest - (0.08 * span_y if lowest < 0 else 0.0), highest + 0.14 * span_y)
    if len(bars) <= 12:
        fmt = "{:.3f}" if max((abs(h) for h in heights), default=0.0) <= 1.0 else "{:.1f}"
        for x, h, top in bars:
            ax.annotate(
                fmt.format(h),
                (x, max(top, 0.0)),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
            )
    ax.set_title(title, fontsize=10)
    ax.set_xticks(range(len(keys)))
    labels = [k + (" \u2193" if lower_is_better(k) else "") for k in keys]
    rotate = len(keys) > 3
    ax.set_xticklabels(labels, rotation=30 if rotate else 0, ha="right" if rotate else "center", fontsize=8)
    ax.set_xlim(-0.6, len(keys) - 0.4)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
