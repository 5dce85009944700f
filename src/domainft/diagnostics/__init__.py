"""Diagnostics: the spectral health of a model's layers, base against fine-tuned.

The heavy libraries (torch, weightwatcher) load on first use, so importing this package is cheap.

Examples:
    >>> from domainft.diagnostics import LayerReportConfig, layer_report
    >>> LayerReportConfig().top_n
    5
    >>> layer_report("path/to/base", "runs/x/adapter").summary_text()  # doctest: +SKIP
"""

from __future__ import annotations

from domainft.diagnostics.layer_report import LayerReport, LayerReportConfig, layer_report
from domainft.diagnostics.matrices import WeightMatrix, weight_matrices
from domainft.diagnostics.spectral import spectral_metrics

__all__ = [
    "LayerReport",
    "LayerReportConfig",
    "WeightMatrix",
    "layer_report",
    "spectral_metrics",
    "weight_matrices",
]
