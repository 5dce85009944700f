"""``EvaluationReport``: metric values per system, pairwise comparisons and per-example records.

``from_outputs`` attaches bootstrap confidence intervals to every value that can honestly be
resampled and paired tests (Holm-corrected) to every comparison; see :mod:`domainft.evaluation.stats`.
Examples a metric could not score are left out of its values and listed in ``failures``.
A report saves to a directory (``metrics.json``, ``samples.jsonl``, ``metrics.png``, ``report.html``,
plus ``details.json`` when metrics returned details) and loads back from it exactly.

Example:
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

import base64
import dataclasses
import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domainft.errors import DataError, DataFileNotFoundError
from domainft.utils.io import atomic_write_bytes, atomic_write_json, atomic_write_jsonl, atomic_write_text

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from domainft.evaluation.metrics.base import MetricOutput
    from domainft.evaluation.stats import StatisticsConfig

METRICS_FILE = "metrics.json"
SAMPLES_FILE = "samples.jsonl"
DETAILS_FILE = "details.json"
CHART_FILE = "metrics.png"
HTML_FILE = "report.html"


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

    Example:
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

    Example:
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

    Example:
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


def _paired_comparisons(
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
    """

    systems: dict[str, dict[str, MetricValue]]
    samples: list[SampleRecord] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    details: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    failures: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

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
                corpus = dict(getattr(out, "corpus_statistics", None) or {})
                for key, stat in corpus.items():
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
                            _finite(value, "MetricValue.value"), out.per_sample.get(key), corpus.get(key)
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
        comparisons, tests = _paired_comparisons(systems, keys, engine)
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

    def summary(self) -> str:
        """The metrics table with confidence intervals, the comparisons and the failures, as plain text."""
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
        return _metrics_table_html(self)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-native dict (systems, comparisons, meta, samples, details, failures)."""
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
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationReport:
        """Inverse of ``to_dict``; ``samples``, ``details`` and ``failures`` are optional."""
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
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise DataError(f"not a valid evaluation report: {type(exc).__name__}: {exc}") from None

    def save(self, directory: str | Path, *, max_html_samples: int = 50) -> Path:
        """Write ``metrics.json``, ``samples.jsonl``, ``metrics.png``, ``report.html`` (and ``details.json``).

        Returns the directory. Raises ``ValueError`` if any value is NaN or infinite.
        """
        directory = Path(directory)
        data = self.to_dict()  # validates everything before a single file is written
        png = self.plot() if self.systems and self.metric_names else None
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write_json(
            directory / METRICS_FILE,
            {
                "systems": data["systems"],
                "comparisons": data["comparisons"],
                "meta": data["meta"],
                "failures": data["failures"],
            },
        )
        atomic_write_jsonl(directory / SAMPLES_FILE, data["samples"])
        if data["details"]:
            atomic_write_json(directory / DETAILS_FILE, data["details"])
        else:
            (directory / DETAILS_FILE).unlink(missing_ok=True)
        if png is not None:
            atomic_write_bytes(directory / CHART_FILE, png)
        atomic_write_text(directory / HTML_FILE, self.to_html(max_samples=max_html_samples, chart_png=png))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> EvaluationReport:
        """Read a report written by ``save`` (``samples.jsonl`` and ``details.json`` are optional)."""
        directory = Path(directory)
        metrics_path = directory / METRICS_FILE
        if not metrics_path.is_file():
            raise DataFileNotFoundError(
                f"{metrics_path} does not exist; is {directory} a saved report directory?"
            )
        data = dict(_read_json(metrics_path))
        samples_path = directory / SAMPLES_FILE
        if samples_path.is_file():
            rows = []
            with samples_path.open(encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, 1):
                    if line.strip():
                        try:
                            rows.append(json.loads(line))
                        except json.JSONDecodeError as exc:
                            raise DataError(
                                f"{samples_path}:{lineno}:{exc.colno}: invalid JSON: {exc.msg}"
                            ) from None
            data["samples"] = rows
        details_path = directory / DETAILS_FILE
        if details_path.is_file():
            data["details"] = _read_json(details_path)
        try:
            return cls.from_dict(data)
        except DataError as exc:
            raise DataError(f"{metrics_path}: {exc}") from None

    # ------------------------------------------------------------------ rendering
    def plot(self, path: str | Path | None = None) -> bytes:
        """Bar chart of every metric (one panel per metric); returns PNG bytes, also written to ``path``."""
        from domainft.evaluation.plots import plot_metrics

        return plot_metrics(self.systems, path)

    def to_html(self, max_samples: int = 50, *, chart_png: bytes | None = None) -> str:
        """A self-contained HTML page (no external CSS/JS) with tables, the chart and sample outputs."""
        if chart_png is None and self.systems and self.metric_names:
            chart_png = self.plot()
        return _render_html(self, max_samples, chart_png)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None


# ---------------------------------------------------------------------- HTML
_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ci{color:#666;font-size:.85em}
table.samples{table-layout:fixed;width:100%}table.samples td{white-space:pre-wrap;word-wrap:break-word}
.scores{color:#555;font-size:.85em;margin-top:4px;border-top:1px dashed #ddd;white-space:normal}
img{max-width:100%}code{white-space:pre-wrap}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:.4f}" if abs(x) < 10 else f"{x:.2f}"


def _metrics_table_html(report: EvaluationReport) -> str:
    metrics = report.metric_names
    head = "".join(f"<th>{_esc(m)}</th>" for m in metrics)
    rows = []
    for s in report.system_names:
        cells = []
        for m in metrics:
            v = report.systems[s].get(m)
            if v is None:
                cells.append("<td class='num'>–</td>")
                continue
            ci = (
                f" <span class='ci'>[{_fmt(v.ci_low)}, {_fmt(v.ci_high)}]</span>"
                if v.ci_low is not None
                else ""
            )
            cells.append(f"<td class='num'>{_fmt(v.value)}{ci}</td>")
        n = max((v.n for v in report.systems[s].values()), default=0)
        rows.append(f"<tr><th>{_esc(s)}</th>{''.join(cells)}<td class='num'>{n}</td></tr>")
    return f"<table><tr><th>system</th>{head}<th>n</th></tr>{''.join(rows)}</table>"


def _render_html(report: EvaluationReport, max_samples: int, chart_png: bytes | None) -> str:
    title = str(report.meta.get("title") or "domainft evaluation report")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
    ]
    if report.meta:
        parts.append("<h2>Run</h2><table>")
        for key, value in report.meta.items():
            shown = (
                value
                if isinstance(value, str)
                else json.dumps(_jsonable(value, "meta", strict=False), ensure_ascii=False)
            )
            parts.append(f"<tr><th>{_esc(key)}</th><td><code>{_esc(shown)}</code></td></tr>")
        parts.append("</table>")

    parts.append("<h2>Metrics</h2>")
    parts.append(_metrics_table_html(report) if report.systems else "<p>No metrics.</p>")
    if chart_png is not None:
        data = base64.b64encode(chart_png).decode("ascii")
        parts.append(f"<p><img alt='metrics chart' src='data:image/png;base64,{data}'></p>")

    if report.comparisons:
        parts.append(
            "<h2>Comparisons</h2><table><tr><th>b − a</th><th>metric</th><th>delta</th>"
            "<th>CI</th><th>p-value</th></tr>"
        )
        for c in report.comparisons:
            ci = f"[{_fmt(c.ci_low)}, {_fmt(c.ci_high)}]" if c.ci_low is not None else ""
            p = f"{c.p_value:.4g}" if c.p_value is not None else ""
            parts.append(
                f"<tr><td>{_esc(c.b)} − {_esc(c.a)}</td><td>{_esc(c.metric)}</td>"
                f"<td class='num'>{c.delta:+.4f}</td><td class='num'>{ci}</td>"
                f"<td class='num'>{p}</td></tr>"
            )
        parts.append("</table>")

    if report.samples:
        shown = report.samples[: max(0, max_samples)]
        systems = report.system_names
        parts.append(f"<h2>Samples (first {len(shown)} of {len(report.samples)})</h2><table class='samples'>")
        parts.append(
            "<tr><th style='width:5em'>id</th><th>prompt</th><th>reference</th>"
            + "".join(f"<th>{_esc(s)}</th>" for s in systems)
            + "</tr>"
        )
        for r in shown:
            cells = []
            for s in systems:
                scores = r.scores.get(s, {})
                score_text = " · ".join(f"{_esc(k)} {_fmt(v)}" for k, v in scores.items())
                score_div = f"<div class='scores'>{score_text}</div>" if scores else ""
                cells.append(f"<td>{_esc(r.predictions.get(s, ''))}{score_div}</td>")
            parts.append(
                f"<tr><td>{_esc(r.id)}</td><td>{_esc(r.prompt)}</td><td>{_esc(r.reference)}</td>{''.join(cells)}</tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)
