"""Charts and the HTML page of a :class:`~domainft.diagnostics.layer_report.LayerReport`.

``alpha_chart``: one panel per kind of matrix (``q_proj``, ``down_proj`` ...) with alpha per block for
the base and the tuned model, the well-trained range shaded; matrices outside the blocks (embeddings,
``lm_head``) share a last panel. ``change_chart``: a heat map of the relative update per block and kind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from domainft.utils.plotting import agg_figure, figure_png
from domainft.utils.report_files import escape as _esc
from domainft.utils.report_files import img_tag

if TYPE_CHECKING:  # pragma: no cover
    from domainft.diagnostics.layer_report import LayerReport

_STYLE = {"base": ("C0", "o"), "tuned": ("C3", "s")}
_FLAG_CLASS = {"under-trained": "under", "over-trained": "over", "not fitted": "muted"}


def _kinds(report: LayerReport) -> list[str]:
    return list(dict.fromkeys(r["kind"] for r in report.rows if r["block"] is not None))


def _outside_blocks(report: LayerReport) -> list[dict[str, Any]]:
    return [r for r in report.rows if r["block"] is None]


def alpha_chart(report: LayerReport) -> bytes:
    """PNG: alpha per block for each kind of matrix, base and tuned, the well-trained range shaded."""
    from matplotlib.ticker import MaxNLocator

    low, high = report.meta.get("trained_range", (2.0, 6.0))
    kinds = _kinds(report)
    others = _outside_blocks(report)
    panels = len(kinds) + (1 if others else 0)
    ncols = min(4, max(1, panels))
    nrows = -(-panels // ncols)
    fig = agg_figure((3.6 * ncols, 2.7 * nrows + 0.5))
    axes = [fig.add_subplot(nrows, ncols, k + 1) for k in range(panels)]
    for ax, kind in zip(axes, kinds, strict=False):
        rows = [r for r in report.rows if r["kind"] == kind and r["block"] is not None]
        for system in report.systems:
            color, marker = _STYLE[system]
            points = [(r["block"], r[f"{system}_alpha"]) for r in rows if r[f"{system}_alpha"] is not None]
            if not points:
                continue
            ax.scatter(*zip(*points, strict=True), s=14, color=color, marker=marker, alpha=0.7, label=system)
            per_block: dict[int, list[float]] = defaultdict(list)
            for block, alpha in points:
                per_block[block].append(alpha)
            blocks = sorted(per_block)
            ax.plot(blocks, [sum(per_block[b]) / len(per_block[b]) for b in blocks], color=color, lw=1)
        ax.set_title(kind, fontsize=10)
        ax.set_xlabel("block", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if others:
        ax = axes[-1]
        labels = [r["name"].rsplit(".", 1)[-1] for r in others]
        for offset, system in ((-0.12, "base"), (0.12, "tuned")):
            if system not in report.systems:
                continue
            color, marker = _STYLE[system]
            alphas = [(k + offset, r[f"{system}_alpha"]) for k, r in enumerate(others)]
            points = [(x, alpha) for x, alpha in alphas if alpha is not None]
            if points:
                ax.scatter(*zip(*points, strict=True), s=22, color=color, marker=marker, label=system)
        ax.set_xticks(range(len(others)), labels, fontsize=7, rotation=20)
        ax.set_title("outside the blocks", fontsize=10)
    for ax in axes:
        ax.axhspan(low, high, color="C2", alpha=0.08, lw=0)
        ax.axhline(low, color="C2", lw=0.6, ls="--")
        ax.axhline(high, color="C2", lw=0.6, ls="--")
        ax.set_ylabel("alpha", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.25)
        ax.spines[["top", "right"]].set_visible(False)
    labelled = [ax for ax in axes if ax.get_legend_handles_labels()[0]]
    if labelled:
        labelled[0].legend(fontsize=7, frameon=False)
    fig.suptitle(
        f"Power-law alpha per layer (shaded: weightwatcher's well-trained range {low:g}-{high:g})",
        fontsize=10,
    )
    fig.tight_layout()
    return figure_png(fig)


def change_chart(report: LayerReport) -> bytes:
    """PNG: relative update ``‖ΔW‖/‖W‖`` per block (rows) and kind (columns), mean over experts;
    matrices the adapter leaves alone are grey."""
    import matplotlib
    import numpy as np

    kinds = _kinds(report)
    blocks = sorted({r["block"] for r in report.rows if r["block"] is not None})
    grid = np.full((len(blocks), len(kinds)), np.nan)
    cells: dict[tuple[int, int], list[float]] = defaultdict(list)
    for r in report.rows:
        if r["block"] is not None and r["adapted"] and r.get("relative_change") is not None:
            cells[(blocks.index(r["block"]), kinds.index(r["kind"]))].append(r["relative_change"])
    for (i, j), values in cells.items():
        grid[i, j] = sum(values) / len(values)
    fig = agg_figure((1.0 + 0.75 * max(1, len(kinds)), 1.2 + 0.28 * max(1, len(blocks))))
    ax = fig.add_subplot(1, 1, 1)
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#e6e6e6")
    image = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap=cmap, interpolation="nearest")
    ax.set_xticks(range(len(kinds)), kinds, fontsize=7, rotation=30, ha="right")
    step = max(1, len(blocks) // 16)
    ax.set_yticks(range(0, len(blocks), step), [str(b) for b in blocks[::step]], fontsize=7)
    ax.set_ylabel("block", fontsize=8)
    colorbar = fig.colorbar(image, ax=ax)
    colorbar.ax.tick_params(labelsize=7)
    colorbar.set_label("‖ΔW‖ / ‖W‖", fontsize=8)
    ax.set_title("Size of the update per layer (grey: not adapted)", fontsize=10)
    fig.tight_layout()
    return figure_png(fig)


# ------------------------------------------------------------------------------------------ HTML
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1200px;color:#222;
padding:0 1em}
table{border-collapse:collapse;margin:.6em 0;font-size:.86em}
th,td{border:1px solid #ddd;padding:3px 7px}th{background:#f5f5f5;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.under{color:#a15c00;font-weight:600}.over{color:#b00020;font-weight:600}.muted{color:#888}
img{max-width:100%}code{font-size:.9em}
"""


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "<td class='num muted'>–</td>"
    if isinstance(value, int):  # bool too
        return f"<td class='num'>{value}</td>"
    return f"<td class='num'>{value:.{digits}g}</td>"


