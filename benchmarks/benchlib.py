"""Shared plumbing of the benchmark scripts: machine description, result files, tables, timing.

Every script imports it as ``from benchlib import ...`` (scripts run as ``python benchmarks/<name>.py``,
which puts this folder on ``sys.path``). Results go to ``benchmarks/results/<name>.json`` with the
machine, the date and the commit, so a number is never separated from where it was measured.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
REPO = HERE.parent
#: The machinery tickets every training and generation benchmark uses.
MACHINERY_CSV = REPO / "examples" / "machinery" / "data" / "tickets.csv"

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def set_offline() -> None:
    """Never reach a model hub, whatever the caller's environment says."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def git_commit() -> str | None:
    """The checked-out commit, with ``+dirty`` when tracked files changed; None outside a checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def cpu_model() -> str:
    """The CPU's marketing name (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: str = "cpu") -> dict[str, Any]:
    """Where a result was measured: hardware, library versions, date and commit."""
    info: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": git_commit(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cpu_count": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "device": device,
        "versions": {
            p: _version(p) for p in ("torch", "transformers", "peft", "trl", "accelerate", "bitsandbytes")
        },
    }
    if device.startswith("cuda"):
        import torch

        props = torch.cuda.get_device_properties(torch.device(device))
        info["gpu"] = {"name": props.name, "memory_gb": round(props.total_memory / 2**30, 1)}
    else:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    return info


def write_result(
    name: str, payload: dict[str, Any], *, device: str = "cpu", output: str | None = None
) -> Path:
    """Write ``payload`` with the machine description to ``benchmarks/results/<name>.json`` (or ``output``).

    GPU runs go to ``<name>_cuda.json`` so a CPU run never overwrites them.
    """
    default = RESULTS / (f"{name}.json" if device == "cpu" else f"{name}_{device.split(':')[0]}.json")
    path = Path(output) if output else default
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(
        json.dumps({"benchmark": name, "machine": machine_info(device), **payload}, indent=2) + "\n"
    )
    tmp.replace(path)
    return path


def _cell(value: Any, spec: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and spec:
        return format(value, spec)
    return str(value)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, str]]) -> str:
    """A plain-text table; ``columns`` are ``(key, header, format spec)``.

    Examples:
        >>> print(table([{"a": "x", "b": 1.5}], [("a", "name", ""), ("b", "value", ".2f")]))
        name  value
        x      1.50
    """
    cells = [[header for _, header, _ in columns]]
    cells += [[_cell(row.get(key), spec) for key, _, spec in columns] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = []
    for r in cells:
        first = r[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        lines.append("  ".join([first, *rest]).rstrip())
    return "\n".join(lines)


def verdict(value: float | None, target: float, *, higher_is_better: bool = True) -> str:
    """``ok`` or ``MISSED`` for a value against its target."""
    if value is None:
        return "n/a"
    hit = value >= target if higher_is_better else value <= target
    return "ok" if hit else "MISSED"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """``with stopwatch() as t: ...`` then ``t["seconds"]``."""
    result: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - start


def run_child(argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float | None = None) -> Any:
    """Run ``python argv...`` in a fresh process and return the JSON object it printed last.

    Each measured variant runs alone in its own process, so its peak RSS and its warm caches are its own.
    """
    completed = subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **OFFLINE_ENV, **(env or {})},
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"benchmark child {' '.join(argv)} failed (exit {completed.returncode}):\n"
            + completed.stderr[-4000:]
        )
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(
        f"benchmark child {' '.join(argv)} printed no JSON result:\n{completed.stdout[-2000:]}"
    )


# ------------------------------------------------------------------------------------ shared model and data

#: The benchmark model: a Llama of about 30M parameters (random init) with a BPE vocabulary trained on
#: the tickets. Every CPU benchmark that needs a model uses this one.
BENCH_MODEL: dict[str, Any] = {
    "architecture": "llama",
    "vocab_size": 4096,
    "hidden_size": 512,
    "intermediate_size": 1408,
    "num_hidden_layers": 8,
    "num_attention_heads": 8,
    "num_key_value_heads": 8,
    "max_position_embeddings": 1024,
    "seed": 0,
}


def machinery_pairs() -> list[dict[str, str]]:
    """Prompt/response pairs from the machinery tickets: the problem asked, the repair report answered.

    Answers run from one sentence to a full report, so batches of them are naturally ragged.
    """
    import csv

    with MACHINERY_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    pairs = []
    for row in rows:
        problem = (row.get("problem") or "").strip()
        parts = [(row.get(k) or "").strip() for k in ("found_condition", "work_performed", "cause")]
        if not problem or not any(parts):
            continue
        machine = (row.get("machine_type") or "machine").strip()
        prompt = f"Machine: {machine}. Problem: {problem} What should the technician check and do?"
        response = " ".join(p for p in (f"Found: {parts[0]}", f"Work: {parts[1]}", f"Cause: {parts[2]}") if p)
        pairs.append({"prompt": prompt, "response": response})
    return pairs


def build_bench_model(workdir: str | Path, **overrides: Any) -> Path:
    """Build (once per folder) the benchmark model; returns its folder."""
    from domainft import build_tiny_model

    out = Path(workdir) / "bench-model"
    if (out / "config.json").exists():
        return out
    texts = [p["prompt"] + " " + p["response"] for p in machinery_pairs()]
    return build_tiny_model(texts, out, **{**BENCH_MODEL, **overrides})


# ---------------------------------------------------------------------------------------------- GPU mode

#: Real architectures for ``--device cuda``, from their published configs; built with random weights
#: (no download), which costs the same compute and memory as the real ones.
GPU_ARCHS: dict[str, dict[str, Any]] = {
    "llama-2-7b": {
        "model_type": "llama",
        "hidden_size": 4096,
        "intermediate_size": 11008,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "vocab_size": 32000,
        "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
    },
    # Mistral-7B v0.1: grouped-query attention (8 KV heads) and a 4,096-token sliding window.
    "mistral-7b": {
        "model_type": "mistral",
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "vocab_size": 32000,
        "max_position_embeddings": 32768,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "sliding_window": 4096,
    },
}


def arch_config(arch: str, **overrides: Any) -> Any:
    """The transformers config of a :data:`GPU_ARCHS` entry, with ``overrides`` applied."""
    from transformers import AutoConfig

    fields = {**GPU_ARCHS[arch], **overrides}
    return AutoConfig.for_model(fields.pop("model_type"), **fields)


def sync(device: str) -> None:
    """Wait for queued GPU work (a no-op on CPU), so wall times cover it."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def matmul_peak_tflops(device: str, dtype: Any = None, n: int = 8192, iters: int = 30) -> float:
    """Measured dense matmul throughput (TFLOP/s) of ``dtype`` (default bf16) on ``device``: the
    denominator of model FLOPs utilisation."""
    import torch

    dtype = dtype or torch.bfloat16
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(5):
        a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        a @ b
    sync(device)
    return 2 * n**3 * iters / (time.perf_counter() - start) / 1e12
