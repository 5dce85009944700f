"""File readers for training data, keyed by format name, and the ``register_format`` extension point.

Built-in formats: ``csv``, ``tsv``, ``json`` (one array of objects), ``jsonl`` (one object per line)
and ``parquet``. The format is taken from the file suffix unless given explicitly. A path written
``builtin:NAME`` reads a dataset shipped with domainft (see :mod:`domainft.data.samples`).

Example:
    >>> import json, tempfile, pathlib
    >>> from domainft.data.formats import read_records
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "faq.jsonl"
    >>> _ = path.write_text(json.dumps({"question": "Oil?", "answer": "Every 500 h."}) + "\\n")
    >>> read_records(path).column_names
    ['question', 'answer']

Adding a format: a reader takes a ``Path`` and returns a ``datasets.Dataset``, a ``pandas.DataFrame``
or a list of dicts::

    >>> from domainft.data.formats import register_format
    >>> @register_format("pipes-demo", suffixes=[".pipesdemo"])
    ... def read_pipes(path):
    ...     lines = path.read_text().splitlines()
    ...     return [dict(zip(("prompt", "response"), line.split("|"))) for line in lines]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domainft.errors import ConfigError, DataError, DataFileNotFoundError
from domainft.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    import datasets

Reader = Callable[[Path], Any]

FORMATS: Registry[Reader] = Registry("data format")
_SUFFIXES: dict[str, str] = {}  # ".jsonl" -> "jsonl"


def register_format(
    name: str, suffixes: Sequence[str] | None = None, *, overwrite: bool = False
) -> Callable[[Reader], Reader]:
    """Decorator registering a reader ``fn(path: Path) -> Dataset | DataFrame | list[dict]``.

    ``suffixes`` (e.g. ``[".xml"]``) let :func:`read_records` pick the format from the file name.

    Example:
        >>> from domainft.data.formats import register_format, known_formats
        >>> @register_format("lines-demo", suffixes=[".linesdemo"])
        ... def read_lines(path):
        ...     return [{"prompt": line, "response": line} for line in path.read_text().splitlines()]
        >>> "lines-demo" in known_formats()
        True
    """
    normalised = [_normalise_suffix(s) for s in (suffixes or [])]
    if not overwrite:
        taken = [s for s in normalised if s in _SUFFIXES and _SUFFIXES[s] != name.lower()]
        if taken:
            raise ConfigError(
                f"suffix {taken[0]!r} already belongs to format {_SUFFIXES[taken[0]]!r}; "
                "pass overwrite=True to replace it"
            )

    def _decorate(fn: Reader) -> Reader:
        FORMATS.register(name, fn, overwrite=overwrite)
        for suffix in normalised:
            _SUFFIXES[suffix] = name.lower()
        return fn

    return _decorate


def known_formats() -> list[str]:
    """Names of all registered formats."""
    return FORMATS.names()


def known_suffixes() -> dict[str, str]:
    """Mapping of file suffix to format name."""
    return dict(sorted(_SUFFIXES.items()))


def format_for_path(path: str | Path) -> str:
    """The format name registered for the suffix of ``path``; ``DataError`` when none matches."""
    name = Path(path).name.lower()
    # longest suffix first so that ".jsonl.gz"-style compound suffixes can be registered
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    suffixes = ", ".join(f"{s} ({f})" for s, f in known_suffixes().items())
    raise DataError(
        f"{path}: cannot tell the data format from the file name. Known suffixes: {suffixes}. "
        f"Pass format= one of {', '.join(known_formats())}, or add one with register_format()."
    )


def read_records(path: str | Path, format: str | None = None) -> datasets.Dataset:
    """Read a data file into a ``datasets.Dataset`` (one row per record).

    ``path`` may be ``builtin:NAME`` for a dataset shipped with domainft. Raises
    ``DataFileNotFoundError`` for a missing file and ``DataError`` (naming file, line and column
    where known) for malformed content or a file without records.
    """
    path = _resolve(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.exists() else "does not exist"
        raise DataFileNotFoundError(f"data file not found: {path} {what}")
    name = format.lower() if format is not None else format_for_path(path)
    reader = FORMATS.get(name)
    try:
        result = reader(path)
    except (DataError, DataFileNotFoundError):
        raise
    except Exception as exc:  # a third-party parser failed: say which file and format
        raise DataError(f"{path}: cannot read as {name}: {type(exc).__name__}: {exc}") from exc
    ds = _to_dataset(result, path)
    if ds.num_rows == 0:
        raise DataError(f"{path}: no records found (read as {name}); check that the file is not empty")
    return ds


# --------------------------------------------------------------------------------------------- helpers


def _normalise_suffix(suffix: str) -> str:
    suffix = suffix.lower()
    return suffix if suffix.startswith(".") else f".{suffix}"


def _resolve(path: str | Path) -> Path:
    if isinstance(path, str) and path.startswith("builtin:"):
        from domainft.data.samples import builtin_path

        return builtin_path(path)
    return Path(path).expanduser()


def _to_dataset(result: Any, path: Path) -> datasets.Dataset:
    import datasets

    if isinstance(result, datasets.Dataset):
        ds = result
    elif isinstance(result, list):
        ds = records_to_dataset(result, source=str(path))
    elif type(result).__name__ == "DataFrame":
        ds = _frame_to_dataset(result, path)
    else:
        raise DataError(
            f"{path}: the reader returned {type(result).__name__}; "
            "expected a datasets.Dataset, a pandas.DataFrame or a list of dicts"
        )
    return _plain_strings(ds)


def _plain_strings(ds: datasets.Dataset) -> datasets.Dataset:
    """Use ``string`` rather than ``large_string`` so every format yields the same features."""
    from datasets import Features, Value

    features = ds.features
    if not any(isinstance(f, Value) and f.dtype == "large_string" for f in features.values()):
        return ds
    new = Features(
        {
            k: Value("string") if isinstance(f, Value) and f.dtype == "large_string" else f
            for k, f in features.items()
        }
    )
    return ds.cast(new)


def records_to_dataset(
    records: Iterable[dict[str, Any]], source: str = "records", line_numbers: Sequence[int] | None = None
) -> datasets.Dataset:
    """Build a ``Dataset`` from dicts, keeping the union of their keys (missing values become None).

    A column whose values mix incompatible types (e.g. text and numbers) raises ``DataError``
    naming the column and the first two rows (or file lines) that disagree.
    """
    import datasets

    records = list(records)
    columns: dict[str, None] = {}
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            where = f"line {line_numbers[i]}" if line_numbers else f"record {i}"
            raise DataError(f"{source}: {where} is a {type(rec).__name__}, expected an object (a mapping)")
        columns.update(dict.fromkeys(rec))
    data = {c: [rec.get(c) for rec in records] for c in columns}
    try:
        return datasets.Dataset.from_dict(data)
    except (TypeError, ValueError) as exc:  # pyarrow's ArrowInvalid/ArrowTypeError subclass these
        raise _mixed_type_error(data, source, line_numbers, exc) from exc


def _mixed_type_error(
    data: dict[str, list[Any]], source: str, line_numbers: Sequence[int] | None, exc: Exception
) -> DataError:
    import pyarrow as pa

    for column, values in data.items():
        try:
            pa.array(values)
        except (TypeError, ValueError, pa.ArrowException):
            first: dict[str, int] = {}
            for i, v in enumerate(values):
                if v is not None:
                    first.setdefault(type(v).__name__, i)
            where = [
                f"{t} at {'line ' + str(line_numbers[i]) if line_numbers else 'record ' + str(i)}"
                for t, i in list(first.items())[:2]
            ]
            return DataError(
                f"{source}: column {column!r} mixes value types ({', '.join(where)}); "
                "make every value of a column the same type (e.g. quote numbers as text)"
            )
    return DataError(f"{source}: cannot build a dataset from the records: {exc}")


def _frame_to_dataset(frame: Any, path: Path) -> datasets.Dataset:
    import datasets

    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    try:
        return datasets.Dataset.from_pandas(frame, preserve_index=False)
    except (TypeError, ValueError) as exc:
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        raise _mixed_type_error(
            {c: [r[c] for r in records] for c in frame.columns}, str(path), None, exc
        ) from exc


# --------------------------------------------------------------------------------------------- readers


def _read_delimited(path: Path, sep: str) -> Any:
    import pandas as pd

    # Only empty cells are missing values: a response reading "NA" or "None" stays text.
    return pd.read_csv(path, sep=sep, keep_default_na=False, na_values=[""], encoding="utf-8")


@register_format("csv", suffixes=[".csv"])
def read_csv(path: Path) -> Any:
    """Comma-separated values with a header row."""
    return _read_delimited(path, ",")


@register_format("tsv", suffixes=[".tsv", ".tab"])
def read_tsv(path: Path) -> Any:
    """Tab-separated values with a header row."""
    return _read_delimited(path, "\t")


@register_format("parquet", suffixes=[".parquet", ".pq"])
def read_parquet(path: Path) -> Any:
    """Apache Parquet, read in memory with pyarrow (no cache files)."""
    import datasets
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise DataError(f"{path}: not a readable Parquet file: {exc}") from exc
    return datasets.Dataset(datasets.table.InMemoryTable(table))


@register_format("json", suffixes=[".json"])
def read_json(path: Path) -> Any:
    """A JSON array of objects: ``[{"prompt": ..., "response": ...}, ...]``."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}. "
            "Fix the file; if it holds one object per line, name it .jsonl"
        ) from None
    if not isinstance(data, list):
        hint = ""
        if isinstance(data, dict):
            lists = [k for k, v in data.items() if isinstance(v, list)]
            hint = (
                f" (it is an object; its list-valued keys are: {', '.join(map(repr, lists))})"
                if lists
                else ""
            )
        raise DataError(
            f"{path}: expected a JSON array of objects at the top level, got {type(data).__name__}{hint}. "
            "Write the records as [{...}, {...}] or use JSON Lines (.jsonl), one object per line"
        )
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise DataError(
                f"{path}: element {i} of the top-level array is {type(rec).__name__}, expected an object"
            )
    return records_to_dataset(data, source=str(path))


@register_format("jsonl", suffixes=[".jsonl", ".ndjson"])
def read_jsonl(path: Path) -> Any:
    """JSON Lines: one object per line; blank lines are skipped."""
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    with path.open(encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"{path}:{lineno}:{exc.colno}: invalid JSON on line {lineno}, column {exc.colno}: "
                    f"{exc.msg}. Each line must be one complete JSON object; fix or delete that line"
                ) from None
            if not isinstance(rec, dict):
                raise DataError(
                    f"{path}:{lineno}: line {lineno} holds a JSON {type(rec).__name__}, expected an object "
                    'like {"prompt": ..., "response": ...}'
                )
            records.append(rec)
            lines.append(lineno)
    return records_to_dataset(records, source=str(path), line_numbers=lines)
