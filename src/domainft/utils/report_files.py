"""Saving and loading a report folder: a JSON file of findings beside the PNG charts it names, and the
HTML pieces the report pages share (escaped text, embedded charts).

Used by the dataset report and the layer report, whose ``to_dict()`` lists their charts as
``{"images": {name: "name.png"}}`` and whose ``images`` attribute holds the PNG bytes.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from domainft.errors import DataError, DataFileNotFoundError
from domainft.utils.io import atomic_write_bytes, read_json

R = TypeVar("R")


def write_images(directory: Path, images: Mapping[str, bytes], known: Iterable[str]) -> None:
    """Write ``images`` as ``<name>.png`` and remove the charts of ``known`` an earlier save left behind."""
    for name in known:
        if name not in images:
            (directory / f"{name}.png").unlink(missing_ok=True)
    for name, png in images.items():
        atomic_write_bytes(directory / f"{name}.png", png)


def load_report(cls: type[R], directory: str | Path, file_name: str, what: str) -> R:
    """``cls.from_dict`` of ``directory/file_name``, with the PNGs it names read into ``images``.

    A missing file raises ``DataFileNotFoundError`` asking whether ``directory`` is a saved ``what``;
    a malformed one a ``DataError`` naming the file.
    """
    directory = Path(directory)
    path = directory / file_name
    if not path.is_file():
        raise DataFileNotFoundError(f"{path} does not exist; is {directory} a saved {what}?")
    data = read_json(path, DataError)
    try:
        report: Any = cls.from_dict(data)  # type: ignore[attr-defined]
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    for name, png_name in dict(data.get("images") or {}).items():
        png = directory / png_name
        if png.is_file():
            report.images[name] = png.read_bytes()
    return report


def escape(value: Any) -> str:
    """``value`` as HTML text (None as empty), quotes escaped too."""
    return html.escape("" if value is None else str(value), quote=True)


def img_tag(png: bytes | None, alt: str) -> str:
    """A paragraph with ``png`` embedded as a data URI; empty without a chart."""
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f"<p><img alt='{escape(alt)}' src='data:image/png;base64,{data}'></p>"
