"""Evaluator: generate answers for a test set with one or more systems and score them.

Example:
    >>> from domainft import Evaluator                                    # doctest: +SKIP
    >>> report = Evaluator(metrics=["rouge", "bleu"]).compare(  # doctest: +SKIP
    ...     {"base": base_model, "tuned": peft_model}, dsd["test"], tokenizer=tok)
    >>> report.save("runs/x/eval")  # doctest: +SKIP

When a system is the base model underneath a PeftModel that is also compared (``apply`` injects
LoRA layers into the base in place), it is evaluated through that PeftModel with its adapter
switched off, so the base is never loaded twice and never silently runs with the adapter.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from domainft.data.templates import conversation_prompt_ids, prompt_ids, resolve_template_name, row_messages
from domainft.errors import ConfigError, DataError
from domainft.evaluation.config import EvaluationConfig
from domainft.evaluation.metrics import get_metric
from domainft.evaluation.report import EvaluationReport
from domainft.evaluation.stats import StatisticsConfig
from domainft.models.generation import DecodingConfig, generate_texts


@dataclass
class System:
    """A model to evaluate; ``disable_adapter=True`` runs a PeftModel as its base model."""

    model: Any
    disable_adapter: bool = False

    def context(self) -> Any:
        return self.model.disable_adapter() if self.disable_adapter else nullcontext()


def _is_peft(model: Any) -> bool:
    return hasattr(model, "disable_adapter") and hasattr(model, "get_base_model")


def resolve_systems(systems: Mapping[str, Any]) -> dict[str, System]:
    """Turn models into :class:`System` objects, routing a PeftModel's own base through the adapter switch."""
    if not systems:
        raise ConfigError("compare() needs at least one system, e.g. {'base': model}")
    peft_models = [m for m in systems.values() if not isinstance(m, System) and _is_peft(m)]
    resolved: dict[str, System] = {}
    for name, model in systems.items():
        if isinstance(model, System):
            resolved[name] = model
            continue
        owner = next((p for p in peft_models if p is not model and p.get_base_model() is model), None)
        resolved[name] = System(owner, disable_adapter=True) if owner is not None else System(model)
    return resolved


