"""The ``judge`` metric: an LLM grades every answer on a 1-10 scale (with the reference, by default).

``values["judge_score"]`` is the mean over the answers that got a score. An answer whose judge reply
cannot be parsed, or whose call failed after the retries, has ``None`` in ``per_sample`` and an entry
in ``failures`` (with the raw reply); nothing becomes NaN. ``details`` holds ``parse_failures``,
``call_failures``, the judge's ``rationales`` (aligned with the examples, None where missing) and the
``reliability`` counts.

Examples:
    >>> from domainft.evaluation.metrics import get_metric
    >>> metric = get_metric("judge", backend="openai", criteria="wordpress_support",  # doctest: +SKIP
    ...                     endpoint={"base_url": "http://127.0.0.1:8000/v1", "model": "qwen2.5-7b-instruct"})
    >>> out = metric.compute(answers, references, prompts=questions)  # doctest: +SKIP
    >>> out.values["judge_score"], out.details["parse_failures"]      # doctest: +SKIP
    (7.4, 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domainft.evaluation.judges.config import JudgeConfig
from domainft.evaluation.judges.judge import LLMJudge, get_judge
from domainft.evaluation.metrics import register_metric
from domainft.evaluation.metrics.base import Metric, MetricOutput


@register_metric("judge")
class JudgeMetric(Metric):
    """Single-answer grading by an LLM judge; needs the questions (``prompts=``).

    Args:
        judge: an :class:`LLMJudge`, a :class:`JudgeConfig`, a dict of its fields, a backend name or a
            ``Teacher``; default: built from ``kwargs``.
        name: the metric's name (default ``"judge"``); the headline value is ``f"{name}_score"``, so
            two judges with different names can run side by side.
        **kwargs: :class:`JudgeConfig` fields and backend arguments, as for :func:`get_judge`.
    """

    needs = ("prompts",)

    def __init__(
        self,
        judge: LLMJudge | JudgeConfig | Mapping[str, Any] | Any = None,
        *,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if name is not None:
            self.name = name
        self.judge = get_judge(judge, **kwargs)

    @property
    def key(self) -> str:
        return f"{self.name}_score"

    def _compute(self, predictions: list[str], references: list[str], prompts: list[str]) -> MetricOutput:
        return self.judge.grade(prompts, predictions, references).to_metric_output(self.key)

    def __repr__(self) -> str:
        return f"JudgeMetric(name={self.name!r}, judge={self.judge.name!r})"
