"""Dataset report: what is in the data before a model sees it.

:func:`dataset_report` looks at a ``DatasetDict`` (or one ``Dataset``) and returns a
:class:`DatasetReport` with rows per split, length statistics and histograms (characters, and tokens
when a tokenizer is given), exact duplicates within and across splits (train/test overlap is
leakage), near-duplicate pairs across train and the other splits, top terms, topics (scikit-learn NMF
or LDA), a time trend when the data has a timestamp column, and the cleaning report when given.
With ``DataReportConfig(sentiment="vader")`` it adds a sentiment and tone section (compound score per
text and role, strongly negative shares, the most negative texts; see :mod:`domainft.data.sentiment`).
``report.save(directory)`` writes ``report.json``, a self-contained ``report.html`` and the PNGs.

Examples:
    >>> import tempfile
    >>> from datasets import Dataset, DatasetDict
    >>> from domainft.data.report import DataReportConfig, DatasetReport, dataset_report
    >>> rows = [{"id": f"r{i}", "prompt": f"How do I fix the {w} pump?", "response": f"Replace the {w} seal."}
    ...         for i, w in enumerate(["oil", "water", "fuel", "air", "oil"])]
    >>> dsd = DatasetDict(train=Dataset.from_list(rows[:4]), test=Dataset.from_list(rows[4:]))
    >>> report = dataset_report(dsd, config=DataReportConfig(n_topics=2, near_duplicate_threshold=None))
    >>> report.splits
    {'train': 4, 'test': 1}
    >>> report.lengths["chars"]["prompt"]["test"]["max"]  # "How do I fix the oil pump?"
    26
    >>> [(p["a_id"], p["b_id"]) for p in report.duplicates["across"][0]["pairs"]]
    [('r0', 'r4')]
    >>> out = report.save(tempfile.mkdtemp())
    >>> DatasetReport.load(out).to_dict() == report.to_dict()
    True
"""

from __future__ import annotations

import itertools
import json
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.data.cleaning import CleaningReport, dedup_key, load_tokenizer, text_lengths
from domainft.errors import ConfigError, DataError
from domainft.registry import Registry
from domainft.utils.io import atomic_write_text
from domainft.utils.report_files import escape as _esc
from domainft.utils.report_files import img_tag, load_report, write_images

if TYPE_CHECKING:  # pragma: no cover
    import datasets

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
SINGLE_SPLIT = "all"  # the split name given to a lone ``Dataset``
AUTO_TEXT_COLUMNS = ("prompt", "response", "context", "system", "messages")
IMAGE_NAMES = ("lengths_chars", "lengths_tokens", "time_trend", "sentiment")
_TIMESTAMP_NAME = re.compile(
    r"^(timestamp|ts|date|datetime|created|updated|modified|posted|published)$"
    r"|(_at|_date|_time|_timestamp|_ts|_datetime)$",
    re.IGNORECASE,
)
_TERM_PATTERN = r"(?u)\b[^\W\d_][^\W_]+\b"  # words of 2+ characters starting with a letter
_SNIPPET = 200


# ------------------------------------------------------------------------------------------ config


@dataclass
class DataReportConfig(ConfigBase):
    """What :func:`dataset_report` analyses and how.

    Examples:
        >>> from domainft.data.report import DataReportConfig
        >>> cfg = DataReportConfig(n_topics=3, topic_method="lda", time_frequency="month")
        >>> DataReportConfig.from_dict(cfg.to_dict()) == cfg
        True
    """

    text_columns: list[str] | None = config_field(
        None,
        help="Columns whose text is analysed; None takes those of prompt, response, context, system and "
        "messages (contents joined) that the data has.",
    )
    duplicate_column: str | None = config_field(
        None,
        help="Column compared for exact and near duplicates; None takes 'prompt' (else the first text "
        "column). Text is compared after whitespace normalisation and case folding.",
    )
    n_topics: int = config_field(5, help="Number of topics to fit (fewer when the data is too small).")
    topic_method: str = config_field("nmf", help="Topic model: 'nmf' (TF-IDF + NMF) or 'lda' (counts + LDA).")
    topic_words: int = config_field(8, help="Top words listed per topic.")
    max_topic_rows: int = config_field(
        5000, help="At most this many rows (a seeded random sample) are used to fit the topic model."
    )
    top_n_terms: int = config_field(
        20, help="Most frequent terms listed per text column (English stop words out)."
    )
    bins: int = config_field(30, help="Bins of the length histograms.")
    timestamp_column: str | None = config_field(
        None,
        help="Column with a date or time for the time trend; None detects one by its type (timestamp/date) "
        "or its name (timestamp, date, created_at, *_at, *_date ...). Numbers are read as Unix seconds.",
    )
    time_frequency: Literal["auto", "day", "week", "month"] = config_field(
        "auto",
        help="Period of the time trend; 'auto' picks day (span <= 62 days), week (<= 2 years) or month.",
    )
    near_duplicate_threshold: float | None = config_field(
        0.9, help="Similarity at or above which two texts are near duplicates; None skips the search."
    )
    near_duplicate_method: str = config_field(
        "tfidf", help="Method of domainft.data.near_duplicates.near_duplicate_pairs."
    )
    max_examples: int = config_field(
        50, help="Duplicate groups and pairs listed per section (counts always cover all of them)."
    )
    seed: int = config_field(0, help="Seed of the topic model and of its row sample.")
    sentiment: str | None = config_field(
        None,
        help="Sentiment analyser of the sentiment and tone section ('vader', or one added with "
        "register_sentiment_analyser); None leaves the section out. 'vader' needs pip install "
        "'domainft[diagnostics]'.",
    )
    sentiment_threshold: float = config_field(
        0.5, help="A text is strongly negative (positive) when its compound score is <= -threshold (>= it)."
    )
    sentiment_examples: int = config_field(10, help="Most negative texts listed in the sentiment section.")

    def validate(self) -> None:
        self.require_positive(
            "n_topics",
            "topic_words",
            "max_topic_rows",
            "top_n_terms",
            "bins",
            "max_examples",
            "sentiment_examples",
        )
        self.require_range("sentiment_threshold", 0.0, 1.0, low_open=True, high_open=False)
        if self.sentiment is not None:
            from domainft.data.sentiment import get_sentiment_analyser

            try:
                get_sentiment_analyser(self.sentiment)
            except ConfigError as exc:
                raise ConfigError(f"{type(self).__name__}.sentiment: {exc}") from None
        if self.near_duplicate_threshold is not None:
            self.require_range("near_duplicate_threshold", 0.0, 1.0, low_open=True, high_open=False)
        if self.topic_method.lower() not in TOPIC_METHODS:
            raise ConfigError(
                f"{type(self).__name__}.topic_method: unknown topic method {self.topic_method!r}; known: "
                f"{', '.join(TOPIC_METHODS.names())} (add one with register_topic_method)"
            )
        from domainft.data.near_duplicates import known_near_duplicate_methods

        if self.near_duplicate_method not in known_near_duplicate_methods():
            raise ConfigError(
                f"{type(self).__name__}.near_duplicate_method: unknown method "
                f"{self.near_duplicate_method!r}; known: {', '.join(known_near_duplicate_methods())}"
            )
        if self.text_columns is not None and not self.text_columns:
            raise ConfigError(
                f"{type(self).__name__}.text_columns: empty list; name at least one column or use null"
            )


