"""The training benchmark runs end to end on a tiny model (no timings are asserted: benchmarks are not tests)."""

import pytest

from tests.benchmarks import run_smoke


@pytest.mark.slow
def test_every_variant_learns_the_same_supervised_tokens(tmp_path):
    _, report = run_smoke("training", tmp_path, timeout=600)
    results = report["results"]
    assert set(results) == {"transformers", "trl-padding-free", "trl-packing", "domainft"}
    assert len({r["supervised_tokens"] for r in results.values()}) == 1
    assert (
        results["transformers"]["padding_fraction"] > 0
        and results["trl-padding-free"]["padding_fraction"] == 0
    )
    assert all(r["heldout_loss"] > 0 and r["tokens_per_s"] > 0 for r in results.values())
    assert set(report["ratios"]) == {"vs_baseline_a", "vs_baseline_b"}
    assert report["machine"]["commit"] is None or len(report["machine"]["commit"]) >= 12
