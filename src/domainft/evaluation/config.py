"""Evaluation settings: which metrics, how to decode, where to write the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError


@dataclass
class DecodingConfig(ConfigBase):
    """Decoding settings of the generation engine (greedy by default).

    Example:
        >>> DecodingConfig(max_new_tokens=64).generate_kwargs()["do_sample"]
        False
    """

    max_new_tokens: int = config_field(128, help="Longest answer in tokens.")
    do_sample: bool = config_field(False, help="Sample instead of greedy decoding.")
    temperature: float = config_field(1.0, help="Sampling temperature (do_sample only).")
    top_p: float = config_field(1.0, help="Nucleus sampling mass (do_sample only).")
    top_k: int = config_field(50, help="Top-k sampling (do_sample only).")
    repetition_penalty: float = config_field(1.0, help="Penalty > 1 discourages repeated tokens.")
    batch_size: int = config_field(16, help="Prompts generated together (left-padded, length-sorted).")
    seed: int = config_field(0, help="Seed for sampling.")

    def validate(self) -> None:
        self.require_positive("max_new_tokens", "batch_size", "temperature", "repetition_penalty")
        self.require_range("top_p", 0, 1, low_open=True, high_open=False)

    def generate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``model.generate``."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": self.do_sample,
            "repetition_penalty": self.repetition_penalty,
        }
        if self.do_sample:
            kwargs.update(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return kwargs


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

    def validate(self) -> None:
        if not self.metrics:
            raise ConfigError("EvaluationConfig.metrics must name at least one metric")
        self.require_positive("max_samples")
