"""Sentiment and tone of a dataset's texts: a compound score per text, per split and role.

An analyser scores each text from -1 (most negative) to 1 (most positive). The default, ``"vader"``, is
vaderSentiment's rule-based analyser, whose English lexicon ships inside the package (no download):
``pip install 'domainft[diagnostics]'``. Texts get a role from their column: ``prompt`` is ``user``,
``response`` is ``assistant``, ``system`` and ``context`` keep their names, other columns are their own
role, and each turn of a ``messages`` column counts under its own role. :func:`sentiment_table` gives the
scores as a ``pandas.DataFrame``; :func:`sentiment_section` the report section (shares of negative,
neutral, positive and strongly negative or positive texts, histograms, the most negative texts) that
:func:`domainft.data.report.dataset_report` includes with ``DataReportConfig(sentiment="vader")``.

Examples:
    >>> from datasets import Dataset
    >>> from domainft.data.sentiment import sentiment_section, sentiment_table
    >>> ds = Dataset.from_list([
    ...     {"prompt": "The pump leaks again.", "response": "Thanks for the report, happy to help!"},
    ...     {"prompt": "Why is this useless machine so slow?", "response": "Replace the drive belt."},
    ... ])
    >>> table = sentiment_table(ds)
    >>> table[["role", "compound"]].values.tolist()
    [['user', 0.0], ['assistant', 0.8622], ['user', -0.5023], ['assistant', 0.0]]
    >>> section = sentiment_section(ds, threshold=0.4)
    >>> section["groups"]["all"]["user"]["strong_negative"], section["most_negative"][0]["id"]
    (1, 'row-000001')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from domainft.data.report import _as_splits, _ids, _share_panel, _snippet, _text_columns, _values
from domainft.errors import ConfigError
from domainft.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    import datasets
    import pandas

NEUTRAL_BAND = 0.05  # VADER's usual cut: negative <= -0.05, positive >= 0.05
HISTOGRAM_BINS = 20  # bins of width 0.1 over [-1, 1]
PROGRESS_MIN_TEXTS = 2000  # a progress bar from this many texts on (progress=None)
COLUMN_ROLES = {"prompt": "user", "response": "assistant", "system": "system", "context": "context"}
ROLE_ORDER = ("user", "assistant", "system", "context")
DERIVED_FROM_MESSAGES = ("prompt", "response", "system")  # dialogue data copies these from messages
_CHUNK = 500

SentimentAnalyser = Callable[[Sequence[str]], list[float]]
SENTIMENT_ANALYSERS: Registry[SentimentAnalyser] = Registry("sentiment analyser")


def register_sentiment_analyser(
    name: str, *, overwrite: bool = False
) -> Callable[[SentimentAnalyser], SentimentAnalyser]:
    """Decorator registering ``fn(texts) -> list[float]`` (one compound score in [-1, 1] per text) as a
    sentiment analyser, usable as ``DataReportConfig(sentiment=name)``.

    Examples:
        >>> from domainft.data.sentiment import register_sentiment_analyser, sentiment_table
        >>> @register_sentiment_analyser("exclamations-demo")
        ... def exclamations(texts):
        ...     return [min(1.0, t.count("!") / 3) for t in texts]
        >>> from datasets import Dataset
        >>> sentiment_table(Dataset.from_dict({"response": ["Done!!!", "Done."]}),
        ...                 analyser="exclamations-demo")["compound"].tolist()
        [1.0, 0.0]
    """
    return SENTIMENT_ANALYSERS.register(name, overwrite=overwrite)  # type: ignore[return-value]


def get_sentiment_analyser(name: str) -> SentimentAnalyser:
    """The analyser registered as ``name``; ``ConfigError`` listing the known ones otherwise."""
    try:
        return SENTIMENT_ANALYSERS.get(name)
    except ConfigError as exc:
        raise ConfigError(f"{exc} Add one with register_sentiment_analyser(name).") from None


@cache
def _vader_analyser() -> Any:
    """vaderSentiment's ``SentimentIntensityAnalyzer``, built once (it reads its lexicon files)."""
    try:
        import vaderSentiment  # noqa: F401  (the package first: a missing one fails here)
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        raise ConfigError(
            "the 'vader' sentiment analyser needs the vaderSentiment package (its English lexicon "
            "ships inside it): pip install 'domainft[diagnostics]'"
        ) from None
    return SentimentIntensityAnalyzer()


@register_sentiment_analyser("vader")
def vader_scores(texts: Sequence[str]) -> list[float]:
    """VADER compound scores (``polarity_scores(text)["compound"]``) of ``texts``."""
    analyser = _vader_analyser()
    return [float(analyser.polarity_scores(t)["compound"]) for t in texts]


