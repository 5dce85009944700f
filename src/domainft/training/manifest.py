"""The run manifest: what was trained, on what data and hardware, with which library versions and code."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from domainft.utils.privacy import scrub
from domainft.utils.versions import library_versions


def dataset_fingerprints(datasets: Any) -> dict[str, dict[str, Any]]:
    """Row count and ``datasets`` fingerprint of every split."""
    out: dict[str, dict[str, Any]] = {}
    for split, ds in datasets.items():
        out[split] = {"rows": len(ds), "fingerprint": getattr(ds, "_fingerprint", None)}
    return out


def git_state(path: str | Path = ".") -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the git work tree holding ``path``, or None outside one.

    Examples:
        >>> state = git_state("/")
        >>> state is None or len(state["commit"]) == 40
        True
    """

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=path, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status)}


def hardware() -> dict[str, Any]:
    """The machine: platform, CPU count, torch threads and every visible GPU with its memory."""
    import torch

    gpus = [
        {
            "name": torch.cuda.get_device_name(i),
            "memory_gb": round(torch.cuda.get_device_properties(i).total_memory / 2**30, 2),
        }
        for i in range(torch.cuda.device_count())
    ]
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": gpus[0]["name"] if gpus else "cpu",
        "gpus": gpus,
    }


class PeakMemory:
    """Peak memory of a stretch of work: CUDA allocated bytes on a GPU, the process's peak RSS on a CPU.

    The CPU figure is the peak resident size of the whole process so far (the OS keeps no resettable
    peak), so it includes what was loaded before training.

    Examples:
        >>> with PeakMemory() as peak:
        ...     _ = bytearray(10_000_000)
        >>> peak.kind in ("cuda_max_allocated", "process_peak_rss") and peak.megabytes > 9
        True
    """

    def __init__(self) -> None:
        self.kind: str | None = None
        self.megabytes: float | None = None

    def __enter__(self) -> PeakMemory:
        import torch

        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        return self

    def __exit__(self, *exc: object) -> None:
        import torch

        if torch.cuda.is_available():
            self.kind = "cuda_max_allocated"
            self.megabytes = torch.cuda.max_memory_allocated() / 2**20
            return
        try:
            import resource
        except ImportError:  # Windows
            return
        self.kind = "process_peak_rss"
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, KiB elsewhere
        self.megabytes = peak / 2**20 if sys.platform == "darwin" else peak / 1024


def build_manifest(**sections: Any) -> dict[str, Any]:
    """A manifest dict with a timestamp, the machine, library versions, the git commit and ``sections``.

    The values of secret environment variables (``*_API_KEY``, ``*_TOKEN``...; see
    :func:`domainft.utils.privacy.secret_env_values`) are replaced by ``***`` wherever they appear.
    """
    manifest = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": hardware(),
        "versions": library_versions(),
        "git": git_state(),
        **sections,
    }
    return scrub(manifest)
