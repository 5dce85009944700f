"""Closed-book probing: ask every system every probe, decide what each answer states, build the report.

Each system answers the probe questions alone (no passage, no history), through the Evaluator's own
generation path: the same prompt template, system prompt, decoding settings and answer cache as the
rest of the evaluation, so a base model and its adapter see exactly the prompts they would in use.

An answer to a fact's probe is **correct** when it states the fact's key span or one of its aliases
(:func:`~domainft.evaluation.knowledge.matching.match_span`: normalised strings, numbers with units,
dates at the key's precision). With a judge, an answer to a free-form (string) span that the match did
not find is shown to the judge with the key span as the reference, on a 0/1 scale; its verdict is
recorded as ``method: "judge"``. A judge call that fails keeps the string-match verdict and is counted
in ``meta["judge_failures"]``, never turned into a score. An answer to an unanswerable probe is an
**abstention** when :func:`~domainft.evaluation.knowledge.matching.is_abstention` says so, else a
hallucination. A generation request that failed for good (an endpoint system) is recorded with its
error and left out of every value, never scored as wrong or as an abstention.

Examples:
    >>> from domainft.evaluation.knowledge.scoring import score_answers
    >>> from domainft.evaluation.knowledge.facts import FactSet
    >>> from domainft.evaluation.knowledge.probes import build_probe_set
    >>> facts = FactSet.from_table([{"subject": "the P-20 press", "attribute": "oil change interval",
    ...                              "answer": "500 hours"}])
    >>> probes = build_probe_set(facts, paraphrases=1, unanswerable=["Who designed the P-99 press?"])
    >>> report = score_answers(probes, {"base": ["Every 50 hours.", "It was Ada."],
    ...                                 "tuned": ["Change it every 500 h.", "I don't know."]})
    >>> report.systems["tuned"]["fact_recall"].value, report.unanswerable["tuned"]["abstained"]
    (1.0, 1)
    >>> report.transitions["tuned vs base"]["learned"]
    ['fact-0001']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domainft.errors import ConfigError
from domainft.evaluation.knowledge.probes import ProbeSet
from domainft.evaluation.knowledge.report import KnowledgeReport

#: The judge's instructions for a key-span check (0 = not stated, 1 = stated).
SPAN_RUBRIC = (
    "The reference is one fact's key answer. Grade 1 if the answer states this fact (in any wording, "
    "with the same meaning and no other value in its place); grade 0 if it does not state it, gives "
    "another value, contradicts it or declines to answer."
)


def _span_judge(judge: Any) -> Any:
    """An LLMJudge grading key spans on a 0/1 scale with :data:`SPAN_RUBRIC`, from a judge or its config."""
    from domainft.evaluation.judges import JudgeConfig, LLMJudge

    if isinstance(judge, LLMJudge):
        config = judge.config.updated(criteria=SPAN_RUBRIC, min_score=0, max_score=1, with_reference=True)
        return LLMJudge(config, backend=judge.backend)
    if isinstance(judge, Mapping):
        judge = JudgeConfig.from_dict(dict(judge))
    if not isinstance(judge, JudgeConfig):
        raise ConfigError(
            f"knowledge probes: judge must be an LLMJudge or a JudgeConfig, got {type(judge).__name__}"
        )
    return LLMJudge(judge.updated(criteria=SPAN_RUBRIC, min_score=0, max_score=1, with_reference=True))


def score_answers(
    probe_set: ProbeSet,
    answers: Mapping[str, Sequence[str | None]],
    *,
    errors: Mapping[str, Mapping[int, str]] | None = None,
    judge: Any = None,
    abstention_patterns: Sequence[str] = (),
    strip_accents: bool = True,
    known_threshold: float = 0.5,
    statistics: Any = None,
    meta: Mapping[str, Any] | None = None,
) -> KnowledgeReport:
    """Score given answers (``answers[system][i]`` answers ``probe_set[i]``) into a :class:`KnowledgeReport`.

    ``errors[system][i]`` marks probe ``i`` as failed (its answer is left out of every value).
    """
    from domainft.evaluation.knowledge.matching import is_abstention, match_span

    facts = probe_set.facts.by_id()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    to_judge: list[tuple[str, str, str, str]] = []  # system, probe id, question, reference
    for system, texts in answers.items():
        if len(texts) != len(probe_set):
            raise ConfigError(f"system {system!r}: {len(texts)} answers for {len(probe_set)} probes")
        failed = (errors or {}).get(system, {})
        outcomes: dict[str, dict[str, Any]] = {}
        for i, (probe, text) in enumerate(zip(probe_set, texts, strict=True)):
            text = text or ""
            outcome = {"answer": text, "correct": None, "abstained": None, "found": None, "error": None}
            outcomes[probe.id] = outcome
            if i in failed:
                outcome.update(method="failed", error=failed[i])
                continue
            outcome["abstained"] = abstained = is_abstention(text, extra=abstention_patterns)
            if probe.fact_id is None:
                outcome["method"] = "abstention"
                continue
            fact = facts[probe.fact_id]
            match = match_span(
                text, fact.answer, fact.kind, aliases=fact.aliases, strip_accents=strip_accents
            )
            outcome.update(correct=match.matched, method=f"span:{match.kind}", found=match.found)
            free_form = match.kind == "string"  # the kind the match used ("auto" resolved)
            if judge is not None and free_form and not match.matched and not abstained and text.strip():
                to_judge.append((system, probe.id, probe.question, fact.answer))
        results[system] = outcomes
    report_meta = dict(meta or {})
    if judge is not None:
        span_judge = _span_judge(judge)
        report_meta["judge"] = {"name": span_judge.name, "asked": len(to_judge), "failures": 0, "changed": 0}
        if to_judge:
            graded = span_judge.grade(
                [q for _, _, q, _ in to_judge],
                [results[s][pid]["answer"] for s, pid, _, _ in to_judge],
                [ref for *_, ref in to_judge],
            )
            for (
                (system, pid, _, _),
                score,
            ) in zip(to_judge, graded.scores, strict=True):
                if score is None:
                    report_meta["judge"]["failures"] += 1
                    continue
                if score >= 1:
                    results[system][pid].update({"correct": True, "method": "judge"})
                    report_meta["judge"]["changed"] += 1
            report_meta["judge"]["failure_reasons"] = [f["reason"] for f in graded.failures][:20]
    return KnowledgeReport(
        probe_set, results, known_threshold=known_threshold, statistics=statistics, meta=report_meta
    )


def probe_knowledge(
    systems: Mapping[str, Any],
    probe_set: ProbeSet,
    *,
    tokenizer: Any = None,
    evaluator: Any = None,
    judge: Any = None,
    abstention_patterns: Sequence[str] = (),
    strip_accents: bool = True,
    known_threshold: float = 0.5,
) -> KnowledgeReport:
    """Ask every system (``{"base": ..., "tuned": peft_model}``, as for ``Evaluator.compare``) every probe,
    closed-book, and score the answers (see the module docstring).

    ``evaluator`` (default: ``Evaluator()``) sets the template, system prompt, decoding, answer cache
    and statistics. The first system is the baseline of the comparisons and transitions.
    """
    import time

    from domainft.evaluation.evaluator import Evaluator, resolve_systems

    evaluator = evaluator if evaluator is not None else Evaluator()
    if len(probe_set) == 0:
        raise ConfigError("the probe set is empty: no fact could be asked (see probe_set.dropped)")
    resolved = resolve_systems(systems)
    questions = [p.question for p in probe_set]
    ids = [p.id for p in probe_set]
    answers: dict[str, list[str]] = {}
    errors: dict[str, dict[int, str]] = {}
    timings: dict[str, float] = {}
    for name, system in resolved.items():
        start = time.time()
        answers[name], failed = evaluator._answers(
            system, tokenizer, questions, None, desc=f"probing [{name}]", ids=ids
        )
        errors[name] = {
            f["index"]: str(f.get("error") or f.get("reason") or "request failed") for f in failed
        }
        timings[name] = round(time.time() - start, 3)
    meta = {"decoding": evaluator.decoding.to_dict(), "generation_seconds": timings}
    return score_answers(
        probe_set,
        answers,
        errors=errors,
        judge=judge,
        abstention_patterns=abstention_patterns,
        strip_accents=strip_accents,
        known_threshold=known_threshold,
        statistics=evaluator.statistics,
        meta=meta,
    )
