"""Smoke test of benchmarks/bench_memory.py: two tiny LoRA configurations planned and measured.

Timings are never asserted. The checks are the result's structure, the parts the planner counts exactly
(weights, gradients, optimizer states) and that no plan is far below its measured peak.
"""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks import run_smoke


def test_bench_memory_smoke(tmp_path: Path) -> None:
    stdout, result = run_smoke("memory", tmp_path, "--threads", "1")
    assert "plan/meas" in stdout and "mean |error|" in stdout
    assert result["benchmark"] == "memory" and result["smoke"] is True
    assert result["machine"]["device"] == "cpu"
    assert result["measured_with"] == "TensorMemoryTracker"
    assert result["targets"] == {"max_abs_error": 0.15, "max_under_estimate": 0.10}
    assert result["checks"] == {
        "weights_exact": True,
        "gradients_exact": True,
        "optimizer_states_within_1pct": True,
        "adapters_got_gradients": True,
    }
    summary = result["summary"]
    assert summary["configs"] == summary["measured"] == 2 and summary["failed"] == []
    rows = result["rows"]
    assert [r["case"]["checkpointing"] for r in rows] == [False, True]
    for row in rows:
        parts = row["plan"]["parts"]
        assert row["plan"]["total_bytes"] == sum(parts.values())
        assert parts["overhead"] == 0  # tensors only, as measured
        measured = row["measured"]
        assert len(measured["steps"]) == 2
        assert measured["optimizer_states"] > 0  # the second step ran with the AdamW states
        assert measured["peak_tensors"] >= measured["weights_frozen"] + measured["weights_trainable"]
        assert row["ratio"] == row["plan"]["total_bytes"] / measured["peak_tensors"]
        assert row["error_pct"] >= -100 * result["targets"]["max_under_estimate"]
        assert row["verdict"] in ("ok", "MISSED")
        assert set(row["components"]) == {
            "weights",
            "optimizer_states",
            "gradients",
            "forward_kept",
            "step_transient",
        }
    assert rows[1]["components"]["forward_kept"]["planned"] is None  # not comparable with checkpointing
