"""A small name -> object registry used for formats, templates, metrics and presets.

Examples:
    >>> from domainft.registry import Registry
    >>> colours = Registry("colour")
    >>> @colours.register("red")
    ... def red():
    ...     return "#f00"
    >>> colours.get("red")()
    '#f00'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from domainft.configuration import did_you_mean
from domainft.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects; unknown names raise a ``ConfigError`` listing the known ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, obj: T | None = None, *, overwrite: bool = False) -> Callable[[T], T] | T:
        """Register ``obj`` under ``name``; usable directly or as a decorator."""

        def _add(item: T) -> T:
            key = name.lower()
            if key in self._items and not overwrite:
                raise ConfigError(
                    f"{self.kind} {name!r} is already registered; pass overwrite=True to replace it"
                )
            self._items[key] = item
            return item

        return _add(obj) if obj is not None else _add

    def get(self, name: str) -> T:
        try:
            return self._items[name.lower()]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "(none)"
            raise ConfigError(
                f"unknown {self.kind} {name!r}; known: {known}.{did_you_mean(name, self._items)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def names(self) -> list[str]:
        return sorted(self._items)
