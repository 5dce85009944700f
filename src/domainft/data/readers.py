"""File readers, keyed by reader name, and the ``register_reader`` extension point.

Built-in readers: ``csv``, ``tsv``, ``json`` (one array of objects), ``jsonl`` (one object per line),
``parquet`` and ``xlsx`` (ticket exports; the first sheet unless ``sheet=`` is given). The reader is
taken from the file suffix unless given explicitly. A folder written by ``Dataset.save_to_disk`` or
``DatasetDict.save_to_disk`` is read with ``datasets.load_from_disk``. A path written ``builtin:NAME``
reads a dataset shipped with domainft (see :mod:`domainft.data.samples`).

Text files must be UTF-8 (a byte-order mark is allowed); other bytes raise ``DataError`` naming the
file, line and column of the first bad byte.

Examples:
    >>> import json, tempfile, pathlib
    >>> from domainft.data.readers import read_records
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "faq.jsonl"
    >>> _ = path.write_text(json.dumps({"question": "Oil?", "answer": "Every 500 h."}) + "\\n")
    >>> read_records(path).column_names
    ['question', 'answer']

Adding a reader: it takes a ``Path`` (plus any keyword options) and returns a ``datasets.Dataset``, a
``pandas.DataFrame`` or a list of dicts::

    >>> from domainft.data.readers import register_reader
    >>> @register_reader("pipes-demo", suffixes=[".pipesdemo"])
    ... def read_pipes(path):
    ...     lines = path.read_text().splitlines()
    ...     return [dict(zip(("prompt", "response"), line.split("|"))) for line in lines]
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domainft.errors import ConfigError, DataError, DataFileNotFoundError
from domainft.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    import datasets

Reader = Callable[..., Any]

READERS: Registry[Reader] = Registry("file reader")
_SUFFIXES: dict[str, str] = {}  # ".jsonl" -> "jsonl"
SAVED_DATASET_MARKERS = ("dataset_dict.json", "dataset_info.json", "state.json")


def register_reader(
    name: str, suffixes: Sequence[str] | None = None, *, overwrite: bool = False
) -> Callable[[Reader], Reader]:
    """Decorator registering a reader ``fn(path: Path, **options) -> Dataset | DataFrame | list[dict]``.

    ``suffixes`` (e.g. ``[".xml"]``) let :func:`read_records` pick the reader from the file name.

    Examples:
        >>> from domainft.data.readers import register_reader, known_readers
        >>> @register_reader("lines-demo", suffixes=[".linesdemo"])
        ... def read_lines(path):
        ...     return [{"prompt": line, "response": line} for line in path.read_text().splitlines()]
        >>> "lines-demo" in known_readers()
        True
    """
    normalised = [_normalise_suffix(s) for s in (suffixes or [])]
    if not overwrite:
        taken = [s for s in normalised if s in _SUFFIXES and _SUFFIXES[s] != name.lower()]
        if taken:
            raise ConfigError(
                f"suffix {taken[0]!r} already belongs to reader {_SUFFIXES[taken[0]]!r}; "
                "pass overwrite=True to replace it"
            )

    def _decorate(fn: Reader) -> Reader:
        READERS.register(name, fn, overwrite=overwrite)
        for suffix in normalised:
            _SUFFIXES[suffix] = name.lower()
        return fn

    return _decorate


def known_readers() -> list[str]:
    """Names of all registered file readers."""
    return READERS.names()


def known_suffixes() -> dict[str, str]:
    """Mapping of file suffix to reader name."""
    return dict(sorted(_SUFFIXES.items()))


def reader_for_path(path: str | Path) -> str:
    """The reader registered for the suffix of ``path``; ``DataError`` when none matches."""
    name = Path(path).name.lower()
    # longest suffix first so that ".jsonl.gz"-style compound suffixes can be registered
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    suffixes = ", ".join(f"{s} ({f})" for s, f in known_suffixes().items())
    raise DataError(
        f"{path}: cannot tell the file type from its name. Known suffixes: {suffixes}. "
        f"Pass reader= one of {', '.join(known_readers())}, or add one with register_reader()."
    )


def is_saved_dataset(path: str | Path) -> bool:
    """True for a folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    path = Path(path)
    return path.is_dir() and any((path / marker).is_file() for marker in SAVED_DATASET_MARKERS)


def load_saved(path: str | Path) -> datasets.Dataset | datasets.DatasetDict:
    """``datasets.load_from_disk`` with a clear error for a folder that is not a saved dataset."""
    import datasets as hf

    path = Path(path)
    if not is_saved_dataset(path):
        raise DataError(
            f"{path}: not a folder written by save_to_disk (none of {', '.join(SAVED_DATASET_MARKERS)} "
            "found); pass a data file, or a documents folder to DatasetBuilder.from_documents"
        )
    try:
        return hf.load_from_disk(str(path))
    except Exception as exc:  # a damaged folder: name it
        raise DataError(f"{path}: cannot load the saved dataset: {type(exc).__name__}: {exc}") from exc