# ------------------------------------------------------------------------------------------ topics


@dataclass
class TopicModel:
    """A fitted topic model: the vocabulary, topic-term weights and document-topic weights."""

    vocabulary: list[str]
    components: Any  # (n_topics, n_terms) array
    doc_topic: Any  # (n_docs, n_topics) array


TopicMethod = Callable[[Sequence[str], int, int], TopicModel]
TOPIC_METHODS: Registry[TopicMethod] = Registry("topic method")


def register_topic_method(name: str, *, overwrite: bool = False) -> Callable[[TopicMethod], TopicMethod]:
    """Decorator registering ``fn(texts, n_topics, seed) -> TopicModel`` as a ``topic_method``.

    Examples:
        >>> import numpy as np
        >>> from domainft.data.report import TopicModel, register_topic_method
        >>> @register_topic_method("one-topic-demo")
        ... def one_topic(texts, n_topics, seed):
        ...     return TopicModel(["all"], np.ones((1, 1)), np.ones((len(texts), 1)))
        >>> DataReportConfig(topic_method="one-topic-demo").topic_method
        'one-topic-demo'
    """
    return TOPIC_METHODS.register(name, overwrite=overwrite)  # type: ignore[return-value]


def _vectorizer_args(n_docs: int) -> dict[str, Any]:
    # small corpora keep every term; larger ones drop terms in one row only or in almost all rows
    small = n_docs < 20
    return {
        "stop_words": "english",
        "token_pattern": _TERM_PATTERN,
        "min_df": 1 if small else 2,
        "max_df": 1.0 if small else 0.95,
        "max_features": 5000,
    }


@register_topic_method("nmf")
def _nmf_topics(texts: Sequence[str], n_topics: int, seed: int) -> TopicModel:
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(**_vectorizer_args(len(texts)))
    matrix = vectorizer.fit_transform(texts)
    k = min(n_topics, *matrix.shape)
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400)
    doc_topic = model.fit_transform(matrix)
    return TopicModel(vectorizer.get_feature_names_out().tolist(), model.components_, doc_topic)


@register_topic_method("lda")
def _lda_topics(texts: Sequence[str], n_topics: int, seed: int) -> TopicModel:
    from sklearn.decomposition import LatentDirichletAllocation
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(**_vectorizer_args(len(texts)))
    matrix = vectorizer.fit_transform(texts)
    k = min(n_topics, *matrix.shape)
    model = LatentDirichletAllocation(n_components=k, random_state=seed, learning_method="batch")
    doc_topic = model.fit_transform(matrix)
    return TopicModel(vectorizer.get_feature_names_out().tolist(), model.components_, doc_topic)


# ------------------------------------------------------------------------------------------ report


