"""``DatasetBuilder``: records in, ``DatasetDict(train, validation, test)`` with canonical columns out.

Every split has string columns ``id``, ``prompt`` and ``response`` (first, in that order) plus any
other columns of the data.

Example:
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

import string
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from domainft.data.cleaning import CleaningReport
from domainft.data.splitting import check_fractions, check_stratify
from domainft.errors import ConfigError, DataError

if TYPE_CHECKING:  # pragma: no cover
    import datasets

    from domainft.data.config import DataConfig

REQUIRED = ("prompt", "response")
ID_COLUMN = "id"
_TEXT_CANONICAL = ("prompt", "response", "context", "system", "source")


def generated_id(index: int) -> str:
    """The id given to the row at ``index`` of the loaded data when the data has no ``id``."""
    return f"row-{index:06d}"


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


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _RowFormatter(string.Formatter):
    """``str.format`` over a row where a missing value (None) renders as an empty string."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if value is None:
            return ""
        return super().format_field(value, format_spec)


def _template_fields(template: str) -> list[str]:
    """Root column names used by a format string (``"{a} {b.x} {c[0]:g}"`` -> ``["a", "b", "c"]``)."""
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
            names.extend(n for n in _template_fields(spec) if n not in names)
    return names


class DatasetBuilder:
    """Chainable builder of the train/validation/test ``DatasetDict`` (steps run eagerly, in call order).

    Rows without an ``id`` column get ``row-000012``-style ids from their index in the loaded data,
    so ids stay stable whatever cleaning later drops. Building does not change the builder: calling
    ``build()`` twice gives equal results.

    Example:
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
                "use DatasetBuilder.from_records(list_of_dicts) or DatasetBuilder.from_file(path)"
            )
        if ID_COLUMN in dataset.column_names:
            dataset = self._normalise_ids(dataset)
        else:
            dataset = dataset.add_column(
                ID_COLUMN, [generated_id(i) for i in range(dataset.num_rows)], feature=hf.Value("string")
            )
        self._dataset = dataset
        self._split_args: dict[str, Any] = {"validation": 0.1, "test": 0.1, "stratify": None, "seed": 42}
        self.cleaning_report: CleaningReport | None = None
        self.source: str | None = None

    # ------------------------------------------------------------------------------------ constructors

    @classmethod
    def from_file(cls, path: str | Path, format: str | None = None) -> DatasetBuilder:
        """Read ``path`` (csv, tsv, json, jsonl, parquet, a registered format, or ``builtin:NAME``)."""
        from domainft.data.formats import read_records

        builder = cls(read_records(path, format=format))
        builder.source = str(path)
        return builder

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]]) -> DatasetBuilder:
        """Build from a list of dicts; keys missing from some records become None."""
        from domainft.data.formats import records_to_dataset

        records = list(records)
        if not records:
            raise DataError("from_records: no records given (an empty list)")
        return cls(records_to_dataset(records, source="from_records"))

    @classmethod
    def from_config(cls, config: DataConfig) -> DatasetBuilder:
        """Load ``config.path``, keep the first ``max_samples`` rows, map columns, clean, set the split.

        Example:
            >>> from domainft.data.config import DataConfig
            >>> cfg = DataConfig(path="builtin:machinery_tickets", max_samples=50,
            ...                  columns={"prompt": "{machine_type}: {problem}", "response": "solution"})
            >>> DatasetBuilder.from_config(cfg).build()["test"].num_rows
            5
        """
        if config.path is None:
            raise ConfigError("DataConfig.path: required to build a dataset (a file path or builtin:NAME)")
        builder = cls.from_file(config.path, format=config.format)
        if config.max_samples is not None:
            builder.take(config.max_samples)
        if config.columns:
            builder.with_columns(**config.columns)
        if config.clean:
            builder.clean()
        return builder.split(
            validation=config.validation, test=config.test, stratify=config.stratify, seed=config.seed
        )

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
                    needed = fields_of[target] = _template_fields(spec)
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
                    f"{', '.join(map(repr, missing))}; found columns: {_found(ds)}"
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

    def clean(self, dedup: bool = True) -> DatasetBuilder:
        """Normalise whitespace, drop rows with an empty prompt/response and exact duplicates.

        The :class:`~domainft.data.cleaning.CleaningReport` is kept as ``builder.cleaning_report``.
        """
        from domainft.data.cleaning import clean_dataset

        self._require_canonical("clean")
        self._dataset, self.cleaning_report = clean_dataset(self._dataset, required=REQUIRED, dedup=dedup)
        return self

    def split(
        self,
        validation: float = 0.1,
        test: float = 0.1,
        stratify: Literal["length"] | None = None,
        seed: int = 42,
    ) -> DatasetBuilder:
        """Set how :meth:`build` splits (see :func:`~domainft.data.splitting.split_dataset`)."""
        check_fractions(validation, test)
        check_stratify(stratify)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"seed: expected an integer, got {seed!r}")
        self._split_args = {"validation": validation, "test": test, "stratify": stratify, "seed": seed}
        return self

    def build(self) -> datasets.DatasetDict:
        """The ``DatasetDict`` with ``train``, ``validation`` and ``test``; raises ``DataError`` when the
        canonical columns are missing, the dataset is empty, or a prompt/response is empty."""
        from domainft.data.splitting import split_dataset

        self._require_canonical("build")
        ds = self._dataset
        if ds.num_rows == 0:
            report = self.cleaning_report
            if report is not None and report.rows_dropped:
                raise DataError(
                    f"dataset is empty after cleaning: {report.rows_dropped} rows dropped "
                    f"({report.reasons_text()}); see builder.cleaning_report.dropped"
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
        return split_dataset(ds, **self._split_args)

    # ------------------------------------------------------------------------------------ helpers

    def _require_canonical(self, step: str) -> None:
        missing = [c for c in REQUIRED if c not in self._dataset.column_names]
        if missing:
            raise DataError(
                f"{step}: missing column(s) {', '.join(map(repr, missing))}; "
                f"found columns: {_found(self._dataset)}. "
                "Map them with .with_columns(prompt='your_question_column', response='your_answer_column')"
            )

    @staticmethod
    def _render(
        template: str, target: str, rows: list[dict[str, Any]], fields: list[str]
    ) -> list[str | None]:
        formatter = _RowFormatter()
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
        values = cls._text_values(list(ds[column]), column, column)
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
