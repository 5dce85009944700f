"""Versions of the libraries a run depends on, recorded in manifests."""

from __future__ import annotations

import platform
from importlib import metadata

TRACKED_PACKAGES = (
    "domainft",
    "torch",
    "transformers",
    "peft",
    "accelerate",
    "datasets",
    "bitsandbytes",
    "trl",
)


def library_versions() -> dict[str, str | None]:
    """``{package: version or None}`` for :data:`TRACKED_PACKAGES`, plus ``python``.

    Examples:
        >>> library_versions()["python"].count(".")
        2
    """
    versions: dict[str, str | None] = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["python"] = platform.python_version()
    return versions
