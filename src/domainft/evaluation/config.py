"""Evaluation settings: which metrics, how to decode (``DecodingConfig``), where to write the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError
from domainft.evaluation.judges.config import JudgeConfig
from domainft.evaluation.knowledge.config import KnowledgeConfig
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
    metric_options: dict[str, dict[str, Any]] = config_field(
        {},
        help="Constructor arguments per metric name, e.g. {patterns: {rules: [...]}, "
        "semantic_similarity: {model: path}, rouge: {measures: [f, p, r]}}.",
    )
    judge: JudgeConfig | None = config_field(
        None, help="LLM judge (docs/judges.md) used by the 'judge' metric and by pairwise comparisons."
    )
    pairwise: list[list[str]] = config_field(
        [],
        help="System pairs [a, b] the judge compares blind, in both orders (b against a), "
        "e.g. [[base, tuned]].",
    )
    perplexity: bool = config_field(
        True, help="Also report the perplexity of the references under local models."
    )
    cache_dir: str | None = config_field(
        None,
        help="Folder of the generation cache (answers reused by system, prompt and decoding); "
        "recipes default to <training.output_dir>/generation_cache.",
    )
    knowledge: KnowledgeConfig | None = config_field(
        None,
        help="Knowledge probes (docs/knowledge.md): a fact set asked closed-book to every system, with "
        "paraphrases not in the training data; results in metrics.json and the report's knowledge section.",
    )

    def validate(self) -> None:
        if not self.metrics:
            raise ConfigError("EvaluationConfig.metrics must name at least one metric")
        self.require_positive("max_samples")
        for pair in self.pairwise:
            if len(pair) != 2 or pair[0] == pair[1]:
                raise ConfigError(
                    f"EvaluationConfig.pairwise: each entry is [a, b] with two systems, got {pair}"
                )
        if self.knowledge is not None and self.knowledge.judge and self.judge is None:
            raise ConfigError(
                "EvaluationConfig.knowledge.judge is on but EvaluationConfig.judge is not set: configure the "
                "judge that checks free-form answers, or set knowledge.judge: false"
            )
        if self.pairwise and self.judge is None:
            raise ConfigError(
                "EvaluationConfig.pairwise needs EvaluationConfig.judge (the judge that compares)"
            )
