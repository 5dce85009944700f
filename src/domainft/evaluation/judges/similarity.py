"""The ``"similarity"`` judge backend: an offline stand-in that grades by closeness to the reference.

It is not an LLM. It reads the judge conversations domainft builds (the answer(s) and the reference
answer between their markers) and replies in the judge's JSON format:

- grading: the cosine similarity ``s`` of the answer's sentence embedding to the reference's, mapped
  linearly from ``[0, 1]`` onto the score scale (``min_score + round((max_score - min_score) * s)``,
  negative similarities give ``min_score``);
- pairwise: the answer closer to the reference wins, a tie when the two similarities differ by less
  than ``tie_margin``. The verdict follows the answers, not their order, so position consistency is 1.

Use it where no judge model is available (a CPU-only machine, CI, the offline recipes) to run the
judging pipeline end to end and get a semantic floor; report its numbers as what they are. The
embedding model is local (``embedding_model``, else ``JudgeConfig.local_model``, else the offline
default of :func:`~domainft.evaluation.metrics.semantic.default_embedding_model`).

Examples:
    >>> from domainft.evaluation.judges import get_judge
    >>> judge = get_judge("similarity", progress=False)  # doctest: +SKIP
    >>> judge.grade(["How do I reset the PLC?"], ["Power-cycle the PLC and reload the program."],
    ...             ["Switch the PLC off and on, then reload its program."]).scores  # doctest: +SKIP
    [9]
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from domainft.data.teachers import Emit, Teacher, TeacherFailure
from domainft.errors import ConfigError
from domainft.evaluation.judges import register_judge
from domainft.evaluation.judges.prompts import read_section

if TYPE_CHECKING:  # pragma: no cover
    from domainft.evaluation.judges.config import JudgeConfig


class SimilarityJudge(Teacher):
    """Replies to judge conversations from embedding similarities to the reference answer."""

    backend = "similarity"

    def __init__(
        self,
        embedding_model: str | os.PathLike[str] | None = None,
        tie_margin: float = 0.02,
        min_score: int = 1,
        max_score: int = 10,
    ) -> None:
        if isinstance(tie_margin, bool) or not isinstance(tie_margin, int | float) or not 0 <= tie_margin < 1:
            raise ConfigError(f"the similarity judge's tie_margin must be in [0, 1), got {tie_margin!r}")
        self.embedding_model = None if embedding_model is None else str(embedding_model)
        self.tie_margin = float(tie_margin)
        self.min_score, self.max_score = min_score, max_score
        self._model: Any = None
        self._vectors: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return "similarity"

    def settings(self) -> dict[str, Any]:
        from domainft.evaluation.metrics.semantic import default_embedding_model

        model = self.embedding_model or default_embedding_model()
        return {
            "embedding_model": os.path.basename(os.path.normpath(model)),
            "tie_margin": self.tie_margin,
            "scale": [self.min_score, self.max_score],
        }

    def _similarities(self, left: list[str], right: list[str]) -> list[float]:
        """Cosine similarities; each distinct text is embedded once per judge (pairwise asks twice)."""
        import numpy as np

        from domainft.evaluation.metrics.semantic import load_sentence_model

        if self._model is None:
            self._model = load_sentence_model(self.embedding_model)
        todo = list(dict.fromkeys(t for t in [*left, *right] if t not in self._vectors))
        if todo:
            vectors = self._model.encode(
                todo,
                batch_size=32,
                convert_to_numpy=True,
                normalize_embeddings=False,
                show_progress_bar=False,
            ).astype(np.float64)
            for text, vector in zip(todo, vectors, strict=True):
                norm = float(np.linalg.norm(vector))
                self._vectors[text] = vector / norm if norm > 0 else vector
        return [float(np.dot(self._vectors[a], self._vectors[b])) for a, b in zip(left, right, strict=True)]

    def _complete(
        self, batch: list[list[Mapping[str, Any]]], contexts: list[dict[str, Any]], emit: Emit
    ) -> None:
        grade: list[tuple[int, str, str]] = []
        compare: list[tuple[int, str, str, str]] = []
        for i, messages in enumerate(batch):
            text = str(messages[-1].get("content", "")) if messages else ""
            reference = read_section(text, "reference")
            answer, first, second = (read_section(text, k) for k in ("answer", "first", "second"))
            if reference is None:
                emit(i, TeacherFailure("the similarity judge needs the reference answer", kind="input"))
            elif answer is not None:
                grade.append((i, answer, reference))
            elif first is not None and second is not None:
                compare.append((i, first, second, reference))
            else:
                emit(i, TeacherFailure("not a domainft judge conversation", kind="input"))
        if grade:
            sims = self._similarities([g[1] for g in grade], [g[2] for g in grade])
            span = self.max_score - self.min_score
            for (i, _, _), sim in zip(grade, sims, strict=True):
                score = self.min_score + round(span * min(max(sim, 0.0), 1.0))
                rationale = f"cosine similarity to the reference {sim:.3f} (embedding stand-in, not an LLM)"
                emit(i, json.dumps({"score": score, "rationale": rationale}))
        if compare:
            refs = [c[3] for c in compare]
            one = self._similarities([c[1] for c in compare], refs)
            two = self._similarities([c[2] for c in compare], refs)
            for (i, *_), a, b in zip(compare, one, two, strict=True):
                winner = "tie" if abs(a - b) < self.tie_margin else ("1" if a > b else "2")
                rationale = f"similarity to the reference: answer 1 {a:.3f}, answer 2 {b:.3f}"
                emit(i, json.dumps({"winner": winner, "rationale": rationale}))


@register_judge("similarity")
def similarity_judge(
    config: JudgeConfig, *, embedding_model: str | os.PathLike[str] | None = None, tie_margin: float = 0.02
) -> Teacher:
    """The embedding stand-in judge; needs ``with_reference`` (the default)."""
    if not config.with_reference:
        raise ConfigError(
            "the 'similarity' judge compares answers with the reference answer; keep with_reference: true"
        )
    return SimilarityJudge(
        embedding_model or config.local_model,
        tie_margin,
        min_score=config.min_score,
        max_score=config.max_score,
    )
