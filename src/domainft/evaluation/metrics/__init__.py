"""Metric registry: built-in ``rouge`` and ``bleu``, user metrics via ``register_metric``.

Examples:
    >>> from domainft.evaluation.metrics import Metric, MetricOutput, get_metric, register_metric
    >>> @register_metric("doc_exact_match")
    ... class ExactMatch(Metric):
    ...     def _compute(self, predictions, references):
    ...         hits = [float(p == r) for p, r in zip(predictions, references)]
    ...         return MetricOutput({"exact_match": sum(hits) / len(hits)}, {"exact_match": hits})
    >>> get_metric("doc_exact_match").compute(["a", "b"], ["a", "b"]).values
    {'exact_match': 1.0}
    >>> round(get_metric("rouge").compute(["the cat"], ["the cat"]).values["rouge1"], 2)
    1.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from domainft.errors import ConfigError
from domainft.evaluation.metrics.base import EvaluateModuleMetric, Metric, MetricOutput, check_inputs
from domainft.registry import Registry

__all__ = [
    "EvaluateModuleMetric",
    "Metric",
    "MetricOutput",
    "available_metrics",
    "check_inputs",
    "get_metric",
    "register_metric",
]

M = TypeVar("M", bound=type[Metric])

METRICS: Registry[type[Metric]] = Registry("metric")


def register_metric(name: str, *, overwrite: bool = False) -> Callable[[M], M]:
    """Class decorator registering a ``Metric`` subclass under ``name`` (case-insensitive).

    Sets ``cls.name = name`` when the class does not define its own ``name``.
    """

    def _register(cls: M) -> M:
        if not (isinstance(cls, type) and issubclass(cls, Metric)):
            raise TypeError(f"register_metric({name!r}) expects a Metric subclass, got {cls!r}")
        if not cls.__dict__.get("name"):
            cls.name = name
        METRICS.register(name, cls, overwrite=overwrite)
        return cls

    return _register


def available_metrics() -> list[str]:
    """Sorted names of the registered metrics."""
    return METRICS.names()


def get_metric(name_or_obj: str | Metric | type[Metric] | Any, **kwargs: Any) -> Metric:
    """Build a metric from a registered name, a ``Metric`` class or instance, or an ``evaluate`` module.

    ``kwargs`` go to the metric's constructor (for an ``evaluate`` module: to its ``compute``).
    Unknown names raise a ``ConfigError`` listing the known metrics.
    """
    if isinstance(name_or_obj, Metric):
        if kwargs:
            raise ConfigError(
                f"get_metric: got an already built {name_or_obj!r}; drop the arguments {kwargs}"
            )
        return name_or_obj
    if isinstance(name_or_obj, str):
        cls = METRICS.get(name_or_obj)
        where = f"metric {name_or_obj!r}"
    elif isinstance(name_or_obj, type) and issubclass(name_or_obj, Metric):
        cls, where = name_or_obj, f"metric class {name_or_obj.__name__}"
    elif callable(getattr(name_or_obj, "compute", None)):
        return EvaluateModuleMetric(name_or_obj, **kwargs)
    else:
        raise ConfigError(
            f"get_metric: expected a metric name ({', '.join(available_metrics())}), a Metric, "
            f"or an object with .compute(predictions=, references=); got {type(name_or_obj).__name__}"
        )
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where}: invalid arguments {kwargs}: {exc}") from exc


# Built-in metrics register themselves on import (rouge_score/sacrebleu load only when one is built).
from domainft.evaluation.judges import metric as _judge_metric  # noqa: E402, F401
from domainft.evaluation.metrics import lexical as _lexical  # noqa: E402, F401
from domainft.evaluation.metrics import patterns as _patterns  # noqa: E402, F401
from domainft.evaluation.metrics import ragas_metrics as _ragas_metrics  # noqa: E402, F401
from domainft.evaluation.metrics import semantic as _semantic  # noqa: E402, F401
