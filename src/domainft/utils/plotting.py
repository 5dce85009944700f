"""Off-screen (Agg) matplotlib figures without pyplot, so plotting never changes a notebook's backend."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from domainft.utils.io import atomic_write_bytes


def agg_figure(figsize: tuple[float, float], dpi: int = 110) -> Any:
    """A ``Figure`` with its own Agg canvas (no pyplot global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Any, path: str | Path | None = None) -> bytes:
    """Render ``fig`` to PNG bytes (no timestamp metadata); also write them atomically to ``path``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    png = buf.getvalue()
    if path is not None:
        atomic_write_bytes(path, png)
    return png
