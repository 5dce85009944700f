"""Blind pairwise comparison of two systems, judged in both orders.

For each example the judge sees the question (and the reference, with ``with_reference``) and the
two answers as "Assistant 1" and "Assistant 2", never the systems' names; it is asked twice, once
with system a's answer first and once with b's first. The verdicts are mapped back to the systems:

- both orders name the same winner (or both say tie): that is the outcome;
- they differ (a flip, or a win in one order and a tie in the other): the outcome is a **tie** and
  the example counts against the judge's position consistency;
- a call failed or a reply could not be parsed in either order: the outcome is ``"failed"``; it is
  listed with the raw reply and left out of the rates;
- two identical answers are a tie without asking (``JudgeConfig.skip_identical``), left out of the
  position-consistency rate.

Win/tie/loss rates are those of **b against a** over the judged (not failed) examples.

Examples:
    >>> from domainft.evaluation.judges.pairwise import PairwiseExample, PairwiseResult
    >>> result = PairwiseResult(("base", "tuned"), [
    ...     PairwiseExample(0, "b", first="b", second="b"),
    ...     PairwiseExample(1, "tie", first="a", second="b"),
    ...     PairwiseExample(2, "failed", first=None, second="a", error="a first: no verdict found")])
    >>> result.win_rate, result.tie_rate, result.loss_rate, result.position_consistency
    (0.5, 0.5, 0.0, 0.5)
    >>> PairwiseResult.from_dict(result.to_dict()) == result
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from domainft.data.teachers import TeacherFailure
from domainft.errors import ConfigError, DataError
from domainft.evaluation.judges.parsing import parse_verdict
from domainft.evaluation.judges.reliability import JudgeReliability

if TYPE_CHECKING:  # pragma: no cover
    from domainft.evaluation.judges.judge import LLMJudge

Outcome = Literal["a", "b", "tie", "failed"]
Side = Literal["a", "b", "tie"]

_FIRST_ORDER = {"1": "a", "2": "b", "tie": "tie"}  # a shown as Assistant 1
_SECOND_ORDER = {"1": "b", "2": "a", "tie": "tie"}  # b shown as Assistant 1


@dataclass
class PairwiseExample:
    """One example's judgment.

    Attributes:
        index: position in the inputs.
        outcome: ``"a"``, ``"b"``, ``"tie"`` or ``"failed"``.
        first: the verdict (mapped to ``"a"``/``"b"``/``"tie"``) with a's answer shown first;
            None when that judgment failed or was not needed.
        second: the verdict with b's answer shown first.
        rationale_first, rationale_second: the judge's reasons in each order (they speak of
            "Assistant 1/2": Assistant 1 is a in the first order, b in the second).
        error: why the example failed (each failed order, its kind and reason).
        raw_first, raw_second: the judge's raw replies, kept for failed judgments.
        failure_kinds: ``"parse"`` or ``"call"`` for each failed judgment.
        identical: the two answers were identical, a tie without asking.
    """

    index: int
    outcome: Outcome
    first: Side | None = None
    second: Side | None = None
    rationale_first: str | None = None
    rationale_second: str | None = None
    error: str | None = None
    raw_first: str | None = None
    raw_second: str | None = None
    failure_kinds: list[str] = field(default_factory=list)
    identical: bool = False

    @property
    def consistent(self) -> bool | None:
        """Whether both orders agree; None when the example was not judged in both orders."""
        if self.first is None or self.second is None:
            return None
        return self.first == self.second

    @property
    def flipped(self) -> bool:
        """Each order named the other system as the winner."""
        return {self.first, self.second} == {"a", "b"}


@dataclass
class PairwiseResult:
    """The comparison of systems ``names[0]`` (a) and ``names[1]`` (b) on the same examples."""

    names: tuple[str, str]
    examples: list[PairwiseExample]
    judge: str = ""
    requests: int = 0
    cache_hits: int = 0

    def __post_init__(self) -> None:
        self.names = (str(self.names[0]), str(self.names[1]))

    # ------------------------------------------------------------------------------------ counts

    @property
    def outcomes(self) -> list[Outcome]:
        return [e.outcome for e in self.examples]

    @property
    def n_judged(self) -> int:
        return sum(e.outcome != "failed" for e in self.examples)

    @property
    def n_failed(self) -> int:
        return sum(e.outcome == "failed" for e in self.examples)

    @property
    def wins(self) -> int:
        """Examples b won."""
        return self.outcomes.count("b")

    @property
    def losses(self) -> int:
        """Examples a won (b lost)."""
        return self.outcomes.count("a")

    @property
    def ties(self) -> int:
        return self.outcomes.count("tie")

    def _rate(self, count: int) -> float | None:
        return count / self.n_judged if self.n_judged else None

    @property
    def win_rate(self) -> float | None:
        """Share of judged examples b won; None when none was judged."""
        return self._rate(self.wins)

    @property
    def tie_rate(self) -> float | None:
        return self._rate(self.ties)

    @property
    def loss_rate(self) -> float | None:
        """Share of judged examples a won."""
        return self._rate(self.losses)

    @property
    def inconsistent(self) -> int:
        return sum(e.consistent is False for e in self.examples)

    @property
    def order_flips(self) -> int:
        return sum(e.flipped for e in self.examples)

    @property
    def position_consistency(self) -> float | None:
        """Share of examples judged in both orders whose two verdicts agree; None if there are none."""
        both = [e.consistent for e in self.examples if e.consistent is not None]
        return sum(both) / len(both) if both else None

    @property
    def parse_failures(self) -> int:
        return sum(e.failure_kinds.count("parse") for e in self.examples)

    @property
    def call_failures(self) -> int:
        return sum(e.failure_kinds.count("call") for e in self.examples)

    @property
    def rationales(self) -> list[dict[str, str | None]]:
        """Per example, the judge's reasons keyed ``"<a> first"`` and ``"<b> first"``."""
        a, b = self.names
        return [{f"{a} first": e.rationale_first, f"{b} first": e.rationale_second} for e in self.examples]

    @property
    def failures(self) -> list[dict[str, Any]]:
        """One entry per failed example: ``index``, ``reason`` and the raw replies."""
        return [
            {
                "index": e.index,
                "reason": e.error or "failed",
                "raw_first": e.raw_first,
                "raw_second": e.raw_second,
            }
            for e in self.examples
            if e.outcome == "failed"
        ]

    def reliability(self) -> JudgeReliability:
        return JudgeReliability(
            judge=self.judge,
            task="pairwise",
            examples=len(self.examples),
            judgments=sum(2 for e in self.examples if not e.identical),
            parse_failures=self.parse_failures,
            call_failures=self.call_failures,
            order_flips=self.order_flips,
            inconsistent=self.inconsistent,
            position_consistency=self.position_consistency,
            requests=self.requests,
            cache_hits=self.cache_hits,
        )

    # ------------------------------------------------------------------------------------ I/O

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: rates, reliability and every example (``from_dict`` reads it back)."""
        a, b = self.names
        return {
            "a": a,
            "b": b,
            "judge": self.judge,
            "n": len(self.examples),
            "n_judged": self.n_judged,
            "n_failed": self.n_failed,
            "win_rate": self.win_rate,
            "tie_rate": self.tie_rate,
            "loss_rate": self.loss_rate,
            "position_consistency": self.position_consistency,
            "reliability": self.reliability().to_dict(),
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "examples": [
                {
                    "index": e.index,
                    "outcome": e.outcome,
                    "first": e.first,
                    "second": e.second,
                    "rationale_first": e.rationale_first,
                    "rationale_second": e.rationale_second,
                    "error": e.error,
                    "raw_first": e.raw_first,
                    "raw_second": e.raw_second,
                    "failure_kinds": list(e.failure_kinds),
                    "identical": e.identical,
                }
                for e in self.examples
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PairwiseResult:
        try:
            examples = [PairwiseExample(**dict(e)) for e in data["examples"]]
            return cls(
                names=(data["a"], data["b"]),
                examples=examples,
                judge=data.get("judge", ""),
                requests=int(data.get("requests", 0)),
                cache_hits=int(data.get("cache_hits", 0)),
            )
        except (KeyError, TypeError) as exc:
            raise DataError(f"PairwiseResult.from_dict: not a saved pairwise result ({exc})") from None

    def summary(self) -> str:
        """One line: b against a, with the rates and the judge's consistency."""
        a, b = self.names
        if not self.n_judged:
            return f"{b} vs {a}: no example could be judged ({self.n_failed} failed)"
        text = (
            f"{b} vs {a}: {b} wins {100 * self.win_rate:.1f}%, ties {100 * self.tie_rate:.1f}%, "  # type: ignore[operator]
            f"{a} wins {100 * self.loss_rate:.1f}% of {self.n_judged} judged examples"  # type: ignore[operator]
        )
        consistency = self.position_consistency
        if consistency is not None:
            text += f"; position consistency {100 * consistency:.1f}%"
        if self.n_failed:
            text += f"; {self.n_failed} failed"
        return text

    def to_markdown(self) -> str:
        """A small Markdown table of the outcome and the judge's reliability."""

        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{100 * value:.1f}%"

        a, b = self.names
        rel = self.reliability()
        lines = [
            f"### {b} vs {a} (judge: {self.judge or 'unknown'})",
            "",
            f"| {b} wins | ties | {a} wins | judged | failed | position consistency | order flips |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {pct(self.win_rate)} ({self.wins}) | {pct(self.tie_rate)} ({self.ties}) | "
            f"{pct(self.loss_rate)} ({self.losses}) | {self.n_judged} | {self.n_failed} | "
            f"{pct(self.position_consistency)} | {self.order_flips} |",
            "",
            f"Judge reliability: {rel.summary()}.",
            "A verdict that changes when the answers swap places counts as a tie.",
        ]
        return "\n".join(lines) + "\n"


