"""Smoke tests of the scripts in benchmarks/: each runs once at tiny sizes in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_smoke(name: str, tmp_path: Path, *extra: str, timeout: int = 120) -> tuple[str, dict[str, Any]]:
    """Run ``benchmarks/bench_<name>.py --smoke`` offline; returns its stdout and the JSON it wrote."""
    out = tmp_path / f"{name}.json"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"bench_{name}.py"), "--smoke", "--output", str(out), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout, json.loads(out.read_text())
