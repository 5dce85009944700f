"""Datasets shipped inside the package, addressed as ``builtin:NAME``.

They live in ``domainft/data/resources/NAME.jsonl``.

Examples:
    >>> from domainft.data.samples import builtin_path, available_builtins
    >>> "machinery_tickets" in available_builtins()
    True
    >>> builtin_path("builtin:machinery_tickets").name
    'machinery_tickets.jsonl'
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from domainft.errors import DataError

PREFIX = "builtin:"
_SUFFIX = ".jsonl"


def _resource_dir() -> Path:
    return Path(str(resources.files("domainft.data") / "resources"))


def available_builtins() -> list[str]:
    """Names of the datasets shipped with domainft."""
    folder = _resource_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(_SUFFIX)] for p in folder.iterdir() if p.name.endswith(_SUFFIX))


def builtin_path(name: str) -> Path:
    """Path of the shipped dataset ``NAME`` (written ``builtin:NAME`` or ``NAME``)."""
    key = name[len(PREFIX) :] if name.startswith(PREFIX) else name
    key = key.strip()
    if key.endswith(_SUFFIX):
        key = key[: -len(_SUFFIX)]
    path = _resource_dir() / f"{key}{_SUFFIX}"
    if not key or "/" in key or "\\" in key or not path.is_file():
        available = ", ".join(available_builtins()) or "(none)"
        raise DataError(f"unknown built-in dataset {name!r}; available: {available}")
    return path
