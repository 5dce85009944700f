"""``DatasetBuilder``: records in, ``DatasetDict(train, validation, test)`` with canonical columns out.

Every split has string columns ``id``, ``prompt`` and ``response`` (first, in that order) plus any
other columns of the data.

Examples:
    >>> from domainft.data.builder import DatasetBuilder
    >>> records = [{"machine": "press", "problem": f"fault {i}", "fix": f"step {i}", "hours": i / 2}
    ...            for i in range(20)]
    >>> dsd = (DatasetBuilder.from_records(records)
    ...        .with_columns(prompt="Machine: {machine}. Problem: {problem} ({hours:g} h)", response="fix")
    ...        .clean()
    ...        .split(validation=0.1, test=0.1, seed=42)
    ...        .build())
    >>> {name: split.num_rows for name, split in dsd.items()}
    {'train': 16, 'validation': 2, 'test': 2}
    >>> dsd["train"].column_names
    ['id', 'prompt', 'response', 'machine', 'problem', 'hours']
"""

from __future__ import annotations

import difflib
import json
import logging
import string
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from domainft.configuration import did_you_mean
from domainft.errors import ConfigError, DataError

if TYPE_CHECKING:  # pragma: no cover
    import datasets

    from domainft.data.cleaning import CleaningReport
    from domainft.data.config import DataConfig
    from domainft.data.documents import DocumentConfig
    from domainft.data.leakage import LeakageReport

logger = logging.getLogger(__name__)

REQUIRED = ("prompt", "response")
ID_COLUMN = "id"
SPLIT_COLUMN = "split"
_TEXT_CANONICAL = ("prompt", "response", "context", "system", "source")


def generated_id(index: int) -> str:
    """The id given to the row at ``index`` of the loaded data when the data has no ``id``."""
    return f"row-{index:06d}"


