"""How far a judge's numbers can be trusted: unparsable replies, failed calls, verdicts that flip with order.

Examples:
    >>> from domainft.evaluation.judges.reliability import JudgeReliability
    >>> rel = JudgeReliability(judge="openai:qwen", task="pairwise", examples=50, judgments=100,
    ...                        parse_failures=2, call_failures=0, order_flips=6, inconsistent=9,
    ...                        position_consistency=0.8)
    >>> for part in rel.summary().split("; "):
    ...     print(part)
    judge openai:qwen (pairwise): 50 examples, 100 judgments
    2 unparsable replies (2.0%), 0 failed calls
    position consistency 80.0% (9 inconsistent, 6 order flips)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal


@dataclass
class JudgeReliability:
    """Counts that say how reliable one judging run was.

    Attributes:
        judge: the judge's name (backend and model).
        task: ``"grading"`` (one score per answer) or ``"pairwise"`` (two orders per example).
        examples: examples judged (or attempted).
        judgments: judge replies needed (one per example for grading, two for pairwise, none for
            identical answers).
        parse_failures: replies that came back but held no valid score or verdict.
        call_failures: requests that failed for good after the backend's retries.
        order_flips: pairwise: examples where each order names the other system as the winner.
        inconsistent: pairwise: examples whose two verdicts differ in any way (a flip, or a win in
            one order and a tie in the other); they count as ties.
        position_consistency: pairwise: share of examples with both verdicts where they agree
            (None when there are none).
        requests: requests actually sent to the backend (cache misses).
        cache_hits: replies answered from the disk cache.
    """

    judge: str
    task: Literal["grading", "pairwise"]
    examples: int
    judgments: int
    parse_failures: int = 0
    call_failures: int = 0
    order_flips: int | None = None
    inconsistent: int | None = None
    position_consistency: float | None = None
    requests: int = 0
    cache_hits: int = 0

    @property
    def failure_rate(self) -> float | None:
        """Share of needed judgments that gave no usable answer (None when nothing was needed)."""
        if not self.judgments:
            return None
        return (self.parse_failures + self.call_failures) / self.judgments

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "failure_rate": self.failure_rate}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JudgeReliability:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def summary(self) -> str:
        """One line for logs and reports."""
        share = f" ({100 * self.parse_failures / self.judgments:.1f}%)" if self.judgments else ""
        text = (
            f"judge {self.judge} ({self.task}): {self.examples} examples, {self.judgments} judgments; "
            f"{self.parse_failures} unparsable replies{share}, {self.call_failures} failed calls"
        )
        if self.task == "pairwise":
            if self.position_consistency is None:
                text += "; position consistency n/a (no example judged in both orders)"
            else:
                text += (
                    f"; position consistency {100 * self.position_consistency:.1f}% "
                    f"({self.inconsistent} inconsistent, {self.order_flips} order flips)"
                )
        if self.cache_hits:
            text += f"; {self.cache_hits} replies from the cache"
        return text
