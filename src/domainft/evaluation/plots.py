"""Charts for evaluation reports (matplotlib, Agg, no pyplot global state).

Example:
    >>> from domainft.evaluation.plots import plot_metrics
    >>> png = plot_metrics({"base": {"rouge1": 0.31, "bleu": 12.0}, "tuned": {"rouge1": 0.42, "bleu": 19.5}})
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from domainft.utils.plotting import agg_figure, figure_png

# Metrics on a 0-100 scale: never squeeze them onto a 0-1 axis, even when a score is below 1.
_PERCENT_SCALE_METRICS = frozenset({"bleu", "sacrebleu", "chrf", "chrf++", "ter"})


def _unpack(value: Any) -> tuple[float, float | None, float | None]:
    """Accept a float or anything with ``value``/``ci_low``/``ci_high`` (a ``MetricValue``)."""
    if hasattr(value, "value"):
        return float(value.value), getattr(value, "ci_low", None), getattr(value, "ci_high", None)
    return float(value), None, None


def plot_metrics(
    systems: Mapping[str, Mapping[str, Any]],
    path: str | Path | None = None,
    *,
    title: str | None = None,
    max_cols: int = 5,
) -> bytes:
    """Draw one bar panel per metric (bars = systems) and return the PNG bytes.

    Each metric gets its own y-axis, so BLEU (0-100) and ROUGE (0-1) both stay readable; metrics whose
    values all lie in [0, 1] share a 0-1 axis. Bars start at zero and carry their value; confidence
    intervals, when present, are drawn as error bars.

    Args:
        systems: system name -> metric name -> float or ``MetricValue``.
        path: also write the PNG there (atomically).
        title: figure title.
        max_cols: panels per row.
    """
    system_names = list(systems)
    metric_names: list[str] = []
    for metrics in systems.values():
        metric_names.extend(m for m in metrics if m not in metric_names)
    if not system_names or not metric_names:
        raise ValueError("plot_metrics: nothing to plot (no systems or no metrics)")

    nrows = math.ceil(len(metric_names) / max(1, max_cols))
    ncols = math.ceil(len(metric_names) / nrows)  # balanced rows: 5 metrics -> 1x5, 6 -> 2x3
    panel_w = max(2.6, 0.9 * len(system_names) + 1.2)
    fig = agg_figure((panel_w * ncols, 2.9 * nrows + (0.4 if title else 0.0)))
    colours = [f"C{i % 10}" for i in range(len(system_names))]

    for k, metric in enumerate(metric_names):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        xs, heights, cols, tops = [], [], [], []
        err_x, err_y, err_lo, err_hi = [], [], [], []
        for i, system in enumerate(system_names):
            if metric not in systems[system]:
                continue
            value, ci_low, ci_high = _unpack(systems[system][metric])
            xs.append(i)
            heights.append(value)
            cols.append(colours[i])
            tops.append(max(value, ci_high if ci_high is not None else value))
            if ci_low is not None or ci_high is not None:
                err_x.append(i)
                err_y.append(value)
                err_lo.append(value - ci_low if ci_low is not None else 0.0)
                err_hi.append(ci_high - value if ci_high is not None else 0.0)
        ax.bar(xs, heights, color=cols, edgecolor="black", linewidth=0.5)
        if err_x:
            ax.errorbar(err_x, err_y, yerr=[err_lo, err_hi], fmt="none", ecolor="black", capsize=4, lw=1)
        lowest = min([h - e for h, e in zip(err_y, err_lo, strict=True)] + heights + [0.0])
        highest = max([*tops, 0.0])
        unit_scale = lowest >= 0.0 and highest <= 1.0 and metric.lower() not in _PERCENT_SCALE_METRICS
        if unit_scale:  # ROUGE-like 0-1 metrics share one axis so panels compare at a glance
            lowest, highest = 0.0, 1.0
        span = (highest - lowest) or 1.0
        ax.set_ylim(lowest - (0.1 * span if lowest < 0 else 0.0), highest + 0.12 * span)
        fmt = "{:.3f}" if max((abs(h) for h in heights), default=0.0) <= 1.0 else "{:.1f}"
        for x, h, top in zip(xs, heights, tops, strict=True):
            ax.annotate(
                fmt.format(h),
                (x, max(top, 0.0)),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_title(metric, fontsize=10)
        ax.set_xticks(range(len(system_names)))
        ax.set_xticklabels(
            system_names,
            rotation=30 if len(system_names) > 3 else 0,
            ha="right" if len(system_names) > 3 else "center",
            fontsize=8,
        )
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()

    return figure_png(fig, path)