# ------------------------------------------------------------------------------------------ scoring


def _role_of(column: str) -> str:
    return COLUMN_ROLES.get(column, column)


def _turns(value: Any) -> list[tuple[str, Any]] | None:
    """(role, content) of each turn of a ``messages`` value; None for a missing conversation."""
    if value is None:
        return None
    if isinstance(value, str):  # a conversation stored as one text
        return [("messages", value)]
    turns = []
    for m in value:
        if isinstance(m, Mapping):
            turns.append((str(m.get("role") or "unknown").strip().lower() or "unknown", m.get("content")))
        else:
            turns.append(("unknown", m))
    return turns


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


class _Collected:
    """The texts to score, in order (split, row, column, turn), and what was counted but not scored."""

    def __init__(self) -> None:
        self.splits: list[str] = []
        self.rows: list[tuple[str, str, str, int | None]] = []  # split, id, role, turn
        self.texts: list[str] = []
        self.empty: dict[str, dict[str, int]] = {}  # split -> role -> empty or missing texts
        self.missing_conversations: dict[str, int] = {}
        self.roles: list[str] = []
        self.columns: list[str] = []
        self.skipped: list[str] = []

    def add(self, split: str, row_id: str, role: str, turn: int | None, value: Any) -> None:
        if role not in self.roles:
            self.roles.append(role)
        text = _as_text(value)
        if text is None or not text.strip():
            per = self.empty.setdefault(split, {})
            per[role] = per.get(role, 0) + 1
            return
        self.rows.append((split, row_id, role, turn))
        self.texts.append(text)


def _collect(data: Any, text_columns: Sequence[str] | None) -> _Collected:
    splits = _as_splits(data)
    columns = _text_columns(splits, text_columns, where="text_columns")
    out = _Collected()
    if "messages" in columns:
        out.skipped = [c for c in columns if c in DERIVED_FROM_MESSAGES]
        columns = [c for c in columns if c not in DERIVED_FROM_MESSAGES]
    out.columns = columns
    for split, ds in splits.items():
        ids = _ids(ds)
        values = {c: _values(ds, c) for c in columns}
        out.splits.append(split)
        out.missing_conversations[split] = 0
        for i, row_id in enumerate(ids):
            for column in columns:
                value = values[column][i]
                if column != "messages":
                    out.add(split, row_id, _role_of(column), None, value)
                    continue
                turns = _turns(value)
                if turns is None:
                    out.missing_conversations[split] += 1
                for turn, (role, content) in enumerate(turns or []):
                    out.add(split, row_id, role, turn, content)
    known = [r for r in ROLE_ORDER if r in out.roles]
    out.roles = known + [r for r in out.roles if r not in known]
    return out


def _score(texts: list[str], analyser: str, progress: bool | None) -> list[float]:
    """Compound scores of ``texts`` (checked: one finite value in [-1, 1] per text)."""
    fn = get_sentiment_analyser(analyser)
    show = len(texts) >= PROGRESS_MIN_TEXTS if progress is None else progress
    if not texts:
        return []
    if not show:
        raw = list(fn(texts))
    else:
        from tqdm.auto import tqdm

        raw = []
        with tqdm(total=len(texts), desc=f"sentiment ({analyser})", unit="text") as bar:
            for start in range(0, len(texts), _CHUNK):
                chunk = texts[start : start + _CHUNK]
                raw.extend(fn(chunk))
                bar.update(len(chunk))
    if len(raw) != len(texts):
        raise ConfigError(
            f"sentiment analyser {analyser!r} returned {len(raw)} score(s) for {len(texts)} text(s); an "
            "analyser returns one compound score in [-1, 1] per text"
        )
    scores = []
    for k, value in enumerate(raw):
        try:
            score = float(value)
        except (TypeError, ValueError):
            score = math.nan
        if not (-1.0 <= score <= 1.0):  # NaN fails too
            raise ConfigError(
                f"sentiment analyser {analyser!r} returned {value!r} for text {k} ({texts[k][:60]!r}); "
                "scores must be numbers in [-1, 1]"
            )
        scores.append(score)
    return scores


