"""``DataConfig``: the ``data:`` section of a recipe, consumed by ``DatasetBuilder.from_config``.

Example:
    >>> from domainft.data.config import DataConfig
    >>> cfg = DataConfig(path="builtin:machinery_tickets",
    ...                  columns={"prompt": "Machine: {machine_type}. Problem: {problem}",
    ...                           "response": "solution"},
    ...                  stratify="length")
    >>> DataConfig.from_dict(cfg.to_dict()) == cfg
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domainft.configuration import ConfigBase, config_field
from domainft.data.splitting import check_fractions
from domainft.errors import ConfigError


@dataclass
class DataConfig(ConfigBase):
    """Where the data is, how its columns map to ``prompt``/``response``, cleaning and splitting."""

    path: str | None = config_field(
        None, help="Data file (csv, tsv, json, jsonl, parquet, or a registered format), or builtin:NAME."
    )
    format: str | None = config_field(None, help="Format name; None infers it from the file suffix.")
    columns: dict[str, str] = config_field(
        {},
        help="Canonical column -> source column, or a format string over the row such as "
        "'Machine: {machine_type}. Problem: {problem}'.",
    )
    clean: bool = config_field(
        True, help="Normalise whitespace, drop rows with an empty prompt/response and exact duplicates."
    )
    validation: float = config_field(0.1, help="Fraction of rows for the validation split, in [0, 1).")
    test: float = config_field(0.1, help="Fraction of rows for the test split, in [0, 1).")
    stratify: Literal["length"] | None = config_field(
        None,
        help="'length' keeps the response-length distribution equal across splits; None splits at random.",
    )
    seed: int = config_field(42, help="Random seed of the split.")
    max_samples: int | None = config_field(
        None, help="Keep only the first N records after loading (None keeps all)."
    )

    def validate(self) -> None:
        where = type(self).__name__
        if self.path is not None and not self.path.strip():
            raise ConfigError(f"{where}.path: expected a file path or builtin:NAME, got {self.path!r}")
        if self.format is not None:
            from domainft.data.formats import known_formats

            if self.format.lower() not in known_formats():
                raise ConfigError(
                    f"{where}.format: unknown format {self.format!r}; known: {', '.join(known_formats())} "
                    "(register more with domainft.register_format), or null to infer it from the suffix"
                )
        for key, value in self.columns.items():
            if not key:
                raise ConfigError(f"{where}.columns: keys must be non-empty column names, got {key!r}")
            if not value:
                raise ConfigError(
                    f"{where}.columns.{key}: expected a source column name or a format string, got {value!r}"
                )
        check_fractions(self.validation, self.test, where=where)
        if self.max_samples is not None and self.max_samples < 1:
            raise ConfigError(
                f"{where}.max_samples: expected a positive integer or null, got {self.max_samples!r}"
            )