def _judgment(
    reply: str | TeacherFailure, mapping: dict[str, str]
) -> tuple[Side | None, str | None, str | None, str | None]:
    """(side, rationale, error, failure kind) of one reply."""
    if isinstance(reply, TeacherFailure):
        return None, None, f"judge call failed: {reply.error}", "call"
    parsed = parse_verdict(reply)
    if parsed.value is None:
        return None, parsed.rationale, f"unparsable judge reply: {parsed.error}", "parse"
    return mapping[parsed.value], parsed.rationale, None, None  # type: ignore[return-value]


def pairwise_compare(
    judge: LLMJudge | Any,
    prompts: Sequence[str],
    answers_a: Sequence[str],
    answers_b: Sequence[str],
    references: Sequence[str] | None = None,
    names: tuple[str, str] = ("a", "b"),
) -> PairwiseResult:
    """Compare the answers of two systems blind, in both orders; see the module docstring.

    ``judge`` is an :class:`LLMJudge` or anything :func:`get_judge` accepts. ``names`` only label the
    result; they never reach the judge. References are shown when the judge's ``with_reference`` is
    on and they are given.
    """
    from domainft.evaluation.judges.judge import LLMJudge, _check_lists, get_judge

    judge = judge if isinstance(judge, LLMJudge) else get_judge(judge)
    if (
        not isinstance(names, (tuple, list))
        or len(names) != 2
        or not all(isinstance(x, str) and x for x in names)
        or names[0] == names[1]
    ):
        raise ConfigError(f"pairwise_compare: names must be two different non-empty strings, got {names!r}")
    n = len(answers_a)
    _check_lists(n, prompts=prompts, answers_a=answers_a, answers_b=answers_b, references=references)
    refs: Sequence[str | None] = references if references is not None else [None] * n
    skip = judge.config.skip_identical
    identical = [skip and a.strip() == b.strip() for a, b in zip(answers_a, answers_b, strict=True)]
    asked = [i for i in range(n) if not identical[i]]
    messages = []
    for i in asked:
        messages.append(judge.pairwise_messages(prompts[i], answers_a[i], answers_b[i], refs[i]))
        messages.append(judge.pairwise_messages(prompts[i], answers_b[i], answers_a[i], refs[i]))
    requests, hits = judge.stats.requests, judge.stats.cache_hits
    replies = judge.complete(messages, desc="judge pairwise") if messages else []
    examples = [PairwiseExample(i, "tie", identical=True) for i in range(n)]
    for k, i in enumerate(asked):
        reply_1, reply_2 = replies[2 * k], replies[2 * k + 1]
        first, why_1, err_1, kind_1 = _judgment(reply_1, _FIRST_ORDER)
        second, why_2, err_2, kind_2 = _judgment(reply_2, _SECOND_ORDER)
        example = PairwiseExample(
            i, "tie", first=first, second=second, rationale_first=why_1, rationale_second=why_2
        )
        if err_1 or err_2:
            example.outcome = "failed"
            example.error = "; ".join(
                f"{names[j]} first: {err}" for j, err in ((0, err_1), (1, err_2)) if err is not None
            )
            example.failure_kinds = [kind for kind in (kind_1, kind_2) if kind is not None]
            example.raw_first = reply_1 if kind_1 == "parse" else None  # type: ignore[assignment]
            example.raw_second = reply_2 if kind_2 == "parse" else None  # type: ignore[assignment]
        elif first == second:
            example.outcome = first  # type: ignore[assignment]
        examples[i] = example
    return PairwiseResult(
        names=(names[0], names[1]),
        examples=examples,
        judge=judge.name,
        requests=judge.stats.requests - requests,
        cache_hits=judge.stats.cache_hits - hits,
    )
