"""Smoke test of benchmarks/bench_generation.py: tiny sizes, checks the result's structure and correctness.

Timings are never asserted (benchmarks are not tests); only that the script runs, writes its JSON and
finds the engine's greedy answers identical to the one-by-one baseline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_generation.py"


def _run(tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / "generation.json"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--threads", "1", "--output", str(out), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "identical greedy answers: 6/6" in done.stdout
    return json.loads(out.read_text())


def _check_common(result: dict) -> None:
    assert result["benchmark"] == "generation" and result["smoke"] is True
    assert result["machine"]["device"] == "cpu"
    settings = result["settings"]
    assert settings["prompts"] == 6 and settings["candidate_batch_size"] == 4
    assert settings["template"] == "chat"
    checks = result["checks"]
    assert checks["outputs_identical"] is True
    assert checks["identical_answers"] == 6 and checks["differing_answers"] == 0
    assert checks["prompt_ids_identical"] is True
    assert checks["candidate_runs_identical"] is True
    assert checks["cache_served_all"] is True
    assert result["candidate_cached_rerun"]["cache_hits"] == 6
    assert 0 < result["inputs"]["new_tokens"] <= 6 * settings["max_new_tokens"]
    for side in ("baseline", "candidate", "candidate_cache_fill", "candidate_cached_rerun"):
        assert set(result[side]) >= {"seconds", "prompts_per_s", "new_tokens_per_s"}
        assert result[side]["seconds"] > 0
    assert result["verdict"] in ("ok", "MISSED")
    assert result["target"] == {"speedup_at_least": 8.0}
    assert result["speedup"] == pytest.approx(result["baseline"]["seconds"] / result["candidate"]["seconds"])


def test_bench_generation_smoke(tmp_path: Path) -> None:
    result = _run(tmp_path)
    _check_common(result)
    assert result["settings"]["dtype"] == "float32"
    assert result["model"]["answers_compared_as"] == "decoded text"
    assert "random init" in result["model"]["weights"]


def test_bench_generation_smoke_architecture_path(tmp_path: Path) -> None:
    # The GPU mode's model builder (a shrunk Mistral: grouped KV heads, sliding window, 32k vocabulary) on CPU.
    result = _run(tmp_path, "--arch", "mistral-7b")
    _check_common(result)
    model = result["model"]
    assert result["settings"]["dtype"] == "bfloat16"
    assert model["config"]["vocab_size"] == 32000 and model["config"]["sliding_window"] == 4096
    assert model["config"]["num_key_value_heads"] * 4 == model["config"]["num_attention_heads"]
    assert model["answers_compared_as"] == "token ids"
