"""``EvaluationReport``: metric values per system, pairwise comparisons and per-example records.

``from_outputs`` attaches bootstrap confidence intervals to every value that can honestly be
resampled and paired tests (Holm-corrected) to every comparison; see :mod:`domainft.evaluation.stats`.
Examples a metric could not score are left out of its values and listed in ``failures``; pairwise
judgments of two systems (:class:`~domainft.evaluation.judges.pairwise.PairwiseResult`) are kept in
``pairwise``. A report saves to a directory (``metrics.json``, ``samples.jsonl``, ``metrics.png``,
``report.html``, ``summary.md``, plus ``details.json`` and ``pairwise.json`` when there is something
to put in them) and loads back from it exactly. The page is rendered by :mod:`domainft.evaluation.html`,
the Markdown summary by :mod:`domainft.evaluation.markdown`.

Examples:
    >>> from domainft.evaluation.metrics import get_metric
    >>> from domainft.evaluation.report import EvaluationReport
    >>> refs = ["the cat sat on the mat", "paris is the capital of france"]
    >>> preds = {"base": ["a dog", "london"], "tuned": ["the cat sat", "paris is the capital"]}
    >>> rouge = get_metric("rouge", rouge_types=["rouge1"])
    >>> report = EvaluationReport.from_outputs(
    ...     {name: {"rouge": rouge.compute(p, refs)} for name, p in preds.items()},
    ...     references=refs, predictions=preds)
    >>> report.system_names, report.metric_names
    (['base', 'tuned'], ['rouge1'])
    >>> round(report.comparisons[0].delta, 4)
    0.7333
    >>> report.systems["tuned"]["rouge1"].ci_low is not None, report.comparisons[0].p_value  # n = 2: exact
    (True, 0.5)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from domainft.errors import ConfigError, DataError, DataFileNotFoundError
from domainft.utils.io import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_jsonl,
    atomic_write_text,
    read_json,
    read_jsonl,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from domainft.evaluation.judges.pairwise import PairwiseResult
    from domainft.evaluation.metrics.base import MetricOutput
    from domainft.evaluation.stats import StatisticsConfig

METRICS_FILE = "metrics.json"
SAMPLES_FILE = "samples.jsonl"
DETAILS_FILE = "details.json"
CHART_FILE = "metrics.png"
HTML_FILE = "report.html"
PAIRWISE_FILE = "pairwise.json"
MARKDOWN_FILE = "summary.md"
KNOWLEDGE_FILE = "knowledge.json"

SIGNIFICANCE_LEVEL = 0.05
"""Adjusted p-values below this mark a comparison as significant in the page and the Markdown."""

# Keys on a 0-100 scale (sacrebleu): never squeezed onto a 0-1 axis, even when a score is below 1.
PERCENT_SCALE_KEYS = frozenset({"bleu", "sacrebleu", "chrf", "chrf++", "ter"})
# Error rates: a smaller value is better (as for perplexity and any loss).
LOWER_IS_BETTER_KEYS = frozenset({"ter", "wer", "cer", "false_abstention_rate", "hallucination_rate"})
ScaleKind = Literal["percent", "unit", "judge", "perplexity", "other"]


def _finite(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise TypeError(f"{where}: expected a number, got a bool {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: expected a number, got {type(value).__name__} {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(
            f"{where} is {number}, not a finite number; reports never store NaN or inf. "
            "Check the metric's inputs (empty predictions? a judge that failed?) or drop the metric."
        )
    return number


def _optional_finite(value: Any, where: str) -> float | None:
    return None if value is None else _finite(value, where)


def _jsonable(obj: Any, where: str, *, strict: bool = True) -> Any:
    """A JSON-native copy of ``obj``; non-finite floats raise (``strict``) or become ``None``."""
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        if strict:
            raise ValueError(f"{where} is {obj}; NaN/inf cannot be written to a report")
        return None
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v, f"{where}.{k}", strict=strict) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]", strict=strict) for i, v in enumerate(obj)]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):  # numpy scalars and arrays, torch tensors
        return _jsonable(obj.tolist(), where, strict=strict)
    if callable(getattr(obj, "to_dict", None)):  # ConfigBase and similar
        return _jsonable(obj.to_dict(), where, strict=strict)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(dataclasses.asdict(obj), where, strict=strict)
    raise TypeError(
        f"{where}: {type(obj).__name__} is not JSON-serialisable; convert it to str, number or dict"
    )


@dataclass
class MetricValue:
    """One system's value for one metric, with an optional confidence interval and the sample count.

    Examples:
        >>> MetricValue(0.41, 0.38, 0.44, n=200).to_dict()
        {'value': 0.41, 'ci_low': 0.38, 'ci_high': 0.44, 'n': 200}
    """

    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0

    def __post_init__(self) -> None:
        self.value = _finite(self.value, "MetricValue.value")
        self.ci_low = _optional_finite(self.ci_low, "MetricValue.ci_low")
        self.ci_high = _optional_finite(self.ci_high, "MetricValue.ci_high")
        self.n = int(self.n)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetricValue:
        return cls(data["value"], data.get("ci_low"), data.get("ci_high"), data.get("n", 0))


@dataclass
class Comparison:
    """System ``b`` minus system ``a`` on ``metric`` (``delta = b - a``), with optional CI and p-values.

    ``ci_low``/``ci_high`` bound the paired bootstrap interval of the delta; ``p_value`` is the paired
    test's p-value after the multiple-comparison correction across the metrics of this pair of
    systems (Holm by default) and ``p_value_raw`` the same before correction.

    Examples:
        >>> Comparison("base", "tuned", "rouge1", 0.05).to_dict()["delta"]
        0.05
    """

    a: str
    b: str
    metric: str
    delta: float
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    p_value_raw: float | None = None

    def __post_init__(self) -> None:
        where = f"Comparison({self.b} - {self.a}, {self.metric})"
        self.delta = _finite(self.delta, f"{where}.delta")
        self.ci_low = _optional_finite(self.ci_low, f"{where}.ci_low")
        self.ci_high = _optional_finite(self.ci_high, f"{where}.ci_high")
        for name in ("p_value", "p_value_raw"):
            p = _optional_finite(getattr(self, name), f"{where}.{name}")
            if p is not None and not 0.0 <= p <= 1.0:
                raise ValueError(f"{where}.{name} must lie in [0, 1], got {p}")
            setattr(self, name, p)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        return cls(
            data["a"],
            data["b"],
            data["metric"],
            data["delta"],
            data.get("ci_low"),
            data.get("ci_high"),
            data.get("p_value"),
            data.get("p_value_raw"),
        )


@dataclass
class SampleRecord:
    """One test example: its prompt, reference, each system's prediction and per-example scores.

    ``scores[system]`` has no entry for a metric key that could not score this example.

    Examples:
        >>> SampleRecord("q1", "Capital of France?", "Paris", {"base": "Lyon"}, {"base": {"rouge1": 0.0}}).id
        'q1'
    """

    id: str | int
    prompt: str
    reference: str
    predictions: dict[str, str]
    scores: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.id, bool) or not isinstance(self.id, (str, int)):
            self.id = self.id.item() if hasattr(self.id, "item") else str(self.id)  # numpy ints, UUIDs ...
        self.predictions = {str(k): str(v) for k, v in self.predictions.items()}
        self.scores = {
            str(system): {
                str(m): _finite(v, f"sample {self.id!r}: score {m!r} of system {system!r}")
                for m, v in metrics.items()
            }
            for system, metrics in self.scores.items()
        }

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SampleRecord:
        return cls(
            data["id"],
            data["prompt"],
            data["reference"],
            dict(data["predictions"]),
            dict(data.get("scores", {})),
        )


def _failures(items: Sequence[Mapping[str, Any]], ids: Sequence[Any], where: str) -> list[dict[str, Any]]:
    """A metric's failures with the example id added: ``{"id", "index", "reason", "raw"}``."""
    out = []
    for item in items:
        index = item.get("index")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(ids):
            raise ValueError(f"{where}: index {index!r} is not an example position (0..{len(ids) - 1})")
        raw = item.get("raw")
        out.append(
            {
                "id": _jsonable(ids[index], f"{where}.id", strict=False),
                "index": index,
                "reason": str(item.get("reason", "")),
                "raw": None if raw is None else _jsonable(raw, f"{where}.raw", strict=False),
            }
        )
    return out


