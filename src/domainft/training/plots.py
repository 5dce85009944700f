"""Loss curves of a run, drawn from the trainer's log history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domainft.utils.plotting import agg_figure, figure_png


def loss_series(log_history: list[dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    """``{"train": [(step, loss)...], "validation": [(step, loss)...]}`` from ``state.log_history``."""
    series: dict[str, list[tuple[float, float]]] = {"train": [], "validation": []}
    for entry in log_history:
        step = float(entry.get("step", 0))
        if "loss" in entry:
            series["train"].append((step, float(entry["loss"])))
        if "eval_loss" in entry:
            series["validation"].append((step, float(entry["eval_loss"])))
    return series


def plot_loss_curves(log_history: list[dict[str, Any]], path: str | Path, title: str = "Loss") -> Path:
    """Write a PNG of training and validation loss against optimizer steps."""
    series = loss_series(log_history)
    fig = agg_figure((6.4, 4.0))
    ax = fig.add_subplot()
    for name, style in (("train", "-"), ("validation", "o-")):
        points = series[name]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, style, label=f"{name} loss")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss per supervised token")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if any(series.values()):
        ax.legend()
    fig.tight_layout()
    figure_png(fig, path)
    return Path(path)
