"""Statistics of reports: bootstrap intervals, paired tests, Holm, corpus-level resampling of BLEU/chrF."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sacrebleu
from scipy import stats as sps

from domainft.errors import ConfigError
from domainft.evaluation.metrics.lexical import BleuMetric, ChrfMetric
from domainft.evaluation.stats import (
    CorpusStatistic,
    KeyScores,
    StatisticsConfig,
    StatisticsEngine,
    bootstrap_indices,
    holm,
    paired_permutation_pvalue,
    percentile_ci,
    resample_counts,
    resampled_means,
    wilcoxon_pvalue,
)

PREDS = [
    "the hydraulic pump leaks oil at the shaft seal",
    "replace the worn bearing and check the alignment",
    "Thành phố Hồ Chí Minh là thành phố lớn nhất Việt Nam.",
    "reset the controller",
    "",
    "the sensor cable is broken near the connector, replace it",
    "La città di Firenze è famosa per il Rinascimento.",
    "tighten the belt",
]
REFS = [
    "the pump leaks hydraulic oil at the seal of the shaft",
    "replace the bearing, then check the shaft alignment",
    "Hồ Chí Minh là thành phố đông dân nhất Việt Nam.",
    "power-cycle the controller and reset the fault",
    "check the fuse",
    "the cable of the sensor is broken; replace the cable",
    "Firenze è la città del Rinascimento.",
    "tighten or replace the drive belt",
]


def _planted(n: int, seed: int) -> np.ndarray:
    """Scores in [0, 1] around a true mean of 0.4."""
    return np.clip(np.random.default_rng(seed).normal(0.4, 0.2, n), 0.0, 1.0)


# ---------------------------------------------------------------- building blocks
def test_bootstrap_indices_are_seeded() -> None:
    first = bootstrap_indices(50, 200, seed=3)
    assert first.shape == (200, 50) and first.min() >= 0 and first.max() < 50
    assert np.array_equal(first, bootstrap_indices(50, 200, seed=3))
    assert not np.array_equal(first, bootstrap_indices(50, 200, seed=4))
    with pytest.raises(ValueError, match="positive"):
        bootstrap_indices(0, 10)


def test_resampled_means_equal_the_means_of_the_resamples() -> None:
    scores = [0.1, None, 0.7, 0.4, None, 1.0]
    indices = bootstrap_indices(len(scores), 300, seed=0)
    counts = resample_counts(indices)
    assert counts.sum(axis=1).tolist() == [6.0] * 300
    means = resampled_means(scores, indices)
    for row, mean in zip(indices, means, strict=True):
        scored = [scores[i] for i in row if scores[i] is not None]
        if scored:
            assert mean == pytest.approx(sum(scored) / len(scored), abs=1e-12)
        else:
            assert math.isnan(mean)  # a resample without any scored example has no mean
    assert np.array_equal(resampled_means(scores, counts), means, equal_nan=True)


def test_percentile_ci() -> None:
    samples = np.arange(1001) / 1000.0
    assert percentile_ci(samples, 0.5, 0.95) == pytest.approx((0.025, 0.975))
    assert percentile_ci(samples, 0.5, 0.5) == pytest.approx((0.25, 0.75))
    assert percentile_ci([0.3] * 5, 0.3, 0.95) == (0.3, 0.3)
    assert percentile_ci([0.3] * 5, 0.1 + 0.2) == (0.3, 0.1 + 0.2)  # a rounding miss snaps to the estimate
    assert percentile_ci([0.1 + 0.2] * 5, 0.3) == (0.3, 0.1 + 0.2)
    assert percentile_ci([math.nan, 0.4, 0.6], 0.5) == pytest.approx((0.405, 0.595))  # NaN dropped
    assert percentile_ci([math.nan, 0.4], 0.4) == (None, None)  # fewer than two finite samples
    low, high = percentile_ci([1.0, 2.0, 3.0], 10.0)
    assert high < 10.0  # a genuine miss of the estimate is not hidden
    with pytest.raises(ValueError, match="confidence"):
        percentile_ci([1.0, 2.0], 1.0, 1.0)


# ---------------------------------------------------------------- intervals
def test_ci_contains_the_estimate_and_shrinks_with_n() -> None:
    engine_small, engine_large = StatisticsEngine(50), StatisticsEngine(800)
    small, large = _planted(50, 0), _planted(800, 1)
    ci_small = engine_small.interval(KeyScores.build(float(np.mean(small)), small.tolist()))
    ci_large = engine_large.interval(KeyScores.build(float(np.mean(large)), large.tolist()))
    assert ci_small is not None and ci_large is not None
    assert ci_small[0] < np.mean(small) < ci_small[1]
    assert ci_large[0] < np.mean(large) < ci_large[1]
    width_small, width_large = ci_small[1] - ci_small[0], ci_large[1] - ci_large[0]
    assert width_large < width_small / 3  # sqrt(800 / 50) = 4 in theory
    assert 0.08 < width_small < 0.14  # about 2 * 1.96 * sd / sqrt(n)


def test_ci_coverage_is_close_to_nominal() -> None:
    """Over 200 planted data sets the 95% interval holds the true mean about 95% of the time."""
    rng = np.random.default_rng(7)
    engine = StatisticsEngine(60, StatisticsConfig(resamples=500))
    hits = 0
    for _ in range(200):
        scores = (rng.random(60) < 0.3).astype(float)  # pass/fail with true rate 0.3
        low, high = engine.interval(KeyScores.build(float(scores.mean()), scores.tolist()))
        hits += low <= 0.3 <= high
    assert 0.88 <= hits / 200 <= 0.99


def test_intervals_are_reproducible_and_follow_the_seed() -> None:
    scores = _planted(100, 2).tolist()
    key = KeyScores.build(float(np.mean(scores)), scores)
    first = StatisticsEngine(100, StatisticsConfig(seed=5)).interval(key)
    assert first == StatisticsEngine(100, StatisticsConfig(seed=5)).interval(key)
    assert first != StatisticsEngine(100, StatisticsConfig(seed=6)).interval(key)
    assert StatisticsEngine(100, StatisticsConfig(resamples=0)).interval(key) is None


def test_key_kinds_decide_what_can_be_resampled() -> None:
    assert KeyScores.build(0.5, [0.25, None, 0.75]).kind == "mean"  # None left out of the mean
    assert KeyScores.build(0.5, [0.25, None, 0.75]).n_scored == 2
    not_a_mean = KeyScores.build(37.9, [10.0, 20.0])  # e.g. corpus BLEU next to sentence BLEU
    assert not_a_mean.kind is None and StatisticsEngine(2).interval(not_a_mean) is None
    assert KeyScores.build(0.5, None).kind is None
    assert KeyScores.build(0.5, [None, None]).kind is None
    one_scored = KeyScores.build(0.5, [0.5, None, None])
    assert one_scored.kind == "mean" and StatisticsEngine(3).interval(one_scored) is None  # n = 1: no CI


# ---------------------------------------------------------------- paired tests
def test_permutation_test_finds_a_planted_difference_and_not_a_null_one() -> None:
    rng = np.random.default_rng(11)
    a = _planted(120, 3)
    better = np.clip(a + 0.05 + rng.normal(0, 0.1, 120), 0, 1)
    same = np.clip(a + rng.normal(0, 0.1, 120), 0, 1)  # same distribution as a, paired noise only
    assert paired_permutation_pvalue(a, better, 2000, seed=0) < 0.01
    assert paired_permutation_pvalue(a, same, 2000, seed=0) > 0.05
    assert wilcoxon_pvalue(a, better) < 0.01
    assert wilcoxon_pvalue(a, same) > 0.05


def test_permutation_test_false_positive_rate_is_near_alpha() -> None:
    rng = np.random.default_rng(0)
    rejections = 0
    for _ in range(150):
        a, b = rng.random(40), rng.random(40)  # two systems with the same score distribution
        rejections += paired_permutation_pvalue(a, b, 500, seed=int(rng.integers(1 << 30))) < 0.05
    assert rejections / 150 <= 0.11


def test_permutation_p_value_is_never_zero_and_exact_when_small() -> None:
    a, b = np.zeros(200), np.ones(200)
    assert paired_permutation_pvalue(a, b, 999) == pytest.approx(1 / 1000)  # +1 correction
    # three non-zero differences: all 8 sign patterns are enumerated
    d = [0.3, 0.1, 0.2]
    brute = sum(abs(sum(s * x for s, x in zip(signs, d, strict=True))) >= sum(d) - 1e-12
                for signs in itertools.product((1, -1), repeat=3)) / 8  # fmt: skip
    assert paired_permutation_pvalue([0, 0, 0, 5], [0.3, 0.1, 0.2, 5]) == brute == 0.25
    assert paired_permutation_pvalue([1.0, 2.0], [1.0, 2.0]) == 1.0
    # examples scored by only one system are left out of the pairing
    assert paired_permutation_pvalue([0, None, 0], [1, 1, None]) == paired_permutation_pvalue([0], [1]) == 1.0
    with pytest.raises(ValueError, match="pair them"):
        wilcoxon_pvalue([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="pair them"):
        paired_permutation_pvalue([1.0], [1.0, 2.0, 3.0])


def test_wilcoxon_wraps_scipy() -> None:
    a = _planted(30, 4)
    b = np.clip(a + np.random.default_rng(5).normal(0.03, 0.1, 30), 0, 1)
    assert wilcoxon_pvalue(a, b) == pytest.approx(sps.wilcoxon(b - a).pvalue)
    assert wilcoxon_pvalue([0.5] * 5, [0.5] * 5) == 1.0  # all differences zero
    assert wilcoxon_pvalue([0.1, None, 0.2], [0.3, 0.4, None]) == pytest.approx(sps.wilcoxon([0.2]).pvalue)


def test_holm_on_known_values() -> None:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == [1.0, 1.0]  # capped at 1, monotone
    assert holm([0.02]) == [0.02] and holm([]) == []
    adjusted = holm([0.001, 0.2, 0.01, 0.04, 0.03])
    order = np.argsort([0.001, 0.2, 0.01, 0.04, 0.03])
    assert all(np.diff(np.array(adjusted)[order]) >= 0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([1.5])


def test_engine_compare_is_paired_and_uses_the_configured_test() -> None:
    a = _planted(80, 8)
    b = np.clip(a + 0.1, 0, 1)
    ka, kb = KeyScores.build(float(a.mean()), a.tolist()), KeyScores.build(float(b.mean()), b.tolist())
    result = StatisticsEngine(80).compare(ka, kb)
    delta = kb.value - ka.value
    assert result.test == "permutation" and result.p_value == pytest.approx(1 / 2001)
    # the same indices for both systems: the interval of a constant shift is (almost) a point
    assert result.ci_low <= delta <= result.ci_high and result.ci_high - result.ci_low < 0.01
    unpaired = np.quantile(
        StatisticsEngine(80, StatisticsConfig(seed=1)).samples(kb) - StatisticsEngine(80).samples(ka),
        [0.025, 0.975],
    )
    assert unpaired[1] - unpaired[0] > 5 * (result.ci_high - result.ci_low)
    assert StatisticsEngine(80, StatisticsConfig(test="wilcoxon")).compare(ka, kb).test == "wilcoxon"
    none = StatisticsEngine(80, StatisticsConfig(test="none", resamples=0)).compare(ka, kb)
    assert (none.ci_low, none.ci_high, none.p_value, none.test) == (None, None, None, None)


# ---------------------------------------------------------------- corpus-level BLEU and chrF
@pytest.mark.parametrize(
    ("metric", "corpus"),
    [(BleuMetric(), sacrebleu.corpus_bleu), (ChrfMetric(), sacrebleu.corpus_chrf)],
    ids=["bleu", "chrf"],
)
def test_corpus_resample_equals_the_library_on_the_resample(metric, corpus) -> None:
    out = metric.compute(PREDS, REFS)
    stat = out.corpus_statistics[metric.key]
    assert stat.full_score() == out.values[metric.key] == corpus(PREDS, [REFS]).score
    indices = bootstrap_indices(len(PREDS), 40, seed=0)
    resampled = stat.scores(resample_counts(indices))
    for row, score in zip(indices, resampled, strict=True):
        assert score == corpus([PREDS[i] for i in row], [[REFS[i] for i in row]]).score  # exactly


def test_bleu_interval_is_reported_for_the_corpus_score() -> None:
    out = BleuMetric().compute(PREDS * 10, REFS * 10)
    key = KeyScores.build(out.values["bleu"], out.per_sample["bleu"], out.corpus_statistics["bleu"])
    assert key.kind == "corpus" and key.n_scored == 80
    low, high = StatisticsEngine(80).interval(key)
    assert low < out.values["bleu"] < high


def test_corpus_permutation_test_swaps_answers() -> None:
    bleu = BleuMetric()
    weak = ["the pump", "replace it", "Hồ Chí Minh", "reset", "", "cable", "Firenze", "belt"]
    a, b = (
        bleu.compute(weak, REFS).corpus_statistics["bleu"],
        bleu.compute(PREDS, REFS).corpus_statistics["bleu"],
    )
    engine = StatisticsEngine(len(REFS), StatisticsConfig(permutations=1000))
    # 8 differing examples, 2**8 = 256 <= 1000: every swap pattern is enumerated; check by brute force
    observed = abs(b.full_score() - a.full_score())
    extreme = 0
    for swap in itertools.product((False, True), repeat=len(REFS)):
        sys_a = [p if s else w for s, w, p in zip(swap, weak, PREDS, strict=True)]
        sys_b = [w if s else p for s, w, p in zip(swap, weak, PREDS, strict=True)]
        diff = sacrebleu.corpus_bleu(sys_b, [REFS]).score - sacrebleu.corpus_bleu(sys_a, [REFS]).score
        extreme += abs(diff) >= observed - 1e-9
    result = engine.compare(KeyScores.build(0.0, None, a), KeyScores.build(0.0, None, b))
    assert result.p_value == extreme / 256 and result.test == "permutation"
    # identical systems: nothing to swap
    assert engine.compare(KeyScores.build(0.0, None, a), KeyScores.build(0.0, None, a)).p_value == 1.0
    # random swaps on a larger corpus find a planted improvement
    big_a = bleu.compute(weak * 20, REFS * 20).corpus_statistics["bleu"]
    big_b = bleu.compute(PREDS * 20, REFS * 20).corpus_statistics["bleu"]
    p = (
        StatisticsEngine(160)
        .compare(KeyScores.build(0.0, None, big_a), KeyScores.build(0.0, None, big_b))
        .p_value
    )
    assert p == pytest.approx(1 / 2001)


def test_corpus_statistic_validates_shape() -> None:
    with pytest.raises(ValueError, match="n x k"):
        CorpusStatistic(np.zeros(3), sum)
    stat = CorpusStatistic(np.array([[1, 2], [3, 4]]), lambda s: s[0] / s[1])
    other = CorpusStatistic(np.array([[1, 2, 3], [1, 2, 3]]), lambda s: 0.0)
    with pytest.raises(ValueError, match="same examples"):
        StatisticsEngine(2).compare(KeyScores.build(0.0, None, stat), KeyScores.build(0.0, None, other))
    with pytest.raises(ValueError, match="covers 2 examples, the report has 3"):
        StatisticsEngine(3).interval(KeyScores.build(0.0, None, stat))


# ---------------------------------------------------------------- config
def test_statistics_config_validation_and_round_trip() -> None:
    config = StatisticsConfig(resamples=500, confidence=0.9, test="wilcoxon", correction="none")
    assert StatisticsConfig.from_dict(config.to_dict()) == config
    assert StatisticsConfig(resamples=0).resamples == 0  # intervals off
    for kwargs, match in [
        ({"resamples": 10}, "at least 100"),
        ({"confidence": 1.0}, "confidence"),
        ({"permutations": 5}, "permutations"),
        ({"test": "t-test"}, "test"),
        ({"correction": "bonferroni"}, "correction"),
    ]:
        with pytest.raises(ConfigError, match=match):
            StatisticsConfig.from_dict(kwargs)
    assert StatisticsEngine(3, StatisticsConfig(correction="none")).adjust([0.01, 0.02]) == [0.01, 0.02]
    assert StatisticsEngine(3).adjust([0.01, 0.02]) == [0.02, 0.02]
