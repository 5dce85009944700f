"""Small numeric helpers shared by the run records (manifest, sweep tables)."""

from __future__ import annotations

import math
from typing import Any


def finite_or_none(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing or not finite (never NaN in a manifest).

    Examples:
        >>> finite_or_none("0.5"), finite_or_none(float("nan")), finite_or_none(None)
        (0.5, None, None)
    """
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
