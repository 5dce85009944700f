"""LLM judges: single-answer grading (the ``judge`` metric) and blind pairwise comparison of two systems.

A judge backend is anything that turns chat conversations into replies: the same
:class:`~domainft.data.teachers.Teacher` interface that writes synthetic data,
``complete(message_lists) -> list[str | JudgeCallFailure]``, a failed call giving a failure in its
slot. Backends are registered by name (``register_judge``) as factories ``(config, **objects)``;
built in: ``"openai"`` (any OpenAI-compatible server through :class:`~domainft.llm.ChatClient`:
retries, backoff, timeouts, ``max_workers`` requests at once) and ``"transformers"`` (an
in-process model, greedy decoding with its chat template), plus ``"similarity"``, an offline stand-in
that is not an LLM (embedding similarity to the reference answer). The judge always decodes at
temperature 0.

Examples:
    >>> from domainft.data.teachers import Teacher
    >>> from domainft.evaluation.judges import get_judge, pairwise_compare
    >>> class LongerWins(Teacher):  # a stand-in judge preferring the longer answer
    ...     backend = "longer"
    ...     def settings(self):
    ...         return {}
    ...     def _complete(self, batch, contexts, emit):
    ...         for i, messages in enumerate(batch):
    ...             text = messages[-1]["content"]
    ...             one = text.split("[Assistant 1]")[1].split("[End of Assistant 1]")[0]
    ...             two = text.split("[Assistant 2]")[1].split("[End of Assistant 2]")[0]
    ...             emit(i, '{"winner": "%s"}' % ("1" if len(one) > len(two) else "2"))
    >>> judge = get_judge(LongerWins(), progress=False)
    >>> result = pairwise_compare(judge, ["Why does the belt slip?"], ["Tension."],
    ...                           ["The belt is loose: adjust the tensioner."], names=("base", "tuned"))
    >>> result.outcomes, result.win_rate, result.position_consistency
    (['b'], 1.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from domainft.data.teachers import Teacher, TeacherFailure
from domainft.registry import Registry

#: A judge call that failed for good (after the backend's retries): ``error``, ``kind``, ``attempts``.
JudgeCallFailure = TeacherFailure

F = TypeVar("F", bound=Callable[..., Teacher])

JUDGES: Registry[Callable[..., Teacher]] = Registry("judge backend")


def register_judge(name: str, factory: F | None = None, *, overwrite: bool = False) -> Any:
    """Register a judge backend factory ``(config: JudgeConfig, **objects) -> Teacher`` (or decorate one).

    ``objects`` are what a caller passes besides the config (e.g. ``model=``, ``tokenizer=``).

    Examples:
        >>> from domainft.data.teachers import Teacher
        >>> class Always7(Teacher):
        ...     backend = "always7"
        ...     def settings(self):
        ...         return {}
        ...     def _complete(self, batch, contexts, emit):
        ...         for i in range(len(batch)):
        ...             emit(i, '{"score": 7, "rationale": "fine"}')
        >>> @register_judge("doc_always7", overwrite=True)
        ... def always7(config):
        ...     return Always7()
        >>> from domainft.evaluation.judges import get_judge
        >>> get_judge("doc_always7", progress=False).grade(["Q?"], ["A."]).scores
        [7]
    """
    return JUDGES.register(name, factory, overwrite=overwrite)


def available_judges() -> list[str]:
    """Sorted names of the registered judge backends."""
    return JUDGES.names()


# Built-in backends register on import; the judge, pairwise comparison and the metric follow.
from domainft.evaluation.judges import backends as _backends  # noqa: E402, F401
from domainft.evaluation.judges import metric as _metric  # noqa: E402, F401
from domainft.evaluation.judges import similarity as _similarity  # noqa: E402, F401
from domainft.evaluation.judges.config import JudgeConfig  # noqa: E402
from domainft.evaluation.judges.judge import GradingResult, LLMJudge, build_backend, get_judge  # noqa: E402
from domainft.evaluation.judges.pairwise import PairwiseExample, PairwiseResult, pairwise_compare  # noqa: E402
from domainft.evaluation.judges.parsing import ParsedScore, ParsedVerdict, parse_score, parse_verdict  # noqa: E402
from domainft.evaluation.judges.prompts import RUBRICS, register_rubric, resolve_criteria  # noqa: E402
from domainft.evaluation.judges.reliability import JudgeReliability  # noqa: E402

__all__ = [
    "JUDGES",
    "RUBRICS",
    "GradingResult",
    "JudgeCallFailure",
    "JudgeConfig",
    "JudgeReliability",
    "LLMJudge",
    "PairwiseExample",
    "PairwiseResult",
    "ParsedScore",
    "ParsedVerdict",
    "available_judges",
    "build_backend",
    "get_judge",
    "pairwise_compare",
    "parse_score",
    "parse_verdict",
    "register_judge",
    "register_rubric",
    "resolve_criteria",
]
