"""Smoke test of benchmarks/bench_metrics.py: tiny sizes, checks the result's structure and correctness.

Timings are never asserted; the checks are the library's agreement with rouge_score/sacrebleu and the
bootstrap interval's sanity.
"""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks import run_smoke


def test_bench_metrics_smoke(tmp_path: Path) -> None:
    _, result = run_smoke("metrics", tmp_path, "--threads", "1")
    assert result["benchmark"] == "metrics" and result["smoke"] is True
    settings = result["settings"]
    assert settings["pairs"] == 120 and settings["resamples"] == 200
    assert sum(settings["prediction_kinds"].values()) == 120
    assert len(settings["prediction_kinds"]) >= 6  # a realistic mix, not one kind of answer
    checks = result["checks"]
    for key in (
        "rouge_matches_baseline_on_ascii_pairs",
        "bleu_matches_baseline",
        "resample_bleu_exact",
        "bleu_ci_brackets_corpus_bleu",
        "bleu_ci_agrees_with_baseline",
    ):
        assert checks[key] is True, key
    assert checks["ascii_pairs"] + checks["non_ascii_pairs"] == 120
    library = result["library"]
    bleu = library["values"]["bleu"]
    low, high = library["ci"]["bleu"]
    assert 0 < low <= bleu <= high < 100
    assert all(0 <= library["values"][k] <= 1 for k in ("rouge1", "rouge2", "rougeL", "rougeLsum"))
    assert set(library["stages"]) >= {
        "tokenize_rouge_s",
        "tokenize_bleu_s",
        "rouge_s",
        "bleu_s",
        "bootstrap_s",
    }
    assert result["baseline"]["extrapolated"] is True
    assert result["verdict"] in ("ok", "MISSED")
    assert result["target"] == {"library_seconds_below": 10.0}