@dataclass(repr=False)
class DatasetReport:
    """The findings of :func:`dataset_report`; ``save`` writes JSON, HTML and PNGs, ``load`` reads them.

    Attributes:
        splits: split name -> number of rows.
        text_columns: the columns analysed.
        lengths: ``"chars"``/``"tokens"`` -> column -> split -> ``count``, ``missing``, ``min``, ``mean``,
            ``median``, ``p95`` (linear interpolation), ``max``, ``total``.
        histograms: ``"chars"``/``"tokens"`` -> column -> ``edges`` and ``counts`` per split.
        duplicates: ``column``; ``within`` (split -> duplicate rows and groups of ids); ``across`` (one entry
            per pair of splits with ``n_pairs``, ``leakage`` and id ``pairs``); ``near`` (pairs of texts with
            similarity >= the threshold that are not exact duplicates).
        top_terms: column -> ``[{"term", "count", "rows"}]``, most frequent first.
        topics: ``method``, ``n_topics``, ``rows_used``, ``topics`` (``words``, ``share``, ``rows``,
            ``example_ids``) and ``unassigned``; None when there was too little text.
        time_trend: ``column``, ``frequency``, ``periods`` and ``counts`` per split; None without a
            timestamp column.
        cleaning: the cleaning report's counts when one was given.
        sentiment: the sentiment and tone section (``analyser``, ``threshold``, ``groups`` per split and
            role, ``overall`` per role, ``histograms``, ``most_negative`` (overall and per role), ``scores``
            of every text, ``notes``; see :func:`domainft.data.sentiment.sentiment_section`); None unless
            ``config.sentiment`` is set.
        notes: findings worth a look (leakage, clamped topics, unparsable dates ...).
        meta: source, tokenizer, config and version.
        images: PNG bytes by name (``lengths_chars``, ``lengths_tokens``, ``time_trend``, ``sentiment``); not
            in the JSON.
    """

    splits: dict[str, int]
    text_columns: list[str]
    lengths: dict[str, Any] = field(default_factory=dict)
    histograms: dict[str, Any] = field(default_factory=dict)
    duplicates: dict[str, Any] = field(default_factory=dict)
    top_terms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    topics: dict[str, Any] | None = None
    time_trend: dict[str, Any] | None = None
    cleaning: dict[str, Any] | None = None
    sentiment: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    # -------------------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-native dict of everything but the image bytes (``images`` lists their file names)."""
        return {
            "splits": dict(self.splits),
            "text_columns": list(self.text_columns),
            "lengths": self.lengths,
            "histograms": self.histograms,
            "duplicates": self.duplicates,
            "top_terms": self.top_terms,
            "topics": self.topics,
            "time_trend": self.time_trend,
            "cleaning": self.cleaning,
            "sentiment": self.sentiment,
            "notes": list(self.notes),
            "meta": self.meta,
            "images": {name: f"{name}.png" for name in self.images},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetReport:
        """Inverse of :meth:`to_dict` (without image bytes)."""
        try:
            return cls(
                splits={str(k): int(v) for k, v in data["splits"].items()},
                text_columns=[str(c) for c in data["text_columns"]],
                lengths=dict(data.get("lengths", {})),
                histograms=dict(data.get("histograms", {})),
                duplicates=dict(data.get("duplicates", {})),
                top_terms=dict(data.get("top_terms", {})),
                topics=data.get("topics"),
                time_trend=data.get("time_trend"),
                cleaning=data.get("cleaning"),
                sentiment=data.get("sentiment"),
                notes=list(data.get("notes", [])),
                meta=dict(data.get("meta", {})),
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise DataError(f"not a valid dataset report: {type(exc).__name__}: {exc}") from None

    def save(self, directory: str | Path) -> Path:
        """Write ``report.json``, ``report.html`` (images embedded) and one PNG per image; returns the
        directory."""
        directory = Path(directory)
        data = self.to_dict()
        text = _json_text(data)  # fails (NaN, a non-JSON value) before any write
        directory.mkdir(parents=True, exist_ok=True)
        write_images(directory, self.images, IMAGE_NAMES)
        atomic_write_text(directory / REPORT_JSON, text + "\n")
        atomic_write_text(directory / REPORT_HTML, self.to_html())
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> DatasetReport:
        """Read a report written by :meth:`save` (the PNGs too, where present)."""
        return load_report(cls, directory, REPORT_JSON, "dataset report")

    # -------------------------------------------------------------------------- views
    def files(self, directory: str | Path) -> list[Path]:
        """The paths :meth:`save` writes into ``directory``."""
        directory = Path(directory)
        return [directory / REPORT_JSON, directory / REPORT_HTML] + [
            directory / f"{name}.png" for name in self.images
        ]

    def summary(self) -> str:
        """A few lines of plain text: rows, lengths, duplicates, topics, time trend, notes."""
        lines = [
            f"DatasetReport: {sum(self.splits.values())} rows ("
            + ", ".join(f"{s} {n}" for s, n in self.splits.items())
            + f"); text columns: {', '.join(self.text_columns)}"
        ]
        for column, per_split in self.lengths.get("chars", {}).items():
            stats = [f"{s} {v['median']:g}" for s, v in per_split.items() if v["count"]]
            lines.append(f"median characters of {column}: {', '.join(stats) or '-'}")
        dup = self.duplicates
        if dup:
            within = ", ".join(f"{s} {v['duplicate_rows']}" for s, v in dup.get("within", {}).items())
            lines.append(f"duplicate {dup.get('column')} rows: {within}")
            for entry in dup.get("across", []):
                if entry["n_pairs"]:
                    flag = " (leakage)" if entry["leakage"] else ""
                    lines.append(f"{entry['a']}/{entry['b']} exact overlap: {entry['n_pairs']} pair(s){flag}")
            for entry in dup.get("near", []):
                lines.append(
                    f"{entry['a']}/{entry['b']} near duplicates (>= {entry['threshold']:g}): "
                    f"{entry['n_pairs']} pair(s)"
                )
        if self.topics:
            lines.append(f"topics ({self.topics['method']}):")
            for t in self.topics["topics"]:
                lines.append(f"  {t['topic']}. {' '.join(t['words'][:6])} ({t['share']:.0%})")
        if self.time_trend:
            tt = self.time_trend
            lines.append(
                f"time trend: {tt['column']} by {tt['frequency']}, {len(tt['periods'])} period(s) "
                f"from {tt['periods'][0]} to {tt['periods'][-1]}"
                if tt["periods"]
                else f"time trend: {tt['column']}: no dates"
            )
        if self.cleaning:
            lines.append(
                f"cleaning: {self.cleaning['rows_in']} rows in, {self.cleaning['rows_out']} out "
                f"({_reasons(self.cleaning)})"
            )
        if self.sentiment:
            lines.extend(_sentiment_summary(self.sentiment))
        lines.extend(f"note: {n}" for n in self.notes)
        if self.sentiment:
            lines.extend(f"note: sentiment: {n}" for n in self.sentiment.get("notes", []))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_html(self) -> str:
        """A self-contained HTML page (tables and PNGs embedded as base64; all data text escaped)."""
        return _render_html(self)


def _sentiment_summary(section: Mapping[str, Any]) -> list[str]:
    overall = section.get("overall") or {}
    t = section["threshold"]

    def shares(key: str) -> str:
        return ", ".join(f"{r} {v[key]:.1%}" for r, v in overall.items() if v["count"]) or "-"

    means = ", ".join(f"{r} {v['mean']:+.3f}" for r, v in overall.items() if v["count"]) or "-"
    return [
        f"sentiment ({section['analyser']}): mean compound {means}",
        f"  strongly negative (<= -{t:g}): {shares('share_strong_negative')}; strongly positive (>= {t:g}): "
        f"{shares('share_strong_positive')}",
    ]


def _json_text(data: Any) -> str:
    """JSON indented by 2, with lists of plain values (scores, edges, counts, ids) on one line each."""

    def dump(value: Any, level: int) -> str:
        pad, inner = "  " * level, "  " * (level + 1)
        if isinstance(value, Mapping) and value:
            items = [
                f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {dump(v, level + 1)}"
                for k, v in value.items()
            ]
            return "{\n" + ",\n".join(items) + f"\n{pad}}}"
        if isinstance(value, (list, tuple)) and any(isinstance(v, (Mapping, list, tuple)) for v in value):
            if all(
                isinstance(v, (list, tuple)) and not any(isinstance(x, (Mapping, list, tuple)) for x in v)
                for v in value
            ):  # rows of plain values: one row per line
                rows = [json.dumps(v, ensure_ascii=False, allow_nan=False) for v in value]
                return "[\n" + ",\n".join(f"{inner}{r}" for r in rows) + f"\n{pad}]"
            return "[\n" + ",\n".join(f"{inner}{dump(v, level + 1)}" for v in value) + f"\n{pad}]"
        return json.dumps(value, ensure_ascii=False, allow_nan=False)

    return dump(data, 0)


def _reasons(cleaning: Mapping[str, Any]) -> str:
    reasons = cleaning.get("dropped_by_reason") or {}
    return ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "nothing dropped"


# ------------------------------------------------------------------------------------------ building


def dataset_report(
    data: datasets.DatasetDict | datasets.Dataset | Mapping[str, datasets.Dataset],
    *,
    tokenizer: Any = None,
    cleaning: CleaningReport | Mapping[str, Any] | None = None,
    config: DataReportConfig | None = None,
    source: str | None = None,
) -> DatasetReport:
    """Analyse ``data`` (splits of a ``DatasetDict``, or one ``Dataset`` reported as split ``"all"``).

    Args:
        data: the canonical data (``id``, ``prompt``, ``response`` ...); other shapes work when
            ``config.text_columns`` names their text columns.
        tokenizer: a transformers tokenizer, or a folder loadable with ``AutoTokenizer``; adds token
            lengths. None reports characters only.
        cleaning: a :class:`~domainft.data.cleaning.CleaningReport` (or its dict) to include.
        config: what to analyse; defaults to ``DataReportConfig()``.
        source: where the data came from (shown in the report).
    """
    config = config or DataReportConfig()
    splits = _as_splits(data)
    columns = _text_columns(splits, config.text_columns)
    texts = {c: {s: _column_texts(ds, c) for s, ds in splits.items()} for c in columns}
    ids = {s: _ids(ds) for s, ds in splits.items()}
    notes: list[str] = []
    report = DatasetReport(splits={s: ds.num_rows for s, ds in splits.items()}, text_columns=columns)

    char_lengths = {
        c: {s: [len(t) for t in v if t is not None] for s, v in per.items()} for c, per in texts.items()
    }
    report.lengths["chars"] = _all_stats(char_lengths, texts)
    report.histograms["chars"], report.images["lengths_chars"] = _histograms(
        char_lengths, config.bins, "characters"
    )
    tok_name = None
    if tokenizer is not None:
        tokenizer = load_tokenizer(tokenizer)
        tok_name = getattr(tokenizer, "name_or_path", None) or type(tokenizer).__name__
        token_lengths = {
            c: {s: text_lengths([t for t in v if t is not None], "tokens", tokenizer) for s, v in per.items()}
            for c, per in texts.items()
        }
        report.lengths["tokens"] = _all_stats(token_lengths, texts)
        report.histograms["tokens"], report.images["lengths_tokens"] = _histograms(
            token_lengths, config.bins, "tokens"
        )

    dup_column = _duplicate_column(columns, config)
    report.duplicates = _duplicates(texts[dup_column], ids, splits, dup_column, config, notes)
    report.top_terms = {c: _top_terms(_flat(texts[c]), config.top_n_terms) for c in columns}
    report.topics = _topics(texts, ids, config, notes)
    trend = _time_trend(splits, config, notes)
    if trend is not None:
        report.time_trend, report.images["time_trend"] = trend
    if config.sentiment is not None:
        from domainft.data.sentiment import plot_sentiment, sentiment_section

        report.sentiment = sentiment_section(
            splits,
            analyser=config.sentiment,
            text_columns=columns,
            threshold=config.sentiment_threshold,
            examples=config.sentiment_examples,
        )
        report.images["sentiment"] = plot_sentiment(report.sentiment)
    if cleaning is not None:
        report.cleaning = (
            cleaning.to_dict(include_rows=False)
            if isinstance(cleaning, CleaningReport)
            else CleaningReport.from_dict(dict(cleaning)).to_dict(include_rows=False)
        )
    from domainft import __version__

    report.notes = notes
    report.meta = {
        "source": source,
        "tokenizer": tok_name,
        "config": config.to_dict(),
        "domainft_version": __version__,
    }
    return report


def _as_splits(data: Any) -> dict[str, datasets.Dataset]:
    import datasets as hf

    if isinstance(data, hf.Dataset):
        return {SINGLE_SPLIT: data}
    if isinstance(data, Mapping) and data and all(isinstance(v, hf.Dataset) for v in data.values()):
        return {str(k): v for k, v in data.items()}
    if isinstance(data, Mapping) and not data:
        raise DataError("dataset_report: the DatasetDict has no splits; nothing to report on")
    raise DataError(
        f"dataset_report expects a datasets.DatasetDict or Dataset, got {type(data).__name__}; "
        "build one with DatasetBuilder(...).build() or datasets.load_from_disk(path)"
    )


def _all_columns(splits: Mapping[str, datasets.Dataset]) -> list[str]:
    names: list[str] = []
    for ds in splits.values():
        names.extend(c for c in ds.column_names if c not in names)
    return names


def _text_columns(
    splits: Mapping[str, datasets.Dataset],
    text_columns: Sequence[str] | None,
    where: str = "DataReportConfig.text_columns",
) -> list[str]:
    """The columns to analyse: ``text_columns`` (checked against the data, ``where`` names the setting in
    errors), or those of :data:`AUTO_TEXT_COLUMNS` the data has."""
    found = _all_columns(splits)
    if text_columns is None:
        columns = [c for c in AUTO_TEXT_COLUMNS if c in found]
        if not columns:
            raise DataError(
                f"dataset_report: no text column to analyse: none of {', '.join(AUTO_TEXT_COLUMNS)} found "
                f"(columns: {', '.join(found) or '(none)'}); map yours with "
                "DatasetBuilder.with_columns(prompt=..., response=...) (command line: --prompt COL "
                "--response COL) or name them in DataReportConfig.text_columns"
            )
        return columns
    missing = [c for c in text_columns if c not in found]
    if missing:
        raise DataError(
            f"{where}: column(s) {', '.join(map(repr, missing))} not in the data; "
            f"found columns: {', '.join(found) or '(none)'}"
        )
    return list(dict.fromkeys(text_columns))


def _duplicate_column(columns: list[str], config: DataReportConfig) -> str:
    if config.duplicate_column is None:
        return "prompt" if "prompt" in columns else columns[0]
    if config.duplicate_column not in columns:
        raise ConfigError(
            f"DataReportConfig.duplicate_column: {config.duplicate_column!r} is not one of the analysed text "
            f"columns ({', '.join(columns)}); add it to text_columns or leave duplicate_column null"
        )
    return config.duplicate_column


def _values(ds: datasets.Dataset, column: str) -> list[Any]:
    if column not in ds.column_names:
        return [None] * ds.num_rows
    values = ds[column]
    return values if isinstance(values, list) else list(values)


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):  # a conversation: list of {"role", "content"}
        parts = [str(m.get("content") or "") if isinstance(m, Mapping) else str(m) for m in value]
        return "\n".join(parts)
    return str(value)


def _column_texts(ds: datasets.Dataset, column: str) -> list[str | None]:
    return [_as_text(v) for v in _values(ds, column)]


def _ids(ds: datasets.Dataset) -> list[str]:
    from domainft.data.builder import generated_id

    if "id" not in ds.column_names:
        return [generated_id(i) for i in range(ds.num_rows)]
    return [generated_id(i) if v is None else str(v) for i, v in enumerate(_values(ds, "id"))]


def _flat(per_split: Mapping[str, list[str | None]]) -> list[str]:
    return [t for values in per_split.values() for t in values if t]


# ------------------------------------------------------------------------------------------ lengths


def _stats(lengths: Sequence[int], missing: int) -> dict[str, Any]:
    import numpy as np

    if not lengths:
        return {"count": 0, "missing": missing, "min": None, "mean": None, "median": None, "p95": None,
                "max": None, "total": 0}  # fmt: skip
    a = np.asarray(lengths, dtype=np.int64)
    return {
        "count": int(a.size),
        "missing": missing,
        "min": int(a.min()),
        "mean": float(a.mean()),
        "median": float(np.median(a)),
        "p95": float(np.percentile(a, 95)),
        "max": int(a.max()),
        "total": int(a.sum()),
    }


def _all_stats(lengths: Mapping[str, Mapping[str, list[int]]], texts: Mapping[str, Any]) -> dict[str, Any]:
    return {
        c: {s: _stats(v, sum(t is None for t in texts[c][s])) for s, v in per.items()}
        for c, per in lengths.items()
    }


def _share_panel(ax: Any, hist: Mapping[str, Any], title: str, xlabel: str, ylabel: str) -> None:
    """One histogram panel: each split's counts as a share of its total, drawn as stairs."""
    for i, (split, counts) in enumerate(hist["counts"].items()):
        n = sum(counts)
        if n:
            ax.stairs(
                [c / n for c in counts], hist["edges"], label=f"{split} ({n})", color=f"C{i % 10}", lw=1.5
            )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False)