def _records(rows: list[dict[str, Any]], source: str) -> datasets.Dataset:
    from domainft.data.readers import records_to_dataset

    if not rows:
        raise DataError(f"{source}: no records")
    return records_to_dataset(rows, source=source)


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows made JSON-safe (dates and other objects become text)."""
    return json.loads(json.dumps(rows, default=str))


def _found(ds: datasets.Dataset) -> str:
    return ", ".join(ds.column_names) or "(none)"


def _to_text(value: Any, integral_floats: bool = False) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if integral_floats and isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 2**53 else str(value)
    if isinstance(value, (int, float)):
        return str(value)
    raise TypeError(type(value).__name__)


def _preview(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class RowFormatter(string.Formatter):
    """``str.format`` over a row where a missing value (None) renders as an empty string.

    With ``lenient=True`` a field the row lacks renders empty too instead of raising ``KeyError``.

    Examples:
        >>> RowFormatter(lenient=True).vformat("{a}-{b}-{c:g}", (), {"a": None, "c": 1.5})
        '--1.5'
    """

    def __init__(self, lenient: bool = False) -> None:
        self.lenient = lenient

    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        if self.lenient and isinstance(key, str) and key not in kwargs:
            return ""
        return super().get_value(key, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> str:
        return "" if value is None else super().format_field(value, format_spec)


def template_fields(template: str) -> list[str]:
    """Root field names used by a format string (``"{a} {b.x} {c[0]:g}"`` -> ``["a", "b", "c"]``)."""
    names: list[str] = []
    for _, field, spec, _ in string.Formatter().parse(template):
        if field is None:
            continue
        if field == "" or field.isdigit():
            raise ValueError(
                "positional fields like {} or {0} are not allowed; name a column, e.g. {problem}"
            )
        root = field.split(".", 1)[0].split("[", 1)[0]
        if root not in names:
            names.append(root)
        if spec and "{" in spec:
            names.extend(n for n in template_fields(spec) if n not in names)
    return names


class DatasetBuilder:
    """Chainable builder of the train/validation/test ``DatasetDict`` (steps run eagerly, in call order).

    Rows without an ``id`` column get ``row-000012``-style ids from their index in the loaded data,
    so ids stay stable whatever cleaning later drops. Building does not change the builder: calling
    ``build()`` twice gives equal results.

    Examples:
        >>> from domainft.data.builder import DatasetBuilder
        >>> b = DatasetBuilder.from_records([{"q": f"question {i}", "a": f"answer {i}"} for i in range(10)])
        >>> dsd = b.with_columns(prompt="q", response="a").split(validation=0.2, test=0.0).build()
        >>> dsd["validation"].num_rows, dsd["test"].num_rows
        (2, 0)
        >>> dsd["train"][0]["id"]
        'row-000000'
    """

    def __init__(self, dataset: datasets.Dataset) -> None:
        import datasets as hf

        if not isinstance(dataset, hf.Dataset):
            raise DataError(
                f"DatasetBuilder expects a datasets.Dataset, got {type(dataset).__name__}; "
                "use DatasetBuilder.from_dataset(...), from_records(list_of_dicts) or from_file(path)"
            )
        self._dataset = self._with_ids(dataset)
        self._split_args: dict[str, Any] = {"validation": 0.1, "test": 0.1, "stratify": None, "seed": 42}
        self.cleaning_report: CleaningReport | None = None
        self.rejected: list[dict[str, Any]] = []  # rows a record format could not use
        self.split_dropped: list[dict[str, Any]] = []  # rows the last build() left out (unused, leakage)
        self.leakage_report: LeakageReport | None = None
        self._leakage: tuple[str, float, str] | None = None
        self.source: str | None = None

    @classmethod
    def _with_ids(cls, dataset: datasets.Dataset) -> datasets.Dataset:
        import datasets as hf

        if ID_COLUMN in dataset.column_names:
            return cls._normalise_ids(dataset)
        ids = [generated_id(i) for i in range(dataset.num_rows)]
        return dataset.add_column(ID_COLUMN, ids, feature=hf.Value("string"))

    # ------------------------------------------------------------------------------------ constructors

    @classmethod
    def from_dataset(
        cls,
        data: datasets.Dataset | datasets.DatasetDict,
        format: str | None = "auto",
        **format_options: Any,
    ) -> DatasetBuilder:
        """Start from a ``Dataset`` or a ``DatasetDict``, converting it with a record ``format``.

        ``format="auto"`` recognises alpaca, ShareGPT, messages and dialogue columns (see
        :mod:`domainft.data.formats`); None keeps the columns as they are. The splits of a
        ``DatasetDict`` are kept (as a ``split`` column that :meth:`build` uses) unless :meth:`split` is
        called with sizes. Rows the format cannot use are listed by :meth:`dropped`.

        Examples:
            >>> import datasets
            >>> dsd = datasets.DatasetDict(
            ...     train=datasets.Dataset.from_list([{"instruction": f"Step {i}?", "output": "Yes."}
            ...                                       for i in range(4)]),
            ...     test=datasets.Dataset.from_list([{"instruction": "Last?", "output": "No."}]))
            >>> out = DatasetBuilder.from_dataset(dsd).build()
            >>> out["train"].num_rows, list(out["test"]["prompt"])
            (4, ['Last?'])
        """
        import datasets as hf

        if isinstance(data, hf.DatasetDict):
            from domainft.data.splitting import SPLIT_ALIASES

            if SPLIT_COLUMN in next(iter(data.values())).column_names:
                raise DataError(f"the splits already have a {SPLIT_COLUMN!r} column; rename it first")
            unknown = [name for name in data if name.lower() not in SPLIT_ALIASES]
            if unknown:
                raise DataError(
                    f"DatasetDict split(s) {unknown} are not train/validation/test (or aliases such as "
                    f"dev, val); rename them or pass one split: DatasetBuilder.from_dataset(dsd['train'])"
                )
            parts = [
                split.add_column(SPLIT_COLUMN, [name] * split.num_rows, feature=hf.Value("string"))
                for name, split in data.items()
            ]
            builder = cls._converted(hf.concatenate_datasets(parts), format, format_options)
            builder._split_args = {"by_column": SPLIT_COLUMN}
            return builder
        return cls._converted(data, format, format_options)

    @classmethod
    def _converted(cls, raw: datasets.Dataset, format: str | None, options: dict[str, Any]) -> DatasetBuilder:
        from domainft.data.formats import apply_format

        raw = cls._with_ids(raw)
        converted, rejected = apply_format(raw, format, **options)
        builder = cls(converted)
        for item in rejected:
            row = item.pop("row", None) or {}
            builder.rejected.append({**row, **item})
        return builder

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        format: str | None = "auto",
        reader: str | None = None,
        reader_options: dict[str, Any] | None = None,
        **format_options: Any,
    ) -> DatasetBuilder:
        """Read ``path`` and convert it with a record ``format`` (see :meth:`from_dataset`).

        ``path`` is a csv, tsv, json, jsonl, parquet or xlsx file (or a registered reader's), a folder
        written by ``save_to_disk``, or ``builtin:NAME``. ``reader`` overrides the suffix;
        ``reader_options`` go to the reader (e.g. ``{"sheet": "Tickets"}`` for xlsx).
        """
        from domainft.data.readers import is_saved_dataset, load_saved, read_records

        if is_saved_dataset(path):
            builder = cls.from_dataset(load_saved(path), format, **format_options)
            builder.source = str(path)
            return builder
        builder = cls._converted(read_records(path, reader, **(reader_options or {})), format, format_options)
        builder.source = str(path)
        return builder

    @classmethod
    def from_records(
        cls, records: Iterable[dict[str, Any]], format: str | None = "auto", **format_options: Any
    ) -> DatasetBuilder:
        """Build from a list of dicts (keys missing from some records become None)."""
        from domainft.data.readers import records_to_dataset

        records = list(records)
        if not records:
            raise DataError("from_records: no records given (an empty list)")
        return cls._converted(records_to_dataset(records, source="from_records"), format, format_options)

    @classmethod
    def from_documents(
        cls, path: str | Path | Sequence[str | Path], config: DocumentConfig | None = None, **options: Any
    ) -> DatasetBuilder:
        """Passages of a folder of .txt/.md/.html files: ``id``, ``source``, ``title``, ``passage_index``,
        ``text``.

        Use them for synthetic Q&A (:mod:`domainft.data.synthetic`) or as context; the files that gave
        no text are listed in ``builder.rejected``. ``options`` override fields of ``config``.
        """
        from domainft.data.documents import DocumentConfig, read_documents

        if options:
            config = (config or DocumentConfig()).updated(**options)
        result = read_documents(path, config)
        builder = cls._converted(_records(result.passages, str(path)), None, {})
        builder.rejected.extend({**s, "reason": s.get("reason", "no_text")} for s in result.skipped)
        builder.source = str(path)
        return builder

    @classmethod
    def from_config(cls, config: DataConfig) -> DatasetBuilder:
        """Load ``config.path``, keep the first ``max_samples`` rows, map columns, clean, set the split.

        Examples:
            >>> from domainft.data.config import DataConfig
            >>> cfg = DataConfig(path="builtin:machinery_tickets", max_samples=50,
            ...                  columns={"prompt": "{machine_type}: {problem}", "response": "solution"})
            >>> DatasetBuilder.from_config(cfg).build()["test"].num_rows
            5
        """
        if config.path is None:
            raise ConfigError("DataConfig.path: required to build a dataset (a file path or builtin:NAME)")
        builder = cls.from_file(
            config.path,
            format=config.format,
            reader=config.reader,
            reader_options=config.reader_options or None,
            **config.format_options,
        )
        if config.max_samples is not None:
            builder.take(config.max_samples)
        if config.columns:
            builder.with_columns(**config.columns)
        if config.clean:
            builder.clean()
        if config.cleaning:
            builder.apply_steps(config.cleaning)
        split_args: dict[str, Any] = {
            "validation": config.validation,
            "test": config.test,
            "train": config.train,
            "stratify": config.stratify,
            "group_by": config.group_by,
            "by_column": config.split_column,
            "seed": config.seed,
            "leakage": config.leakage,
            "leakage_threshold": config.leakage_threshold,
        }
        if config.split_column is None and builder._split_args.get("by_column") and not config.resplit:
            return builder  # a DatasetDict on disk keeps its splits
        return builder.split(**split_args)

    # ------------------------------------------------------------------------------------ steps

    @property
    def dataset(self) -> datasets.Dataset:
        """The current (unsplit) dataset, after the steps applied so far."""
        return self._dataset

    @property
    def column_names(self) -> list[str]:
        return list(self._dataset.column_names)

    def __len__(self) -> int:
        return self._dataset.num_rows

    def __repr__(self) -> str:
        return f"DatasetBuilder(rows={len(self)}, columns={self.column_names})"

    def take(self, n: int) -> DatasetBuilder:
        """Keep only the first ``n`` rows."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"take: n must be a positive integer, got {n!r}")
        self._dataset = self._dataset.select(range(min(n, self._dataset.num_rows)))
        return self

    def with_columns(
        self, prompt: str | None = None, response: str | None = None, **others: str
    ) -> DatasetBuilder:
        """Map source columns (or format strings over the row) onto canonical names.

        ``prompt="question"`` renames the column ``question`` to ``prompt``. A value containing ``{`` is
        a format string: ``prompt="Machine: {machine_type}. Problem: {problem}"``; format specs work
        (``{hours:g}``). A row where a field of the format string is empty or None gets no value
        (None), so :meth:`clean` drops it and reports why. Columns used only inside format
        strings, and unmapped columns, are kept. All mappings read the columns as they were before
        this call, so ``prompt="response", response="prompt"`` swaps them.
        """
        mapping = {"prompt": prompt, "response": response, **others}
        mapping = {k: v for k, v in mapping.items() if v is not None}
        if not mapping:
            return self
        ds = self._dataset
        found = set(ds.column_names)
        fields_of: dict[str, list[str]] = {}  # the columns each format string reads
        for target, spec in mapping.items():
            if not isinstance(spec, str) or not spec:
                raise ConfigError(
                    f"with_columns: {target}= expects a column name or a format string, got {spec!r}"
                )
            if "{" in spec:
                try:
                    needed = fields_of[target] = template_fields(spec)
                except ValueError as exc:
                    raise DataError(
                        f"with_columns: {target}={spec!r} is not a valid format string: {exc}"
                    ) from None
            else:
                needed = [spec]
            missing = [c for c in needed if c not in found]
            if missing:
                raise DataError(
                    f"with_columns: {target}={spec!r} refers to missing column(s) "
                    f"{', '.join(map(repr, missing))}; found columns: {_found(ds)}."
                    f"{did_you_mean(missing[0], ds.column_names)}"
                )

        new_columns: dict[str, list[Any]] = {}
        rows: list[dict[str, Any]] | None = None
        for target, spec in mapping.items():
            if "{" in spec:
                if rows is None:
                    rows = ds.to_list()
                new_columns[target] = self._render(spec, target, rows, fields_of[target])
            else:
                values = ds[spec]
                new_columns[target] = list(values) if not isinstance(values, list) else values
        renamed = {spec for spec in mapping.values() if "{" not in spec}
        drop = [c for c in ds.column_names if c in mapping or (c in renamed and c != ID_COLUMN)]
        result = ds.remove_columns(drop) if drop else ds
        for target, values in new_columns.items():
            spec = mapping[target]
            if target in _TEXT_CANONICAL or target == ID_COLUMN or "{" in spec:
                values = self._text_values(values, target, spec)
                result = self._add(result, target, values, None)
            else:
                result = self._add(result, target, values, ds.features[spec])
        if ID_COLUMN in mapping:
            result = self._normalise_ids(result)
        self._dataset = result
        return self

    # ------------------------------------------------------------------------------------ cleaning

    def apply_steps(self, steps: Sequence[tuple[str, dict[str, Any]] | dict[str, Any]]) -> DatasetBuilder:
        """Run cleaning steps by name: ``[("near_dedup", {"threshold": 0.85}), ...]`` or
        ``[{"step": "near_dedup", "threshold": 0.85}, ...]`` (the YAML form); see
        :mod:`domainft.data.cleaning` for the registered steps."""
        from domainft.data.cleaning import run_steps

        pairs: list[tuple[str, dict[str, Any]]] = []
        for item in steps:
            if isinstance(item, dict):
                if "step" not in item:
                    raise ConfigError(f"cleaning step {item!r}: needs a 'step' key naming the step")
                params = dict(item)
                pairs.append((params.pop("step"), params))
            else:
                name, params = item
                pairs.append((name, dict(params)))
        self._dataset, report = run_steps(self._dataset, pairs)
        if self.cleaning_report is None:
            self.cleaning_report = report
        else:
            self.cleaning_report.merge(report)
        return self

    def _step(self, name: str, **params: Any) -> DatasetBuilder:
        return self.apply_steps([(name, params)])

    def clean(self, dedup: bool = True, form: str | None = "NFKC") -> DatasetBuilder:
        """The usual cleanup: :meth:`normalize`, :meth:`drop_missing`, then :meth:`dedup`.

        Everything dropped is kept in ``builder.cleaning_report`` and returned by :meth:`dropped`.
        """
        self._require_canonical("clean")
        steps: list[tuple[str, dict[str, Any]]] = [("normalize", {"form": form}), ("drop_missing", {})]
        if dedup:
            steps.append(("dedup", {}))
        return self.apply_steps(steps)

    def normalize(self, form: str | None = "NFKC", columns: Sequence[str] | None = None) -> DatasetBuilder:
        """Unicode ``form`` normalisation and whitespace cleanup of text columns (all but ``id``)."""
        return self._step("normalize", form=form, columns=columns)

    def strip_html(self, columns: Sequence[str] | None = None) -> DatasetBuilder:
        """Replace HTML fragments in text columns by their visible text."""
        return self._step("strip_html", columns=columns)

    def replace(
        self,
        rules: Sequence[Sequence[str]] | dict[str, str],
        columns: Sequence[str] | None = None,
        flags: str = "",
    ) -> DatasetBuilder:
        """Regex rules applied in order: ``[(r"SN-\\d+", "SN-<serial>"), ...]``."""
        return self._step("replace", rules=rules, columns=columns, flags=flags)

    def drop_matching(
        self, pattern: str, column: str = "response", flags: str = "", reason: str | None = None
    ) -> DatasetBuilder:
        """Drop rows whose ``column`` matches the regex ``pattern``."""
        return self._step("drop_matching", pattern=pattern, column=column, flags=flags, reason=reason)

    def drop_missing(self, fields: Sequence[str] = REQUIRED) -> DatasetBuilder:
        """Drop rows where one of ``fields`` is None or blank (reason ``empty_<field>``)."""
        return self._step("drop_missing", fields=tuple(fields))

    def dedup(self, columns: Sequence[str] | None = None) -> DatasetBuilder:
        """Drop exact duplicates (normalised, case-folded text), keeping the first."""
        return self._step("dedup", columns=columns)

    def near_dedup(
        self,
        threshold: float = 0.9,
        method: str = "tfidf",
        columns: Sequence[str] = ("prompt",),
        **options: Any,
    ) -> DatasetBuilder:
        """Drop near-duplicates (TF-IDF cosine or MinHash Jaccard >= ``threshold``), keeping the first."""
        return self._step("near_dedup", threshold=threshold, method=method, columns=columns, **options)

    def length_outliers(
        self,
        column: str = "response",
        method: Literal["iqr", "percentile"] = "iqr",
        unit: Literal["chars", "tokens"] = "chars",
        tokenizer: Any = None,
        **params: Any,
    ) -> DatasetBuilder:
        """Drop rows whose length is an outlier (IQR fences or percentiles; characters or tokens)."""
        return self._step(
            "length_outliers", column=column, method=method, unit=unit, tokenizer=tokenizer, **params
        )

    def filter_tokens(
        self,
        tokenizer: Any,
        max_tokens: int | None = 2048,
        min_tokens: int | None = None,
        column: str = "prompt",
    ) -> DatasetBuilder:
        """Keep rows whose ``column`` has at most ``max_tokens`` tokens (e.g. prompts under 2048)."""
        return self._step(
            "token_filter", tokenizer=tokenizer, max_tokens=max_tokens, min_tokens=min_tokens, column=column
        )

    def map_text(
        self,
        fn: Callable[[str], str],
        columns: Sequence[str] | None = ("prompt", "response"),
        on_error: Literal["raise", "drop"] = "raise",
    ) -> DatasetBuilder:
        """Apply ``fn(text) -> text`` to ``columns`` (e.g. translation through a teacher model)."""
        return self._step("map_text", fn=fn, columns=columns, on_error=on_error)

    def dropped(self, reason: str | None = None) -> list[dict[str, Any]]:
        """Every row set aside so far, with its ``reason``: rows a record format rejected, rows cleaning
        dropped, and rows the last :meth:`build` left out (``unused_by_split``, ``leakage``)."""
        rows = [*self.rejected]
        if self.cleaning_report is not None:
            rows.extend(self.cleaning_report.dropped)
        rows.extend(self.split_dropped)
        return [r for r in rows if reason is None or r["reason"] == reason]

    # ------------------------------------------------------------------------------------ splitting

    def split(
        self,
        validation: float | int = 0.1,
        test: float | int = 0.1,
        stratify: Literal["length"] | None = None,
        seed: int = 42,
        *,
        train: float | int | None = None,
        group_by: str | None = None,
        by_column: str | None = None,
        leakage: Literal["report", "drop_train", "drop_eval"] | None = None,
        leakage_threshold: float = 0.9,
        leakage_method: str = "tfidf",
    ) -> DatasetBuilder:
        """Set how :meth:`build` splits (see :func:`~domainft.data.splitting.split_dataset`).

        Sizes are fractions (float) or row counts (int): ``split(validation=0, test=30, train=470)``.
        ``group_by="ticket_id"`` keeps each group in one split; ``by_column="split"`` reads each row's
        split from a column. ``leakage="report"`` lists near-duplicate prompts between validation/test
        and train in ``builder.leakage_report``; ``"drop_train"`` also removes those train rows,
        ``"drop_eval"`` the evaluation rows instead.
        """
        from domainft.data.splitting import check_fractions, check_stratify

        check_fractions(validation, test, train=train)
        check_stratify(stratify)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"seed: expected an integer, got {seed!r}")
        if leakage not in (None, "report", "drop_train", "drop_eval"):
            raise ConfigError(
                f"leakage: expected None, 'report', 'drop_train' or 'drop_eval', got {leakage!r}"
            )
        self._split_args = {
            "validation": validation,
            "test": test,
            "train": train,
            "stratify": stratify,
            "group_by": group_by,
            "by_column": by_column,
            "seed": seed,
        }
        self._leakage = (leakage, leakage_threshold, leakage_method) if leakage else None
        return self

    def build(self) -> datasets.DatasetDict:
        """The ``DatasetDict`` with ``train``, ``validation`` and ``test``; raises ``DataError`` when the
        canonical columns are missing, the dataset is empty, or a prompt/response is empty."""
        import datasets as hf

        from domainft.data.splitting import SPLIT_NAMES, split_indices

        self._require_canonical("build")
        ds = self._dataset
        if ds.num_rows == 0:
            report = self.cleaning_report
            if report is not None and report.rows_dropped:
                raise DataError(
                    f"dataset is empty after cleaning: {report.rows_dropped} rows dropped "
                    f"({report.reasons_text()}); see builder.dropped()"
                )
            raise DataError("dataset is empty: no rows to build from")
        for column in REQUIRED:
            ds = self._ensure_text(ds, column)
            empty = [i for i, v in enumerate(ds[column]) if v is None or not v.strip()]
            if empty:
                ids = ds.select(empty[:3])[ID_COLUMN]
                raise DataError(
                    f"{len(empty)} row(s) have an empty {column!r} (ids: {', '.join(ids)}"
                    f"{', ...' if len(empty) > 3 else ''}); call .clean() to drop them"
                )
        self._check_unique_ids(ds)
        order = [ID_COLUMN, *REQUIRED]
        ds = ds.select_columns(order + [c for c in ds.column_names if c not in order])
        parts = split_indices(ds, **self._split_args)
        by_column = self._split_args.get("by_column")
        if by_column is not None:  # the column said which split a row is in; the split now says it
            ds = ds.remove_columns(by_column)
        dsd = hf.DatasetDict({name: ds.select(parts[name]) for name in SPLIT_NAMES})
        self.split_dropped = [
            {**row, "reason": "unused_by_split"} for row in ds.select(parts["unused"]).to_list()
        ]
        self.leakage_report = None
        if self._leakage is not None:
            dsd = self._check_leakage(dsd, *self._leakage)
        return dsd

    def _check_leakage(
        self, dsd: datasets.DatasetDict, mode: str, threshold: float, method: str
    ) -> datasets.DatasetDict:
        from domainft.data.leakage import find_leakage, remove_leakage

        report = find_leakage(dsd, threshold=threshold, method=method)
        if mode != "report" and report.pairs:
            before = dsd
            dsd, removed = remove_leakage(dsd, report, "train" if mode == "drop_train" else "eval")
            for name, positions in removed.items():
                if positions:
                    rows = before[name].select(positions).to_list()
                    self.split_dropped.extend({**r, "reason": "leakage", "split": name} for r in rows)
        self.leakage_report = report
        if report.pairs:
            logger.warning("%s", report.summary())
        return dsd

    # ------------------------------------------------------------------------------------ outputs

    def export(
        self, path: str | Path, format: str = "openai-chat", system_prompt: str | None = None
    ) -> list[Path]:
        """Build, then write one JSONL file per split under ``path`` (see :mod:`domainft.data.export`).

        ``format``: ``openai-chat`` (hosted fine-tuning APIs), ``messages``, ``alpaca`` or ``sharegpt``.
        """
        from domainft.data.export import export_jsonl

        return export_jsonl(self.build(), path, format=format, system_prompt=system_prompt)

    def save_to_disk(self, path: str | Path) -> Path:
        """Build, then ``DatasetDict.save_to_disk(path)`` plus ``cleaning.json`` (what was dropped and why).

        ``DatasetBuilder.from_file(path)`` reads it back with the same splits.
        """
        from domainft.utils.io import atomic_write_json

        dsd = self.build()
        path = Path(path)
        dsd.save_to_disk(str(path))
        atomic_write_json(
            path / "cleaning.json",
            {
                "cleaning": self.cleaning_report.to_dict(include_rows=False)
                if self.cleaning_report
                else None,
                "dropped": _jsonable(self.dropped()),
                "leakage": self.leakage_report.to_dict() if self.leakage_report else None,
            },
        )
        return path

    def report(self, tokenizer: Any = None, config: Any = None) -> Any:
        """Build, then :func:`domainft.data.report.dataset_report` over the splits (save it with
        ``.save(directory)``: HTML, JSON and PNG plots)."""
        from domainft.data.report import dataset_report

        dsd = self.build()
        return dataset_report(
            dsd, tokenizer=tokenizer, cleaning=self.cleaning_report, config=config, source=self.source
        )

    # ------------------------------------------------------------------------------------ helpers

    def _require_canonical(self, step: str) -> None:
        missing = [c for c in REQUIRED if c not in self._dataset.column_names]
        if missing:
            others = [c for c in self._dataset.column_names if c not in (*REQUIRED, ID_COLUMN)]
            close = {c: difflib.get_close_matches(c, others, n=1) for c in missing}
            guess = ", ".join(f"{c}={m[0]!r}" for c, m in close.items() if m)
            hint = f" Did you mean .with_columns({guess})?" if guess else ""
            raise DataError(
                f"{step}: missing column(s) {', '.join(map(repr, missing))}; "
                f"found columns: {_found(self._dataset)}.{hint} "
                "Map them with .with_columns(prompt='your_question_column', response='your_answer_column') "
                "(data.columns in a recipe)"
            )

    @staticmethod
    def _render(
        template: str, target: str, rows: list[dict[str, Any]], fields: list[str]
    ) -> list[str | None]:
        formatter = RowFormatter()
        out: list[str | None] = []
        for i, row in enumerate(rows):
            if any(_is_blank(row.get(f)) for f in fields):
                out.append(None)  # a template with an empty field is missing, so clean() drops and reports it
                continue
            try:
                out.append(formatter.vformat(template, (), row))
            except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
                raise DataError(
                    f"with_columns: cannot format {target}={template!r} "
                    f"for row {i} (id={row.get(ID_COLUMN)!r}): "
                    f"{type(exc).__name__}: {exc}"
                ) from None
        return out

    @staticmethod
    def _text_values(values: list[Any], target: str, spec: str) -> list[str | None]:
        out: list[str | None] = []
        for i, v in enumerate(values):
            try:
                out.append(_to_text(v, integral_floats=target == ID_COLUMN))
            except TypeError:
                raise DataError(
                    f"with_columns: {target}={spec!r}: row {i} holds a {type(v).__name__}, "
                    "expected text or a number; use a format string to build text from it"
                ) from None
        return out

    @staticmethod
    def _add(ds: datasets.Dataset, name: str, values: list[Any], feature: Any) -> datasets.Dataset:
        import datasets as hf

        if feature is None:
            feature = hf.Value("string")
        return ds.add_column(name, values, feature=feature)

    @classmethod
    def _ensure_text(cls, ds: datasets.Dataset, column: str) -> datasets.Dataset:
        import datasets as hf

        feature = ds.features[column]
        if isinstance(feature, hf.Value) and feature.dtype == "string":
            return ds
        raw = list(ds[column])
        for i, v in enumerate(raw):
            if v is not None and not isinstance(v, (str, int, float)):
                raise DataError(
                    f"column {column!r}, row {i} (id {ds[i][ID_COLUMN]!r}) holds a {type(v).__name__} "
                    f"({_preview(v)}), expected text. Fix that row, or build the {column} text from the row "
                    f"with a format string: .with_columns({column}='... {{other_column}} ...')"
                )
        values = cls._text_values(raw, column, column)
        return cls._add(ds.remove_columns(column), column, values, None)

    @classmethod
    def _normalise_ids(cls, ds: datasets.Dataset) -> datasets.Dataset:
        """Make ``id`` a string column; missing ids get the generated ``row-NNNNNN`` id."""
        import datasets as hf

        try:
            raw = cls._text_values(list(ds[ID_COLUMN]), ID_COLUMN, ID_COLUMN)
        except DataError:
            raise DataError(
                f"column {ID_COLUMN!r} must hold text or integers; rename it or map another column with "
                ".with_columns(id='your_id_column')"
            ) from None
        ids = [v if v not in (None, "") else generated_id(i) for i, v in enumerate(raw)]
        feature = ds.features[ID_COLUMN]
        if ids == raw and isinstance(feature, hf.Value) and feature.dtype == "string":
            return ds
        position = ds.column_names.index(ID_COLUMN)
        out = ds.remove_columns(ID_COLUMN).add_column(ID_COLUMN, ids, feature=hf.Value("string"))
        names = out.column_names[:-1]
        names.insert(position, ID_COLUMN)
        return out.select_columns(names)

    @staticmethod
    def _check_unique_ids(ds: datasets.Dataset) -> None:
        seen: dict[str, int] = {}
        for i, v in enumerate(ds[ID_COLUMN]):
            if v in seen:
                raise DataError(
                    f"column {ID_COLUMN!r} has duplicate value {v!r} (rows {seen[v]} and {i}); ids must be "
                    "unique so splits stay disjoint. Fix the data, or drop the id column to get generated ids"
                )
            seen[v] = i
