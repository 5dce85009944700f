"""The run manifest: what was trained, on what data, with which library versions."""

from __future__ import annotations

import platform
import time
from typing import Any

from domainft.utils.versions import library_versions


def dataset_fingerprints(datasets: Any) -> dict[str, dict[str, Any]]:
    """Row count and ``datasets`` fingerprint of every split."""
    out: dict[str, dict[str, Any]] = {}
    for split, ds in datasets.items():
        out[split] = {"rows": len(ds), "fingerprint": getattr(ds, "_fingerprint", None)}
    return out


def build_manifest(**sections: Any) -> dict[str, Any]:
    """A manifest dict with a timestamp, the machine, library versions and the given sections."""
    import torch

    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "platform": platform.platform(),
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
            "torch_threads": torch.get_num_threads(),
        },
        "versions": library_versions(),
        **sections,
    }
