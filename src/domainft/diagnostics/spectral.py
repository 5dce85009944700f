"""Spectral metrics of one weight matrix, computed by the ``weightwatcher`` library.

weightwatcher fits a power law to the tail of the empirical spectral density (the eigenvalues of
``WᵀW``) of a weight matrix. Its heavy-tailed self-regularisation theory reads the exponent ``alpha``
as a sign of how well trained a layer is: roughly 2 to 6 for a well-trained layer, above 6
under-trained (close to random), below 2 over-trained (a few large directions dominate). This module
runs that analysis on one dense matrix at a time, quietly (the library prints and logs at import and
while fitting), and returns plain floats.

Examples:
    >>> import torch
    >>> from domainft.diagnostics.spectral import SPECTRAL_METRICS, spectral_metrics
    >>> metrics = spectral_metrics(torch.randn(128, 64, generator=torch.Generator().manual_seed(0)))
    >>> sorted(metrics) == sorted(SPECTRAL_METRICS + ("flag", "num_evals"))
    True
    >>> metrics["alpha"] > 0 and metrics["flag"] in ("ok", "under-trained", "over-trained")
    True
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
from functools import cache
from typing import Any

from domainft.errors import ModelError

#: The per-matrix numbers reported (weightwatcher's names; ``spectral_norm`` is the largest eigenvalue
#: of ``WᵀW``, i.e. the squared largest singular value).
SPECTRAL_METRICS = ("alpha", "alpha_weighted", "spectral_norm", "stable_rank", "log_norm")
#: The flag of a matrix weightwatcher could not fit (fewer eigenvalues than ``min_evals``, too large).
NOT_FITTED = "not fitted"
OK = "ok"


@cache
def weightwatcher() -> Any:
    """The ``weightwatcher`` module, imported quietly once (it logs its SVD backend at import)."""
    logger = logging.getLogger("weightwatcher")
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import weightwatcher as ww
    except ImportError as exc:
        raise ModelError(
            f"the layer report needs weightwatcher ({exc}); "
            "install it with pip install 'domainft[diagnostics]'"
        ) from None
    logger.setLevel(logging.ERROR)  # the module sets its own level at import
    return ww


def trained_range() -> tuple[float, float]:
    """The alpha range weightwatcher considers well trained: (over-trained below, under-trained above)."""
    constants = weightwatcher().constants
    return float(constants.OVER_TRAINED_THRESH), float(constants.UNDER_TRAINED_THRESH)


def spectral_metrics(weight: Any, *, min_evals: int = 8, max_rows: int | None = None) -> dict[str, Any]:
    """weightwatcher's metrics of one dense 2-D ``weight`` (a torch tensor or numpy array).

    Returns ``alpha``, ``alpha_weighted``, ``spectral_norm``, ``stable_rank``, ``log_norm`` (floats),
    ``num_evals`` and ``flag``: ``"ok"``, ``"under-trained"`` or ``"over-trained"`` as weightwatcher
    classifies alpha, or ``"not fitted"`` (metrics None) when the matrix has fewer than ``min_evals``
    eigenvalues or more than ``max_rows`` rows (None: no limit).
    """
    ww = weightwatcher()
    shape = tuple(weight.shape)
    if len(shape) != 2:
        raise ModelError(f"spectral_metrics expects a 2-D weight matrix, got shape {shape}")
    empty = {key: None for key in SPECTRAL_METRICS}
    if min(shape) < min_evals or (max_rows is not None and max(shape) > max_rows):
        return {**empty, "num_evals": min(shape), "flag": NOT_FITTED}
    # weightwatcher's own size limits are lifted: the caller's limits were checked above
    wide = max(*shape, ww.constants.DEFAULT_MAX_N) + 1
    with contextlib.redirect_stdout(io.StringIO()):  # the power-law fit prints its progress
        frame = ww.WeightWatcher().analyze(
            model={"matrix.weight": weight}, min_evals=min_evals, max_evals=wide, max_N=wide, plot=False
        )
    if len(frame) == 0:
        return {**empty, "num_evals": min(shape), "flag": NOT_FITTED}
    row = frame.iloc[0]
    values = {key: float(row[key]) for key in SPECTRAL_METRICS}
    if not all(math.isfinite(v) for v in values.values()):
        return {**empty, "num_evals": int(row["num_evals"]), "flag": NOT_FITTED}
    return {**values, "num_evals": int(row["num_evals"]), "flag": str(row["warning"]) or OK}
