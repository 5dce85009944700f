"""``LLMJudge``: a judge backend plus the rubric, the reply cache and single-answer grading.

Every distinct request (identical conversations are asked once) is answered from the cache when
``cache_dir`` is set, else sent to the backend; replies are cached as they arrive, keyed by the
sha256 of the backend's fingerprint (backend, model, generation parameters), temperature 0 and the
full messages. Failed calls are never cached, so a rerun retries exactly those.

Examples:
    >>> from domainft.data.teachers import Teacher
    >>> from domainft.evaluation.judges import get_judge
    >>> class Scripted(Teacher):
    ...     backend = "scripted"
    ...     def settings(self):
    ...         return {}
    ...     def _complete(self, batch, contexts, emit):
    ...         for i, messages in enumerate(batch):
    ...             good = "Replace the worn seal" in messages[-1]["content"]
    ...             emit(i, "Score: 9/10" if good else "I cannot decide.")
    >>> result = get_judge(Scripted(), progress=False).grade(
    ...     ["Why does the pump leak?", "Why is it noisy?"], ["Replace the worn seal.", "Dunno."])
    >>> result.scores, result.parse_failures, result.mean
    ([9, None], 1, 9.0)
"""

from __future__ import annotations

import hashlib
import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domainft.data.teachers import Teacher, TeacherFailure, canonical_json
from domainft.errors import ConfigError, DataError
from domainft.evaluation.judges import JUDGES
from domainft.evaluation.judges.config import JudgeConfig
from domainft.evaluation.judges.parsing import parse_score
from domainft.evaluation.judges.prompts import grading_messages, pairwise_messages, resolve_criteria
from domainft.evaluation.judges.reliability import JudgeReliability

if TYPE_CHECKING:  # pragma: no cover
    from domainft.evaluation.judges.pairwise import PairwiseResult
    from domainft.evaluation.metrics.base import MetricOutput

Messages = list[dict[str, Any]]
JUDGE_TEMPERATURE = 0.0


def build_backend(config: JudgeConfig, **objects: Any) -> Teacher:
    """Build ``config.backend`` from the registry with ``objects`` (e.g. ``model=``, ``tokenizer=``)."""
    factory = JUDGES.get(config.backend)
    try:
        inspect.signature(factory).bind(config, **objects)
    except TypeError as exc:
        raise ConfigError(
            f"judge backend {config.backend!r}: {exc}; "
            f"extra arguments given: {', '.join(objects) or '(none)'}"
        ) from None
    backend = factory(config, **objects)
    if not isinstance(backend, Teacher):
        raise ConfigError(f"judge backend {config.backend!r} built a {type(backend).__name__}, not a Teacher")
    return backend


@dataclass
class JudgeStats:
    """Running counts of one judge: requests sent, replies from the cache, calls that failed."""

    requests: int = 0
    cache_hits: int = 0
    call_failures: int = 0


