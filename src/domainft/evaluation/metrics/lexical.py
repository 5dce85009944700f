"""Lexical overlap metrics, wrapped, not re-implemented: ROUGE (``rouge_score``), corpus BLEU and chrF
(``sacrebleu``), mean sentence BLEU (``nltk``) and exact match.

``rouge_score``, ``sacrebleu`` and ``nltk`` are imported when a metric is built, not when this module is
imported. Corpus BLEU and chrF return their per-example sufficient statistics
(``MetricOutput.corpus_statistics``), so reports can bootstrap them exactly.

Examples:
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

    Examples:
        >>> UnicodeTokenizer().tokenize("Thành phố Hồ Chí Minh, running!")
        ['thành', 'phố', 'hồ', 'chí', 'minh', 'run']
    """

    #: Distinct words whose stems are remembered; the memo starts over when it is full.
    STEM_MEMO_SIZE = 200_000

    def __init__(self, use_stemmer: bool = True) -> None:
        self.use_stemmer = use_stemmer
        self._stemmer: Any = None
        # Porter stemming is a pure function of the word and costs most of the tokenizing time, while a
        # test set repeats a few thousand words: each distinct word is stemmed once.
        self._stems: dict[str, str] = {}
        if use_stemmer:
            from nltk.stem import porter

            self._stemmer = porter.PorterStemmer()

    def _stem(self, token: str) -> str:
        stem = self._stems.get(token)
        if stem is None:
            if len(self._stems) >= self.STEM_MEMO_SIZE:
                self._stems.clear()
            stem = self._stems[token] = self._stemmer.stem(token)
        return stem

    def tokenize(self, text: str) -> list[str]:
        text = text.lower()
        if text.isascii():  # NFC is the identity and there are no combining marks to keep
            tokens = _NON_WORD_RUN.sub(" ", text).split()
        else:
            text = unicodedata.normalize("NFC", text)
            tokens = _NON_WORD_RUN.sub(_separators_to_spaces, text).split()
        if self._stemmer is not None:
            tokens = [self._stem(t) if len(t) > 3 and t.isascii() else t for t in tokens]
        return [t for t in tokens if t]

    def __repr__(self) -> str:
        return f"UnicodeTokenizer(use_stemmer={self.use_stemmer})"


def _mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs)


ROUGE_MEASURES: dict[str, str] = {"f": "", "p": "_precision", "r": "_recall"}