def sentiment_table(
    data: datasets.DatasetDict | datasets.Dataset | Mapping[str, datasets.Dataset],
    *,
    analyser: str = "vader",
    text_columns: Sequence[str] | None = None,
    progress: bool | None = None,
) -> pandas.DataFrame:
    """The compound score of every non-empty text: columns ``split``, ``id``, ``role``, ``turn`` (the turn
    index in ``messages``, else missing), ``compound`` and ``text``.

    Args:
        data: a ``DatasetDict`` (or dict of ``Dataset``), or one ``Dataset`` (split ``"all"``).
        analyser: a registered analyser name (``"vader"`` by default).
        text_columns: columns to score; None takes those of prompt, response, context, system and messages
            the data has. With ``messages``, prompt, response and system are not scored again (dialogue
            data copies them from the turns).
        progress: show a progress bar; None shows one from 2,000 texts on.
    """
    import pandas as pd

    collected = _collect(data, text_columns)
    scores = _score(collected.texts, analyser, progress)
    frame = pd.DataFrame(collected.rows, columns=["split", "id", "role", "turn"])
    frame["turn"] = frame["turn"].astype("Int64")
    frame["compound"] = pd.Series(scores, dtype="float64")
    frame["text"] = pd.Series(collected.texts, dtype="object")
    return frame


# ------------------------------------------------------------------------------------------ section


def _share(n: int, total: int) -> float | None:
    return n / total if total else None


def _group_stats(scores: Sequence[float], empty: int, threshold: float) -> dict[str, Any]:
    import numpy as np

    n = len(scores)
    a = np.asarray(scores, dtype=np.float64)
    negative = int((a <= -NEUTRAL_BAND).sum())
    positive = int((a >= NEUTRAL_BAND).sum())
    strong_negative = int((a <= -threshold).sum())
    strong_positive = int((a >= threshold).sum())
    return {
        "count": n,
        "empty": empty,
        "mean": float(a.mean()) if n else None,
        "median": float(np.median(a)) if n else None,
        "share_negative": _share(negative, n),
        "share_neutral": _share(n - negative - positive, n),
        "share_positive": _share(positive, n),
        "strong_negative": strong_negative,
        "strong_positive": strong_positive,
        "share_strong_negative": _share(strong_negative, n),
        "share_strong_positive": _share(strong_positive, n),
    }


def sentiment_section(
    data: datasets.DatasetDict | datasets.Dataset | Mapping[str, datasets.Dataset],
    *,
    analyser: str = "vader",
    text_columns: Sequence[str] | None = None,
    threshold: float = 0.5,
    examples: int = 10,
    progress: bool | None = None,
) -> dict[str, Any]:
    """The sentiment and tone section of the dataset report, as a JSON-native dict.

    Keys: ``analyser``, ``threshold`` (strong when ``|compound| >= threshold``), ``neutral_band``
    (negative ``<= -0.05``, positive ``>= 0.05``), ``columns`` (scored), ``skipped_columns`` (left out
    because ``messages`` holds them), ``roles``, ``n_scored``, ``n_empty``, ``missing_conversations``
    (split -> rows whose ``messages`` is missing), ``groups`` (split -> role -> ``count``, ``empty``,
    ``mean``, ``median``, ``share_negative``, ``share_neutral``, ``share_positive``, ``strong_negative``,
    ``strong_positive`` and their ``share_strong_*``), ``overall`` (role -> the same over all splits),
    ``histograms`` (role -> ``edges`` over [-1, 1] and ``counts`` per split), ``most_negative`` (the
    ``examples`` lowest texts: ``split``, ``id``, ``role``, ``turn``, ``compound``, ``text`` snippet),
    ``most_negative_by_role`` (role -> its ``examples`` lowest texts: problem reports in prompts often
    score low, so the assistant's own list is the one to read before training),
    ``scores`` (``[split, id, role, turn, compound]`` per scored text) and ``notes``.

    Args and defaults as :func:`sentiment_table`; ``threshold`` in (0, 1], ``examples`` > 0.
    """
    import numpy as np

    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"sentiment threshold must be in (0, 1], got {threshold}")
    if examples <= 0:
        raise ConfigError(f"sentiment examples must be positive, got {examples}")
    collected = _collect(data, text_columns)
    scores = _score(collected.texts, analyser, progress)
    split_names = list(collected.splits)
    roles = collected.roles
    by_group: dict[tuple[str, str], list[float]] = {}
    for (split, _, role, _), score in zip(collected.rows, scores, strict=True):
        by_group.setdefault((split, role), []).append(score)

    def empty_of(split: str, role: str) -> int:
        return collected.empty.get(split, {}).get(role, 0)

    groups = {
        s: {r: _group_stats(by_group.get((s, r), []), empty_of(s, r), threshold) for r in roles}
        for s in split_names
    }
    overall = {
        r: _group_stats(
            [x for s in split_names for x in by_group.get((s, r), [])],
            sum(empty_of(s, r) for s in split_names),
            threshold,
        )
        for r in roles
    }
    edges = np.linspace(-1.0, 1.0, HISTOGRAM_BINS + 1)
    histograms = {
        r: {
            "edges": [round(float(e), 10) for e in edges],
            "counts": {
                s: [int(c) for c in np.histogram(by_group.get((s, r), []), bins=edges)[0]]
                for s in split_names
            },
        }
        for r in roles
        if overall[r]["count"]
    }
    order = sorted(range(len(scores)), key=lambda k: (scores[k], k))

    def example(k: int) -> dict[str, Any]:
        split, row_id, role, turn = collected.rows[k]
        return {"split": split, "id": row_id, "role": role, "turn": turn, "compound": scores[k],
                "text": _snippet(collected.texts[k])}  # fmt: skip

    by_role = {
        r: [example(k) for k in [k for k in order if collected.rows[k][2] == r][:examples]]
        for r in roles
        if overall[r]["count"]
    }
    section: dict[str, Any] = {
        "analyser": analyser.lower(),  # the registry's key
        "threshold": float(threshold),
        "neutral_band": NEUTRAL_BAND,
        "columns": list(collected.columns),
        "skipped_columns": list(collected.skipped),
        "roles": list(roles),
        "n_scored": len(scores),
        "n_empty": sum(sum(per.values()) for per in collected.empty.values()),
        "missing_conversations": dict(collected.missing_conversations),
        "groups": groups,
        "overall": overall,
        "histograms": histograms,
        "most_negative": [example(k) for k in order[:examples]],
        "most_negative_by_role": by_role,
        "scores": [[*row, score] for row, score in zip(collected.rows, scores, strict=True)],
    }
    section["notes"] = _notes(section, collected, scores)
    return section


