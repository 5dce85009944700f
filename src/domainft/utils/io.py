"""Atomic file writes: a crash never leaves a truncated report, manifest or cache file."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


@contextmanager
def atomic_directory(path: str | Path, *, replaces: str | None = None, where: str = "") -> Iterator[Path]:
    """Fill a hidden staging folder beside ``path``; on success it replaces ``path`` in one rename.

    A crash or an exception inside the block leaves ``path`` as it was (an older complete folder, or
    nothing) and removes the staging folder. With ``replaces`` (a file name such as
    ``adapter_config.json``), a file at ``path`` or a non-empty folder without that file is refused
    with a ``ConfigError`` (naming ``where``) instead of being replaced.

    Examples:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "adapter"
        >>> with atomic_directory(out) as staging:
        ...     _ = (staging / "weights.bin").write_bytes(b"1")
        >>> sorted(p.name for p in out.parent.iterdir()), (out / "weights.bin").read_bytes()
        (['adapter'], b'1')
    """
    path = Path(path)
    if replaces is not None and (
        path.is_file() or (path.is_dir() and any(path.iterdir()) and not (path / replaces).is_file())
    ):
        from domainft.errors import ConfigError

        raise ConfigError(
            f"{where}: {path} exists and holds no {replaces}; saving would replace it. "
            "Choose a new or empty folder"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.staging-", dir=path.parent))
    try:
        yield staging
        if path.is_dir() and any(path.iterdir()):
            trash = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
            path.replace(trash / path.name)
            staging.replace(path)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            if path.is_dir():
                path.rmdir()
            staging.replace(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def read_json(path: str | Path, error: type[Exception] = ValueError, *, mapping: bool = False) -> Any:
    """The JSON value in ``path``; invalid JSON raises ``error`` naming ``file:line:column``.

    ``mapping=True`` also requires a JSON object. ``error`` is the caller's exception class
    (``DataError`` for data, ``ModelError`` for model files, ``ConfigError`` for configs).

    Examples:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "bad.json"
        >>> _ = path.write_text('{"a": 1,}')
        >>> read_json(path)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: .../bad.json:1:9: invalid JSON: Expecting property name enclosed in double quotes
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise error(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if mapping and not isinstance(data, dict):
        raise error(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def read_jsonl(path: str | Path, error: type[Exception] = ValueError) -> list[Any]:
    r"""The values of a JSON Lines file (blank lines skipped); a bad line raises ``error`` naming
    ``file:line:column``.

    Examples:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "rows.jsonl"
        >>> _ = path.write_text('{"a": 1}\n\n{"a": 2}\n')
        >>> read_jsonl(path)
        [{'a': 1}, {'a': 2}]
    """
    path = Path(path)
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise error(f"{path}:{lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    return rows


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def atomic_write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> Path:
    text = "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in rows)
    return atomic_write_text(path, text)
