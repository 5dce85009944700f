"""Recipe: one YAML file that drives ``domainft train`` and ``domainft evaluate``.

Its top-level sections are the components' config dataclasses.

Examples:
    >>> from domainft.recipe import Recipe
    >>> recipe = Recipe.from_dict({"model": {"name_or_path": "runs/tiny", "quantization": None}})
    >>> recipe.training.num_train_epochs
    3.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from domainft.configuration import ConfigBase
from domainft.data.config import DataConfig
from domainft.evaluation.config import EvaluationConfig
from domainft.models.adapters import AdapterConfig
from domainft.models.loading import ModelConfig
from domainft.training.config import TrainingConfig


@dataclass
class Recipe(ConfigBase):
    """``data``, ``model``, ``adapter``, ``training`` and ``evaluation`` sections of a run."""

    data: DataConfig = field(default_factory=DataConfig, metadata={"help": "Where the examples come from."})
    model: ModelConfig = field(default_factory=ModelConfig, metadata={"help": "Base model and quantization."})
    adapter: AdapterConfig = field(default_factory=AdapterConfig, metadata={"help": "LoRA settings."})
    training: TrainingConfig = field(
        default_factory=TrainingConfig, metadata={"help": "Optimisation settings."}
    )
    evaluation: EvaluationConfig = field(
        default_factory=EvaluationConfig, metadata={"help": "Metrics and decoding."}
    )

    @property
    def run_dir(self) -> Path:
        return Path(self.training.output_dir)

    @property
    def adapter_dir(self) -> Path:
        return self.run_dir / "adapter"

    @property
    def eval_dir(self) -> Path:
        return Path(self.evaluation.output_dir) if self.evaluation.output_dir else self.run_dir / "eval"

    def resolve_paths(self, base: str | Path) -> Recipe:
        """Resolve relative data, model and fact-set paths against ``base`` (the recipe's folder) if there."""
        base = Path(base)
        sections: list[tuple[object, str]] = [(self.data, "path"), (self.model, "name_or_path")]
        if self.evaluation.knowledge is not None:
            sections.append((self.evaluation.knowledge, "facts"))
        for section, attr in sections:
            value = getattr(section, attr)
            if value and not value.startswith("builtin:") and not Path(value).is_absolute():
                candidate = base / value
                if candidate.exists() and not Path(value).exists():
                    setattr(section, attr, str(candidate))
        return self