def _notes(section: Mapping[str, Any], collected: _Collected, scores: Sequence[float]) -> list[str]:
    notes = []
    t = section["threshold"]
    unit = "turn(s)" if "messages" in collected.columns else "text(s)"
    if collected.skipped:
        notes.append(
            f"{', '.join(collected.skipped)} not scored on their own: dialogue data copies them from "
            "messages, whose turns are scored (scoring both would count those turns twice)"
        )
    for role, g in section["overall"].items():
        if g["strong_negative"]:
            advice = (
                "read them before training: the model learns to answer like this"
                if role == "assistant"
                else "the model learns to answer these, not to write them"
            )
            notes.append(
                f"{g['strong_negative']} {role} {unit} ({g['share_strong_negative']:.1%}) are strongly "
                f"negative (compound <= -{t:g}): {advice}"
            )
    if section["n_empty"]:
        notes.append(f"{section['n_empty']} empty or missing text(s) are counted, not scored")
    missing = sum(section["missing_conversations"].values())
    if missing:
        notes.append(f"{missing} row(s) have no messages")
    zeros = sum(1 for x in scores if x == 0.0)
    if scores and zeros / len(scores) >= 0.5:
        why = (
            " (VADER's lexicon is English: text in other languages and terse technical text score 0)"
            if section["analyser"] == "vader"
            else ""
        )
        notes.append(
            f"{zeros} of {len(scores)} text(s) ({zeros / len(scores):.0%}) score exactly 0: the analyser "
            f"found no sentiment words in them{why}"
        )
    return notes


# ------------------------------------------------------------------------------------------ chart


def plot_sentiment(section: Mapping[str, Any]) -> bytes:
    """PNG of :func:`sentiment_section`'s histograms: one panel per role, the share of each split's texts
    per compound bin, the neutral band and the strong regions shaded."""
    from domainft.utils.plotting import agg_figure, figure_png

    hists = section["histograms"]
    t, band = section["threshold"], section["neutral_band"]
    ncols = max(1, min(3, len(hists)))
    nrows = max(1, -(-len(hists) // ncols))
    fig = agg_figure((4.4 * ncols, 3.0 * nrows))
    for k, (role, hist) in enumerate(hists.items()):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        ax.axvspan(-1.0, -t, color="#d62728", alpha=0.08, lw=0)
        ax.axvspan(t, 1.0, color="#2ca02c", alpha=0.08, lw=0)
        ax.axvspan(-band, band, color="#888888", alpha=0.12, lw=0)
        ax.set_xlim(-1.0, 1.0)
        _share_panel(ax, hist, role, "compound", "share of texts")
    if not hists:
        fig.text(0.5, 0.5, "no text", ha="center", va="center")
    fig.suptitle(
        f"Sentiment ({section['analyser']}): strongly negative (<= -{t:g}) shaded red, "
        f"strongly positive (>= {t:g}) green",
        fontsize=10,
    )
    fig.tight_layout()
    return figure_png(fig)
