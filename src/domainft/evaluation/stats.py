"""Honest statistics for evaluation reports: bootstrap CIs, paired tests between systems, Holm correction.

* **Confidence intervals** are percentile bootstrap intervals: the test examples are resampled with
  replacement ``resamples`` times (seeded), the metric is recomputed on every resample and the
  ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles are reported.
* A metric key whose headline value is the **mean of its per-example scores** (ROUGE, exact match,
  sentence BLEU, judge grades ...) is resampled as a mean, vectorised over all resamples at once;
  examples a metric could not score (``None``) are left out of every resample, as they are left out
  of the headline value.
* A **corpus-level** key (corpus BLEU, corpus chrF) is not a mean of anything: its metric hands over
  per-example sufficient statistics (:class:`CorpusStatistic`, in ``MetricOutput.corpus_statistics``), which
  are summed over each resample and turned into the score by the library's own formula.
* A key that is neither (no per-example scores, or a headline that is not their mean, and no
  sufficient statistics) gets **no** interval (``None``), never an invented one.
* **Paired comparisons** (same examples, system ``b`` against system ``a``): the CI of
  ``delta = b - a`` comes from the same resample indices for both systems; the p-value from a paired
  sign-flip permutation test on per-example differences (or scipy's Wilcoxon signed-rank test), and
  for corpus keys from swapping the two systems' answers per example and recomputing the corpus
  score. p-values of one pair of systems are Holm-corrected across metric keys.

numpy and scipy are imported by the functions that need them.

Examples:
    >>> from domainft.evaluation.stats import (
    ...     bootstrap_indices, holm, paired_permutation_pvalue, percentile_ci, resampled_means)
    >>> scores = [0.2, 0.4, 0.6, 0.8] * 25
    >>> means = resampled_means(scores, bootstrap_indices(len(scores), 1000, seed=0))
    >>> low, high = percentile_ci(means, 0.5, 0.95)
    >>> low < 0.5 < high, round(high - low, 2)
    (True, 0.09)
    >>> paired_permutation_pvalue([0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    1.0
    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "CorpusStatistic",
    "KeyScores",
    "PairedResult",
    "StatisticsConfig",
    "StatisticsEngine",
    "bootstrap_indices",
    "holm",
    "paired_permutation_pvalue",
    "percentile_ci",
    "resample_counts",
    "resampled_means",
    "wilcoxon_pvalue",
]

#: Rows of sign/swap or count matrices handled at once (bounds memory on large test sets).
_CHUNK = 512


@dataclass
class StatisticsConfig(ConfigBase):
    """How the Evaluator computes confidence intervals and p-values (the recipe's ``evaluation.statistics``).

    Examples:
        >>> StatisticsConfig(resamples=2000, test="wilcoxon").to_dict()["test"]
        'wilcoxon'
    """

    resamples: int = config_field(
        1000, help="Bootstrap resamples for confidence intervals; 0 = no intervals (at least 100 otherwise)."
    )
    confidence: float = config_field(0.95, help="Confidence level of the intervals, in (0, 1).")
    seed: int = config_field(0, help="Seed of the resampling and of the permutation test.")
    test: Literal["permutation", "wilcoxon", "none"] = config_field(
        "permutation",
        help="Paired test for comparisons: sign-flip permutation, scipy's Wilcoxon signed-rank, or none. "
        "Corpus-level keys (BLEU, chrF) always use the permutation (answer swap) test.",
    )
    permutations: int = config_field(
        2000, help="Random permutations of the permutation test (exact enumeration when fewer suffice)."
    )
    correction: Literal["holm", "none"] = config_field(
        "holm", help="Multiple-comparison correction across the metric keys of each pair of systems."
    )

    def validate(self) -> None:
        if self.resamples != 0 and self.resamples < 100:
            raise ConfigError(
                f"StatisticsConfig.resamples must be 0 (no intervals) or at least 100, got {self.resamples}; "
                "fewer resamples give intervals that move with the seed"
            )
        self.require_range("confidence", 0.0, 1.0, low_open=True, high_open=True)
        if self.permutations < 100:
            raise ConfigError(
                f"StatisticsConfig.permutations must be at least 100, got {self.permutations}; "
                "the smallest p-value a permutation test can give is 1 / (permutations + 1)"
            )


# ---------------------------------------------------------------------- building blocks
def bootstrap_indices(n: int, resamples: int, seed: int = 0) -> np.ndarray:
    """``resamples`` rows of ``n`` example indices drawn with replacement (seeded, reproducible).

    Examples:
        >>> bootstrap_indices(4, 3, seed=0).shape
        (3, 4)
    """
    import numpy as np

    if n <= 0 or resamples <= 0:
        raise ValueError(
            f"bootstrap_indices: n and resamples must be positive, got n={n}, resamples={resamples}"
        )
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n), dtype=np.int64)


def resample_counts(indices: np.ndarray, n: int | None = None) -> np.ndarray:
    """How often each example occurs in each resample: ``counts[r, i]`` (float, for matrix products).

    Examples:
        >>> import numpy as np
        >>> resample_counts(np.array([[0, 0, 2], [1, 2, 2]])).tolist()
        [[2.0, 0.0, 1.0], [0.0, 1.0, 2.0]]
    """
    import numpy as np

    indices = np.asarray(indices, dtype=np.int64)
    resamples, size = indices.shape
    n = size if n is None else n
    flat = (np.arange(resamples, dtype=np.int64)[:, None] * n + indices).ravel()
    return np.bincount(flat, minlength=resamples * n).reshape(resamples, n).astype(np.float64)


def _as_scores(scores: Sequence[float | None] | np.ndarray) -> np.ndarray:
    """Float array with NaN where a score is ``None`` (not scored)."""
    import numpy as np

    if isinstance(scores, np.ndarray):
        return scores.astype(np.float64, copy=False)
    return np.array([math.nan if s is None else float(s) for s in scores], dtype=np.float64)


def resampled_means(scores: Sequence[float | None] | np.ndarray, indices_or_counts: np.ndarray) -> np.ndarray:
    """Mean of the scored examples in each resample (``None``/NaN scores are left out).

    ``indices_or_counts`` is a ``bootstrap_indices`` matrix (int) or a ``resample_counts`` matrix
    (float). A resample that contains no scored example gives NaN (dropped by ``percentile_ci``).
    """
    import numpy as np

    x = _as_scores(scores)
    counts = indices_or_counts
    if counts.dtype.kind in "iu":
        counts = resample_counts(counts, x.shape[0])
    if counts.shape[1] != x.shape[0]:
        raise ValueError(
            f"resampled_means: {x.shape[0]} scores but resamples over {counts.shape[1]} examples"
        )
    scored = np.isfinite(x)
    if scored.all():
        return counts @ x / x.shape[0]
    total = counts @ np.where(scored, x, 0.0)
    weight = counts @ scored.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, total / np.where(weight > 0, weight, 1.0), np.nan)


def percentile_ci(
    samples: Sequence[float] | np.ndarray, value: float, confidence: float = 0.95
) -> tuple[float | None, float | None]:
    """Percentile interval of bootstrap ``samples`` at ``confidence``; ``(None, None)`` if it cannot be had.

    NaN samples (resamples with nothing scored) are dropped; fewer than two finite samples give no
    interval. ``value`` is the point estimate: an end that misses it by floating-point rounding only
    (a constant metric, resampled as a mean) is snapped to it. A genuine miss is kept: a percentile
    interval of a skewed statistic may exclude the estimate, and hiding that would be dishonest.

    Examples:
        >>> percentile_ci([0.3] * 10, 0.3)
        (0.3, 0.3)
    """
    import numpy as np

    if not 0.0 < confidence < 1.0:
        raise ValueError(f"percentile_ci: confidence must be in (0, 1), got {confidence}")
    x = np.asarray(samples, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return None, None
    alpha = 1.0 - confidence
    low, high = (float(q) for q in np.quantile(x, [alpha / 2, 1 - alpha / 2]))
    tol = 1e-9 * max(1.0, abs(value))
    if value < low <= value + tol:
        low = float(value)
    if value - tol <= high < value:
        high = float(value)
    return low, high


def _paired_differences(a_scores: Any, b_scores: Any) -> np.ndarray:
    import numpy as np

    a, b = _as_scores(a_scores), _as_scores(b_scores)
    if a.shape != b.shape:
        raise ValueError(
            f"paired test: {a.shape[0]} scores for a but {b.shape[0]} for b; pair them per example"
        )
    both = np.isfinite(a) & np.isfinite(b)
    return b[both] - a[both]


def _exact_swaps(m: int) -> Iterator[np.ndarray]:
    """All ``2**m`` swap patterns of ``m`` examples (rows of booleans), in chunks."""
    import numpy as np

    step = max(1, (_CHUNK * 64) // max(1, m))
    for start in range(0, 2**m, step):
        rows = np.arange(start, min(2**m, start + step), dtype=np.int64)
        yield ((rows[:, None] >> np.arange(m, dtype=np.int64)) & 1).astype(bool)


def _random_swaps(permutations: int, n: int, seed: int) -> np.ndarray:
    """``permutations`` rows of ``n`` booleans: swap the two systems' answers on that example or not."""
    import numpy as np

    return np.random.default_rng([seed, 1]).random((permutations, n)) < 0.5


def _ties_at_least(stats: np.ndarray, observed: float, scale: float) -> int:
    # ">=" with a float tolerance so that permutations equal to the observation count as extreme
    return int((stats >= observed - 1e-12 * max(1.0, scale)).sum())


def paired_permutation_pvalue(
    a_scores: Sequence[float | None] | np.ndarray,
    b_scores: Sequence[float | None] | np.ndarray,
    permutations: int = 2000,
    seed: int = 0,
    *,
    swaps: np.ndarray | None = None,
) -> float:
    """Two-sided p-value of a paired sign-flip permutation test on per-example differences ``b - a``.

    Under the null hypothesis the two systems are exchangeable on every example, so each difference
    is as likely to have either sign. The statistic is ``|sum of differences|``. Examples scored by
    only one system are left out; zero differences do not affect the statistic. When
    ``2**m <= permutations`` (``m`` non-zero differences) all sign patterns are enumerated and the
    p-value is exact; otherwise ``permutations`` random patterns (seeded) give
    ``(1 + extreme) / (permutations + 1)``, never 0. No non-zero difference gives 1.0.

    ``swaps`` (``permutations x n`` booleans, internal) reuses one random matrix for many tests.

    Examples:
        >>> p = paired_permutation_pvalue([0.0] * 30, [1.0] * 30)
        >>> 0 < p < 0.001
        True
    """
    import numpy as np

    a, b = _as_scores(a_scores), _as_scores(b_scores)
    if a.shape != b.shape:
        raise ValueError(
            f"paired test: {a.shape[0]} scores for a but {b.shape[0]} for b; pair them per example"
        )
    d_all = b - a
    keep = np.isfinite(d_all) & (d_all != 0)
    d = d_all[keep]
    m = int(d.size)
    if m == 0:
        return 1.0
    observed = abs(float(d.sum()))
    scale = float(np.abs(d).sum())
    if 2**m <= permutations:
        extreme = sum(_ties_at_least(np.abs((1.0 - 2.0 * s) @ d), observed, scale) for s in _exact_swaps(m))
        return extreme / 2**m
    if swaps is None:
        swaps = _random_swaps(permutations, a.shape[0], seed)
    # excluded examples get a zero difference: their sign does not change the sum
    d_full = np.where(keep, d_all, 0.0)
    extreme = 0
    for start in range(0, swaps.shape[0], _CHUNK):
        signs = 1.0 - 2.0 * swaps[start : start + _CHUNK]
        extreme += _ties_at_least(np.abs(signs @ d_full), observed, scale)
    return (1 + extreme) / (swaps.shape[0] + 1)


def wilcoxon_pvalue(
    a_scores: Sequence[float | None] | np.ndarray, b_scores: Sequence[float | None] | np.ndarray
) -> float:
    """Two-sided p-value of scipy's Wilcoxon signed-rank test on paired differences ``b - a``.

    Examples scored by only one system are left out; zero differences are dropped (scipy's
    ``zero_method="wilcox"``); no non-zero difference gives 1.0.

    Examples:
        >>> wilcoxon_pvalue([1.0, 2.0], [1.0, 2.0])
        1.0
    """
    from scipy import stats as sps

    d = _paired_differences(a_scores, b_scores)
    d = d[d != 0]
    if d.size == 0:
        return 1.0
    result = sps.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    p = float(result.pvalue)
    return min(1.0, max(0.0, p)) if math.isfinite(p) else 1.0


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order (monotone in the sorted order, capped at 1).

    Examples:
        >>> holm([0.01, 0.02, 0.5])
        [0.03, 0.04, 0.5]
    """
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        p = float(pvalues[i])
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"holm: p-values must lie in [0, 1], got {p}")
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


# ---------------------------------------------------------------------- corpus-level statistics
@dataclass
class CorpusStatistic:
    """A corpus-level score as a function of per-example sufficient statistics summed over examples.

    Attributes:
        stats: ``n x k`` array: one row of additive statistics per example (BLEU: lengths, n-gram
            matches and totals).
        score: summed statistics (a list of ``k`` numbers) -> the corpus score; the metric library's
            own formula, so a resample is scored exactly as the library would score it.
        integer: the statistics are counts (sums are rounded back to ints before scoring).

    Examples:
        >>> import numpy as np
        >>> ratio = CorpusStatistic(np.array([[1, 2], [3, 4]]), lambda s: s[0] / s[1])
        >>> ratio.full_score(), ratio.scores(np.array([[1.0, 1.0], [0.0, 2.0]])).tolist()
        (0.6666666666666666, [0.6666666666666666, 0.75])
    """

    stats: Any
    score: Callable[[list[Any]], float]
    integer: bool = True

    def __post_init__(self) -> None:
        import numpy as np

        self.stats = np.asarray(self.stats, dtype=np.float64)
        if self.stats.ndim != 2 or self.stats.shape[0] == 0:
            raise ValueError(
                f"CorpusStatistic.stats must be an n x k array with n > 0, got shape {self.stats.shape}"
            )

    @property
    def n(self) -> int:
        return int(self.stats.shape[0])

    def _score_rows(self, summed: np.ndarray) -> np.ndarray:
        import numpy as np

        rows = np.rint(summed).astype(np.int64).tolist() if self.integer else summed.tolist()
        return np.array([float(self.score(r)) for r in rows], dtype=np.float64)

    def full_score(self) -> float:
        """The score of the whole corpus."""
        return float(self._score_rows(self.stats.sum(axis=0, keepdims=True))[0])

    def scores(self, counts: np.ndarray) -> np.ndarray:
        """The score of every resample given as a ``resample_counts`` matrix (``R x n``)."""
        return self._score_rows(counts @ self.stats)


# ---------------------------------------------------------------------- the engine used by reports
@dataclass
class KeyScores:
    """What the statistics know about one metric key of one system.

    ``kind`` is ``"corpus"`` (a :class:`CorpusStatistic`), ``"mean"`` (the headline value is the mean
    of the scored per-example values) or ``None`` (no honest way to resample it).
    """

    value: float
    per_sample: np.ndarray | None = None
    corpus: CorpusStatistic | None = None
    kind: Literal["corpus", "mean"] | None = None

    @classmethod
    def build(
        cls, value: float, per_sample: Sequence[float | None] | None, corpus: CorpusStatistic | None = None
    ) -> KeyScores:
        """Decide the kind: a corpus statistic wins; otherwise ``"mean"`` when ``value`` equals the mean
        of the scored per-example values (relative tolerance 1e-9)."""
        import numpy as np

        x = None if per_sample is None else _as_scores(per_sample)
        if corpus is not None:
            return cls(float(value), x, corpus, "corpus")
        if x is not None and np.isfinite(x).any():
            scored = x[np.isfinite(x)]
            mean = math.fsum(scored.tolist()) / scored.size
            if abs(mean - value) <= 1e-9 * max(1.0, abs(value)):
                return cls(float(value), x, None, "mean")
        return cls(float(value), x, None, None)

    @property
    def n_scored(self) -> int | None:
        import numpy as np

        if self.corpus is not None:
            return self.corpus.n
        if self.per_sample is not None:
            return int(np.isfinite(self.per_sample).sum())
        return None


@dataclass
class PairedResult:
    """A paired comparison of ``b - a`` on one key: interval of the delta, raw p-value and the test used."""

    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    test: str | None


class StatisticsEngine:
    """Bootstrap resamples and permutation patterns shared by every system and key of one report.

    All systems are resampled with the same example indices, which makes the deltas paired.

    Examples:
        >>> engine = StatisticsEngine(4, StatisticsConfig(resamples=200, permutations=200))
        >>> a = KeyScores.build(0.25, [0.0, 0.5, 0.0, 0.5])
        >>> b = KeyScores.build(0.75, [1.0, 0.5, 1.0, 0.5])
        >>> engine.interval(a) is not None, engine.compare(a, b).test
        (True, 'permutation')
    """

    def __init__(self, n: int, config: StatisticsConfig | None = None) -> None:
        self.n = int(n)
        self.config = config or StatisticsConfig()
        self._counts: np.ndarray | None = None
        self._swaps: np.ndarray | None = None
        self._cache: dict[int, tuple[KeyScores, np.ndarray]] = {}

    @property
    def counts(self) -> np.ndarray:
        if self._counts is None:
            self._counts = resample_counts(
                bootstrap_indices(self.n, self.config.resamples, self.config.seed), self.n
            )
        return self._counts

    @property
    def swaps(self) -> np.ndarray:
        if self._swaps is None:
            self._swaps = _random_swaps(self.config.permutations, self.n, self.config.seed)
        return self._swaps

    def samples(self, key: KeyScores) -> np.ndarray | None:
        """The bootstrap distribution of ``key`` (one value per resample), or None when it has none."""
        if self.config.resamples == 0 or key.kind is None:
            return None
        if id(key) not in self._cache:  # the key is kept with its samples, so its id stays unique
            if key.corpus is not None:
                self._check_size(key.corpus.n)
                samples = key.corpus.scores(self.counts)
            else:
                assert key.per_sample is not None  # kind "mean"
                self._check_size(len(key.per_sample))
                samples = resampled_means(key.per_sample, self.counts)
            self._cache[id(key)] = (key, samples)
        return self._cache[id(key)][1]

    def _check_size(self, size: int) -> None:
        if size != self.n:
            raise ValueError(f"statistics: a metric key covers {size} examples, the report has {self.n}")

    def interval(self, key: KeyScores) -> tuple[float, float] | None:
        """Percentile bootstrap interval of one key, or None."""
        if key.kind == "mean" and (key.n_scored or 0) < 2:
            return None
        samples = self.samples(key)
        if samples is None:
            return None
        low, high = percentile_ci(samples, key.value, self.config.confidence)
        return None if low is None or high is None else (low, high)

    def compare(self, a: KeyScores, b: KeyScores) -> PairedResult:
        """Paired bootstrap CI of ``b.value - a.value`` and the raw p-value of the paired test."""
        delta = b.value - a.value
        if a.corpus is not None and b.corpus is not None and a.corpus.stats.shape != b.corpus.stats.shape:
            raise ValueError(
                f"paired corpus test: statistics of shape {a.corpus.stats.shape} and {b.corpus.stats.shape}; "
                "both systems must be scored on the same examples by the same metric"
            )
        ci_low = ci_high = None
        sa, sb = self.samples(a), self.samples(b)
        enough = all(k.kind != "mean" or (k.n_scored or 0) >= 2 for k in (a, b))
        if sa is not None and sb is not None and enough:
            ci_low, ci_high = percentile_ci(sb - sa, delta, self.config.confidence)
        p_value, test = None, None
        if self.config.test != "none":
            if a.kind == "corpus" and b.kind == "corpus" and a.corpus is not None and b.corpus is not None:
                p_value, test = self._corpus_permutation(a.corpus, b.corpus), "permutation"
            elif (
                a.kind == "mean"
                and b.kind == "mean"
                and a.per_sample is not None
                and b.per_sample is not None
            ):
                if self.config.test == "wilcoxon":
                    p_value, test = wilcoxon_pvalue(a.per_sample, b.per_sample), "wilcoxon"
                else:
                    p_value = paired_permutation_pvalue(
                        a.per_sample,
                        b.per_sample,
                        self.config.permutations,
                        self.config.seed,
                        swaps=self.swaps,
                    )
                    test = "permutation"
        return PairedResult(ci_low, ci_high, p_value, test)

    def _corpus_permutation(self, a: CorpusStatistic, b: CorpusStatistic) -> float:
        """Approximate randomization: swap the systems' answers per example, recompute both corpus scores."""
        import numpy as np

        diff = b.stats - a.stats
        differs = np.any(diff != 0, axis=1)
        m = int(differs.sum())
        if m == 0:
            return 1.0
        total_a, total_b = a.stats.sum(axis=0), b.stats.sum(axis=0)
        score_a, score_b = a.full_score(), b.full_score()
        observed, scale = abs(score_b - score_a), max(abs(score_a), abs(score_b))
        if 2**m <= self.config.permutations:  # exact: every subset of the differing examples swapped
            chunks: Iterable[np.ndarray] = _exact_swaps(m)
            diff, denominator, offset = diff[differs], 2**m, 0
        else:
            chunks = (self.swaps[i : i + _CHUNK] for i in range(0, self.swaps.shape[0], _CHUNK))
            denominator, offset = self.swaps.shape[0] + 1, 1
        extreme = 0
        for swaps in chunks:
            moved = swaps.astype(np.float64) @ diff  # statistics that change hands
            permuted = np.abs(b._score_rows(total_b - moved) - a._score_rows(total_a + moved))
            extreme += _ties_at_least(permuted, observed, scale)
        return (offset + extreme) / denominator

    def adjust(self, pvalues: Sequence[float]) -> list[float]:
        """p-values corrected as configured (Holm or none) across the keys of one pair of systems."""
        if self.config.correction == "none":
            return [float(p) for p in pvalues]
        return holm(pvalues)

    def describe(self, tests: Mapping[str, str | None] | None = None) -> dict[str, Any]:
        """The settings for ``report.meta["statistics"]`` (plus the test used per compared key)."""
        info: dict[str, Any] = self.config.to_dict()
        info["ci_method"] = "percentile bootstrap" if self.config.resamples else None
        if tests:
            info["tests"] = {k: v for k, v in tests.items()}
        return info