def paired_comparisons(
    systems: Mapping[str, Mapping[str, MetricValue]], keys: Mapping[str, Mapping[str, Any]], engine: Any
) -> tuple[list[Comparison], dict[str, str | None]]:
    """``b - a`` for the first system ``a`` and each later ``b`` on every shared key, with paired
    bootstrap CIs and p-values corrected across the keys of each pair; also the test used per key."""
    names = list(systems)
    metric_names: list[str] = []
    for metrics in systems.values():
        metric_names.extend(m for m in metrics if m not in metric_names)
    comparisons: list[Comparison] = []
    tests: dict[str, str | None] = {}
    if len(names) < 2:
        return comparisons, tests
    a = names[0]
    for b in names[1:]:
        shared = [m for m in metric_names if m in systems[a] and m in systems[b]]
        results = {m: engine.compare(keys[a][m], keys[b][m]) for m in shared}
        tested = [m for m in shared if results[m].p_value is not None]
        adjusted = dict(zip(tested, engine.adjust([results[m].p_value for m in tested]), strict=True))
        for m in shared:
            r = results[m]
            if r.test is not None or m not in tests:
                tests[m] = r.test
            comparisons.append(
                Comparison(
                    a,
                    b,
                    m,
                    systems[b][m].value - systems[a][m].value,
                    r.ci_low,
                    r.ci_high,
                    adjusted.get(m),
                    r.p_value,
                )
            )
    return comparisons, tests


