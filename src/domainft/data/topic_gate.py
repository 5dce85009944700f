"""``TopicGate``: a TF-IDF + logistic-regression classifier that tells in-domain texts from the rest.

Use it to keep off-topic rows out of a training set, or to answer "this assistant only knows about
X" before an off-topic question reaches the tuned model. Negatives default to a general question
set shipped with domainft (``builtin:general_questions``). The gate saves to a directory of JSON and
``.npy`` files that load without unpickling anything.

Examples:
    >>> from domainft.data.topic_gate import TopicGate, TopicGateConfig
    >>> machines = [f"{m} {p}" for m in ("press", "lathe", "pump", "crane")
    ...             for p in ("leaks oil", "overheats", "makes a grinding noise", "trips its breaker")]
    >>> gate = TopicGate(TopicGateConfig(test_size=0.25)).fit(machines)
    >>> gate("the pump overheats"), gate("How long should I boil an egg?")
    (True, False)
    >>> 0.0 <= gate.report.f1 <= 1.0
    True
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError, DataError, DataFileNotFoundError, ModelError
from domainft.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    import datasets
    import numpy as np

FORMAT_NAME = "domainft.topic_gate"
FORMAT_VERSION = 1
META_FILE = "topic_gate.json"
VOCAB_FILE = "vocabulary.json"
IDF_FILE = "idf.npy"
COEF_FILE = "coef.npy"
LABELS = ("out_of_domain", "in_domain")
MIN_PER_CLASS = 5
MAX_MISCLASSIFIED = 100  # wrong predictions kept in a report for inspection
DEFAULT_NEGATIVES = "builtin:general_questions"


@dataclasses.dataclass
class TopicGateConfig(ConfigBase):
    """Features, classifier, threshold and held-out evaluation of a :class:`TopicGate`.

    Examples:
        >>> cfg = TopicGateConfig(ngram_range=[1, 3], C=2.0)
        >>> TopicGateConfig.from_dict(cfg.to_dict()) == cfg
        True
    """

    analyzer: Literal["word", "char", "char_wb"] = config_field(
        "word",
        help="TF-IDF features from words, or character n-grams ('char_wb' stays inside words; robust to "
        "typos, but explain() then shows character fragments).",
    )
    ngram_range: list[int] = config_field([1, 2], help="[min_n, max_n] of the n-grams used as features.")
    lowercase: bool = config_field(True, help="Lower-case texts before tokenising.")
    strip_accents: Literal["ascii", "unicode"] | None = config_field(
        None, help="Remove accents before tokenising ('unicode' for any language); None keeps them."
    )
    token_pattern: str = config_field(
        r"(?u)\b\w\w+\b", help="Regular expression of a word token (analyzer='word' only)."
    )
    stop_words: Literal["english"] | list[str] | None = config_field(
        "english",
        help="Words left out of the features: scikit-learn's English list, your own list, or None. "
        "Dropping function words (how, what, do, my...) makes the gate judge the topic, not whether "
        "the text is phrased as a question.",
    )
    min_df: int | float = config_field(
        1, help="Drop terms found in fewer documents than this (an int) or this fraction of them (a float)."
    )
    max_features: int | None = config_field(
        50_000, help="Keep only the most frequent terms (None keeps all); bounds the saved size."
    )
    sublinear_tf: bool = config_field(True, help="Use 1 + log(tf) instead of raw term counts.")
    C: float = config_field(
        4.0, help="Inverse regularisation strength of the logistic regression (larger fits tighter)."
    )
    max_iter: int = config_field(1000, help="Iterations allowed to the logistic-regression solver.")
    threshold: float = config_field(
        0.5, help="A text is in-domain when its in-domain probability is >= this value, in [0, 1]."
    )
    test_size: float = config_field(
        0.2,
        help="Stratified share of the examples held out for the report, in [0, 1); 0 fits on all of "
        "them and gives no report.",
    )
    refit: bool = config_field(
        True, help="After the held-out report, fit the final gate on all examples (train + held-out)."
    )
    seed: int = config_field(42, help="Random seed of the held-out split and the solver.")
    negatives: str = config_field(
        DEFAULT_NEGATIVES,
        help="Out-of-domain examples used when fit() gets none: builtin:NAME, a .jsonl file (one object "
        "per line, text in `negatives_field`) or a .txt file (one text per line).",
    )
    negatives_field: str = config_field("question", help="Field holding the text in a .jsonl negatives file.")

    def validate(self) -> None:
        where = type(self).__name__
        if len(self.ngram_range) != 2 or not 1 <= self.ngram_range[0] <= self.ngram_range[1]:
            raise ConfigError(
                f"{where}.ngram_range: expected [min_n, max_n] with 1 <= min_n <= max_n, "
                f"got {self.ngram_range!r}"
            )
        if isinstance(self.min_df, float) and not 0.0 < self.min_df <= 1.0:
            raise ConfigError(f"{where}.min_df: a fraction must be in (0, 1], got {self.min_df}")
        if isinstance(self.min_df, int) and self.min_df < 1:
            raise ConfigError(f"{where}.min_df: a document count must be >= 1, got {self.min_df}")
        self.require_positive("max_features", "C", "max_iter")
        self.require_range("threshold", 0.0, 1.0, high_open=False)
        self.require_range("test_size", 0.0, 1.0)
        try:
            re.compile(self.token_pattern)
        except re.error as exc:
            raise ConfigError(f"{where}.token_pattern: invalid regular expression: {exc}") from None
        if not self.negatives.strip():
            raise ConfigError(f"{where}.negatives: expected builtin:NAME or a file path, got an empty string")

    def vectorizer_params(self) -> dict[str, Any]:
        """Keyword arguments of ``sklearn.feature_extraction.text.TfidfVectorizer`` (all explicit)."""
        return {
            "analyzer": self.analyzer,
            "ngram_range": tuple(self.ngram_range),
            "lowercase": self.lowercase,
            "strip_accents": self.strip_accents,
            "token_pattern": self.token_pattern,
            "stop_words": self.stop_words,
            "min_df": self.min_df,
            "max_df": 1.0,
            "max_features": self.max_features,
            "sublinear_tf": self.sublinear_tf,
            "norm": "l2",
            "use_idf": True,
            "smooth_idf": True,
        }


# --------------------------------------------------------------------------------------------------
# Negatives: question files


_QUESTION_READERS: Registry[Callable[[Path, str], list[str]]] = Registry("question file format")


def _read_jsonl_questions(path: Path, field: str) -> list[str]:
    texts: list[str] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
        if not isinstance(row, dict) or not isinstance(row.get(field), str):
            raise DataError(
                f"{path}:{lineno}: expected an object with a string field {field!r} "
                f"(set TopicGateConfig.negatives_field to the field holding the text)"
            )
        texts.append(row[field])
    return texts


def _read_txt_questions(path: Path, field: str) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


_QUESTION_READERS.register(".jsonl", _read_jsonl_questions)
_QUESTION_READERS.register(".txt", _read_txt_questions)


def read_questions(source: str | Path = DEFAULT_NEGATIVES, field: str = "question") -> list[str]:
    """Texts of a question file: ``builtin:NAME``, a ``.jsonl`` file (text in ``field``) or a ``.txt`` file.

    Examples:
        >>> questions = read_questions("builtin:general_questions")
        >>> len(questions) >= 300
        True
    """
    from domainft.data.samples import PREFIX, builtin_path

    path = builtin_path(str(source)) if str(source).startswith(PREFIX) else Path(source)
    if not path.is_file():
        raise DataFileNotFoundError(f"negatives file not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in _QUESTION_READERS:
        raise DataError(
            f"{path}: cannot read negatives from a {suffix or 'suffix-less'} file; "
            f"use one of {', '.join(_QUESTION_READERS.names())}"
        )
    texts = _QUESTION_READERS.get(suffix)(path, field)
    if not texts:
        raise DataError(f"{path}: no texts found")
    return texts


# --------------------------------------------------------------------------------------------------
# Reports


@dataclasses.dataclass
class GateReport:
    """Precision, recall and F1 of a gate on labelled texts (the held-out share after ``fit``).

    ``per_class`` maps ``"in_domain"`` and ``"out_of_domain"`` to ``precision``, ``recall``, ``f1``
    and ``support``. ``confusion_matrix`` rows are the true labels and columns the predicted ones,
    both ordered ``[out_of_domain, in_domain]``. ``misclassified`` lists up to 100 wrong predictions
    (text, true label, score), the most confidently wrong first.
    """

    threshold: float
    per_class: dict[str, dict[str, float]]
    accuracy: float
    roc_auc: float | None
    confusion_matrix: list[list[int]]
    n_examples: int
    misclassified: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    n_train: int | None = None
    duplicates_removed: int = 0

    @property
    def precision(self) -> float:
        """Precision of the in-domain class."""
        return self.per_class["in_domain"]["precision"]

    @property
    def recall(self) -> float:
        """Recall of the in-domain class."""
        return self.per_class["in_domain"]["recall"]

    @property
    def f1(self) -> float:
        """F1 of the in-domain class."""
        return self.per_class["in_domain"]["f1"]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateReport:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})

    def __str__(self) -> str:
        head = f"TopicGate report: {self.n_examples} held-out texts, threshold {self.threshold:.3f}"
        if self.n_train is not None:
            head += f", trained on {self.n_train}"
        lines = [head, f"{'':15} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}"]
        for name in reversed(LABELS):
            m = self.per_class[name]
            lines.append(
                f"{name:15} {m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:7.3f} {int(m['support']):8d}"
            )
        auc = "n/a" if self.roc_auc is None else f"{self.roc_auc:.3f}"
        lines.append(f"accuracy {self.accuracy:.3f}   ROC-AUC {auc}")
        (tn, fp), (fn, tp) = self.confusion_matrix
        lines.append(f"confusion: {tp} in-domain kept, {fn} rejected; {tn} off-topic rejected, {fp} kept")
        for row in self.misclassified[:5]:
            lines.append(f"  wrong ({row['label']}, score {row['score']:.2f}): {_shorten(row['text'])}")
        if len(self.misclassified) > 5:
            lines.append(f"  ... {len(self.misclassified) - 5} more in report.misclassified")
        return "\n".join(lines)


@dataclasses.dataclass
class ThresholdChoice:
    """The threshold :meth:`TopicGate.tune_threshold` picked and what it scores on the tuning texts."""

    threshold: float
    target: str
    value: float
    precision: float
    recall: float
    f1: float
    n_examples: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class TermContribution:
    """One feature of an explained text: its TF-IDF weight, the model's coefficient and their product."""

    term: str
    weight: float
    coefficient: float
    contribution: float


