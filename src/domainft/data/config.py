"""``DataConfig``: the ``data:`` section of a recipe, consumed by ``DatasetBuilder.from_config``.

Examples:
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
from typing import Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.data.cleaning import known_steps
from domainft.data.formats import known_formats
from domainft.data.readers import known_readers
from domainft.data.splitting import check_fractions
from domainft.errors import ConfigError


@dataclass
class DataConfig(ConfigBase):
    """Where the data is, its record format, column mapping, cleaning and splitting."""

    path: str | None = config_field(
        None,
        help="Data file (csv, tsv, json, jsonl, parquet, xlsx, or a registered reader), a save_to_disk "
        "folder, or builtin:NAME.",
    )
    reader: str | None = config_field(None, help="File reader name; None infers it from the file suffix.")
    reader_options: dict[str, Any] = config_field(
        {}, help="Options for the reader, e.g. {sheet: Tickets} for xlsx or {encoding: cp1252}."
    )
    format: str | None = config_field(
        "auto",
        help="Record format: auto (detect alpaca, sharegpt, messages, dialogue columns), a registered "
        "format name, or null to keep the columns as they are.",
    )
    format_options: dict[str, Any] = config_field(
        {}, help="Options for the record format, e.g. {assistant_speakers: [helper]} for dialogue."
    )
    columns: dict[str, str] = config_field(
        {},
        help="Canonical column -> source column, or a format string over the row such as "
        "'Machine: {machine_type}. Problem: {problem}'.",
    )
    clean: bool = config_field(
        True,
        help="Normalise text (NFKC, whitespace), drop rows with an empty prompt/response and exact "
        "duplicates.",
    )
    cleaning: list[dict[str, Any]] = config_field(
        [],
        help="Further cleaning steps after clean, in order, e.g. [{step: near_dedup, threshold: 0.85}, "
        "{step: length_outliers, column: response}].",
    )
    train: int | float | None = config_field(
        None, help="Train size: a fraction, a row count, or null for every row left after validation/test."
    )
    validation: int | float = config_field(0.1, help="Validation size: a fraction in [0, 1) or a row count.")
    test: int | float = config_field(0.1, help="Test size: a fraction in [0, 1) or a row count.")
    stratify: Literal["length"] | None = config_field(
        None,
        help="'length' keeps the response-length distribution equal across splits; None splits at random.",
    )
    group_by: str | None = config_field(
        None, help="Column whose groups (ticket, document, dialogue) must not span two splits."
    )
    split_column: str | None = config_field(
        None, help="Column naming each row's split (train/validation/test); overrides the sizes."
    )
    resplit: bool = config_field(
        False, help="Re-split a saved DatasetDict by the sizes above instead of keeping its splits."
    )
    leakage: Literal["report", "drop_train", "drop_eval"] | None = config_field(
        None, help="Near-duplicate prompts across train and validation/test: report, or drop them."
    )
    leakage_threshold: float = config_field(0.9, help="Similarity from which a pair counts as leakage.")
    seed: int = config_field(42, help="Random seed of the split.")
    max_samples: int | None = config_field(
        None, help="Keep only the first N records after loading (None keeps all)."
    )

    def validate(self) -> None:
        where = type(self).__name__
        if self.path is not None and not self.path.strip():
            raise ConfigError(f"{where}.path: expected a file path or builtin:NAME, got {self.path!r}")
        for field_name, known in (("reader", known_readers), ("format", known_formats)):
            value = getattr(self, field_name)
            if value is None or (field_name == "format" and value == "auto"):
                continue
            if value.lower() not in known():
                raise ConfigError(
                    f"{where}.{field_name}: unknown {field_name} {value!r}; known: {', '.join(known())} "
                    f"(register more with domainft.register_{field_name})"
                )
        for key, value in self.columns.items():
            if not key:
                raise ConfigError(f"{where}.columns: keys must be non-empty column names, got {key!r}")
            if not value:
                raise ConfigError(
                    f"{where}.columns.{key}: expected a source column name or a format string, got {value!r}"
                )
        for i, step in enumerate(self.cleaning):
            if "step" not in step:
                raise ConfigError(f"{where}.cleaning[{i}]: needs a 'step' key naming the cleaning step")
            if step["step"] not in known_steps():
                raise ConfigError(
                    f"{where}.cleaning[{i}].step: unknown step {step['step']!r}; "
                    f"known: {', '.join(known_steps())}"
                )
        check_fractions(self.validation, self.test, where=where, train=self.train)
        if self.max_samples is not None and self.max_samples < 1:
            raise ConfigError(
                f"{where}.max_samples: expected a positive integer or null, got {self.max_samples!r}"
            )
        self.require_range("leakage_threshold", 0.0, 1.0, low_open=True, high_open=False)