class Evaluator:
    """Scores generated answers against references with registered metrics."""

    def __init__(
        self,
        metrics: list[Any] | None = None,
        decoding: DecodingConfig | dict[str, Any] | None = None,
        *,
        config: EvaluationConfig | None = None,
        template: str | None = None,
        system_prompt: str | None = None,
        max_samples: int | None = None,
        progress: bool = True,
        statistics: StatisticsConfig | dict[str, Any] | None = None,
    ) -> None:
        config = config or EvaluationConfig()
        if isinstance(decoding, dict):
            decoding = DecodingConfig.from_dict(decoding)
        if isinstance(statistics, dict):
            statistics = StatisticsConfig.from_dict(statistics)
        elif statistics is not None and not isinstance(statistics, StatisticsConfig):
            raise ConfigError(
                f"Evaluator(statistics=...) expects a StatisticsConfig or a dict of its fields, "
                f"got {type(statistics).__name__}"
            )
        self.statistics: StatisticsConfig = statistics or config.statistics
        self.config = config
        self.metrics = [get_metric(m) for m in (metrics if metrics is not None else config.metrics)]
        names = [m.name for m in self.metrics]
        clashes = sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise ConfigError(
                f"metrics {clashes} are given more than once; their results would overwrite each other. "
                "Give each metric instance a distinct name"
            )
        self.decoding = decoding or config.decoding
        self.template = template if template is not None else config.template
        self.system_prompt = system_prompt if system_prompt is not None else config.system_prompt
        self.max_samples = max_samples if max_samples is not None else config.max_samples
        self.progress = progress

    @classmethod
    def from_config(cls, config: EvaluationConfig, **kwargs: Any) -> Evaluator:
        return cls(config=config, **kwargs)

    @staticmethod
    def base_of(peft_model: Any) -> System:
        """The base model of ``peft_model``, run with its adapter switched off."""
        if not _is_peft(peft_model):
            raise ConfigError(
                "Evaluator.base_of expects a PeftModel (the result of LoraAdapterFactory.apply)"
            )
        return System(peft_model, disable_adapter=True)

    def _rows(self, dataset: Any) -> tuple[list[str], list[str], list[str], list[Any]]:
        rows = list(dataset) if not isinstance(dataset, list) else dataset
        if self.max_samples is not None:
            rows = rows[: self.max_samples]
        if not rows:
            raise DataError("the evaluation dataset is empty; check the split (e.g. test fraction > 0)")
        missing = [c for c in ("prompt", "response") if c not in rows[0]]
        if missing:
            raise DataError(
                f"the evaluation dataset lacks column(s) {missing}; found {sorted(rows[0])}. "
                "Map yours with DatasetBuilder.with_columns(prompt=..., response=...)"
            )
        ids = [str(r.get("id", i)) for i, r in enumerate(rows)]
        # a multi-turn row is answered with its whole history, as it was trained
        history = [row_messages(r)[:-1] if r.get("messages") else None for r in rows]
        return ids, [r["prompt"] for r in rows], [r["response"] for r in rows], history

    def _contexts(self, dataset: Any) -> list[list[str]] | None:
        """The ``contexts`` column (a list of passages per example, for RAGAS), or None without one."""
        rows = list(dataset) if not isinstance(dataset, list) else dataset
        if self.max_samples is not None:
            rows = rows[: self.max_samples]
        if not rows or "contexts" not in rows[0]:
            return None
        contexts = []
        for i, row in enumerate(rows):
            value = row.get("contexts")
            value = [] if value is None else ([value] if isinstance(value, str) else value)
            if not isinstance(value, (list, tuple)) or not all(isinstance(c, str) for c in value):
                raise DataError(
                    f"evaluation dataset row {i}: 'contexts' must be a list of strings (retrieved passages), "
                    f"got {type(value).__name__}"
                )
            contexts.append(list(value))
        return contexts

    def generate(
        self,
        system: Any,
        tokenizer: Any,
        prompts: list[str],
        *,
        conversations: list[list[dict[str, str]] | None] | None = None,
        desc: str = "generating",
    ) -> list[str]:
        """Answers of one system to raw prompts, rendered with the evaluator's template.

        ``conversations[i]``, when given and not None, replaces prompt ``i`` by a whole conversation
        ending with a user turn (earlier turns of a multi-turn row).
        """
        system = system if isinstance(system, System) else System(system)
        template = resolve_template_name(tokenizer, self.template)
        conversations = conversations or [None] * len(prompts)
        ids = [
            conversation_prompt_ids(tokenizer, row_messages({"messages": c}, self.system_prompt), template)
            if c
            else prompt_ids(tokenizer, p, template, self.system_prompt)
            for p, c in zip(prompts, conversations, strict=True)
        ]
        with system.context():
            return generate_texts(
                system.model, tokenizer, ids, self.decoding, desc=desc, progress=self.progress
            )

    def score(
        self,
        predictions: Mapping[str, list[str]],
        references: list[str],
        *,
        ids: list[str] | None = None,
        prompts: list[str] | None = None,
        contexts: list[list[str]] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> EvaluationReport:
        """Score given predictions (no generation); useful for answers produced elsewhere.

        Every metric gets ``compute(predictions, references, prompts=prompts, contexts=contexts)``
        and reads the inputs it ``needs``; a metric that needs one that was not given raises. The
        report carries bootstrap CIs and paired tests as set by ``self.statistics``.
        """
        n = len(references)
        for name, preds in predictions.items():
            if len(preds) != n:
                raise DataError(f"system {name!r} has {len(preds)} predictions for {n} references")
        for label, extra in (("prompts", prompts), ("contexts", contexts)):
            if extra is not None and len(extra) != n:
                raise DataError(f"score: {len(extra)} {label} for {n} references; pass one per example")
        inputs = {
            "prompts": None if prompts is None else list(prompts),
            "contexts": None if contexts is None else [list(c) for c in contexts],
        }
        outputs = {
            name: {
                metric.name: metric.compute(list(preds), list(references), **inputs)
                for metric in self.metrics
            }
            for name, preds in predictions.items()
        }
        return EvaluationReport.from_outputs(
            outputs=outputs,
            ids=ids or [str(i) for i in range(n)],
            prompts=prompts,
            references=list(references),
            predictions={k: list(v) for k, v in predictions.items()},
            meta=meta,
            statistics=self.statistics,
        )

    def compare(self, systems: Mapping[str, Any], dataset: Any, *, tokenizer: Any) -> EvaluationReport:
        """Generate with every system on ``dataset`` (prompt/response columns) and score them side by side."""
        resolved = resolve_systems(systems)
        ids, prompts, references, history = self._rows(dataset)
        predictions: dict[str, list[str]] = {}
        timings: dict[str, float] = {}
        for name, system in resolved.items():
            start = time.time()
            predictions[name] = self.generate(
                system, tokenizer, prompts, conversations=history, desc=f"generating [{name}]"
            )
            timings[name] = round(time.time() - start, 3)
        meta = {
            "n_examples": len(references),
            "metrics": [m.name for m in self.metrics],
            "decoding": self.decoding.to_dict(),
            "template": resolve_template_name(tokenizer, self.template),
            "system_prompt": self.system_prompt,
            "systems": {
                name: {"adapter_disabled": s.disable_adapter, "generation_seconds": timings[name]}
                for name, s in resolved.items()
            },
        }
        contexts = self._contexts(dataset)
        return self.score(predictions, references, ids=ids, prompts=prompts, contexts=contexts, meta=meta)

    def evaluate(self, model: Any, tokenizer: Any, dataset: Any, name: str = "model") -> EvaluationReport:
        """Evaluate a single system."""
        return self.compare({name: model}, dataset, tokenizer=tokenizer)
