"""Base class of every config dataclass: validation of types, dict/YAML/JSON round trips.

Examples:
    >>> from dataclasses import dataclass, field
    >>> from domainft.configuration import ConfigBase
    >>> @dataclass
    ... class Demo(ConfigBase):
    ...     steps: int = field(default=10, metadata={"help": "Number of steps."})
    >>> Demo.from_dict({"steps": 3}).steps
    3
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import json
import os
import types
import typing
from pathlib import Path, PurePath
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from domainft.errors import ConfigError, DataFileNotFoundError

C = TypeVar("C", bound="ConfigBase")


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def did_you_mean(name: Any, choices: Any) -> str:
    """`` Did you mean 'x'?`` for the closest of ``choices`` to ``name``, or an empty string.

    Examples:
        >>> did_you_mean("atention", ["attention", "mlp"])
        " Did you mean 'attention'?"
    """
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, [str(c) for c in choices if c is not None], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _number_text_hint(value: Any) -> str:
    """A hint for a number written as text, such as YAML's ``1e-4`` (read as a string by YAML 1.1)."""
    if not isinstance(value, str):
        return ""
    try:
        float(value)
    except ValueError:
        return ""
    return (
        f" (a number written as text: YAML reads {value} as a string; write it with a decimal point "
        "and a signed exponent, e.g. 1.0e-4, or without quotes)"
    )


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in get_args(tp))
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp``; build nested configs from dicts."""
    if tp is Any:
        return value
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        nested = [o for o in options if isinstance(o, type) and issubclass(o, ConfigBase)]
        if isinstance(value, dict) and len(nested) == 1:  # an optional section: report its own error
            return _coerce(value, nested[0], where)
        for option in options:
            try:
                return _coerce(value, option, where)
            except ConfigError:
                continue
        if all(get_origin(o) is Literal or o is type(None) for o in options):
            choices = [a for o in options for a in (get_args(o) or (None,))]
            raise ConfigError(
                f"{where}: expected one of {_type_name(tp)}, got {value!r}.{did_you_mean(value, choices)}"
            )
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    if origin is Literal:
        if value in get_args(tp):
            return value
        hint = did_you_mean(value, get_args(tp))
        raise ConfigError(f"{where}: expected one of {_type_name(tp)}, got {value!r}.{hint}")
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}: expected null, got {value!r}")
    if origin in (list, tuple, typing.Sequence):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item_tp, *_) = get_args(tp) or (Any,)
        return [_coerce(v, item_tp, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        key_tp, val_tp = get_args(tp) or (Any, Any)
        return {_coerce(k, key_tp, where): _coerce(v, val_tp, f"{where}.{k}") for k, v in value.items()}
    if isinstance(tp, type) and issubclass(tp, ConfigBase):
        if isinstance(value, tp):
            return value
        if isinstance(value, dict):
            return tp.from_dict(value, _where=where)
        raise ConfigError(f"{where}: expected a mapping of {tp.__name__} fields, got {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r}{_number_text_hint(value)}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected an integer, got {value!r}{_number_text_hint(value)}")
    if tp is str:
        if isinstance(value, PurePath):
            return str(value)
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


@dataclasses.dataclass
class ConfigBase:
    """Base of config dataclasses: typed fields, ``from_dict``/``to_dict``, YAML and JSON files, field help.

    After construction every field is checked against its annotation (a wrong type raises a
    ``ConfigError`` naming the field), then the subclass's :meth:`validate` checks values.
    """

    def __post_init__(self) -> None:
        hints = _type_hints(type(self))
        for f in dataclasses.fields(self):
            if f.init:
                value = _coerce(getattr(self, f.name), hints[f.name], f"{type(self).__name__}.{f.name}")
                setattr(self, f.name, value)
        self.validate()

    def validate(self) -> None:
        """Check field values; subclasses raise ``ConfigError`` naming the field."""

    def require_positive(self, *names: str) -> None:
        """Raise ``ConfigError`` naming the first of ``names`` whose value is set and not > 0."""
        for name in names:
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{type(self).__name__}.{name} must be positive, got {value}")

    def require_range(
        self, name: str, low: float, high: float, *, low_open: bool = False, high_open: bool = True
    ) -> None:
        """Raise ``ConfigError`` unless ``low <= value <= high`` (ends excluded where open)."""
        value = getattr(self, name)
        too_low = value <= low if low_open else value < low
        too_high = value >= high if high_open else value > high
        if too_low or too_high:
            interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            raise ConfigError(f"{type(self).__name__}.{name} must be in {interval}, got {value}")

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any] | None, *, _where: str | None = None) -> C:
        """Build the config from a mapping, rejecting unknown keys and values of the wrong type."""
        where = cls.__name__ if _where is None else _where
        data = dict(data or {})
        hints = _type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        unknown = [k for k in data if k not in fields]
        if unknown:
            key = unknown[0]
            hint = did_you_mean(key, fields)
            raise ConfigError(
                f"{where or 'top level'}: unknown field {key!r}.{hint} "
                f"Known fields: {', '.join(sorted(fields))}"
            )
        kwargs = {
            name: _coerce(value, hints[name], f"{where}.{name}" if where else name)
            for name, value in data.items()
        }
        try:
            return cls(**kwargs)
        except ConfigError as exc:
            if _where is None or not where:
                raise
            raise ConfigError(f"{where}: {exc}") from None

    def updated(self: C, *, _where: str | None = None, **changes: Any) -> C:
        """A validated copy with ``changes`` applied (unknown names get a "did you mean" hint).

        Examples:
            >>> from domainft.models.generation import DecodingConfig
            >>> DecodingConfig(max_new_tokens=64).updated(do_sample=True).max_new_tokens
            64
        """
        return type(self).from_dict({**self.to_dict(), **changes}, _where=_where)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict of the config (JSON/YAML serialisable)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if not f.init:
                continue
            out[f.name] = _plain(getattr(self, f.name))
        return out

    @classmethod
    def field_help(cls) -> dict[str, str]:
        """The ``help`` metadata of every field."""
        return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}

    def to_yaml(self, path: str | Path | None = None) -> str:
        import yaml

        return _maybe_write(yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True), path)

    @classmethod
    def from_yaml(cls: type[C], path: str | Path) -> C:
        return cls._from_file(path)

    @classmethod
    def _from_file(cls: type[C], path: str | Path) -> C:
        try:
            return cls.from_dict(load_mapping(path), _where="")
        except ConfigError as exc:
            if str(exc).startswith(str(path)):
                raise
            raise ConfigError(f"{path}: {exc}") from None

    def to_json(self, path: str | Path | None = None) -> str:
        return _maybe_write(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), path)

    @classmethod
    def from_json(cls: type[C], path: str | Path) -> C:
        return cls._from_file(path)


def _maybe_write(text: str, path: str | Path | None) -> str:
    if path is not None:
        from domainft.utils.io import atomic_write_text

        atomic_write_text(path, text)
    return text


def _plain(value: Any) -> Any:
    if isinstance(value, ConfigBase):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def load_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON file holding a mapping, with errors naming the file and line."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise DataFileNotFoundError(f"config file not found: {path}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}:{line}: byte 0x{raw[exc.start]:02x} is not valid UTF-8; re-save the file as UTF-8 text"
        ) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}; fix the syntax at that line"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f"{mark.line + 1}:{mark.column + 1}:" if mark is not None else ""
        raise ConfigError(
            f"{path}:{loc} invalid YAML: {getattr(exc, 'problem', exc)}. Fix the syntax at that line "
            "(indentation, a missing ':' after a key, an unclosed bracket or quote)"
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of sections at the top level, got {type(data).__name__}"
        )
    return data


def config_field(default: Any = dataclasses.MISSING, help: str = "", **kwargs: Any) -> Any:
    """``dataclasses.field`` with ``help`` metadata; mutable defaults go through ``default_factory``."""
    if isinstance(default, ConfigBase):
        template = default
        kwargs["default_factory"] = lambda: copy.deepcopy(template)
        return dataclasses.field(metadata={"help": help}, **kwargs)
    if isinstance(default, (list, dict)):
        value = default
        kwargs["default_factory"] = lambda: type(value)(value)
        return dataclasses.field(metadata={"help": help}, **kwargs)
    return dataclasses.field(default=default, metadata={"help": help}, **kwargs)


def check_output_path(path: str | Path, where: str, *, kind: Literal["folder", "file"] = "folder") -> Path:
    """Raise ``ConfigError`` (naming ``where``, e.g. ``training.output_dir`` or ``--out``) unless ``path``
    can be written as a ``kind``: it is not the other kind, its nearest existing parent is a folder, and
    that folder is writable. Nothing is created; call it before any work so a bad path costs nothing.

    Examples:
        >>> import tempfile
        >>> check_output_path(Path(tempfile.mkdtemp()) / "run" / "eval", "output_dir").name
        'eval'
    """
    path = Path(path).expanduser()
    try:
        return _check_output_path(path, where, kind)
    except PermissionError as exc:  # a parent folder cannot even be searched
        raise ConfigError(
            f"{where}: cannot create {path}: {exc.strerror} ({exc.filename}). "
            f"Set {where} to a {kind} path you can write to"
        ) from None


def _check_output_path(path: Path, where: str, kind: str) -> Path:
    fix = f"Set {where} to a {kind} path you can write to"
    if kind == "folder" and path.exists() and not path.is_dir():
        raise ConfigError(f"{where}: {path} is an existing file, not a folder. {fix}, or move the file")
    if kind == "file" and path.is_dir():
        raise ConfigError(f"{where}: {path} is an existing folder, not a file. {fix} (a file name)")
    existing = path if kind == "folder" and path.is_dir() else path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(
            f"{where}: cannot create {path}: {existing} is a file, not a folder. {fix}, or move that file"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{where}: cannot create {path}: no write permission in {existing}. {fix}")
    return path