def _value_text(v: MetricValue | None) -> str:
    if v is None:
        return "–"
    text = f"{v.value:.4f}"
    if v.ci_low is not None and v.ci_high is not None:
        text += f" [{v.ci_low:.4f}, {v.ci_high:.4f}]"
    return text


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def lower_is_better(key: str) -> bool:
    """Whether a smaller value of a metric key is better: perplexity, any loss, TER/WER/CER, hallucinations.

    Examples:
        >>> lower_is_better("perplexity"), lower_is_better("val_loss"), lower_is_better("rougeL")
        (True, True, False)
    """
    k = key.lower()
    return "perplexity" in k or "loss" in k or k in LOWER_IS_BETTER_KEYS


def metric_scale(
    key: str,
    values: Sequence[float] = (),
    judge_scales: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[ScaleKind, tuple[float, float] | None]:
    """The scale a metric key lives on and its range, for charts and regression margins.

    ``"percent"`` (BLEU, chrF: 0-100), ``"judge"`` (a judge's grades, e.g. 1-10, from
    ``judge_scales`` or the default ``judge_score`` key), ``"perplexity"`` (1 and up, lower is
    better), ``"unit"`` (every value in ``values`` lies in [0, 1]: ROUGE, pass rates, RAGAS) or
    ``"other"`` (no known range).

    Examples:
        >>> metric_scale("bleu", [0.4]), metric_scale("rougeL", [0.3, 0.5]), metric_scale("judge_score")
        (('percent', (0.0, 100.0)), ('unit', (0.0, 1.0)), ('judge', (1.0, 10.0)))
    """
    k = key.lower()
    if judge_scales and key in judge_scales:
        low, high = judge_scales[key]
        return "judge", (float(low), float(high))
    if "perplexity" in k:
        return "perplexity", None
    if k in PERCENT_SCALE_KEYS:
        return "percent", (0.0, 100.0)
    if k == "judge_score":
        return "judge", (1.0, 10.0)
    if values and all(0.0 <= v <= 1.0 for v in values):
        return "unit", (0.0, 1.0)
    return "other", None


@dataclass
class Regression:
    """One example the candidate system scored worse on than the baseline.

    ``drop`` is how much worse, in the key's units and always positive (for a lower-is-better key,
    ``candidate_score - baseline_score``).
    """

    index: int
    id: str | int
    baseline_score: float
    candidate_score: float
    drop: float


@dataclass
class Regressions:
    """The examples where ``candidate`` scored worse than ``baseline`` on ``metric`` by more than ``margin``.

    ``items`` holds the worst ``limit`` of them, largest drop first; ``total`` counts them all among the
    ``compared`` examples that both systems scored. ``metric`` is None when no key has per-example scores.
    """

    metric: str | None
    baseline: str
    candidate: str
    margin: float = 0.0
    lower_is_better: bool = False
    compared: int = 0
    total: int = 0
    items: list[Regression] = field(default_factory=list)


def pairwise_summary(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The compact form of one pairwise result (``PairwiseResult.to_dict()``) kept in ``metrics.json``.

    Examples:
        >>> pairwise_summary({"a": "base", "b": "tuned", "n_judged": 4, "win_rate": 0.5, "tie_rate": 0.25,
        ...                   "loss_rate": 0.25, "position_consistency": 0.75, "n_failed": 1})["failures"]
        1
    """
    reliability = entry.get("reliability") or {}
    return {
        "a": entry.get("a"),
        "b": entry.get("b"),
        "judge": entry.get("judge", ""),
        "n": entry.get("n"),
        "n_judged": entry.get("n_judged"),
        "win_rate": entry.get("win_rate"),
        "tie_rate": entry.get("tie_rate"),
        "loss_rate": entry.get("loss_rate"),
        "position_consistency": entry.get("position_consistency"),
        "order_flips": reliability.get("order_flips", entry.get("order_flips")),
        "parse_failures": reliability.get("parse_failures", entry.get("parse_failures")),
        "call_failures": reliability.get("call_failures", entry.get("call_failures")),
        "failures": entry.get("n_failed", entry.get("failures", 0)),
    }


def pairwise_line(entry: Mapping[str, Any]) -> str:
    """One line of text for a pairwise entry: b against a with the rates and the judge's consistency."""
    a, b = entry.get("a"), entry.get("b")
    judged = entry.get("n_judged") or 0
    failed = entry.get("n_failed", entry.get("failures", 0)) or 0
    if not judged:
        return f"{b} vs {a}: no example could be judged ({failed} failed)"
    text = (
        f"{b} vs {a}: {b} wins {_pct(entry.get('win_rate'))}, ties {_pct(entry.get('tie_rate'))}, "
        f"{a} wins {_pct(entry.get('loss_rate'))} of {judged} judged examples"
    )
    if entry.get("position_consistency") is not None:
        text += f"; position consistency {_pct(entry['position_consistency'])}"
    if failed:
        text += f"; {failed} failed"
    return text


@dataclass
class EvaluationReport:
    """Metric values of several systems on one test set, their comparisons and per-example records.

    Attributes:
        systems: system name -> metric name (flattened, e.g. ``rouge1``, ``bleu``) -> ``MetricValue``.
        samples: one ``SampleRecord`` per test example.
        comparisons: ``b - a`` for the first system ``a`` against each later system ``b``, per metric.
        meta: free-form JSON-serialisable information (model ids, decoding settings, dataset ...);
            ``from_outputs`` adds ``meta["statistics"]`` (the settings of the intervals and tests).
        details: system -> metric -> extra information a metric returned (BLEU precisions ...).
        failures: system -> metric -> one ``{"id", "index", "reason", "raw"}`` per example the metric
            could not score (a judge reply that could not be parsed, a request that failed).
        pairwise: ``"<b> vs <a>"`` -> ``PairwiseResult.to_dict()`` of a blind pairwise judgment of two
            of the systems (see :meth:`add_pairwise`).
        knowledge: ``KnowledgeReport.to_dict()`` of the knowledge probes asked to the same systems (see
            :meth:`add_knowledge`), or its summary when the report was loaded without ``knowledge.json``.
    """

    systems: dict[str, dict[str, MetricValue]]
    samples: list[SampleRecord] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    details: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    failures: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    pairwise: dict[str, dict[str, Any]] = field(default_factory=dict)
    knowledge: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_outputs(
        cls,
        outputs: Mapping[str, Mapping[str, MetricOutput]],
        *,
        references: Sequence[str],
        predictions: Mapping[str, Sequence[str]],
        ids: Sequence[str | int] | None = None,
        prompts: Sequence[str] | None = None,
        meta: Mapping[str, Any] | None = None,
        statistics: StatisticsConfig | Mapping[str, Any] | None = None,
    ) -> EvaluationReport:
        """Assemble a report from ``outputs[system][metric] = MetricOutput``.

        Metric sub-keys are flattened (``systems["tuned"]["rouge1"]``). ``n`` of a value is the number
        of examples it was computed on (examples whose per-example score is ``None`` do not count);
        per-example scores go to ``SampleRecord.scores[system][sub_key]`` (``None`` scores are left
        out); ``MetricOutput.failures`` go to ``failures[system][metric]``. Comparisons hold ``b - a``
        for the first system ``a`` and each later system ``b``.

        ``statistics`` (a :class:`~domainft.evaluation.stats.StatisticsConfig`, a dict of its fields,
        or None for the defaults) sets the bootstrap intervals of values and deltas and the paired
        tests; it is recorded in ``meta["statistics"]``. A key that cannot be resampled honestly
        (no per-example scores whose mean is the value, no corpus statistics) gets no interval.
        """
        from domainft.evaluation.stats import KeyScores, StatisticsConfig, StatisticsEngine

        if not outputs:
            raise ValueError("from_outputs: outputs is empty; pass {system: {metric: MetricOutput}}")
        if statistics is None:
            statistics = StatisticsConfig()
        elif isinstance(statistics, Mapping):
            statistics = StatisticsConfig.from_dict(dict(statistics))
        system_names = [str(s) for s in outputs]
        n = len(references)
        if n == 0:
            raise ValueError("from_outputs: references is empty; a report needs at least one example")
        ids = list(range(n)) if ids is None else list(ids)
        prompts = [""] * n if prompts is None else list(prompts)
        for label, seq in (("ids", ids), ("prompts", prompts)):
            if len(seq) != n:
                raise ValueError(f"from_outputs: {len(seq)} {label} but {n} references; pass one per example")
        missing = [s for s in outputs if s not in predictions]
        if missing:
            raise ValueError(f"from_outputs: no predictions for system(s) {missing}; got {list(predictions)}")
        for system in outputs:
            if len(predictions[system]) != n:
                raise ValueError(
                    f"from_outputs: system {system!r} has {len(predictions[system])} predictions "
                    f"but there are {n} references"
                )

        engine = StatisticsEngine(n, statistics)
        systems: dict[str, dict[str, MetricValue]] = {}
        keys: dict[str, dict[str, KeyScores]] = {}
        per_sample: dict[str, dict[str, list[float | None]]] = {}
        details: dict[str, dict[str, dict[str, Any]]] = {}
        failures: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for system, metric_outputs in outputs.items():
            system = str(system)
            systems[system], keys[system], per_sample[system] = {}, {}, {}
            source: dict[str, str] = {}
            for metric_name, out in metric_outputs.items():
                where = f"from_outputs: system {system!r}, metric {metric_name!r}"
                for key, scores in out.per_sample.items():
                    if len(scores) != n:
                        raise ValueError(
                            f"{where}: per_sample[{key!r}] has {len(scores)} scores for {n} examples"
                        )
                    per_sample[system][key] = list(scores)
                for key, stat in out.corpus_statistics.items():
                    if stat.n != n:
                        raise ValueError(
                            f"{where}: corpus statistics of {key!r} cover {stat.n} examples, not {n}"
                        )
                failed = _failures(out.failures, ids, f"{where}: failures")
                if failed:
                    failures.setdefault(system, {})[str(metric_name)] = failed
                unscored = len({f["index"] for f in failed})
                for key, value in out.values.items():
                    if key in source:
                        raise ValueError(
                            f"from_outputs: system {system!r}: metrics {source[key]!r} and {metric_name!r} "
                            f"both report {key!r}; give one of them another name"
                        )
                    source[key] = metric_name
                    try:
                        scored = KeyScores.build(
                            _finite(value, "MetricValue.value"),
                            out.per_sample.get(key),
                            out.corpus_statistics.get(key),
                        )
                        interval = engine.interval(scored)
                        systems[system][key] = MetricValue(
                            value,
                            *(interval or (None, None)),
                            n=scored.n_scored if scored.n_scored is not None else n - unscored,
                        )
                    except ValueError as exc:
                        raise ValueError(f"system {system!r}, metric {metric_name!r}: {exc}") from None
                    keys[system][key] = scored
                if out.details:
                    details.setdefault(system, {})[str(metric_name)] = _jsonable(
                        out.details, f"{system}.{metric_name}.details", strict=False
                    )

        samples = [
            SampleRecord(
                id=ids[i],
                prompt="" if prompts[i] is None else str(prompts[i]),
                reference=str(references[i]),
                predictions={s: predictions[s][i] for s in system_names},
                scores={
                    s: {k: v[i] for k, v in per_sample[s].items() if v[i] is not None} for s in system_names
                },
            )
            for i in range(n)
        ]
        comparisons, tests = paired_comparisons(systems, keys, engine)
        report_meta = _jsonable(dict(meta or {}), "meta")
        report_meta["statistics"] = _jsonable(engine.describe(tests), "meta.statistics")
        return cls(
            systems=systems,
            samples=samples,
            comparisons=comparisons,
            meta=report_meta,
            details=details,
            failures=failures,
        )

    # ------------------------------------------------------------------ views
    @property
    def system_names(self) -> list[str]:
        return list(self.systems)

    @property
    def metric_names(self) -> list[str]:
        """Metric names in order of first appearance across systems."""
        names: list[str] = []
        for metrics in self.systems.values():
            names.extend(m for m in metrics if m not in names)
        return names

    @property
    def table(self) -> pd.DataFrame:
        """``DataFrame`` of values: one row per system (in order), one column per metric.

        ``ci_table`` has the intervals and sample counts as well.
        """
        import pandas as pd

        rows = [
            [self.systems[s][m].value if m in self.systems[s] else math.nan for m in self.metric_names]
            for s in self.system_names
        ]
        return pd.DataFrame(
            rows, index=pd.Index(self.system_names, name="system"), columns=self.metric_names, dtype=float
        )

    @property
    def ci_table(self) -> pd.DataFrame:
        """``DataFrame`` with columns ``(metric, "value" | "ci_low" | "ci_high" | "n")``, one row per system.

        Missing intervals are NaN.
        """
        import pandas as pd

        fields = ("value", "ci_low", "ci_high", "n")
        rows = []
        for s in self.system_names:
            row: list[float] = []
            for m in self.metric_names:
                v = self.systems[s].get(m)
                row.extend(
                    math.nan if v is None or getattr(v, f) is None else float(getattr(v, f)) for f in fields
                )
            rows.append(row)
        columns = pd.MultiIndex.from_tuples(
            [(m, f) for m in self.metric_names for f in fields], names=["metric", "statistic"]
        )
        return pd.DataFrame(
            rows, index=pd.Index(self.system_names, name="system"), columns=columns, dtype=float
        )

    @property
    def judge_scales(self) -> dict[str, tuple[float, float]]:
        """``{key: (low, high)}`` of the keys graded by an LLM judge (from the judge metric's details)."""
        scales: dict[str, tuple[float, float]] = {}
        for metrics in self.details.values():
            for name, info in metrics.items():
                scale = info.get("scale") if isinstance(info, Mapping) else None
                if "judge" in info and isinstance(scale, (list, tuple)) and len(scale) == 2:
                    scales[f"{name}_score"] = (float(scale[0]), float(scale[1]))
        return scales

    def metric_scales(self) -> dict[str, tuple[ScaleKind, tuple[float, float] | None]]:
        """The scale of every metric key (see :func:`metric_scale`), judged from all systems' values."""
        judge = self.judge_scales
        out = {}
        for m in self.metric_names:
            values = []
            for metrics in self.systems.values():
                v = metrics.get(m)
                if v is not None:
                    values.extend(x for x in (v.value, v.ci_low, v.ci_high) if x is not None)
            out[m] = metric_scale(m, values, judge)
        return out

    def per_sample_keys(self, *systems: str) -> list[str]:
        """Keys with per-example scores for every one of ``systems`` (default: all), in metric order."""
        wanted = list(systems) or self.system_names
        found: list[str] = []
        for record in self.samples:
            for key in record.scores.get(wanted[0], {}) if wanted else {}:
                if key not in found and all(key in record.scores.get(s, {}) for s in wanted[1:]):
                    found.append(key)
        order = {m: i for i, m in enumerate(self.metric_names)}
        return sorted(found, key=lambda k: (order.get(k, len(order)), found.index(k)))

    def regressions(
        self,
        metric: str | None = None,
        *,
        margin: float | None = None,
        baseline: str | None = None,
        candidate: str | None = None,
        limit: int | None = 20,
    ) -> Regressions:
        """Examples where ``candidate`` (default: the last system) scored worse than ``baseline``
        (default: the first) on one per-example key, by more than ``margin``, largest drop first.

        ``metric`` defaults to ``rougeL`` when it has per-example scores, else the first key that has.
        ``margin`` is in the key's units; by default 5% of its scale (0.05 on 0-1 keys, 5 on BLEU/chrF,
        0.45 on a 1-10 judge) or, on a scale with no known range (perplexity), 5% of the range of the
        observed scores. For a lower-is-better key (perplexity, loss) "worse" means higher.

        Examples:
            >>> from domainft.evaluation.metrics import MetricOutput
            >>> out = lambda s: {"m": MetricOutput({"rougeL": sum(s) / len(s)}, {"rougeL": s})}
            >>> report = EvaluationReport.from_outputs(
            ...     {"base": out([0.9, 0.5, 0.2]), "tuned": out([0.3, 0.52, 0.8])},
            ...     references=["r"] * 3, predictions={"base": ["x"] * 3, "tuned": ["y"] * 3})
            >>> found = report.regressions()
            >>> found.metric, [(r.index, round(r.drop, 2)) for r in found.items], found.total
            ('rougeL', [(0, 0.6)], 1)
        """
        names = self.system_names
        if len(names) < 2:
            raise ConfigError(f"regressions need two systems to compare; this report has {names}")
        baseline = names[0] if baseline is None else baseline
        candidate = names[-1] if candidate is None else candidate
        for label, system in (("baseline", baseline), ("candidate", candidate)):
            if system not in self.systems:
                raise ConfigError(f"regressions: {label}={system!r} is not a system of this report ({names})")
        if baseline == candidate:
            raise ConfigError(f"regressions: baseline and candidate are both {baseline!r}")
        keys = self.per_sample_keys(baseline, candidate)
        if metric is None:
            metric = "rougeL" if "rougeL" in keys else (keys[0] if keys else None)
        elif metric not in keys:
            raise ConfigError(
                f"regression_metric={metric!r} has no per-example scores for both {baseline!r} and "
                f"{candidate!r}; keys that have: {', '.join(keys) or '(none)'}"
            )
        if metric is None:
            return Regressions(None, baseline, candidate)
        pairs = [
            (i, r.scores[baseline][metric], r.scores[candidate][metric])
            for i, r in enumerate(self.samples)
            if metric in r.scores.get(baseline, {}) and metric in r.scores.get(candidate, {})
        ]
        lower = lower_is_better(metric)
        if margin is None:
            observed = [x for _, b, c in pairs for x in (b, c)]
            _, span = metric_scale(metric, observed, self.judge_scales)
            if span is not None:
                margin = 0.05 * (span[1] - span[0])
            else:
                margin = 0.05 * (max(observed) - min(observed)) if observed else 0.0
        margin = _finite(margin, "regressions: margin")
        if margin < 0:
            raise ConfigError(f"regressions: margin must be >= 0, got {margin}")
        found = []
        for i, b, c in pairs:
            drop = (c - b) if lower else (b - c)
            if drop > margin:
                found.append(Regression(i, self.samples[i].id, b, c, drop))
        found.sort(key=lambda r: (-r.drop, r.index))
        return Regressions(
            metric,
            baseline,
            candidate,
            margin,
            lower,
            compared=len(pairs),
            total=len(found),
            items=found if limit is None else found[: max(0, limit)],
        )

    def summary(self) -> str:
        """The metrics table with confidence intervals, the comparisons, pairwise judgments and the
        failures, as plain text."""
        n = len(self.samples) or max((v.n for m in self.systems.values() for v in m.values()), default=0)
        lines = [f"EvaluationReport: {len(self.systems)} system(s), {n} example(s)"]
        if self.systems and self.metric_names:
            import pandas as pd

            cells = [
                [_value_text(self.systems[s].get(m)) for m in self.metric_names] for s in self.system_names
            ]
            frame = pd.DataFrame(
                cells, index=pd.Index(self.system_names, name="system"), columns=self.metric_names
            )
            lines.append(frame.to_string())
            confidence = (self.meta.get("statistics") or {}).get("confidence")
            if any(v.ci_low is not None for m in self.systems.values() for v in m.values()) and confidence:
                lines.append(f"[low, high]: {confidence:.0%} bootstrap confidence interval")
        for c in self.comparisons:
            extra = ""
            if c.ci_low is not None and c.ci_high is not None:
                extra += f" [{c.ci_low:+.4f}, {c.ci_high:+.4f}]"
            if c.p_value is not None:
                extra += f" p={c.p_value:.4g}"
                if c.p_value_raw is not None and c.p_value_raw != c.p_value:
                    extra += f" (uncorrected {c.p_value_raw:.4g})"
            lines.append(f"{c.b} - {c.a} {c.metric}: {c.delta:+.4f}{extra}")
        for entry in self.pairwise.values():
            lines.append(f"pairwise judge: {pairwise_line(entry)}")
        for system, metrics in self.failures.items():
            for metric, items in metrics.items():
                first = items[0]["reason"] if items else ""
                lines.append(
                    f"failures: {metric} could not score {len(items)} example(s) of {system} "
                    f"(left out of its values), e.g. {first}"
                )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from domainft.evaluation.html import summary_table_html

        return summary_table_html(self)

    def to_markdown(self, *, title: str | None = None) -> str:
        """A Markdown summary for a README: values with CIs, deltas with CIs and p, judge win rates,
        n and failure counts (see :func:`domainft.evaluation.markdown.report_markdown`)."""
        from domainft.evaluation.markdown import report_markdown

        return report_markdown(self, title=title)

    # ------------------------------------------------------------------ pairwise judgments
    def add_pairwise(self, result: PairwiseResult | Mapping[str, Any]) -> str:
        """Keep a pairwise judgment of two of the systems (a ``PairwiseResult`` or its ``to_dict()``).

        It is stored as ``pairwise["<b> vs <a>"]`` (replacing an earlier one of the same pair), shown in
        the page's judge section and side-by-side view, and saved. Returns the key. Both names must be
        systems of the report and the result must cover its examples, in order.
        """
        data = result.to_dict() if callable(getattr(result, "to_dict", None)) else dict(result)  # type: ignore[union-attr]
        try:
            a, b = str(data["a"]), str(data["b"])
            examples = list(data.get("examples", []))
        except (KeyError, TypeError) as exc:
            raise DataError(f"add_pairwise: not a pairwise result ({exc}); pass a PairwiseResult") from None
        for name in (a, b):
            if self.systems and name not in self.systems:
                raise DataError(
                    f"add_pairwise: {name!r} is not a system of this report ({', '.join(self.systems)}); "
                    "judge two of its systems, with names=(a, b) matching the report"
                )
        if self.samples and examples and len(examples) != len(self.samples):
            raise DataError(
                f"add_pairwise: the result covers {len(examples)} examples but the report has "
                f"{len(self.samples)}; judge the report's examples, in order"
            )
        key = f"{b} vs {a}"
        self.pairwise[key] = _jsonable(data, f"pairwise[{key!r}]", strict=False)
        return key

    def add_knowledge(self, result: Any) -> None:
        """Keep the knowledge probes of the same systems (a ``KnowledgeReport`` or its ``to_dict()``):
        shown in the page's knowledge section, summarised in ``metrics.json``, whole in ``knowledge.json``."""
        data = result.to_dict() if callable(getattr(result, "to_dict", None)) else dict(result)
        unknown = [s for s in data.get("systems", {}) if self.systems and s not in self.systems]
        if unknown:
            raise DataError(
                f"add_knowledge: system(s) {unknown} are not systems of this report "
                f"({', '.join(self.systems)}); probe the same systems under the same names"
            )
        self.knowledge = _jsonable(data, "knowledge", strict=False)

    @property
    def knowledge_report(self) -> Any:
        """The knowledge probes as a ``KnowledgeReport`` (None without them, or with only their summary)."""
        if not self.knowledge or "results" not in self.knowledge:
            return None
        from domainft.evaluation.knowledge.report import KnowledgeReport

        return KnowledgeReport.from_dict(self.knowledge)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-native dict (systems, comparisons, meta, samples, details, failures, pairwise, knowledge)."""
        systems = {}
        for s, metrics in self.systems.items():
            systems[s] = {}
            for m, v in metrics.items():
                try:
                    systems[s][m] = MetricValue(v.value, v.ci_low, v.ci_high, v.n).to_dict()  # re-validates
                except ValueError as exc:
                    raise ValueError(f"system {s!r}, metric {m!r}: {exc}") from None
        return {
            "systems": systems,
            "comparisons": [Comparison(**c.to_dict()).to_dict() for c in self.comparisons],
            "meta": _jsonable(self.meta, "meta"),
            "samples": [SampleRecord(**r.to_dict()).to_dict() for r in self.samples],
            "details": _jsonable(self.details, "details", strict=False),
            "failures": _jsonable(self.failures, "failures", strict=False),
            "pairwise": _jsonable(self.pairwise, "pairwise", strict=False),
            "knowledge": _jsonable(self.knowledge, "knowledge", strict=False),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationReport:
        """Inverse of ``to_dict``; ``samples``, ``details``, ``failures`` and ``pairwise`` are optional."""
        try:
            return cls(
                systems={
                    s: {m: MetricValue.from_dict(v) for m, v in metrics.items()}
                    for s, metrics in data["systems"].items()
                },
                samples=[SampleRecord.from_dict(r) for r in data.get("samples", [])],
                comparisons=[Comparison.from_dict(c) for c in data.get("comparisons", [])],
                meta=dict(data.get("meta", {})),
                details={s: dict(m) for s, m in data.get("details", {}).items()},
                failures={
                    str(s): {str(m): [dict(f) for f in items] for m, items in metrics.items()}
                    for s, metrics in (data.get("failures") or {}).items()
                },
                pairwise={str(k): dict(v) for k, v in (data.get("pairwise") or {}).items()},
                knowledge=dict(data.get("knowledge") or {}),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise DataError(f"not a valid evaluation report: {type(exc).__name__}: {exc}") from None

    def save(
        self,
        directory: str | Path,
        *,
        max_html_samples: int = 50,
        regression_metric: str | None = None,
    ) -> Path:
        """Write ``metrics.json``, ``samples.jsonl``, ``metrics.png``, ``report.html``, ``summary.md``
        (and ``details.json``, ``pairwise.json`` when there is something to put in them).

        ``metrics.json`` has a ``"pairwise"`` entry (a summary per judged pair: rates, consistency,
        failure counts) when the report has pairwise judgments; ``pairwise.json`` has them in full.

        ``max_html_samples`` and ``regression_metric`` go to :meth:`to_html`. Returns the directory.
        Raises ``ValueError`` if any value is NaN or infinite, before a single file is written.
        """
        directory = Path(directory)
        data = self.to_dict()  # validates everything before a single file is written
        png = self.plot() if self.systems and self.metric_names else None
        page = self.to_html(max_html_samples, chart_png=png, regression_metric=regression_metric)
        markdown = self.to_markdown()
        directory.mkdir(parents=True, exist_ok=True)
        metrics = {k: data[k] for k in ("systems", "comparisons", "meta", "failures")}
        if data["pairwise"]:
            metrics["pairwise"] = {k: pairwise_summary(v) for k, v in data["pairwise"].items()}
        if data["knowledge"]:
            from domainft.evaluation.knowledge.report import SUMMARY_KEYS

            metrics["knowledge"] = {k: data["knowledge"][k] for k in SUMMARY_KEYS if k in data["knowledge"]}
        atomic_write_json(directory / METRICS_FILE, metrics)
        atomic_write_jsonl(directory / SAMPLES_FILE, data["samples"])
        for name, content in (
            (DETAILS_FILE, data["details"]),
            (PAIRWISE_FILE, data["pairwise"]),
            (KNOWLEDGE_FILE, data["knowledge"] if "results" in data["knowledge"] else {}),
        ):
            if content:
                atomic_write_json(directory / name, content)
            else:
                (directory / name).unlink(missing_ok=True)
        if png is not None:
            atomic_write_bytes(directory / CHART_FILE, png)
        atomic_write_text(directory / HTML_FILE, page)
        atomic_write_text(directory / MARKDOWN_FILE, markdown)
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> EvaluationReport:
        """Read a report written by ``save`` (``samples.jsonl``, ``details.json`` and ``pairwise.json``
        are optional; a pairwise entry without ``pairwise.json`` keeps its summary from ``metrics.json``)."""
        directory = Path(directory)
        metrics_path = directory / METRICS_FILE
        if not metrics_path.is_file():
            raise DataFileNotFoundError(
                f"{metrics_path} does not exist; is {directory} a saved report directory?"
            )
        data = dict(read_json(metrics_path, DataError))
        samples_path = directory / SAMPLES_FILE
        if samples_path.is_file():
            data["samples"] = read_jsonl(samples_path, DataError)
        details_path = directory / DETAILS_FILE
        if details_path.is_file():
            data["details"] = read_json(details_path, DataError)
        pairwise_path = directory / PAIRWISE_FILE
        summaries = data.get("pairwise") or {}
        full = read_json(pairwise_path, DataError) if pairwise_path.is_file() else {}
        if not isinstance(summaries, Mapping) or not isinstance(full, Mapping):
            raise DataError(f"{pairwise_path}: expected an object of pairwise results by key")
        data["pairwise"] = {**{k: full.get(k, v) for k, v in summaries.items()}, **full}
        knowledge_path = directory / KNOWLEDGE_FILE
        if knowledge_path.is_file():
            data["knowledge"] = read_json(knowledge_path, DataError)
        try:
            return cls.from_dict(data)
        except DataError as exc:
            raise DataError(f"{metrics_path}: {exc}") from None

    # ------------------------------------------------------------------ rendering
    def plot(self, path: str | Path | None = None) -> bytes:
        """Bar charts of every metric with confidence intervals as error bars, one small panel per scale
        (0-1, 0-100, judge grades, perplexity ...); returns PNG bytes, also written to ``path``."""
        from domainft.evaluation.plots import plot_metric_panels

        return plot_metric_panels(self.systems, path, scales=self.metric_scales())

    def to_html(
        self,
        max_samples: int = 50,
        *,
        chart_png: bytes | None = None,
        regression_metric: str | None = None,
    ) -> str:
        """A self-contained HTML page (inline CSS, charts as data URIs, no script); see
        :func:`domainft.evaluation.html.render_html`."""
        from domainft.evaluation.html import render_html

        return render_html(
            self, max_samples=max_samples, chart_png=chart_png, regression_metric=regression_metric
        )