@register_metric("rouge")
class RougeMetric(Metric):
    """ROUGE (0-1) from ``rouge_score``, with stemming and a Unicode-aware tokenizer.

    ``values[t]`` is the mean over examples of the per-example F-measure for each ROUGE type ``t``;
    with ``measures`` containing ``"p"``/``"r"`` the mean precision and recall are reported too, as
    ``t + "_precision"`` and ``t + "_recall"``. ``rougeLsum`` treats newline-separated lines as
    sentences (as ``rouge_score`` does); on single-line text it equals ``rougeL``.

    Args:
        rouge_types: ROUGE variants to compute.
        use_stemmer: Porter-stem ASCII tokens (used by the default tokenizer only).
        tokenizer: any object with ``tokenize(text) -> list[str]``; default ``UnicodeTokenizer``.
        measures: which of ``"f"`` (F-measure, key ``rouge1``), ``"p"`` (``rouge1_precision``) and
            ``"r"`` (``rouge1_recall``) to report.

    Examples:
        >>> out = RougeMetric(rouge_types=["rouge1"], measures=("f", "p", "r")).compute(
        ...     ["a cat sat"], ["the cat sat down"])
        >>> {k: round(v, 4) for k, v in out.values.items()}
        {'rouge1': 0.5714, 'rouge1_precision': 0.6667, 'rouge1_recall': 0.5}
    """

    name = "rouge"

    def __init__(
        self,
        rouge_types: Sequence[str] = ROUGE_TYPES,
        use_stemmer: bool = True,
        tokenizer: Any | None = None,
        measures: Sequence[str] = ("f",),
    ) -> None:
        from rouge_score import rouge_scorer

        if isinstance(rouge_types, str) or not rouge_types:
            raise ValueError(f"rouge: rouge_types must be a non-empty list such as {list(ROUGE_TYPES)}")
        if isinstance(measures, str) or not measures or any(m not in ROUGE_MEASURES for m in measures):
            raise ValueError(
                f"rouge: measures must be a non-empty list of {sorted(ROUGE_MEASURES)} "
                f"(f = F-measure, p = precision, r = recall), got {measures!r}"
            )
        self.rouge_types = list(rouge_types)
        self.measures = [m for m in ROUGE_MEASURES if m in measures]
        self.tokenizer = tokenizer if tokenizer is not None else UnicodeTokenizer(use_stemmer=use_stemmer)
        self._scorer = rouge_scorer.RougeScorer(self.rouge_types, tokenizer=self.tokenizer)
        # On a pair of single-line texts rouge_score's rougeLsum (summary-level LCS over one sentence each)
        # is the same computation as rougeL, so such pairs run the quadratic LCS once instead of twice.
        self._single_line_scorer = None
        if "rougeLsum" in self.rouge_types:
            types = [t for t in self.rouge_types if t != "rougeLsum"]
            self._single_line_scorer = rouge_scorer.RougeScorer(
                types if "rougeL" in types else [*types, "rougeL"], tokenizer=self.tokenizer
            )

    def _score(self, prediction: str, reference: str) -> dict[str, Any]:
        """rouge_score's scores of one pair (its argument order is target, prediction)."""
        if self._single_line_scorer is not None and "\n" not in prediction and "\n" not in reference:
            scores = self._single_line_scorer.score(reference, prediction)
            scores["rougeLsum"] = scores["rougeL"]
            return scores
        return self._scorer.score(reference, prediction)

    def _compute(self, predictions: list[str], references: list[str]) -> MetricOutput:
        fields = {"f": "fmeasure", "p": "precision", "r": "recall"}
        keys = [(m, t, t + ROUGE_MEASURES[m]) for m in self.measures for t in self.rouge_types]
        per_sample: dict[str, list[float]] = {key: [] for _, _, key in keys}
        for prediction, reference in zip(predictions, references, strict=True):
            scores = self._score(prediction, reference)
            for m, t, key in keys:
                per_sample[key].append(float(getattr(scores[t], fields[m])))
        values = {key: _mean(per_sample[key]) for _, _, key in keys}
        return MetricOutput(values=values, per_sample=per_sample)


class _SacreCorpusMetric(Metric):
    """A sacrebleu metric scored from per-example sufficient statistics.

    The corpus score is sacrebleu's own ``_aggregate_and_compute`` of the statistics it extracted
    (what ``corpus_score`` does); per-example scores are sacrebleu's sentence scores of each example's
    own statistics (what ``sentence_score`` does), so nothing is tokenised twice.
    """

    key = ""

    def __init__(self) -> None:
        self._corpus: Any = None
        self._sentence: Any = None

    def _corpus_score(self, stats: list[int]) -> float:
        return float(self._corpus._compute_score_from_stats(stats).score)

    def _statistics(self, predictions: list[str], references: list[str]) -> Any:
        import numpy as np

        stats = self._corpus._extract_corpus_statistics(predictions, [references])
        return np.asarray(stats, dtype=np.int64)

    def _compute(self, predictions: list[str], references: list[str]) -> MetricOutput:
        from domainft.evaluation.stats import CorpusStatistic

        stats = self._statistics(predictions, references)
        corpus = self._corpus._compute_score_from_stats(stats.sum(axis=0).tolist())
        per_sample = [float(self._sentence._compute_score_from_stats(row).score) for row in stats.tolist()]
        return MetricOutput(
            values={self.key: float(corpus.score)},
            per_sample={self.key: per_sample},
            details=self._details(corpus),
            corpus_statistics={self.key: CorpusStatistic(stats, self._corpus_score)},
        )

    def _details(self, corpus: Any) -> dict[str, Any]:
        return {"signature": str(self._corpus.get_signature())}


