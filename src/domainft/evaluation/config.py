"""Evaluation settings: which metrics, how to decode (``DecodingConfig``), where to write the report."""

from __future__ import annotations

from dataclasses import dataclass

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError
from domainft.evaluation.stats import StatisticsConfig
from domainft.models.generation import DecodingConfig


@dataclass
class EvaluationConfig(ConfigBase):
    """What the Evaluator measures and where the report goes."""

    metrics: list[str] = config_field(["rouge", "bleu"], help="Registered metric names.")
    decoding: DecodingConfig = config_field(DecodingConfig(), help="Generation settings.")
    max_samples: int | None = config_field(None, help="Evaluate on the first N test examples only.")
    template: str | None = config_field(
        None, help="Prompt template; null = training.template in a recipe, else chat (alpaca if none)."
    )
    system_prompt: str | None = config_field(None, help="System message rendered before every prompt.")
    output_dir: str | None = config_field(None, help="Report folder (default: <training.output_dir>/eval).")
    split: str = config_field("test", help="Dataset split to evaluate on.")
    statistics: StatisticsConfig = config_field(
        StatisticsConfig(), help="Bootstrap confidence intervals and paired tests between systems."
    )

    def validate(self) -> None:
        if not self.metrics:
            raise ConfigError("EvaluationConfig.metrics must name at least one metric")
        self.require_positive("max_samples")
