"""Loss curves of a run, drawn from the trainer's log history."""

from __future__ import annotations

from collections.abc import Sequence
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


def plot_loss_curves(
    log_history: list[dict[str, Any]],
    path: str | Path,
    title: str = "Loss",
    metrics: Sequence[str] = (),
) -> Path:
    """Write a PNG of training and validation loss against optimizer steps.

    ``metrics`` (log keys such as ``eval_rougeL``) add a second panel with the generation metrics.
    """
    series = loss_series(log_history)
    extra = {m: [(float(e.get("step", 0)), float(e[m])) for e in log_history if m in e] for m in metrics}
    extra = {m: points for m, points in extra.items() if points}
    fig = agg_figure((10.8, 4.0) if extra else (6.4, 4.0))
    ax = fig.add_subplot(1, 2, 1) if extra else fig.add_subplot()
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
    if extra:
        gen = fig.add_subplot(1, 2, 2)
        for name, points in extra.items():
            xs, ys = zip(*points, strict=True)
            gen.plot(xs, ys, "o-", label=name.removeprefix("eval_"))
        gen.set_xlabel("optimizer step")
        gen.set_ylabel("score on validation generations")
        gen.set_title("Generation metrics")
        gen.grid(alpha=0.3)
        gen.legend()
    fig.tight_layout()
    figure_png(fig, path)
    return Path(path)
