"""The metric interface: ``Metric.compute(predictions, references, **inputs) -> MetricOutput``.

A metric that needs more than the answers and references (the questions for a judge, retrieved
contexts for RAGAS) names those inputs in ``needs``; the Evaluator passes them as keyword lists
(``prompts=``, ``contexts=``), one entry per example. An example a metric could not score (a judge
reply that cannot be parsed) has ``None`` in ``per_sample`` and an entry in ``failures``; the headline
value is computed over the scored examples only, and nothing is turned into NaN.

Examples:
    >>> from domainft.evaluation.metrics.base import Metric, MetricOutput
    >>> class ExactMatch(Metric):
    ...     name = "exact_match"
    ...     def _compute(self, predictions, references):
    ...         hits = [float(p.strip() == r.strip()) for p, r in zip(predictions, references)]
    ...         return MetricOutput({"exact_match": sum(hits) / len(hits)}, {"exact_match": hits})
    >>> ExactMatch().compute(["a", "b"], ["a", "c"]).values
    {'exact_match': 0.5}
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class MetricOutput:
    """What a metric returns.

    Attributes:
        values: headline corpus-level numbers, e.g. ``{"rouge1": 0.41, "rougeL": 0.38}``.
        per_sample: one score per example for each key that has one (may be empty); ``None`` marks an
            example that could not be scored.
        details: extra, non-headline information (BLEU precisions, brevity penalty, signature ...).
        failures: one dict per example that could not be scored: ``index`` (position in the inputs),
            ``reason``, optionally ``raw`` (e.g. the judge's unparsable reply).
        corpus_statistics: for corpus-level keys (corpus BLEU, chrF), per-example sufficient statistics
            (:class:`~domainft.evaluation.stats.CorpusStatistic`) from which reports bootstrap them
            exactly; never saved.

    Examples:
        >>> MetricOutput({"bleu": 31.2}, {"bleu": [30.0, 32.4]}).values["bleu"]
        31.2
    """

    values: dict[str, float]
    per_sample: dict[str, list[float | None]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    corpus_statistics: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.values = {str(k): _to_float(v, f"values[{k!r}]") for k, v in self.values.items()}
        self.per_sample = {
            str(k): [None if x is None else _to_float(x, f"per_sample[{k!r}][{i}]") for i, x in enumerate(v)]
            for k, v in self.per_sample.items()
        }
        self.details = dict(self.details)
        self.failures = [dict(f) for f in self.failures]
        for f in self.failures:
            if not isinstance(f.get("index"), int) or not f.get("reason"):
                raise ValueError(
                    f"MetricOutput.failures: each entry needs an int 'index' and a 'reason', got {f}"
                )


def _to_float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"MetricOutput.{where}: expected a number, got {type(value).__name__} {value!r}")
    return float(value)


def check_inputs(
    predictions: Sequence[str], references: Sequence[str], metric: str = "metric", **inputs: Sequence[Any]
) -> None:
    """Raise if ``predictions``/``references`` are not two equally long, non-empty lists of strings,
    or an extra input (``prompts``, ``contexts``...) does not have one entry per prediction."""
    for label, seq in (("predictions", predictions), ("references", references)):
        if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence):
            raise TypeError(f"{metric}: {label} must be a list of strings, got {type(seq).__name__}")
    if len(predictions) != len(references):
        raise ValueError(
            f"{metric}: got {len(predictions)} predictions but {len(references)} references; "
            "pass one reference per prediction"
        )
    if len(predictions) == 0:
        raise ValueError(f"{metric}: predictions and references are empty; nothing to score")
    for label, seq in (("predictions", predictions), ("references", references)):
        for i, text in enumerate(seq):
            if not isinstance(text, str):
                raise TypeError(f"{metric}: {label}[{i}] must be a str, got {type(text).__name__} {text!r}")
    for label, seq in inputs.items():
        if seq is None or isinstance(seq, (str, bytes)) or len(seq) != len(predictions):
            got = (
                "none"
                if seq is None
                else (f"{len(seq)}" if not isinstance(seq, (str, bytes)) else "a string")
            )
            raise ValueError(
                f"{metric}: needs {label} with one entry per prediction ({len(predictions)}), got {got}"
            )


class Metric(ABC):
    """Base class of every metric. Subclasses set ``name`` and implement ``_compute``.

    ``needs`` names the extra inputs the metric reads (``"prompts"``, ``"contexts"``); ``compute``
    checks they are given, one per prediction, validates the rest (same length, non-empty, strings)
    and calls ``_compute(predictions, references, **needed_inputs)``. Other inputs are ignored, so
    a caller may pass everything it has to every metric.
    """

    name: str = ""
    needs: tuple[str, ...] = ()

    def compute(
        self, predictions: Sequence[str], references: Sequence[str], **inputs: Sequence[Any] | None
    ) -> MetricOutput:
        """Score ``predictions`` against ``references`` (one reference per prediction)."""
        label = self.name or type(self).__name__
        needed = {key: inputs.get(key) for key in self.needs}
        check_inputs(predictions, references, label, **needed)
        return self._compute(list(predictions), list(references), **{k: list(v) for k, v in needed.items()})

    @abstractmethod
    def _compute(self, predictions: list[str], references: list[str], **inputs: list[Any]) -> MetricOutput:
        """Score validated inputs (``inputs`` holds exactly the lists named in ``needs``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class EvaluateModuleMetric(Metric):
    """Adapter for a user-loaded Hugging Face ``evaluate`` module (or anything alike).

    The wrapped object needs ``.compute(predictions=..., references=...)`` returning a dict. Real-valued
    entries become ``values``; everything else (lists, strings) goes to ``details``. There are no
    per-sample scores.

    Examples:
        >>> class Length:
        ...     name = "length"
        ...     def compute(self, predictions, references):
        ...         return {"ratio": sum(map(len, predictions)) / sum(map(len, references))}
        >>> EvaluateModuleMetric(Length()).compute(["ab"], ["abcd"]).values
        {'ratio': 0.5}
    """

    def __init__(self, module: Any, name: str | None = None, **compute_kwargs: Any) -> None:
        if not callable(getattr(module, "compute", None)):
            raise TypeError(f"{type(module).__name__} has no compute(predictions=, references=) method")
        self.module = module
        self.name = name or str(getattr(module, "name", "") or type(module).__name__)
        self.compute_kwargs = compute_kwargs

    def _compute(self, predictions: list[str], references: list[str]) -> MetricOutput:
        result = self.module.compute(predictions=predictions, references=references, **self.compute_kwargs)
        if not isinstance(result, Mapping):
            raise TypeError(f"{self.name}: compute() returned {type(result).__name__}, expected a dict")
        values: dict[str, float] = {}
        details: dict[str, Any] = {}
        for key, value in result.items():
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                values[str(key)] = float(value)
            else:
                details[str(key)] = value
        if not values:
            raise ValueError(
                f"{self.name}: compute() returned no numeric values (keys: {sorted(result)}); "
                "wrap it in a Metric subclass that picks the numbers to report"
            )
        return MetricOutput(values=values, details=details)
