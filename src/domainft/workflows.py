"""The pipelines behind the CLI: data -> model -> adapter -> training -> evaluation, from a Recipe."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domainft.recipe import Recipe
from domainft.utils.distributed import is_main_process
from domainft.utils.io import atomic_write_json

logger = logging.getLogger(__name__)


@dataclass
class TrainOutcome:
    """What :func:`train_from_recipe` produced."""

    datasets: Any
    model: Any
    tokenizer: Any
    result: Any
    adapter_dir: Path


def _build(recipe: Recipe) -> tuple[Any, Any]:
    from domainft.data.builder import DatasetBuilder

    builder = DatasetBuilder.from_config(recipe.data)
    return builder.build(), builder.cleaning_report


def _write_cleaning_report(recipe: Recipe, report: Any) -> None:
    if report is not None and is_main_process():
        atomic_write_json(recipe.run_dir / "cleaning_report.json", report.to_dict())
        logger.info("cleaning: %s", report.summary())


def build_datasets(recipe: Recipe, *, write_report: bool = True) -> Any:
    """Build the DatasetDict of a recipe; write its cleaning report into the run folder if asked."""
    datasets, report = _build(recipe)
    if write_report:
        _write_cleaning_report(recipe, report)
    return datasets


def train_from_recipe(recipe: Recipe, datasets: Any | None = None) -> TrainOutcome:
    """Load the base model, attach LoRA, train and save the adapter to ``<output_dir>/adapter``.

    Everything that can fail on bad input (the recipe's paths and names, the data, the model, the
    tokenization of every example) is done before the run folder is written, so a bad recipe leaves
    nothing behind.
    """
    from domainft.models.adapters import LoraAdapterFactory
    from domainft.models.loading import QuantizedLoader
    from domainft.training.trainer import DomainTrainer

    check_recipe(recipe, outputs=[(recipe.run_dir, "training.output_dir")], progress=False)
    report = None
    if datasets is None:
        datasets, report = _build(recipe)
    model, tokenizer = QuantizedLoader(config=recipe.model).load()
    factory = LoraAdapterFactory(recipe.adapter)
    model = factory.apply(model)
    logger.info("adapter: %s", factory.summary)
    trainer = DomainTrainer(model=model, tokenizer=tokenizer, datasets=datasets, config=recipe.training)
    if is_main_process():  # under accelerate launch every rank runs this; one writes the shared files
        recipe.run_dir.mkdir(parents=True, exist_ok=True)
        recipe.to_yaml(recipe.run_dir / "recipe.yaml")
        _write_cleaning_report(recipe, report)
    result = trainer.train()  # saves the adapter to <output_dir>/adapter, i.e. recipe.adapter_dir
    return TrainOutcome(datasets, model, tokenizer, result, Path(result.adapter_dir))


def check_recipe(recipe: Recipe, *, outputs: Sequence[tuple[Path, str]] = (), **evaluator_kwargs: Any) -> Any:
    """Fail before any work on what can be checked up front: the model folder, the data file, the
    template and metric names, and that each ``(folder, field)`` of ``outputs`` can be written.

    Returns the recipe's Evaluator, whose construction is the metric check.
    """
    from domainft.configuration import check_output_path
    from domainft.data.templates import get_template
    from domainft.errors import ConfigError, DataFileNotFoundError, ModelError
    from domainft.models.loading import QuantizedLoader

    if not recipe.model.name_or_path:
        raise ConfigError("model.name_or_path is empty: give a model folder (save_pretrained) or a hub id")
    if not recipe.data.path:
        raise ConfigError("data.path is empty: give a data file or builtin:NAME")
    evaluator = make_evaluator(recipe, **evaluator_kwargs)  # raises on unknown or duplicate metric names
    try:
        QuantizedLoader(config=recipe.model).check_source()
    except ModelError as exc:
        raise ModelError(f"model.name_or_path: {exc}") from None
    path = recipe.data.path
    if not path.startswith("builtin:") and not Path(path).expanduser().exists():
        raise DataFileNotFoundError(
            f"data.path: {path} does not exist (a relative path is read from the current folder, then from "
            "the recipe's folder); fix data.path or create the file"
        )
    templates = {
        "training.template": recipe.training.template,
        "evaluation.template": recipe.evaluation.template,
    }
    for field, name in templates.items():
        if name not in (None, "chat"):
            try:
                get_template(name)
            except ConfigError as exc:
                raise ConfigError(f"{field}: {exc}") from None
    for folder, field in outputs:
        check_output_path(folder, field)
    return evaluator


def make_evaluator(recipe: Recipe, **kwargs: Any) -> Any:
    """An Evaluator that renders prompts exactly as training did unless the recipe says otherwise,
    with its generation cache in the run folder unless ``evaluation.cache_dir`` says otherwise."""
    from domainft.evaluation.evaluator import Evaluator

    cfg = recipe.evaluation
    kwargs.setdefault("cache_dir", cfg.cache_dir or recipe.run_dir / "generation_cache")
    return Evaluator.from_config(
        cfg,
        template=cfg.template if cfg.template is not None else recipe.training.template,
        system_prompt=cfg.system_prompt if cfg.system_prompt is not None else recipe.training.system_prompt,
        **kwargs,
    )


def evaluate_from_recipe(
    recipe: Recipe,
    *,
    adapter_dir: str | Path | None = None,
    datasets: Any | None = None,
    model: Any | None = None,
    tokenizer: Any | None = None,
    progress: bool = True,
) -> Any:
    """Compare the base model with base + adapter on the evaluation split and save the report."""
    from domainft.configuration import check_output_path
    from domainft.errors import DataError
    from domainft.evaluation.evaluator import Evaluator
    from domainft.models.adapters import check_adapter_dir, load_adapter
    from domainft.models.loading import QuantizedLoader

    eval_field = "evaluation.output_dir" if recipe.evaluation.output_dir else "training.output_dir"
    outputs = [(recipe.eval_dir, eval_field)]
    if model is None:
        evaluator = check_recipe(recipe, outputs=outputs, progress=progress)
        check_adapter_dir(adapter_dir or recipe.adapter_dir)  # before loading the model
    else:
        evaluator = make_evaluator(recipe, progress=progress)
        check_output_path(recipe.eval_dir, eval_field)
    if recipe.evaluation.knowledge is not None:  # before the model loads (not in check_recipe: training
        recipe.evaluation.knowledge.facts_path()  # does not need the facts)
    datasets = datasets if datasets is not None else build_datasets(recipe, write_report=False)
    split = recipe.evaluation.split
    if split not in datasets:
        raise DataError(f"evaluation.split={split!r} is not a split of the data; splits: {sorted(datasets)}")
    if len(datasets[split]) == 0:
        sizes = ", ".join(f"{name} {len(part)}" for name, part in datasets.items())
        raise DataError(
            f"evaluation.split={split!r} is empty (rows per split: {sizes}); give it rows with "
            f"data.{split if split in ('validation', 'test') else 'test'} (e.g. 0.1 or a row count), "
            "or set evaluation.split to a split that has rows"
        )
    if model is None:
        model, tokenizer = QuantizedLoader(config=recipe.model).load()
        model = load_adapter(model, adapter_dir or recipe.adapter_dir)
    systems = {"base": Evaluator.base_of(model), "tuned": model}
    report = evaluator.compare(systems, datasets[split], tokenizer=tokenizer)
    if recipe.evaluation.knowledge is not None:
        report.add_knowledge(
            probe_from_recipe(recipe, systems, datasets, tokenizer, evaluator, progress=progress)
        )
    report.meta.update(
        {
            "model": recipe.model.name_or_path,
            "adapter": str(adapter_dir or recipe.adapter_dir),
            "split": split,
        }
    )
    from domainft.diagnostics.layer_report import RUN_SUBDIR, evaluation_link

    link = evaluation_link(recipe.run_dir / RUN_SUBDIR, recipe.eval_dir)  # `domainft diagnose` ran before
    if link is not None:
        report.meta.setdefault("links", {})["layer_report"] = link
    report.save(recipe.eval_dir)
    return report


def probe_set_from_recipe(recipe: Recipe, datasets: Any, *, progress: bool = True) -> Any:
    """The probe set of the recipe's ``evaluation.knowledge`` section, checked against the training split's
    prompts (and its answers, for unanswerable subjects); teacher replies are cached in
    ``<run>/knowledge_cache`` unless the section says otherwise."""
    from domainft.errors import ConfigError
    from domainft.evaluation.knowledge import probe_set_from_config

    config = recipe.evaluation.knowledge
    if config is None:
        raise ConfigError("the recipe has no evaluation.knowledge section (see docs/knowledge.md)")
    if config.cache_dir is None:
        config = config.updated(cache_dir=str(recipe.run_dir / "knowledge_cache"))
    train = datasets.get("train")
    probe_set = probe_set_from_config(
        config,
        training_prompts=list(train["prompt"]) if train is not None else [],
        training_texts=list(train["response"]) if train is not None else [],
        progress=progress,
    )
    logger.info("knowledge %s", probe_set.summary())
    return probe_set


def probe_from_recipe(
    recipe: Recipe, systems: Any, datasets: Any, tokenizer: Any, evaluator: Any, *, progress: bool = True
) -> Any:
    """The recipe's knowledge probes asked to ``systems`` with ``evaluator`` (a ``KnowledgeReport``)."""
    from domainft.evaluation.knowledge import probe_knowledge

    config = recipe.evaluation.knowledge
    return probe_knowledge(
        systems,
        probe_set_from_recipe(recipe, datasets, progress=progress),
        tokenizer=tokenizer,
        evaluator=evaluator,
        judge=recipe.evaluation.judge if config.judge else None,
        abstention_patterns=config.abstention_patterns,
        strip_accents=config.strip_accents,
        known_threshold=config.known_threshold,
    )