@dataclasses.dataclass
class Explanation:
    """Why the gate scored ``text`` as it did: the terms that pushed it in (+) or out (-).

    ``score = sigmoid(intercept + sum(contribution))``. ``unseen_terms`` are the text's terms that
    the gate never saw while fitting, so they do not count.
    """

    text: str
    score: float
    in_domain: bool
    intercept: float
    terms: list[TermContribution]
    unseen_terms: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        verdict = "in-domain" if self.in_domain else "out-of-domain"
        lines = [f"{verdict} (score {self.score:.3f}): {_shorten(self.text)}"]
        lines += [f"  {t.contribution:+.3f}  {t.term}" for t in self.terms]
        if self.unseen_terms:
            lines.append(f"  unseen: {', '.join(self.unseen_terms[:10])}")
        return "\n".join(lines)


def _shorten(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


# --------------------------------------------------------------------------------------------------
# Threshold targets: each picks an index into candidate thresholds (ascending) from the counts there.

_ThresholdTarget = Callable[[dict[str, "np.ndarray"], "float | None"], int]
_THRESHOLD_TARGETS: Registry[_ThresholdTarget] = Registry("threshold target")


def _best(values: np.ndarray) -> int:
    """Index of the maximum; ties go to the highest threshold (the stricter gate)."""
    import numpy as np

    return int(np.flatnonzero(values == values.max())[-1])


def _at_least(stats: dict[str, np.ndarray], metric: str, min_value: float | None, maximise: str) -> int:
    import numpy as np

    if min_value is None:
        raise ConfigError(f"target={metric!r} needs min_value, e.g. min_value=0.95")
    ok = np.flatnonzero(stats[metric] >= min_value - 1e-12)
    if not len(ok):
        raise DataError(
            f"no threshold reaches {metric} >= {min_value:g} on these {int(stats['n'][0])} texts "
            f"(best {stats[metric].max():.3f}); lower min_value or tune on more data"
        )
    return int(ok[_best(stats[maximise][ok])])


_THRESHOLD_TARGETS.register("f1", lambda stats, _: _best(stats["f1"]))
_THRESHOLD_TARGETS.register("accuracy", lambda stats, _: _best(stats["accuracy"]))
_THRESHOLD_TARGETS.register("balanced_accuracy", lambda stats, _: _best(stats["balanced_accuracy"]))
_THRESHOLD_TARGETS.register("precision", lambda stats, v: _at_least(stats, "precision", v, "recall"))
_THRESHOLD_TARGETS.register("recall", lambda stats, v: _at_least(stats, "recall", v, "precision"))


# --------------------------------------------------------------------------------------------------
# Input checks


def _as_texts(values: Iterable[Any], name: str, *, allow_empty: bool) -> list[str]:
    if isinstance(values, (str, bytes)):
        raise DataError(f"{name}: expected a list of texts, got a single string; wrap it in a list")
    texts = list(values)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError(f"{name}[{i}]: expected a string, got {type(text).__name__} {text!r}")
        if not allow_empty and not text.strip():
            raise DataError(f"{name}[{i}]: empty text; remove empty rows before fitting the gate")
    return texts


def _dedupe(texts: list[str]) -> tuple[list[str], int]:
    from domainft.data.cleaning import normalize_text

    seen: set[str] = set()
    out: list[str] = []
    for text in texts:
        key = normalize_text(text)
        if key not in seen:
            seen.add(key)
            out.append(text)
    return out, len(texts) - len(out)


def _check_labels(labels: Iterable[Any], n: int) -> list[int]:
    values = list(labels)
    if len(values) != n:
        raise DataError(f"labels: expected {n} labels (one per text), got {len(values)}")
    out = []
    for i, v in enumerate(values):
        if v in (True, 1, "in_domain"):
            out.append(1)
        elif v in (False, 0, "out_of_domain"):
            out.append(0)
        else:
            raise DataError(
                f"labels[{i}]: expected True/False, 1/0 or 'in_domain'/'out_of_domain', got {v!r}"
            )
    return out


# --------------------------------------------------------------------------------------------------
# The gate


class TopicGate:
    """In-domain vs out-of-domain classifier: scikit-learn's ``TfidfVectorizer`` + ``LogisticRegression``.

    ``fit`` learns from in-domain texts and negatives (the built-in general question set by default)
    and stores a held-out :class:`GateReport` in ``report``. ``predict_proba`` gives the in-domain
    probability, ``predict`` compares it with ``threshold``; ``tune_threshold`` picks a threshold on
    labelled validation texts; ``filter`` splits a dataset; ``save``/``load`` round-trip a directory.
    """

    def __init__(self, config: TopicGateConfig | None = None) -> None:
        self.config = config if config is not None else TopicGateConfig()
        self._threshold = self.config.threshold
        self.report: GateReport | None = None
        self.vectorizer: Any = None
        self.classifier: Any = None
        self._vocabulary: list[str] = []
        self._idf: np.ndarray | None = None
        self._coef: np.ndarray | None = None
        self._intercept = 0.0

    # -- state ------------------------------------------------------------------------------------

    @property
    def threshold(self) -> float:
        return self._threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise ConfigError(f"TopicGate.threshold: expected a number in [0, 1], got {value!r}")
        self._threshold = float(value)

    @property
    def is_fitted(self) -> bool:
        return self.classifier is not None

    @property
    def vocabulary(self) -> list[str]:
        """The feature terms, in column order."""
        return list(self._vocabulary)

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise ModelError("this TopicGate is not fitted; call fit(...) or TopicGate.load(directory) first")

    def __repr__(self) -> str:
        state = f"n_features={len(self._vocabulary)}" if self.is_fitted else "not fitted"
        return f"TopicGate({state}, threshold={self.threshold:g})"

    def _set_arrays(self, vocabulary: list[str], idf: np.ndarray, coef: np.ndarray, intercept: float) -> None:
        """Build the scikit-learn objects from plain arrays (used after ``fit`` and by ``load``)."""
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(
            **self.config.vectorizer_params(), vocabulary={t: i for i, t in enumerate(vocabulary)}
        )
        vectorizer.idf_ = np.asarray(idf, dtype=np.float64)
        classifier = LogisticRegression(C=self.config.C, class_weight="balanced")
        classifier.classes_ = np.array([0, 1])
        classifier.coef_ = np.asarray(coef, dtype=np.float64).reshape(1, -1)
        classifier.intercept_ = np.array([float(intercept)])
        classifier.n_features_in_ = len(vocabulary)
        self.vectorizer, self.classifier = vectorizer, classifier
        self._vocabulary = list(vocabulary)
        self._idf = vectorizer.idf_
        self._coef = classifier.coef_[0]
        self._intercept = float(intercept)

    # -- fitting ----------------------------------------------------------------------------------

    def _fit_sklearn(self, texts: list[str], labels: list[int]) -> tuple[Any, Any]:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(**self.config.vectorizer_params())
        try:
            features = vectorizer.fit_transform(texts)
        except ValueError as exc:  # e.g. "empty vocabulary; perhaps the documents only contain stop words"
            raise DataError(
                f"cannot build TF-IDF features: {exc}; check the texts and TopicGateConfig "
                f"(token_pattern, min_df, analyzer)"
            ) from None
        classifier = LogisticRegression(
            C=self.config.C,
            class_weight="balanced",
            max_iter=self.config.max_iter,
            random_state=self.config.seed,
        )
        classifier.fit(features, labels)
        return vectorizer, classifier

    def fit(self, in_domain: Iterable[str], out_of_domain: Iterable[str] | None = None) -> TopicGate:
        """Fit on in-domain texts and negatives (``None``: the config's ``negatives``, by default the
        built-in general question set). Returns ``self``; the held-out report is in ``self.report``.

        Exact duplicates (after whitespace normalisation) are dropped within each class so no text is
        both trained and tested on; a text in both classes is an error. ``threshold`` is reset to
        ``config.threshold``.
        """

        positives = _as_texts(in_domain, "in_domain", allow_empty=False)
        if out_of_domain is None:
            negatives = read_questions(self.config.negatives, self.config.negatives_field)
            negatives = _as_texts(negatives, f"negatives {self.config.negatives}", allow_empty=False)
        else:
            negatives = _as_texts(out_of_domain, "out_of_domain", allow_empty=False)
        positives, dup_pos = _dedupe(positives)
        negatives, dup_neg = _dedupe(negatives)
        for name, texts in (("in_domain", positives), ("out_of_domain", negatives)):
            if len(texts) < MIN_PER_CLASS:
                raise DataError(
                    f"{name}: {len(texts)} distinct text(s); the gate needs at least {MIN_PER_CLASS} "
                    "per class (a few hundred give a trustworthy report)"
                    + ("; pass out_of_domain=None to use the built-in general questions" if not texts else "")
                )
        from domainft.data.cleaning import normalize_text

        both = sorted({normalize_text(t) for t in positives} & {normalize_text(t) for t in negatives})
        if both:
            raise DataError(
                f"{len(both)} text(s) are both in_domain and out_of_domain, e.g. {both[0]!r}; "
                "remove them from one of the lists"
            )
        texts = positives + negatives
        labels = [1] * len(positives) + [0] * len(negatives)
        report = None
        if self.config.test_size > 0:
            from sklearn.model_selection import train_test_split

            n_test = math.ceil(self.config.test_size * len(texts))
            if n_test < 2 or len(texts) - n_test < 2:
                raise DataError(
                    f"test_size={self.config.test_size} holds out {n_test} of {len(texts)} texts; need at "
                    "least 2 held out and 2 for training; change TopicGateConfig.test_size or add texts"
                )
            train_x, test_x, train_y, test_y = train_test_split(
                texts, labels, test_size=self.config.test_size, stratify=labels, random_state=self.config.seed
            )
            vectorizer, classifier = self._fit_sklearn(train_x, train_y)
            self._adopt(vectorizer, classifier)
            report = self.evaluate(test_x, test_y, threshold=self.config.threshold)
            report.n_train = len(train_x)
            report.duplicates_removed = dup_pos + dup_neg
        if report is None or self.config.refit:
            vectorizer, classifier = self._fit_sklearn(texts, labels)
            self._adopt(vectorizer, classifier)
        self.report = report
        self._threshold = self.config.threshold
        return self

    def _adopt(self, vectorizer: Any, classifier: Any) -> None:
        vocabulary = [""] * len(vectorizer.vocabulary_)
        for term, index in vectorizer.vocabulary_.items():
            vocabulary[index] = term
        self._set_arrays(vocabulary, vectorizer.idf_, classifier.coef_[0], float(classifier.intercept_[0]))

    # -- scoring ----------------------------------------------------------------------------------

    def predict_proba(
        self, texts: Iterable[str], *, batch_size: int = 4096, progress: bool | None = None
    ) -> list[float]:
        """In-domain probability of each text (a progress bar appears for more than one batch)."""
        from tqdm.auto import tqdm

        self._require_fitted()
        items = _as_texts(texts, "texts", allow_empty=True)
        scores: list[float] = []
        show = len(items) > batch_size if progress is None else progress
        for start in tqdm(
            range(0, len(items), batch_size), desc="topic gate", unit="batch", disable=not show
        ):
            batch = items[start : start + batch_size]
            scores.extend(self.classifier.predict_proba(self.vectorizer.transform(batch))[:, 1].tolist())
        return scores

    def predict(self, texts: Iterable[str], *, threshold: float | None = None) -> list[bool]:
        """True for each text whose in-domain probability is >= ``threshold`` (default ``self.threshold``)."""
        cut = self.threshold if threshold is None else threshold
        return [s >= cut for s in self.predict_proba(texts)]

    def score(self, text: str) -> float:
        """In-domain probability of one text."""
        if not isinstance(text, str):
            raise DataError(f"expected a string, got {type(text).__name__}")
        return self.predict_proba([text])[0]

    def is_in_domain(self, text: str) -> bool:
        """Whether one text passes the gate."""
        return self.score(text) >= self.threshold

    def __call__(self, text: str | Iterable[str]) -> bool | list[bool]:
        """``gate("question")`` -> bool; ``gate(["q1", "q2"])`` -> list of bool."""
        return self.is_in_domain(text) if isinstance(text, str) else self.predict(text)

    def explain(self, text: str, top_k: int = 10) -> Explanation:
        """The ``top_k`` terms of ``text`` with the largest effect on its score (+ toward in-domain)."""
        import numpy as np

        self._require_fitted()
        assert self._coef is not None
        features = self.vectorizer.transform([text]).tocsr()
        contributions = features.data * self._coef[features.indices]
        order = np.argsort(-np.abs(contributions), kind="stable")[:top_k]
        terms = [
            TermContribution(
                term=self._vocabulary[features.indices[i]],
                weight=float(features.data[i]),
                coefficient=float(self._coef[features.indices[i]]),
                contribution=float(contributions[i]),
            )
            for i in order
        ]
        known = self.vectorizer.vocabulary_
        unseen = list(dict.fromkeys(t for t in self.vectorizer.build_analyzer()(text) if t not in known))
        score = self.score(text)
        return Explanation(
            text=text,
            score=score,
            in_domain=score >= self.threshold,
            intercept=self._intercept,
            terms=terms,
            unseen_terms=unseen,
        )

    def top_terms(self, k: int = 20) -> dict[str, list[tuple[str, float]]]:
        """The ``k`` terms with the largest coefficients toward each class."""
        import numpy as np

        self._require_fitted()
        assert self._coef is not None
        order = np.argsort(self._coef, kind="stable")
        return {
            "in_domain": [(self._vocabulary[i], float(self._coef[i])) for i in order[::-1][:k]],
            "out_of_domain": [(self._vocabulary[i], float(self._coef[i])) for i in order[:k]],
        }

    # -- evaluation and thresholds ----------------------------------------------------------------

    def evaluate(
        self, texts: Iterable[str], labels: Iterable[Any], *, threshold: float | None = None
    ) -> GateReport:
        """A :class:`GateReport` of the gate on labelled texts (labels: True/1 = in-domain)."""
        from sklearn.metrics import classification_report, confusion_matrix, roc_auc_score

        items = _as_texts(texts, "texts", allow_empty=True)
        truth = _check_labels(labels, len(items))
        cut = self.threshold if threshold is None else threshold
        scores = self.predict_proba(items)
        predicted = [int(s >= cut) for s in scores]
        raw = classification_report(
            truth, predicted, labels=[0, 1], target_names=list(LABELS), output_dict=True, zero_division=0
        )
        per_class = {
            name: {
                "precision": float(raw[name]["precision"]),
                "recall": float(raw[name]["recall"]),
                "f1": float(raw[name]["f1-score"]),
                "support": int(raw[name]["support"]),
            }
            for name in LABELS
        }
        auc = float(roc_auc_score(truth, scores)) if len(set(truth)) == 2 else None
        wrong = [
            {"text": t, "label": LABELS[y], "score": s}
            for t, y, s, p in zip(items, truth, scores, predicted, strict=True)
            if y != p
        ]
        wrong.sort(key=lambda r: -abs(r["score"] - cut))
        del wrong[MAX_MISCLASSIFIED:]
        return GateReport(
            threshold=float(cut),
            per_class=per_class,
            accuracy=float(sum(y == p for y, p in zip(truth, predicted, strict=True)) / max(len(truth), 1)),
            roc_auc=auc,
            confusion_matrix=confusion_matrix(truth, predicted, labels=[0, 1]).tolist(),
            n_examples=len(items),
            misclassified=wrong,
        )

    def tune_threshold(
        self,
        texts: Iterable[str],
        labels: Iterable[Any],
        target: str = "f1",
        *,
        min_value: float | None = None,
        apply: bool = True,
    ) -> ThresholdChoice:
        """Pick the threshold that best meets ``target`` on labelled validation texts.

        Targets: ``"f1"``, ``"accuracy"``, ``"balanced_accuracy"`` (maximised), ``"precision"`` (at least
        ``min_value``, then the highest recall) and ``"recall"`` (at least ``min_value``, then the
        highest precision). The threshold is set midway between the two scores it separates; with
        ``apply=True`` it becomes ``self.threshold``.
        """
        import numpy as np

        items = _as_texts(texts, "texts", allow_empty=True)
        truth = np.array(_check_labels(labels, len(items)))
        if len(set(truth.tolist())) < 2:
            raise DataError("tune_threshold needs labelled texts of both classes (in- and out-of-domain)")
        chooser = _THRESHOLD_TARGETS.get(target)
        scores = np.array(self.predict_proba(items))
        candidates = np.unique(scores)  # ascending; predicting "in" for score >= candidate
        # counts of predicted-in positives/negatives at each candidate: scores >= candidate
        pos_sorted, neg_sorted = np.sort(scores[truth == 1]), np.sort(scores[truth == 0])
        tp = len(pos_sorted) - np.searchsorted(pos_sorted, candidates, side="left")
        fp = len(neg_sorted) - np.searchsorted(neg_sorted, candidates, side="left")
        tn = len(neg_sorted) - fp
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 1.0)
            recall = tp / len(pos_sorted)
            f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
        stats = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "accuracy": (tp + tn) / len(truth),
            "balanced_accuracy": (recall + tn / len(neg_sorted)) / 2,
            "n": np.full(len(candidates), len(truth)),
        }
        k = chooser(stats, min_value)
        below = candidates[k - 1] if k > 0 else 0.0
        threshold = float((below + candidates[k]) / 2)
        metric = target if target in stats else "f1"
        choice = ThresholdChoice(
            threshold=threshold,
            target=target,
            value=float(stats[metric][k]),
            precision=float(precision[k]),
            recall=float(recall[k]),
            f1=float(f1[k]),
            n_examples=len(items),
        )
        if apply:
            self.threshold = threshold
        return choice

    # -- datasets ---------------------------------------------------------------------------------

    def filter(
        self,
        data: datasets.Dataset | Sequence[dict[str, Any]],
        column: str = "prompt",
        *,
        score_column: str = "topic_score",
        threshold: float | None = None,
    ) -> tuple[Any, Any]:
        """Split rows into ``(kept, rejected)`` by the gate score of ``column``, added as ``score_column``.

        ``data`` is a ``datasets.Dataset`` (two Datasets come back) or a list of dicts (two lists of
        new dicts come back). Row order is preserved in both parts.
        """
        cut = self.threshold if threshold is None else threshold
        is_dataset = hasattr(data, "column_names") and hasattr(data, "add_column")
        rows_columns = data.column_names if is_dataset else None
        if is_dataset:
            if column not in rows_columns:
                raise DataError(f"filter: no column {column!r}; found columns: {', '.join(rows_columns)}")
            if score_column in rows_columns:
                raise DataError(f"filter: column {score_column!r} already exists; pass another score_column")
            texts = list(data[column])
        else:
            texts = []
            for i, row in enumerate(data):
                if not isinstance(row, dict) or column not in row:
                    raise DataError(f"filter: row {i} has no field {column!r}")
                if score_column in row:
                    raise DataError(
                        f"filter: row {i} already has {score_column!r}; pass another score_column"
                    )
                texts.append(row[column])
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise DataError(f"filter: row {i}, column {column!r}: expected a string, got {text!r}")
        scores = self.predict_proba(texts)
        keep = [i for i, s in enumerate(scores) if s >= cut]
        drop = [i for i, s in enumerate(scores) if s < cut]
        if is_dataset:
            scored = data.add_column(score_column, scores)
            return scored.select(keep), scored.select(drop)
        rows = [{**row, score_column: s} for row, s in zip(data, scores, strict=True)]
        return [rows[i] for i in keep], [rows[i] for i in drop]

    # -- persistence ------------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write ``topic_gate.json``, ``vocabulary.json``, ``idf.npy`` and ``coef.npy`` to ``directory``."""
        import io

        import numpy as np
        import sklearn

        import domainft
        from domainft.utils.io import atomic_write_bytes, atomic_write_json

        self._require_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, array in ((IDF_FILE, self._idf), (COEF_FILE, self._coef)):
            buf = io.BytesIO()
            np.save(buf, np.asarray(array, dtype=np.float64), allow_pickle=False)
            atomic_write_bytes(directory / name, buf.getvalue())
        atomic_write_json(directory / VOCAB_FILE, self._vocabulary)
        meta = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "n_features": len(self._vocabulary),
            "intercept": self._intercept,
            "threshold": self.threshold,
            "labels": list(LABELS),
            "config": self.config.to_dict(),
            "report": None if self.report is None else self.report.to_dict(),
            "versions": {
                "domainft": domainft.__version__,
                "scikit-learn": sklearn.__version__,
                "numpy": np.__version__,
            },
        }
        atomic_write_json(directory / META_FILE, meta)  # written last: its presence marks a complete save
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> TopicGate:
        """Load a gate written by :meth:`save`. Only JSON and ``.npy`` (``allow_pickle=False``) are read,
        so a tampered directory raises ``ModelError`` naming the file and field; nothing is executed."""
        directory = Path(directory)
        if not directory.is_dir():
            raise DataFileNotFoundError(f"topic gate directory not found: {directory}")
        meta_path = directory / META_FILE
        meta = _read_json(meta_path)
        if not isinstance(meta, dict):
            raise ModelError(f"{meta_path}: expected a JSON object, got {type(meta).__name__}")
        if meta.get("format") != FORMAT_NAME:
            raise ModelError(
                f"{meta_path}: field 'format' is {meta.get('format')!r}, expected {FORMAT_NAME!r}"
            )
        version = meta.get("format_version")
        if version != FORMAT_VERSION:
            raise ModelError(
                f"{meta_path}: field 'format_version' is {version!r}; this domainft reads version "
                f"{FORMAT_VERSION}; save the gate again with this version or upgrade domainft"
            )
        n_features = _field(meta, "n_features", int, meta_path)
        intercept = _field(meta, "intercept", float, meta_path)
        threshold = _field(meta, "threshold", float, meta_path)
        if n_features < 1:
            raise ModelError(f"{meta_path}: field 'n_features' must be >= 1, got {n_features}")
        if not 0.0 <= threshold <= 1.0:
            raise ModelError(f"{meta_path}: field 'threshold' must be in [0, 1], got {threshold}")
        if meta.get("labels") != list(LABELS):
            raise ModelError(
                f"{meta_path}: field 'labels' must be {list(LABELS)}, got {meta.get('labels')!r}"
            )
        try:
            config = TopicGateConfig.from_dict(_field(meta, "config", dict, meta_path))
        except ConfigError as exc:
            raise ModelError(f"{meta_path}: field 'config': {exc}") from None
        report_data = meta.get("report")
        try:
            report = None if report_data is None else GateReport.from_dict(report_data)
        except (KeyError, TypeError) as exc:
            raise ModelError(f"{meta_path}: field 'report' is malformed ({exc})") from None

        vocab_path = directory / VOCAB_FILE
        vocabulary = _read_json(vocab_path)
        if not isinstance(vocabulary, list) or not all(isinstance(t, str) for t in vocabulary):
            raise ModelError(f"{vocab_path}: expected a JSON list of strings (the feature terms)")
        if len(vocabulary) != n_features:
            raise ModelError(
                f"{vocab_path}: {len(vocabulary)} terms, but {META_FILE} field 'n_features' is {n_features}"
            )
        if len(set(vocabulary)) != len(vocabulary):
            raise ModelError(f"{vocab_path}: terms must be unique")
        idf = _read_vector(directory / IDF_FILE, n_features)
        coef = _read_vector(directory / COEF_FILE, n_features)
        if (idf <= 0).any():
            raise ModelError(f"{directory / IDF_FILE}: idf values must be positive")

        gate = cls(config)
        gate._set_arrays(vocabulary, idf, coef, intercept)
        gate._threshold = threshold
        gate.report = report
        return gate


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} is not allowed")


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise DataFileNotFoundError(f"{path}: file missing; is this a directory written by TopicGate.save?")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path}: not a UTF-8 JSON file (byte {exc.start}); was it replaced?") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except ValueError as exc:
        raise ModelError(f"{path}: {exc}") from None


def _field(data: dict[str, Any], name: str, kind: type, path: Path) -> Any:
    value = data.get(name)
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        value = float(value) if ok else value
    if not ok:
        raise ModelError(f"{path}: field {name!r} must be {kind.__name__}, got {value!r}")
    return value


def _read_vector(path: Path, length: int) -> np.ndarray:
    import numpy as np

    if not path.is_file():
        raise DataFileNotFoundError(f"{path}: file missing; is this a directory written by TopicGate.save?")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ModelError(
            f"{path}: not a plain .npy array ({exc}); pickled or damaged files are refused"
        ) from None
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        raise ModelError(
            f"{path}: expected a float array, got {getattr(array, 'dtype', type(array).__name__)}"
        )
    if array.shape != (length,):
        raise ModelError(
            f"{path}: shape {array.shape}, expected ({length},) to match {META_FILE} 'n_features'"
        )
    if not np.isfinite(array).all():
        raise ModelError(f"{path}: contains NaN or infinite values")
    return array.astype(np.float64)