def _flag(value: str) -> str:
    return f"<td class='{_FLAG_CLASS.get(value, '')}'>{_esc(value)}</td>"


def _brief_table(rows: Sequence[dict[str, Any]]) -> str:
    body = "".join(
        f"<tr><td><code>{_esc(r['name'])}</code></td>{_num(r['relative_change'])}{_num(r['base_alpha'])}"
        f"{_num(r['tuned_alpha'])}{_num(r['alpha_change'])}{_flag(r['base_flag'])}{_flag(r['tuned_flag'])}</tr>"
        for r in rows
    )
    head = "<tr><th>matrix</th><th>‖ΔW‖/‖W‖</th><th>base alpha</th><th>tuned alpha</th><th>Δ alpha</th>"
    return f"<table>{head}<th>base flag</th><th>tuned flag</th></tr>{body}</table>"


def render_html(report: LayerReport) -> str:
    """The whole page: run facts, summary, charts, the matrices changed most, and every matrix."""
    low, high = report.meta.get("trained_range", (2.0, 6.0))
    title = "domainft layer report"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_esc(title)}: {_esc(report.meta.get('model'))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        "<table>",
    ]
    for key in ("model", "adapter", "loaded_as", "device", "weightwatcher_version", "seconds"):
        if report.meta.get(key) is not None:
            parts.append(f"<tr><th>{_esc(key)}</th><td><code>{_esc(report.meta[key])}</code></td></tr>")
    parts.append("</table>")
    parts.append(
        f"<p>weightwatcher fits a power law to the eigenvalues of <code>WᵀW</code> of each weight matrix. "
        f"It reads alpha between {low:g} and {high:g} as well trained, above {high:g} as under-trained "
        f"(close to random) and below {low:g} as over-trained (a few directions dominate). Matrices with "
        f"too few eigenvalues are not fitted.</p>"
    )
    parts.append("<h2>Summary</h2><table><tr><th>system</th><th>mean alpha</th>")
    flags = list(next(iter(report.summary["systems"].values()))["flags"])
    parts.append("".join(f"<th>{_esc(f)}</th>" for f in flags) + "</tr>")
    for system, st in report.summary["systems"].items():
        cells = "".join(_num(st["flags"][f]) for f in flags)
        parts.append(f"<tr><th>{_esc(system)}</th>{_num(st['mean_alpha'])}{cells}</tr>")
    parts.append("</table>")
    if report.tuned:
        s = report.summary
        outside = s["newly_outside"]
        parts.append(
            f"<p>The adapter changes {s['n_adapted']} of {s['n_matrices']} matrices. "
            + (
                f"<span class='over'>{len(outside)} left the well-trained range after fine-tuning.</span>"
                if outside
                else "None left the well-trained range after fine-tuning."
            )
            + "</p>"
        )
        if outside:
            parts.append("<h3>Left the well-trained range</h3>" + _brief_table(outside))
        parts.append("<h3>Changed most (relative size of the update)</h3>" + _brief_table(s["most_changed"]))
        parts.append("<h3>Largest shifts of alpha</h3>" + _brief_table(s["largest_alpha_shifts"]))
    parts.append("<h2>Charts</h2>")
    parts.append(img_tag(report.images.get("alpha_per_layer"), "alpha per layer, base and tuned"))
    parts.append(img_tag(report.images.get("change_per_layer"), "relative update per block and kind"))
    parts.append("<h2>Every matrix</h2><table><tr><th>matrix</th><th>shape</th>")
    metrics = ("alpha", "alpha_weighted", "spectral_norm", "stable_rank")
    for system in report.systems:
        parts.append("".join(f"<th>{_esc(system)} {_esc(m)}</th>" for m in metrics))
        parts.append(f"<th>{_esc(system)} flag</th>")
    if report.tuned:
        parts.append("<th>‖ΔW‖/‖W‖</th>")
    parts.append("</tr>")
    for r in report.rows:
        cells = [f"<td><code>{_esc(r['name'])}</code></td><td>{r['rows']}×{r['cols']}</td>"]
        for system in report.systems:
            cells.extend(_num(r[f"{system}_{m}"]) for m in metrics)
            cells.append(_flag(r[f"{system}_flag"]))
        if report.tuned:
            cells.append(_num(r["relative_change"]))
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table></body></html>\n")
    return "".join(parts)
