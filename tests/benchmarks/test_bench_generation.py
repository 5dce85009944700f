"""Smoke test of benchmarks/bench_generation.py: tiny sizes, checks the result's structure and correctness.

Timings are never asserted (benchmarks are not tests); only that the script runs, writes its JSON and
finds the engine's greedy answers identical to the one-by-one baseline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.benchmarks import run_smoke


def _run(tmp_path: Path, *extra: str) -> dict:
    stdout, result = run_smoke("generation", tmp_path, "--threads", "1", *extra)
    assert "identical greedy answers: 6/6" in stdout
    return result


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
