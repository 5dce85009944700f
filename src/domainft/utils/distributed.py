"""Process helpers for runs started by ``accelerate launch`` or ``torchrun`` (one process per device)."""

from __future__ import annotations

import os


def is_main_process() -> bool:
    """True on the process that writes shared files: global rank 0, or the only process.

    Examples:
        >>> is_main_process()
        True
    """
    return int(os.environ.get("RANK", "0")) == 0