def _histograms(
    lengths: Mapping[str, Mapping[str, list[int]]], bins: int, unit: str
) -> tuple[dict[str, Any], bytes]:
    """Shared bin edges per column, counts per split, and one panel per column (share of each split)."""
    import numpy as np

    from domainft.utils.plotting import agg_figure, figure_png

    data: dict[str, Any] = {}
    for column, per_split in lengths.items():
        every = [x for v in per_split.values() for x in v]
        if not every:
            continue
        edges = np.histogram_bin_edges(np.asarray(every), bins=bins)
        data[column] = {
            "edges": [float(e) for e in edges],
            "counts": {s: [int(c) for c in np.histogram(v, bins=edges)[0]] for s, v in per_split.items()},
        }
    ncols = max(1, min(3, len(data)))
    nrows = max(1, -(-len(data) // ncols))
    fig = agg_figure((4.4 * ncols, 3.0 * nrows))
    for k, (column, hist) in enumerate(data.items()):
        _share_panel(fig.add_subplot(nrows, ncols, k + 1), hist, column, unit, "share of rows")
    if not data:
        fig.text(0.5, 0.5, "no text", ha="center", va="center")
    fig.suptitle(f"Length in {unit}", fontsize=11)
    fig.tight_layout()
    return data, figure_png(fig)


# ------------------------------------------------------------------------------------------ duplicates


def _snippet(text: str | None, limit: int = _SNIPPET) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _duplicates(
    texts: Mapping[str, list[str | None]],
    ids: Mapping[str, list[str]],
    splits: Mapping[str, datasets.Dataset],
    column: str,
    config: DataReportConfig,
    notes: list[str],
) -> dict[str, Any]:
    keys = {s: [None if t is None else dedup_key(t) for t in v] for s, v in texts.items()}
    groups: dict[str, dict[str, list[int]]] = {}
    for split, split_keys in keys.items():
        by_key: dict[str, list[int]] = {}
        for i, key in enumerate(split_keys):
            if key:
                by_key.setdefault(key, []).append(i)
        groups[split] = by_key

    within: dict[str, Any] = {}
    for split, by_key in groups.items():
        repeated = sorted((g for g in by_key.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))
        within[split] = {
            "duplicate_rows": sum(len(g) - 1 for g in repeated),
            "groups": len(repeated),
            "examples": [
                {"ids": [ids[split][i] for i in g], "text": _snippet(texts[split][g[0]])}
                for g in repeated[: config.max_examples]
            ],
        }
        if repeated:
            notes.append(
                f"{split}: {within[split]['duplicate_rows']} row(s) repeat an earlier {column} "
                f"({len(repeated)} group(s))"
            )

    responses = {s: _column_texts(ds, "response") for s, ds in splits.items()}
    across: list[dict[str, Any]] = []
    for a, b in itertools.combinations(groups, 2):
        shared = [k for k in groups[a] if k in groups[b]]
        pairs = [(i, j) for k in shared for i in groups[a][k] for j in groups[b][k]]
        leakage = "train" in (a, b)
        across.append(
            {
                "a": a,
                "b": b,
                "n_pairs": len(pairs),
                "b_rows": sum(len(groups[b][k]) for k in shared),
                "leakage": leakage,
                "pairs": [
                    {
                        "a_id": ids[a][i],
                        "b_id": ids[b][j],
                        "same_response": responses[a][i] is not None and responses[a][i] == responses[b][j],
                        "text": _snippet(texts[a][i]),
                    }
                    for i, j in pairs[: config.max_examples]
                ],
            }
        )
        if pairs and leakage:
            other = b if a == "train" else a
            shown = ", ".join(f"{p['a_id']}~{p['b_id']}" for p in across[-1]["pairs"][:5])
            notes.append(
                f"leakage: {len(pairs)} {a}/{b} pair(s) share a normalised {column} "
                f"(the {other} split is not unseen data): {shown}{' ...' if len(pairs) > 5 else ''}"
            )

    near: list[dict[str, Any]] = []
    if config.near_duplicate_threshold is not None:
        names = list(splits)
        if len(names) == 1:
            near = _near(names[0], [], texts, ids, keys, config)
        elif "train" in names:
            near = _near("train", [n for n in names if n != "train"], texts, ids, keys, config)
        for entry in near:
            if entry["n_pairs"] and entry["a"] != entry["b"]:
                notes.append(
                    f"{entry['a']}/{entry['b']}: {entry['n_pairs']} near-duplicate pair(s) of {column} "
                    f"(similarity >= {entry['threshold']:g})"
                )
    return {"column": column, "within": within, "across": across, "near": near}


def _near(
    a: str,
    others: Sequence[str],
    texts: Mapping[str, list[str | None]],
    ids: Mapping[str, list[str]],
    keys: Mapping[str, list[str | None]],
    config: DataReportConfig,
) -> list[dict[str, Any]]:
    """Near-duplicate pairs of split ``a`` with each of ``others`` (one search), or inside ``a``."""
    from domainft.data.near_duplicates import near_duplicate_pairs

    threshold = float(config.near_duplicate_threshold or 0.0)
    where: list[tuple[str, int]] = [(b, j) for b in others for j in range(len(texts[b]))]
    found = near_duplicate_pairs(  # None and blank texts are skipped; indices are row positions
        texts[a],
        [texts[b][j] for b, j in where] if others else None,
        threshold=threshold,
        method=config.near_duplicate_method,
    )
    pairs: dict[str, list[tuple[float, int, int]]] = {b: [] for b in others or [a]}
    for p in found:
        b, j = where[p.j] if others else (a, p.j)
        if keys[a][p.i] != keys[b][j]:  # exact duplicates are counted above
            pairs[b].append((float(p.similarity), p.i, j))
    out = []
    for b, found_b in pairs.items():
        found_b.sort(key=lambda t: (-t[0], t[1], t[2]))
        shown = [
            {
                "a_id": ids[a][i],
                "b_id": ids[b][j],
                "similarity": sim,
                "a_text": _snippet(texts[a][i]),
                "b_text": _snippet(texts[b][j]),
            }
            for sim, i, j in found_b[: config.max_examples]
        ]
        out.append(
            {
                "a": a,
                "b": b,
                "threshold": threshold,
                "method": config.near_duplicate_method,
                "n_pairs": len(found_b),
                "pairs": shown,
            }
        )
    return out


# ------------------------------------------------------------------------------------------ terms, topics


def _top_terms(texts: list[str], n: int) -> list[dict[str, Any]]:
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer

    if not texts:
        return []
    vectorizer = CountVectorizer(stop_words="english", token_pattern=_TERM_PATTERN)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # only stop words, numbers or punctuation
        return []
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    rows = np.diff(matrix.tocsc().indptr)
    vocab = vectorizer.get_feature_names_out()
    order = sorted(range(len(vocab)), key=lambda k: (-counts[k], vocab[k]))[:n]
    return [{"term": str(vocab[k]), "count": int(counts[k]), "rows": int(rows[k])} for k in order]


def _topics(
    texts: Mapping[str, Mapping[str, list[str | None]]],
    ids: Mapping[str, list[str]],
    config: DataReportConfig,
    notes: list[str],
) -> dict[str, Any] | None:
    import numpy as np

    columns = list(texts)
    docs: list[str] = []
    doc_ids: list[str] = []
    for split, split_ids in ids.items():
        for i, row_id in enumerate(split_ids):
            doc = "\n".join(t for t in (texts[c][split][i] for c in columns) if t)
            if doc.strip():
                docs.append(doc)
                doc_ids.append(row_id)
    total = len(docs)
    if total > config.max_topic_rows:
        rng = np.random.default_rng(config.seed)
        keep = np.sort(rng.choice(total, size=config.max_topic_rows, replace=False))
        docs, doc_ids = [docs[k] for k in keep], [doc_ids[k] for k in keep]
    if len(docs) < 2:
        notes.append("topics: skipped (fewer than 2 rows with text)")
        return None
    method = TOPIC_METHODS.get(config.topic_method)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings of tiny corpora
            model = method(docs, config.n_topics, config.seed)
    except ValueError as exc:  # empty vocabulary: only stop words or numbers
        notes.append(f"topics: skipped ({exc})")
        return None
    components = np.asarray(model.components)
    weights = np.asarray(model.doc_topic)
    k = components.shape[0]
    if k < config.n_topics:
        notes.append(f"topics: {k} fitted instead of {config.n_topics} (too few rows or distinct terms)")
    assigned = weights.argmax(axis=1)
    has_topic = weights.sum(axis=1) > 0
    n = len(docs)
    topics = []
    for t in range(k):
        members = np.flatnonzero(has_topic & (assigned == t))
        best = members[np.argsort(-weights[members, t], kind="stable")][:3]
        top = np.argsort(-components[t], kind="stable")[: config.topic_words]
        topics.append(
            {
                "words": [model.vocabulary[w] for w in top if components[t, w] > 0],
                "rows": int(members.size),
                "share": members.size / n,
                "example_ids": [doc_ids[m] for m in best],
            }
        )
    topics.sort(key=lambda d: -d["rows"])
    for number, topic in enumerate(topics, 1):
        topic["topic"] = number
    return {
        "method": config.topic_method.lower(),
        "n_topics": k,
        "rows_used": n,
        "rows_total": total,
        "unassigned": int((~has_topic).sum()),
        "topics": [{"topic": t.pop("topic"), **t} for t in topics],
    }


# ------------------------------------------------------------------------------------------ time trend

_FREQUENCIES = {"day": "D", "week": "W-SUN", "month": "M"}


def _is_time_feature(feature: Any) -> bool:
    dtype = str(getattr(feature, "dtype", ""))
    return dtype.startswith(("timestamp", "date"))


def _is_text_or_time(feature: Any) -> bool:
    return _is_time_feature(feature) or str(getattr(feature, "dtype", "")) in ("string", "large_string")


def _timestamp_column(
    splits: Mapping[str, datasets.Dataset], config: DataReportConfig
) -> tuple[str | None, bool]:
    """The timestamp column and whether the user named it."""
    if config.timestamp_column is not None:
        if config.timestamp_column not in _all_columns(splits):
            raise DataError(
                f"DataReportConfig.timestamp_column: no column {config.timestamp_column!r}; found columns: "
                f"{', '.join(_all_columns(splits))}"
            )
        return config.timestamp_column, True
    features: dict[str, Any] = {}
    for ds in splits.values():
        for name, feature in ds.features.items():
            features.setdefault(name, feature)
    for name, feature in features.items():
        if _is_time_feature(feature):
            return name, False
    for name, feature in features.items():
        if _TIMESTAMP_NAME.search(name) and _is_text_or_time(feature):
            return name, False
    return None, False


def _parse_times(values: list[Any], numeric: bool) -> Any:
    import pandas as pd

    if numeric:
        return pd.to_datetime(pd.Series(values, dtype="float64"), unit="s", utc=True, errors="coerce")
    series = pd.Series([None if v is None or (isinstance(v, str) and not v.strip()) else v for v in values])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        times = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")  # fast path
        retry = times.isna() & series.notna()
        if retry.any():  # other spellings ("March 5, 2024", "05/03/2024") one by one
            times[retry] = pd.to_datetime(series[retry], utc=True, errors="coerce", format="mixed")
    return times


def _time_trend(
    splits: Mapping[str, datasets.Dataset], config: DataReportConfig, notes: list[str]
) -> tuple[dict[str, Any], bytes] | None:
    import pandas as pd

    column, named = _timestamp_column(splits, config)
    if column is None:
        return None
    parsed: dict[str, Any] = {}
    given = unparsed = 0
    for split, ds in splits.items():
        values = _values(ds, column)
        feature = ds.features.get(column)
        numeric = str(getattr(feature, "dtype", "")).startswith(("int", "uint", "float"))
        times = _parse_times(values, numeric)
        present = sum(v is not None and not (isinstance(v, str) and not v.strip()) for v in values)
        given += present
        unparsed += present - int(times.notna().sum())
        parsed[split] = times.dropna().dt.tz_convert(None)
    n_parsed = given - unparsed
    if n_parsed == 0 or (not named and n_parsed < given / 2):
        message = f"time trend: column {column!r} holds {given} value(s) of which {n_parsed} parse as dates"
        if named:
            raise DataError(f"{message}; use ISO dates such as 2024-05-31 or 2024-05-31T14:00:00")
        notes.append(f"{message}; no trend drawn (set DataReportConfig.timestamp_column to choose a column)")
        return None
    if unparsed:
        notes.append(f"time trend: {unparsed} value(s) of {column!r} are not dates and are left out")
    every = pd.concat(list(parsed.values()))
    first, last = every.min(), every.max()
    frequency = config.time_frequency
    if frequency == "auto":
        span = (last - first).days
        frequency = "day" if span <= 62 else "week" if span <= 731 else "month"
    code = _FREQUENCIES[frequency]
    periods = pd.period_range(first.to_period(code), last.to_period(code), freq=code)
    counts = {
        split: [int(c) for c in times.dt.to_period(code).value_counts().reindex(periods, fill_value=0)]
        for split, times in parsed.items()
    }
    labels = [
        p.start_time.date().isoformat() if frequency in ("day", "week") else p.strftime("%Y-%m")
        for p in periods
    ]
    trend = {
        "column": column,
        "frequency": frequency,
        "periods": labels,
        "counts": counts,
        "unparsed": unparsed,
        "first": first.isoformat(),
        "last": last.isoformat(),
    }
    return trend, _plot_trend(trend)


def _plot_trend(trend: Mapping[str, Any]) -> bytes:
    from domainft.utils.plotting import agg_figure, figure_png

    labels = trend["periods"]
    n = len(labels)
    fig = agg_figure((min(14.0, max(5.0, 0.25 * n + 3)), 3.4))
    ax = fig.add_subplot(1, 1, 1)
    bottom = [0] * n
    for i, (split, counts) in enumerate(trend["counts"].items()):
        ax.bar(range(n), counts, bottom=bottom, label=split, color=f"C{i % 10}", width=0.85)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    step = max(1, n // 12)
    ax.set_xticks(range(0, n, step))
    ax.set_xticklabels(labels[::step], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("rows", fontsize=9)
    ax.set_title(f"Rows per {trend['frequency']} ({trend['column']})", fontsize=11)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    if len(trend["counts"]) > 1:
        ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return figure_png(fig)


# ------------------------------------------------------------------------------------------ HTML

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:1em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.text{white-space:pre-wrap;word-wrap:break-word;max-width:40em}
.notes li{color:#8a4b00}.leak{color:#b00020;font-weight:bold}
.row{display:flex;flex-wrap:wrap;gap:1.5em}img{max-width:100%}
"""


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else _esc(value)


def _table(header: Sequence[str] | None, rows: Sequence[Sequence[Any]], text_cols: Sequence[int] = ()) -> str:
    """An HTML table; strings and ``text_cols`` are escaped text, other cells right-aligned numbers.
    Without ``header`` the first cell of each row is a row heading."""
    head = "" if header is None else "<tr>" + "".join(f"<th>{_esc(h)}</th>" for h in header) + "</tr>"
    body = []
    for row in rows:
        cells = []
        for k, v in enumerate(row):
            if header is None and k == 0:
                cells.append(f"<th>{_esc(v)}</th>")
            elif k in text_cols or isinstance(v, str):
                cells.append(f"<td class='text'>{_esc(v)}</td>")
            else:
                cells.append(f"<td class='num'>{_num(v)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def _img(report: DatasetReport, name: str, alt: str) -> str:
    return img_tag(report.images.get(name), alt)


def _render_html(report: DatasetReport) -> str:
    title = "domainft dataset report"
    source = report.meta.get("source")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_esc(title)}{': ' + _esc(source) if source else ''}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
    ]
    meta_rows = [
        (k, report.meta.get(k)) for k in ("source", "tokenizer", "domainft_version") if report.meta.get(k)
    ]
    if meta_rows:
        parts.append(_table(None, meta_rows))
    if report.notes:
        parts.append("<h2>Notes</h2><ul class='notes'>")
        parts.extend(f"<li>{_esc(n)}</li>" for n in report.notes)
        parts.append("</ul>")

    parts.append("<h2>Splits</h2>")
    rows = [(s, n) for s, n in report.splits.items()] + [("total", sum(report.splits.values()))]
    parts.append(_table(["split", "rows"], rows, text_cols=[0]))

    for kind, unit in (("chars", "characters"), ("tokens", "tokens")):
        stats = report.lengths.get(kind)
        if not stats:
            continue
        parts.append(f"<h2>Length in {unit}</h2>")
        keys = ["count", "missing", "min", "mean", "median", "p95", "max"]
        rows = [
            (column, split, *(v[k] for k in keys))
            for column, per in stats.items()
            for split, v in per.items()
        ]
        parts.append(_table(["column", "split", *keys], rows, text_cols=[0, 1]))
        parts.append(_img(report, f"lengths_{kind}", f"histogram of lengths in {unit}"))

    parts.append(_duplicates_html(report.duplicates))

    if report.top_terms:
        parts.append("<h2>Top terms</h2><div class='row'>")
        for column, terms in report.top_terms.items():
            parts.append(f"<div><h3>{_esc(column)}</h3>")
            parts.append(
                _table(["term", "count", "rows"], [(t["term"], t["count"], t["rows"]) for t in terms], [0])
                if terms
                else "<p>No terms.</p>"
            )
            parts.append("</div>")
        parts.append("</div>")

    topics = report.topics
    if topics:
        parts.append(
            f"<h2>Topics ({_esc(topics['method'])}, {topics['n_topics']} topics, "
            f"{topics['rows_used']} of {topics['rows_total']} rows)</h2>"
        )
        rows = [
            (t["topic"], f"{t['share']:.1%}", t["rows"], " ".join(t["words"]), ", ".join(t["example_ids"]))
            for t in topics["topics"]
        ]
        parts.append(_table(["topic", "share", "rows", "top words", "example ids"], rows, text_cols=[1]))
        if topics["unassigned"]:
            parts.append(f"<p>{topics['unassigned']} row(s) had no term of any topic.</p>")

    if report.sentiment:
        parts.append(_sentiment_html(report))

    trend = report.time_trend
    if trend:
        parts.append(f"<h2>Time trend ({_esc(trend['column'])}, per {_esc(trend['frequency'])})</h2>")
        parts.append(_img(report, "time_trend", "rows per period"))
        split_names = list(trend["counts"])
        rows = [
            (
                label,
                *(trend["counts"][s][k] for s in split_names),
                sum(trend["counts"][s][k] for s in split_names),
            )
            for k, label in enumerate(trend["periods"])
        ]
        parts.append(_table(["period", *split_names, "total"], rows, text_cols=[0]))

    if report.cleaning:
        c = report.cleaning
        parts.append("<h2>Cleaning</h2>")
        rows = [
            ("rows in", c["rows_in"]),
            ("rows out", c["rows_out"]),
            ("normalised", c.get("normalised", 0)),
        ]
        rows += [(f"dropped: {k}", v) for k, v in sorted((c.get("dropped_by_reason") or {}).items())]
        parts.append(_table(None, rows))
        steps = c.get("steps") or []
        if steps:
            parts.append(
                _table(
                    ["step", "rows in", "rows out", "changed", "parameters"],
                    [
                        (
                            s["step"],
                            s["rows_in"],
                            s["rows_out"],
                            s.get("changed", 0),
                            json.dumps(s.get("params", {})),
                        )
                        for s in steps
                    ],
                )
            )
    parts.append("</body></html>\n")
    return "".join(parts)


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _sentiment_html(report: DatasetReport) -> str:
    section = report.sentiment or {}
    t, band = section["threshold"], section["neutral_band"]
    parts = [
        f"<h2>Sentiment and tone ({_esc(section['analyser'])})</h2>",
        f"<p>Compound score of each text, from -1 (most negative) to 1 (most positive): negative &le; "
        f"-{band:g}, positive &ge; {band:g}, neutral between; strongly negative &le; -{t:g}, strongly "
        f"positive &ge; {t:g}. {section['n_scored']:,} text(s) scored, {section['n_empty']:,} empty or "
        "missing (counted, not scored). Columns map to roles: prompt = user, response = assistant; "
        "messages contribute each turn under its role.</p>",
    ]
    rows = [
        (
            split,
            role,
            g["count"],
            g["empty"],
            g["mean"],
            g["median"],
            _share(g["share_negative"]),
            _share(g["share_neutral"]),
            _share(g["share_positive"]),
            f"{g['strong_negative']} ({_share(g['share_strong_negative'])})",
            f"{g['strong_positive']} ({_share(g['share_strong_positive'])})",
        )
        for split, per_role in section["groups"].items()
        for role, g in per_role.items()
    ]
    header = ["split", "role", "texts", "empty", "mean", "median", "negative", "neutral", "positive",
              "strongly negative", "strongly positive"]  # fmt: skip
    parts.append(_table(header, rows, text_cols=[0, 1]))
    parts.append(_img(report, "sentiment", "share of texts per compound score, per role and split"))
    if section.get("notes"):
        parts.append(
            "<ul class='notes'>" + "".join(f"<li>{_esc(n)}</li>" for n in section["notes"]) + "</ul>"
        )
    by_role = section.get("most_negative_by_role") or {}
    for role in sorted(by_role, key=lambda r: r != "assistant"):  # what the model learns to say first
        examples = by_role[role]
        if not examples:
            continue
        parts.append(
            f"<h3>Most negative {_esc(role)} texts (the {len(examples)} lowest compound scores)</h3>"
        )
        parts.append(
            _table(
                ["compound", "split", "id", "turn", "text"],
                [(e["compound"], e["split"], e["id"], e["turn"], e["text"]) for e in examples],
                text_cols=[1, 2, 4],
            )
        )
    return "".join(parts)


def _duplicates_html(dup: Mapping[str, Any]) -> str:
    if not dup:
        return ""
    parts = [f"<h2>Duplicates ({_esc(dup.get('column'))}, normalised and case-folded)</h2>"]
    within = dup.get("within", {})
    parts.append(
        _table(
            ["split", "duplicate rows", "groups"],
            [(s, v["duplicate_rows"], v["groups"]) for s, v in within.items()],
            text_cols=[0],
        )
    )
    for split, v in within.items():
        if v["examples"]:
            parts.append(f"<h3>Repeated within {_esc(split)}</h3>")
            parts.append(_table(["ids", "text"], [(", ".join(e["ids"]), e["text"]) for e in v["examples"]]))
    across = dup.get("across", [])
    if across:
        parts.append("<h3>Across splits</h3>")
        rows = []
        for e in across:
            flag = "<span class='leak'>leakage</span>" if e["leakage"] and e["n_pairs"] else ""
            rows.append(
                f"<tr><td>{_esc(e['a'])} / {_esc(e['b'])}</td><td class='num'>{e['n_pairs']}</td>"
                f"<td class='num'>{e['b_rows']}</td><td>{flag}</td></tr>"
            )
        parts.append(
            "<table><tr><th>splits</th><th>pairs</th><th>rows of the second split</th><th></th></tr>"
            + "".join(rows)
            + "</table>"
        )
        for e in across:
            if e["pairs"]:
                parts.append(f"<h3>{_esc(e['a'])} / {_esc(e['b'])}: exact pairs</h3>")
                parts.append(
                    _table(
                        [f"{e['a']} id", f"{e['b']} id", "same response", "text"],
                        [
                            (p["a_id"], p["b_id"], "yes" if p["same_response"] else "no", p["text"])
                            for p in e["pairs"]
                        ],
                    )
                )
    for e in dup.get("near", []):
        parts.append(
            f"<h3>Near duplicates {_esc(e['a'])} / {_esc(e['b'])} ({_esc(e['method'])}, similarity &ge; "
            f"{e['threshold']:g}): {e['n_pairs']} pair(s)</h3>"
        )
        if e["pairs"]:
            parts.append(
                _table(
                    [f"{e['a']} id", f"{e['b']} id", "similarity", f"{e['a']} text", f"{e['b']} text"],
                    [(p["a_id"], p["b_id"], p["similarity"], p["a_text"], p["b_text"]) for p in e["pairs"]],
                    text_cols=[0, 1, 3, 4],
                )
            )
    return "".join(parts)