@register_metric("bleu")
class BleuMetric(_SacreCorpusMetric):
    """Corpus BLEU (0-100) from ``sacrebleu``, plus sentence BLEU per example.

    ``values["bleu"]`` equals ``sacrebleu.corpus_bleu(predictions, [references]).score``;
    ``per_sample["bleu"]`` equals ``sacrebleu.sentence_bleu(p, [r]).score`` (effective order, exp
    smoothing), for inspecting single answers only: corpus BLEU is not their mean. ``details`` holds
    ``precisions`` (1- to 4-gram, in %), ``bp`` (brevity penalty), ``sys_len``, ``ref_len`` and
    ``signature``. The per-example n-gram statistics travel with the output (``corpus_statistics``)
    so that confidence intervals recompute corpus BLEU on every resample.

    Args:
        tokenize: sacrebleu tokenizer name (``"13a"`` by default; ``"intl"``, ``"zh"``, ``"flores200"`` ...).
        lowercase: case-insensitive BLEU.

    Examples:
        >>> out = BleuMetric().compute(["the cat is on the mat"], ["the cat sat on the mat"])
        >>> round(out.values["bleu"], 2), sorted(out.details)
        (37.99, ['bp', 'precisions', 'ref_len', 'signature', 'sys_len'])
    """

    name = "bleu"
    key = "bleu"

    def __init__(self, tokenize: str | None = None, lowercase: bool = False) -> None:
        from sacrebleu.metrics import BLEU

        self.tokenize = tokenize
        self.lowercase = lowercase
        self._corpus = BLEU(tokenize=tokenize, lowercase=lowercase)
        self._sentence = BLEU(tokenize=tokenize, lowercase=lowercase, effective_order=True)

    def _details(self, corpus: Any) -> dict[str, Any]:
        return {
            "precisions": [float(x) for x in corpus.precisions],
            "bp": float(corpus.bp),
            "sys_len": int(corpus.sys_len),
            "ref_len": int(corpus.ref_len),
            "signature": str(self._corpus.get_signature()),
        }


@register_metric("chrf")
class ChrfMetric(_SacreCorpusMetric):
    """Corpus chrF (0-100) from ``sacrebleu``, plus sentence chrF per example.

    ``values["chrf"]`` equals ``sacrebleu.corpus_chrf(predictions, [references]).score`` (character
    n-grams up to 6, beta 2); ``word_order=2`` gives chrF++. ``per_sample["chrf"]`` equals
    ``sacrebleu.sentence_chrf(p, [r]).score``. Character n-grams need no word tokenizer, so the metric
    suits any script and morphologically rich languages.

    Args:
        char_order: longest character n-gram.
        word_order: longest word n-gram (0 = chrF, 2 = chrF++).
        beta: weight of recall against precision.
        lowercase: case-insensitive matching.
        whitespace: count whitespace characters in character n-grams.

    Examples:
        >>> out = ChrfMetric().compute(["Thành phố Hồ Chí Minh"], ["Thành phố Hồ Chí Minh"])
        >>> out.values["chrf"], out.details["signature"][:10]
        (100.0, 'nrefs:1|ca')
    """

    name = "chrf"
    key = "chrf"

    def __init__(
        self,
        char_order: int = 6,
        word_order: int = 0,
        beta: int = 2,
        lowercase: bool = False,
        whitespace: bool = False,
    ) -> None:
        from sacrebleu.metrics import CHRF

        self.char_order, self.word_order, self.beta = char_order, word_order, beta
        self.lowercase, self.whitespace = lowercase, whitespace
        self._corpus = CHRF(
            char_order=char_order,
            word_order=word_order,
            beta=beta,
            lowercase=lowercase,
            whitespace=whitespace,
        )
        self._sentence = self._corpus


