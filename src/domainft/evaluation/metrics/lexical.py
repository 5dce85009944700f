"""Lexical overlap metrics: ROUGE (``rouge_score``) and BLEU (``sacrebleu``), wrapped, not re-implemented.

``rouge_score`` and ``sacrebleu`` are imported when a metric is built, not when this module is imported.

Example:
    >>> from domainft.evaluation.metrics.lexical import BleuMetric, RougeMetric
    >>> out = RougeMetric().compute(["Thành phố Hồ Chí Minh"], ["Hồ Chí Minh"])
    >>> round(out.values["rouge1"], 3)
    0.75
    >>> round(BleuMetric().compute(["the cat sat on the mat"], ["the cat sat on the mat"]).values["bleu"], 6)
    100.0
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from domainft.evaluation.metrics import register_metric
from domainft.evaluation.metrics.base import Metric, MetricOutput

ROUGE_TYPES: tuple[str, ...] = ("rouge1", "rouge2", "rougeL", "rougeLsum")

# Characters that are not letters, digits or combining marks; "_" is a separator as in rouge_score.
_NON_WORD_RUN = re.compile(r"[\W_]+")


def _separators_to_spaces(match: re.Match[str]) -> str:
    # Keep combining marks (Mn/Mc/Me): Devanagari vowel signs, decomposed accents that NFC cannot compose.
    return "".join(c if unicodedata.category(c)[0] == "M" else " " for c in match.group())


class UnicodeTokenizer:
    """``rouge_score``'s default tokenizer, made Unicode-aware.

    Lowercases, NFC-normalises, keeps Unicode letters, digits and combining marks, turns everything else
    into spaces and Porter-stems pure-ASCII tokens longer than 3 characters (nltk's ``PorterStemmer()``,
    as ``rouge_score`` does). On ASCII text it tokenizes exactly like
    ``rouge_score.tokenizers.DefaultTokenizer(use_stemmer)``; unlike it, it does not delete non-ASCII
    text. Scripts written without spaces (Chinese, Japanese, Thai) stay one token per run.

    Example:
        >>> UnicodeTokenizer().tokenize("Thành phố Hồ Chí Minh, running!")
        ['thành', 'phố', 'hồ', 'chí', 'minh', 'run']
    """

    def __init__(self, use_stemmer: bool = True) -> None:
        self.use_stemmer = use_stemmer
        self._stemmer: Any = None
        if use_stemmer:
            from nltk.stem import porter

            self._stemmer = porter.PorterStemmer()

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFC", text.lower())
        tokens = _NON_WORD_RUN.sub(_separators_to_spaces, text).split()
        if self._stemmer is not None:
            stem = self._stemmer.stem
            tokens = [stem(t) if len(t) > 3 and t.isascii() else t for t in tokens]
        return [t for t in tokens if t]

    def __repr__(self) -> str:
        return f"UnicodeTokenizer(use_stemmer={self.use_stemmer})"


def _mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs)


@register_metric("rouge")
class RougeMetric(Metric):
    """ROUGE F-measure (0-1) from ``rouge_score``, with stemming and a Unicode-aware tokenizer.

    ``values[t]`` is the mean over examples of the per-example F-measure for each ROUGE type ``t``.
    ``rougeLsum`` treats newline-separated lines as sentences (as ``rouge_score`` does); on single-line
    text it equals ``rougeL``.

    Args:
        rouge_types: ROUGE variants to compute.
        use_stemmer: Porter-stem ASCII tokens (used by the default tokenizer only).
        tokenizer: any object with ``tokenize(text) -> list[str]``; default ``UnicodeTokenizer``.

    Example:
        >>> out = RougeMetric(rouge_types=["rouge1"]).compute(["a cat sat"], ["the cat sat"])
        >>> round(out.values["rouge1"], 4), out.per_sample["rouge1"] == [out.values["rouge1"]]
        (0.6667, True)
    """

    name = "rouge"

    def __init__(
        self,
        rouge_types: Sequence[str] = ROUGE_TYPES,
        use_stemmer: bool = True,
        tokenizer: Any | None = None,
    ) -> None:
        from rouge_score import rouge_scorer

        if isinstance(rouge_types, str) or not rouge_types:
            raise ValueError(f"rouge: rouge_types must be a non-empty list such as {list(ROUGE_TYPES)}")
        self.rouge_types = list(rouge_types)
        self.tokenizer = tokenizer if tokenizer is not None else UnicodeTokenizer(use_stemmer=use_stemmer)
        self._scorer = rouge_scorer.RougeScorer(self.rouge_types, tokenizer=self.tokenizer)

    def _compute(self, predictions: list[str], references: list[str]) -> MetricOutput:
        per_sample: dict[str, list[float]] = {t: [] for t in self.rouge_types}
        for prediction, reference in zip(predictions, references, strict=True):
            scores = self._scorer.score(reference, prediction)  # rouge_score's order: (target, prediction)
            for t in self.rouge_types:
                per_sample[t].append(float(scores[t].fmeasure))
        values = {t: _mean(per_sample[t]) for t in self.rouge_types}
        return MetricOutput(values=values, per_sample=per_sample)


@register_metric("bleu")
class BleuMetric(Metric):
    """Corpus BLEU (0-100) from ``sacrebleu``, plus sentence BLEU per example.

    ``values["bleu"]`` equals ``sacrebleu.corpus_bleu(predictions, [references]).score``;
    ``per_sample["bleu"]`` equals ``sacrebleu.sentence_bleu(p, [r]).score`` (effective order, exp
    smoothing). ``details`` holds ``precisions``, ``bp``, ``sys_len``, ``ref_len`` and ``signature``.

    Args:
        tokenize: sacrebleu tokenizer name (``"13a"`` by default; ``"intl"``, ``"zh"``, ``"flores200"`` ...).
        lowercase: case-insensitive BLEU.

    Example:
        >>> out = BleuMetric().compute(["the cat is on the mat"], ["the cat sat on the mat"])
        >>> round(out.values["bleu"], 2), sorted(out.details)
        (37.99, ['bp', 'precisions', 'ref_len', 'signature', 'sys_len'])
    """

    name = "bleu"

    def __init__(self, tokenize: str | None = None, lowercase: bool = False) -> None:
        from sacrebleu.metrics import BLEU

        self.tokenize = tokenize
        self.lowercase = lowercase
        self._corpus = BLEU(tokenize=tokenize, lowercase=lowercase)
        self._sentence = BLEU(tokenize=tokenize, lowercase=lowercase, effective_order=True)

    def _compute(self, predictions: list[str], references: list[str]) -> MetricOutput:
        corpus = self._corpus.corpus_score(predictions, [references])
        per_sample = [
            float(self._sentence.sentence_score(p, [r]).score)
            for p, r in zip(predictions, references, strict=True)
        ]
        details = {
            "precisions": [float(x) for x in corpus.precisions],
            "bp": float(corpus.bp),
            "sys_len": int(corpus.sys_len),
            "ref_len": int(corpus.ref_len),
            "signature": str(self._corpus.get_signature()),
        }
        return MetricOutput(
            values={"bleu": float(corpus.score)}, per_sample={"bleu": per_sample}, details=details
        )