def read_records(path: str | Path, reader: str | None = None, **options: Any) -> datasets.Dataset:
    """Read a data file into a ``datasets.Dataset`` (one row per record).

    ``path`` may be ``builtin:NAME`` for a dataset shipped with domainft. ``options`` go to the reader
    (e.g. ``sheet="Tickets"`` for xlsx). Raises ``DataFileNotFoundError`` for a missing file and
    ``DataError`` (naming file, line and column where known) for malformed content, non-UTF-8 bytes
    or a file without records.
    """
    path = _resolve(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.exists() else "does not exist"
        raise DataFileNotFoundError(f"data file not found: {path} {what}")
    name = reader.lower() if reader is not None else reader_for_path(path)
    fn = READERS.get(name)
    if path.stat().st_size == 0:
        raise DataError(
            f"{path}: the file is empty (0 bytes); expected records to read as {name}. Check that the path "
            "names the right file and that the export that wrote it finished"
        )
    try:
        result = fn(path, **options)
    except (DataError, DataFileNotFoundError):
        raise
    except TypeError as exc:
        if options and "unexpected keyword" in str(exc):
            raise ConfigError(f"reader {name!r} does not take option(s) {sorted(options)}: {exc}") from None
        raise DataError(f"{path}: cannot read as {name}: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # a third-party parser failed: say which file and reader
        raise DataError(f"{path}: cannot read as {name}: {type(exc).__name__}: {exc}") from exc
    ds = _to_dataset(result, path)
    if ds.num_rows == 0:
        raise DataError(f"{path}: no records found (read as {name}); check that the file is not empty")
    return ds


def read_text(path: Path, encoding: str = "utf-8", *, encoding_fix: str | None = None) -> str:
    """The text of ``path``; undecodable bytes raise ``DataError`` naming the line and column (characters).

    ``encoding_fix`` is how the caller's user passes an encoding (a format string with ``{encoding}``);
    by default the readers' ``reader_options``.

    Examples:
        >>> import tempfile, pathlib
        >>> bad = pathlib.Path(tempfile.mkdtemp()) / "bad.csv"
        >>> _ = bad.write_bytes(b"prompt,response\\nCaf\\xe9,ok\\n")
        >>> try:
        ...     read_text(bad)
        ... except Exception as exc:
        ...     print(str(exc).split(": ", 1)[1][:46])
        line 2, column 4: byte 0xe9 is not valid utf-8
    """
    raw = path.read_bytes()
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    offset = 3 if utf8 and raw.startswith(b"\xef\xbb\xbf") else 0  # a byte-order mark is allowed
    if utf8:
        _check_text_bytes(path, raw, encoding_fix)
    try:
        return raw[offset:].decode(encoding)
    except UnicodeDecodeError as exc:
        start = exc.start + offset
        line = raw.count(b"\n", 0, start) + 1
        line_start = max(raw.rfind(b"\n", 0, start) + 1, offset)
        column = len(raw[line_start:start].decode(encoding, errors="replace")) + 1  # in characters
        raise DataError(
            f"{path}:{line}:{column}: line {line}, column {column}: byte 0x{raw[start]:02x} is not valid "
            f"{encoding} ({exc.reason}). Re-save the file as UTF-8, or give its encoding if you know it: "
            f"{(encoding_fix or _ENCODING_FIX).format(encoding='cp1252')}"
        ) from None


#: How to pass a file's encoding to the readers, in the API and in a recipe.
_ENCODING_FIX = (
    "reader_options={{'encoding': '{encoding}'}} (DatasetBuilder.from_file) or data.reader_options: "
    "{{encoding: {encoding}}} (a recipe)"
)
_UNICODE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def _check_text_bytes(path: Path, raw: bytes, encoding_fix: str | None = None) -> None:
    """Raise ``DataError`` for a UTF-16/32 file (by its byte-order mark) or a binary file (NUL bytes),
    which would otherwise fail as a confusing "invalid byte" deep into the file."""
    for bom, name in _UNICODE_BOMS:
        if raw.startswith(bom):
            raise DataError(
                f"{path}:1:1: the file is {name.upper()} text (it starts with a {name.upper()} byte-order "
                "mark), not UTF-8. Re-save it as UTF-8, or read it as it is with "
                f"{(encoding_fix or _ENCODING_FIX).format(encoding=name)}"
            )
    nul = raw.find(b"\x00", 0, 8192)
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise DataError(
            f"{path}:{line}: the file holds NUL bytes: it is a binary file (an archive, a spreadsheet, an "
            "image...), not text. Give the data file itself (csv, tsv, json, jsonl, parquet, xlsx), or "
            "pass reader= naming the reader for its real format"
        )


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


def _read_delimited(path: Path, sep: str, encoding: str) -> Any:
    import pandas as pd

    text = read_text(path, encoding)
    if not text.strip():
        raise DataError(f"{path}: the file holds only whitespace; expected a header row and records")
    _check_quoting(path, text, sep)
    # Only empty cells are missing values: a response reading "NA" or "None" stays text.
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as exc:
        raise DataError(
            f"{path}: malformed {'CSV' if sep == ',' else 'TSV'}: {exc}. Check quoting and the number of "
            "fields on that line"
        ) from None


def _check_quoting(path: Path, text: str, sep: str) -> None:
    """Raise ``DataError`` naming the line of a quote that never closes, stray text after a closing
    quote, or a last record cut short (a truncated file); pandas would silently merge such lines."""
    import csv

    kind = "CSV" if sep == "," else "TSV"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    width: int | None = None
    start, fields = 1, 0
    try:
        for row in reader:
            width = len(row) if width is None else width
            if row:
                fields = len(row)
            start = reader.line_num + 1
    except csv.Error as exc:
        line = reader.line_num
        if "unexpected end of data" in str(exc) or line > start:
            raise DataError(
                f"{path}:{start}: malformed {kind}: the quote opened in the record on line {start} is not "
                f"closed where it should be (the field runs on to line {line}: {exc}). Close the quote, "
                'or double a quote that is part of the text (""); a file cut short ends like this too'
            ) from None
        raise DataError(
            f"{path}:{line}: malformed {kind} on line {line}: {exc}. A quoted field must end with the quote "
            f"followed by {'a comma' if sep == ',' else 'a tab'} or the end of the line; double a quote "
            'that is part of the text ("")'
        ) from None
    last = reader.line_num
    if width is not None and 0 < fields < width and not text.endswith(("\n", "\r")):
        raise DataError(
            f"{path}:{last}: the last record has {fields} field(s) where the header has {width} and the "
            "file does not end with a newline: it looks truncated. Export the file again, or delete the "
            "incomplete last line"
        )


@register_reader("csv", suffixes=[".csv"])
def read_csv(path: Path, encoding: str = "utf-8") -> Any:
    """Comma-separated values with a header row."""
    return _read_delimited(path, ",", encoding)


@register_reader("tsv", suffixes=[".tsv", ".tab"])
def read_tsv(path: Path, encoding: str = "utf-8") -> Any:
    """Tab-separated values with a header row."""
    return _read_delimited(path, "\t", encoding)


@register_reader("xlsx", suffixes=[".xlsx", ".xlsm"])
def read_xlsx(path: Path, sheet: str | int = 0, header: int = 0) -> Any:
    """An Excel workbook (openpyxl): one sheet (``sheet`` = name or 0-based index), one header row.

    Dates become ISO-8601 text so they survive JSON export; only empty cells are missing values.
    """
    import pandas as pd

    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:
        raise DataError(f"{path}: not a readable .xlsx workbook: {type(exc).__name__}: {exc}") from None
    names = list(book.sheet_names)
    known = sheet in names if isinstance(sheet, str) else 0 <= sheet < len(names)
    if not known:
        raise DataError(f"{path}: no sheet {sheet!r}; the workbook has sheets {names}")
    frame = book.parse(sheet, header=header, keep_default_na=False, na_values=[""])
    frame = frame.dropna(how="all")  # trailing formatted-but-empty rows of exported sheets
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            text = frame[column].map(lambda v: None if pd.isna(v) else v.isoformat())
            frame[column] = text.astype(object)
    return frame


@register_reader("parquet", suffixes=[".parquet", ".pq"])
def read_parquet(path: Path) -> Any:
    """Apache Parquet, read in memory with pyarrow (no cache files)."""
    import datasets
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise DataError(f"{path}: not a readable Parquet file: {exc}") from exc
    return datasets.Dataset(datasets.table.InMemoryTable(table))


@register_reader("json", suffixes=[".json"])
def read_json(path: Path, encoding: str = "utf-8") -> Any:
    """A JSON array of objects: ``[{"prompt": ..., "response": ...}, ...]``."""
    text = read_text(path, encoding)
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


def jsonl_objects(
    path: Path, encoding: str = "utf-8", example: str = '{"prompt": ..., "response": ...}'
) -> list[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` of each non-blank line of a JSON Lines file; a line that is not a JSON
    object raises ``DataError`` naming ``file:line:column`` and the fix (``example`` shows an object)."""
    found: list[tuple[int, dict[str, Any]]] = []
    # split on newlines only: JSON strings may hold U+2028, which str.splitlines() would break on
    for lineno, line in enumerate(read_text(path, encoding).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path}:{lineno}:{exc.colno}: invalid JSON on line {lineno}, column {exc.colno}: "
                f"{exc.msg}. Each line must be one complete JSON object such as {example}; fix or delete "
                "that line"
            ) from None
        if not isinstance(rec, dict):
            raise DataError(
                f"{path}:{lineno}: line {lineno} holds a JSON {type(rec).__name__}, expected an object "
                f"like {example}"
            )
        found.append((lineno, rec))
    return found


@register_reader("jsonl", suffixes=[".jsonl", ".ndjson"])
def read_jsonl(path: Path, encoding: str = "utf-8") -> Any:
    """JSON Lines: one object per line; blank lines are skipped."""
    found = jsonl_objects(path, encoding)
    lines = [lineno for lineno, _ in found]
    records = [rec for _, rec in found]
    return records_to_dataset(records, source=str(path), line_numbers=lines)