@register_metric("sentence_bleu")
class SentenceBleuMetric(Metric):
    """Mean sentence BLEU (0-1) from ``nltk``, smoothed with ``SmoothingFunction().method1``.

    Each answer is scored alone with ``nltk.translate.bleu_score.sentence_bleu`` against its reference,
    both tokenised with :class:`UnicodeTokenizer` without stemming (lowercased, Unicode letters and
    digits kept, punctuation dropped). Smoothing method 1 (Chen & Cherry, 2014) replaces a zero
    n-gram match count by ``epsilon = 0.1`` so that one missing 4-gram does not zero the score; answers
    shorter than four tokens are still penalised for their missing orders (a perfect three-word
    answer scores 0.56). Unlike corpus BLEU this is an average of per-example scores, which makes it
    comparable across corpora of different answer lengths but noisier on short answers.

    Args:
        weights: n-gram weights (default uniform over 1- to 4-grams).
        tokenizer: any object with ``tokenize(text) -> list[str]``; default ``UnicodeTokenizer(False)``.

    Examples:
        >>> out = SentenceBleuMetric().compute(["the cat sat on the mat"], ["The cat sat on the mat!"])
        >>> out.values["sentence_bleu"]
        1.0
    """

    name = "sentence_bleu"

    def __init__(
        self, weights: Sequence[float] = (0.25, 0.25, 0.25, 0.25), tokenizer: Any | None = None
    ) -> None:
        from nltk.translate.bleu_score import SmoothingFunction

        if isinstance(weights, (str, bytes)) or not weights or any(w < 0 for w in weights):
            raise ValueError(f"sentence_bleu: weights must be non-negative n-gram weights, got {weights!r}")
        self.weights = tuple(float(w) for w in weights)
        self.tokenizer = tokenizer if tokenizer is not None else UnicodeTokenizer(use_stemmer=False)
        self._smoothing = SmoothingFunction().method1

    def _compute(self, predictions: list[str], references: list[str]) -> MetricOutput:
        from nltk.translate.bleu_score import sentence_bleu

        scores = [
            float(
                sentence_bleu(
                    [self.tokenizer.tokenize(r)],
                    self.tokenizer.tokenize(p),
                    weights=self.weights,
                    smoothing_function=self._smoothing,
                )
            )
            for p, r in zip(predictions, references, strict=True)
        ]
        return MetricOutput({"sentence_bleu": _mean(scores)}, {"sentence_bleu": scores})


@register_metric("exact_match")
class ExactMatchMetric(Metric):
    """Share (0-1) of answers equal to their reference after normalisation.

    Both texts are Unicode-normalised (``normalization``, NFKC by default: full-width and compatibility
    characters fold to their plain forms), case-folded (``casefold``, Unicode-aware lowercasing),
    stripped of punctuation (``ignore_punctuation``: every Unicode punctuation character) and of
    surrounding whitespace with inner runs collapsed to one space (``strip_whitespace``).

    Examples:
        >>> metric = ExactMatchMetric(ignore_punctuation=True)
        >>> metric.compute(["  Hồ  Chí Minh! ", "Paris"], ["hồ chí minh", "Lyon"]).values
        {'exact_match': 0.5}
    """

    name = "exact_match"

    def __init__(
        self,
        normalization: str | None = "NFKC",
        casefold: bool = True,
        strip_whitespace: bool = True,
        ignore_punctuation: bool = False,
    ) -> None:
        if normalization not in (None, "NFC", "NFD", "NFKC", "NFKD"):
            raise ValueError(
                f"exact_match: normalization must be NFC, NFD, NFKC, NFKD or None, got {normalization!r}"
            )
        self.normalization = normalization
        self.casefold = casefold
        self.strip_whitespace = strip_whitespace
        self.ignore_punctuation = ignore_punctuation

    def normalize(self, text: str) -> str:
        """The text as it is compared."""
        if self.normalization:
            text = unicodedata.normalize(self.normalization, text)
        if self.casefold:
            text = text.casefold()
        if self.ignore_punctuation:
            text = "".join(c for c in text if not unicodedata.category(c).startswith("P"))
        if self.strip_whitespace:
            text = " ".join(text.split())
        return text

    def _compute(self, predictions: list[str], references: list[str]) -> MetricOutput:
        hits = [
            float(self.normalize(p) == self.normalize(r))
            for p, r in zip(predictions, references, strict=True)
        ]
        return MetricOutput({"exact_match": _mean(hits)}, {"exact_match": hits})