class LLMJudge:
    """Grades answers and compares systems with one judge model.

    Args:
        config: a :class:`JudgeConfig` (or a dict of its fields).
        backend: a ready backend (any ``Teacher``); default: built from ``config.backend``.
        **objects: passed to the backend factory (e.g. ``model=``, ``tokenizer=`` for ``"transformers"``).
    """

    def __init__(
        self,
        config: JudgeConfig | Mapping[str, Any] | None = None,
        *,
        backend: Teacher | None = None,
        **objects: Any,
    ) -> None:
        if isinstance(config, Mapping):
            config = JudgeConfig.from_dict(dict(config))
        elif config is None:
            config = JudgeConfig()
        elif not isinstance(config, JudgeConfig):
            raise ConfigError(
                f"LLMJudge expects a JudgeConfig or a dict of its fields, got {type(config).__name__}"
            )
        if backend is not None and objects:
            raise ConfigError(
                f"LLMJudge: pass either backend= or backend arguments ({', '.join(objects)}), not both"
            )
        self.config = config
        self.backend = backend if backend is not None else build_backend(config, **objects)
        if not isinstance(self.backend, Teacher):
            raise ConfigError(f"LLMJudge: backend must be a Teacher, got {type(self.backend).__name__}")
        if self.backend.needs_context:
            raise ConfigError(
                f"LLMJudge: backend {self.backend.name!r} answers from request contexts, not messages; "
                "a judge must answer from the messages alone"
            )
        self.criteria = resolve_criteria(config.criteria)
        self.stats = JudgeStats()
        self.cache: Any = None
        if config.cache_dir and self.backend.cacheable:
            from domainft.data.synthetic import ResponseCache

            self.cache = ResponseCache(config.cache_dir)

    @property
    def name(self) -> str:
        """The backend's name, e.g. ``openai:qwen2.5-7b-instruct``."""
        return self.backend.name

    def __repr__(self) -> str:
        return f"LLMJudge(name={self.name!r}, criteria={self.config.criteria!r})"

    # ------------------------------------------------------------------------------------ calls

    def cache_key(self, messages: Sequence[Mapping[str, Any]], fingerprint: str | None = None) -> str:
        """sha256 of the backend fingerprint, the temperature and the full messages."""
        payload = canonical_json(
            {
                "judge": self.backend.fingerprint() if fingerprint is None else fingerprint,
                "temperature": JUDGE_TEMPERATURE,
                "messages": [dict(m) for m in messages],
            }
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def complete(
        self, message_lists: Sequence[Sequence[Mapping[str, Any]]], *, desc: str = "judge"
    ) -> list[str | TeacherFailure]:
        """One reply (or :data:`JudgeCallFailure`) per conversation, from the cache or the backend."""
        from tqdm.auto import tqdm

        conversations = [[dict(m) for m in messages] for messages in message_lists]
        fingerprint = self.backend.fingerprint() if self.cache is not None else ""
        keys = [
            self.cache_key(m, fingerprint) if self.cache is not None else canonical_json(m)
            for m in conversations
        ]
        unique: dict[str, Messages] = {}
        for key, messages in zip(keys, conversations, strict=True):
            unique.setdefault(key, messages)
        results: dict[str, str | TeacherFailure] = {}
        if self.cache is not None:
            for key in unique:
                hit = self.cache.get(key)
                if hit is not None:
                    results[key] = hit
        todo = [k for k in unique if k not in results]
        self.stats.cache_hits += len(unique) - len(todo)
        self.stats.requests += len(todo)
        if todo:
            bar = tqdm(total=len(todo), desc=desc, unit="request", disable=not self.config.progress)

            def on_result(index: int, output: str | TeacherFailure) -> None:
                key = todo[index]
                results[key] = output
                if isinstance(output, TeacherFailure):
                    self.stats.call_failures += 1
                elif self.cache is not None:
                    self.cache.put(key, output, judge=self.name)
                bar.update(1)

            try:
                self.backend.complete([unique[k] for k in todo], on_result=on_result)
            finally:
                bar.close()
        return [results[k] for k in keys]

    # ------------------------------------------------------------------------------------ prompts

    def grading_messages(self, prompt: str, answer: str, reference: str | None = None) -> Messages:
        """The conversation that asks this judge to grade one answer."""
        cfg = self.config
        return grading_messages(
            prompt,
            answer,
            reference=reference if cfg.with_reference else None,
            criteria=self.criteria,
            low=cfg.min_score,
            high=cfg.max_score,
            system_prompt=cfg.system_prompt,
        )

    def pairwise_messages(
        self, prompt: str, first: str, second: str, reference: str | None = None
    ) -> Messages:
        """The conversation that asks this judge to compare two anonymous answers."""
        cfg = self.config
        return pairwise_messages(
            prompt,
            first,
            second,
            reference=reference if cfg.with_reference else None,
            criteria=self.criteria,
            system_prompt=cfg.system_prompt,
        )

    # ------------------------------------------------------------------------------------ tasks

    def grade(
        self,
        prompts: Sequence[str],
        answers: Sequence[str],
        references: Sequence[str] | None = None,
    ) -> GradingResult:
        """Grade each answer on the configured scale (references shown when ``with_reference``)."""
        n = len(answers)
        _check_lists(n, prompts=prompts, references=references)
        refs: Sequence[str | None] = references if references is not None else [None] * n
        messages = [self.grading_messages(p, a, r) for p, a, r in zip(prompts, answers, refs, strict=True)]
        before = JudgeStats(**vars(self.stats))
        replies = self.complete(messages, desc="judge grading")
        cfg = self.config
        result = GradingResult(judge=self.name, low=cfg.min_score, high=cfg.max_score)
        for i, reply in enumerate(replies):
            if isinstance(reply, TeacherFailure):
                result.scores.append(None)
                result.rationales.append(None)
                result.failures.append(
                    {
                        "index": i,
                        "kind": "call",
                        "reason": f"judge call failed: {reply.error}",
                        "raw": None,
                        "error_kind": reply.kind,
                        "attempts": reply.attempts,
                    }
                )
                continue
            parsed = parse_score(reply, cfg.min_score, cfg.max_score)
            result.scores.append(parsed.value)
            result.rationales.append(parsed.rationale)
            if parsed.value is None:
                result.failures.append(
                    {
                        "index": i,
                        "kind": "parse",
                        "reason": f"unparsable judge reply: {parsed.error}",
                        "raw": reply,
                    }
                )
        result.requests = self.stats.requests - before.requests
        result.cache_hits = self.stats.cache_hits - before.cache_hits
        return result

    def compare(
        self,
        prompts: Sequence[str],
        answers_a: Sequence[str],
        answers_b: Sequence[str],
        references: Sequence[str] | None = None,
        names: tuple[str, str] = ("a", "b"),
    ) -> PairwiseResult:
        """Blind pairwise comparison in both orders; see :func:`pairwise_compare`."""
        from domainft.evaluation.judges.pairwise import pairwise_compare

        return pairwise_compare(self, prompts, answers_a, answers_b, references, names=names)


def _check_lists(n: int, **lists: Sequence[Any] | None) -> None:
    if n == 0:
        raise DataError("the judge got no answers to judge")
    for label, seq in lists.items():
        if seq is None:
            continue
        if isinstance(seq, (str, bytes)) or len(seq) != n:
            got = "a string" if isinstance(seq, (str, bytes)) else str(len(seq))
            raise DataError(f"the judge needs one entry of {label} per answer ({n}), got {got}")
        for i, text in enumerate(seq):
            if not isinstance(text, str):
                raise DataError(f"{label}[{i}] must be a str, got {type(text).__name__}")


@dataclass
class GradingResult:
    """Scores of one grading run, aligned with the answers; ``None`` where no score could be had.

    ``failures`` has one entry per unscored answer: ``index``, ``kind`` (``"parse"`` or ``"call"``),
    ``reason`` and ``raw`` (the judge's reply, kept for parse failures); a call failure also has
    ``error_kind`` (``http``, ``timeout``, ``connection``, ``truncated``, ``invalid_json``...) and
    ``attempts`` (tries made, retries included).
    """

    judge: str
    low: int = 1
    high: int = 10
    scores: list[int | None] = field(default_factory=list)
    rationales: list[str | None] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    cache_hits: int = 0

    @property
    def n_scored(self) -> int:
        return sum(s is not None for s in self.scores)

    @property
    def parse_failures(self) -> int:
        return sum(f["kind"] == "parse" for f in self.failures)

    @property
    def call_failures(self) -> int:
        return sum(f["kind"] == "call" for f in self.failures)

    @property
    def mean(self) -> float | None:
        """Mean score over the scored answers; None when none was scored (never NaN)."""
        scored = [s for s in self.scores if s is not None]
        return math.fsum(scored) / len(scored) if scored else None

    def reliability(self) -> JudgeReliability:
        return JudgeReliability(
            judge=self.judge,
            task="grading",
            examples=len(self.scores),
            judgments=len(self.scores),
            parse_failures=self.parse_failures,
            call_failures=self.call_failures,
            requests=self.requests,
            cache_hits=self.cache_hits,
        )

    def to_metric_output(self, key: str = "judge_score") -> MetricOutput:
        """As a :class:`MetricOutput`: ``values[key]`` is the mean over scored answers (absent if none)."""
        from domainft.evaluation.metrics.base import MetricOutput

        mean = self.mean
        return MetricOutput(
            values={key: mean} if mean is not None else {},
            per_sample={key: [None if s is None else float(s) for s in self.scores]},
            details={
                "judge": self.judge,
                "scale": [self.low, self.high],
                "n_scored": self.n_scored,
                "parse_failures": self.parse_failures,
                "call_failures": self.call_failures,
                "rationales": list(self.rationales),
                "reliability": self.reliability().to_dict(),
            },
            failures=[dict(f) for f in self.failures],
        )


def get_judge(spec: Any = None, /, **kwargs: Any) -> LLMJudge:
    """Build an :class:`LLMJudge` from a backend name, a config, a dict, a ``Teacher`` or a judge.

    ``kwargs`` that are :class:`JudgeConfig` fields set the config; the others go to the backend
    factory (``model=``, ``tokenizer=`` for ``"transformers"``).

    Examples:
        >>> judge = get_judge("openai", endpoint={"base_url": "http://127.0.0.1:8000/v1", "model": "judge"},
        ...                   criteria="museum_qa")
        >>> judge.name
        'openai:judge'
    """
    if isinstance(spec, LLMJudge):
        if kwargs:
            raise ConfigError(f"get_judge: got a ready LLMJudge; drop the arguments {sorted(kwargs)}")
        return spec
    fields = {f for f in JudgeConfig.field_help()}
    settings = {k: v for k, v in kwargs.items() if k in fields}
    objects = {k: v for k, v in kwargs.items() if k not in fields}
    if isinstance(spec, Teacher):
        if objects:
            raise ConfigError(
                f"get_judge: unknown JudgeConfig field(s) {sorted(objects)} "
                "(a ready backend takes no arguments)"
            )
        return LLMJudge(JudgeConfig.from_dict(settings), backend=spec)
    if isinstance(spec, JudgeConfig):
        data = {**spec.to_dict(), **settings}
    elif isinstance(spec, Mapping):
        data = {**spec, **settings}
    elif isinstance(spec, str):
        data = {"backend": spec, **settings}
    elif spec is None:
        data = settings
    else:
        raise ConfigError(
            "get_judge: expected a backend name "
            f"({', '.join(JUDGES.names())}), a JudgeConfig, a dict, a Teacher or an LLMJudge; "
            f"got {type(spec).__name__}"
        )
    return LLMJudge(JudgeConfig.from_dict(data), **objects)
