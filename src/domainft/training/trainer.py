"""DomainTrainer: LoRA fine-tuning on prompt/response data, wrapping ``transformers.Trainer``.

Examples:
    >>> from domainft import DomainTrainer, TrainingConfig          # doctest: +SKIP
    >>> trainer = DomainTrainer(model=peft_model, tokenizer=tok, datasets=dsd,  # doctest: +SKIP
    ...                         config=TrainingConfig(output_dir="runs/x", num_train_epochs=3))
    >>> result = trainer.train(); result.adapter_dir  # doctest: +SKIP
    'runs/x/adapter'

"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from transformers import EarlyStoppingCallback, Trainer
from transformers.trainer import TRAINER_STATE_NAME, TRAINING_ARGS_NAME
from transformers.trainer_pt_utils import LengthGroupedSampler
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from domainft.data.templates import IGNORE_INDEX, overlength_counts, resolve_template_name, tokenize_dataset
from domainft.errors import ConfigError, DataError, TrainingError
from domainft.training.callbacks import (
    FourBitCpuLayoutCallback,
    GenerationMetricsCallback,
    GradientGuard,
    NonFiniteLossGuard,
    OverfittingWarning,
    no_gradient_error,
)
from domainft.training.collator import PaddingCollator, PaddingFreeCollator
from domainft.training.config import TrainingConfig
from domainft.training.manifest import PeakMemory, build_manifest, dataset_fingerprints
from domainft.training.plots import plot_loss_curves
from domainft.training.sampler import SeededLengthGroupedSampler
from domainft.utils.io import atomic_directory, atomic_write_json, atomic_write_text
from domainft.utils.numbers import finite_or_none

logger = logging.getLogger(__name__)


def _quantization_name(model: Any) -> str | None:
    """``nf4``, ``fp4``, ``int8`` or None: how the base under the adapter was loaded (read by ``merge``)."""
    config = getattr(getattr(model, "config", None), "quantization_config", None)
    if config is None:
        return None
    if getattr(config, "load_in_8bit", False):
        return "int8"
    if getattr(config, "load_in_4bit", False):
        return str(getattr(config, "bnb_4bit_quant_type", "nf4"))
    return type(config).__name__


@dataclass
class TrainResult:
    """What a training run produced."""

    train_loss: float | None
    eval_loss: float | None
    initial_eval_loss: float | None
    global_step: int
    runtime_s: float
    supervised_tokens: int
    dropped: list[dict[str, Any]] = field(default_factory=list)
    log_history: list[dict[str, Any]] = field(default_factory=list)
    truncated: list[dict[str, Any]] = field(default_factory=list)
    overlength: dict[str, dict[str, int]] = field(default_factory=dict)
    generation_metrics: dict[str, float] = field(default_factory=dict)
    best_metric: float | None = None
    best_checkpoint: str | None = None
    stopped_early: bool = False
    warnings: list[str] = field(default_factory=list)
    tokens_seen: int = 0
    peak_memory_mb: float | None = None
    peak_memory_kind: str | None = None
    adapter_dir: str | None = None
    last_adapter_dir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class GuardedTrainer(Trainer):
    """``transformers.Trainer`` whose backward through a loss no trainable parameter contributes to
    (PyTorch: "does not require grad") fails with the gradient guard's explanation, and whose
    checkpoints hold no pickled objects (``training_args.bin`` is not kept). Length-grouped batches
    follow the seed and the epoch only, so a resumed run trains on the batches of an uninterrupted one."""

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        sampler = super()._get_train_sampler(train_dataset)
        if type(sampler) is LengthGroupedSampler:  # its order must not depend on the global generator
            sampler = SeededLengthGroupedSampler(
                sampler.batch_size, lengths=sampler.lengths, seed=self.args.data_seed or self.args.seed
            )
        return sampler

    def _save(self, output_dir: str | None = None, state_dict: Any = None) -> None:
        super()._save(output_dir, state_dict)
        # a pickle of TrainingArguments: loading it runs code; training_config.yaml holds the settings
        Path(output_dir or self.args.output_dir, TRAINING_ARGS_NAME).unlink(missing_ok=True)

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        # trainer_state.json is written last and marks a checkpoint complete: write it in one rename
        self.state.save_to_json = lambda path: save_state_atomically(self.state, path)
        super()._save_checkpoint(model, trial)

    def training_step(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().training_step(*args, **kwargs)
        except RuntimeError as exc:
            if "does not require grad" not in str(exc):
                raise
            raise no_gradient_error("the loss does not depend on any trainable parameter") from exc


def save_state_atomically(state: Any, path: str | Path) -> None:
    """Write a ``TrainerState`` as transformers does, through a temporary file and a rename."""
    atomic_write_text(path, json.dumps(asdict(state), indent=2, sort_keys=True) + "\n")


class DomainTrainer:
    """Trains the adapter of ``model`` on ``datasets["train"]``, validating on ``datasets["validation"]``.

    Each example is rendered with the tokenizer's chat template (or ``config.template``); prompt
    tokens are masked in the labels, the response is closed by EOS which is learned. Examples longer
    than ``config.max_length`` follow ``config.overlength``; with ``config.packing`` batches are
    padding-free. The run folder receives ``manifest.json`` and ``loss_curve.png``.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        datasets: Any,
        config: TrainingConfig | None = None,
        callbacks: list[Any] | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config or TrainingConfig()
        if "train" not in datasets:
            raise DataError(f"datasets must have a 'train' split; got {sorted(datasets)}")
        self.datasets = datasets
        if not any(p.requires_grad for p in model.parameters()):
            raise TrainingError(
                "the model has no trainable parameters; attach an adapter first: "
                "model = LoraAdapterFactory(...).apply(model)"
            )
        cfg = self.config
        self.template = resolve_template_name(tokenizer, cfg.template)
        self.train_dataset, over_train = self._tokenize(datasets["train"], "train")
        if len(self.train_dataset) == 0:
            raise DataError(
                f"no training example fits max_length={cfg.max_length} tokens "
                f"({len(over_train)} dropped); "
                "raise TrainingConfig.max_length, set TrainingConfig.overlength or shorten the data"
            )
        self.eval_dataset = None
        over_eval: list[dict[str, Any]] = []
        validation = datasets.get("validation")
        if validation is not None and len(validation) > 0:
            self.eval_dataset, over_eval = self._tokenize(validation, "validation")
            if len(self.eval_dataset) == 0:
                self.eval_dataset = None
        # every over-length action (id, length, kept_length, action, reason, split)
        self.overlength = [{**d, "split": "train"} for d in over_train] + [
            {**d, "split": "validation"} for d in over_eval
        ]
        self.dropped = [d for d in self.overlength if d["action"] == "dropped"]
        self.truncated = [d for d in self.overlength if d["action"] != "dropped"]
        self.overlength_counts = {
            split: overlength_counts(records)
            for split, records in (("train", over_train), ("validation", over_eval))
            if records
        }
        if self.overlength:
            logger.warning(
                "examples longer than max_length=%d: %s (see manifest.json)",
                cfg.max_length,
                "; ".join(f"{split} {counts}" for split, counts in self.overlength_counts.items()),
            )
        self._build_trainer(callbacks or [])
        self.result: TrainResult | None = None

    def _tokenize(self, dataset: Any, split: str) -> tuple[Any, list[dict[str, Any]]]:
        cfg = self.config
        return tokenize_dataset(
            dataset,
            self.tokenizer,
            template=self.template,
            system_prompt=cfg.system_prompt,
            max_length=cfg.max_length,
            overlength=cfg.overlength,
            assistant_turns=cfg.assistant_turns,
            train_on_prompt=cfg.train_on_prompt,
            desc=f"tokenizing {split}",
        )

    def _build_trainer(self, callbacks: list[Any]) -> None:
        cfg = self.config
        has_eval = self.eval_dataset is not None
        if not has_eval and (cfg.early_stopping_patience is not None or cfg.generation_metrics):
            raise DataError(
                "early stopping and generation metrics need a non-empty 'validation' split; "
                "add one (DatasetBuilder.split(validation=...)) or turn them off"
            )
        args = cfg.to_training_arguments(has_eval=has_eval)
        self.generation_callback: GenerationMetricsCallback | None = None
        if cfg.generation_metrics:
            rows = self.datasets["validation"].select(
                range(min(cfg.generation_samples, len(self.datasets["validation"])))
            )
            self.generation_callback = GenerationMetricsCallback(
                rows.to_list(),
                self.tokenizer,
                cfg.generation_metrics,
                max_new_tokens=cfg.generation_max_new_tokens,
                batch_size=cfg.per_device_eval_batch_size,
                template=self.template,
                system_prompt=cfg.system_prompt,
            )
        self.overfitting = OverfittingWarning(cfg.overfit_patience)
        own: list[Any] = [self.generation_callback] if self.generation_callback else []
        own += [self.overfitting, FourBitCpuLayoutCallback(), GradientGuard(), NonFiniteLossGuard()]
        own += self._logger_callbacks()
        if cfg.early_stopping_patience is not None:
            own.append(EarlyStoppingCallback(cfg.early_stopping_patience, cfg.early_stopping_threshold))
        collator = (
            PaddingFreeCollator()
            if self.config.packing
            else PaddingCollator(pad_token_id=self.tokenizer.pad_token_id)
        )
        self.trainer = GuardedTrainer(
            model=self.model,
            args=args,
            train_dataset=self.train_dataset,
            eval_dataset=self.eval_dataset,
            data_collator=collator,
            processing_class=self.tokenizer,
            callbacks=[*own, *callbacks],
        )
        if self.config.disable_tqdm:  # quiet: no bars and no printed log lines (they stay in log_history)
            from transformers.trainer_callback import PrinterCallback

            self.trainer.remove_callback(PrinterCallback)
        self._check_process_group()

    def _check_process_group(self) -> None:
        """Refuse a multi-process launch that transformers set up as one process per rank."""
        launched = int(os.environ.get("WORLD_SIZE", "1"))
        if launched > 1 and self.trainer.args.world_size != launched:
            raise TrainingError(
                f"started as {launched} processes (WORLD_SIZE={launched}) but each one would train alone "
                f"(world size {self.trainer.args.world_size}): on a machine without a GPU set "
                "TrainingConfig.use_cpu: true (or ACCELERATE_USE_CPU=true) so that the processes join one "
                "gloo process group"
            )

    def _logger_callbacks(self) -> list[Any]:
        """TensorBoard writing to ``<output_dir>/tensorboard``; W&B kept offline unless WANDB_MODE says."""
        report_to = self.config.report_to
        if "wandb" in report_to:
            os.environ.setdefault("WANDB_MODE", "offline")
        if "tensorboard" not in report_to:
            return []
        if not any(importlib.util.find_spec(m) for m in ("tensorboard", "tensorboardX")):
            raise ConfigError(
                "TrainingConfig.report_to lists tensorboard, which is not installed: "
                "pip install 'domainft[tensorboard]', or remove it from report_to"
            )
        from transformers.integrations import TensorBoardCallback

        callback = TensorBoardCallback()
        callback.logging_dir = str(self.output_dir / "tensorboard")  # instead of runs/<date>_<hostname>
        return [callback]

    @property
    def output_dir(self) -> Path:
        return Path(self.config.output_dir)

    @property
    def is_main_process(self) -> bool:
        """True on the process that writes files (always, outside ``accelerate launch``/``torchrun``)."""
        return bool(self.trainer.is_world_process_zero())

    def evaluate(self) -> dict[str, float]:
        """Validation loss (per supervised token) of the current adapter."""
        if self.eval_dataset is None:
            raise DataError("there is no validation split to evaluate on")
        metrics = self.trainer.evaluate()  # FourBitCpuLayoutCallback.on_evaluate restores 4-bit layouts
        self._undo_evaluation_prepare()
        return metrics

    def _undo_evaluation_prepare(self) -> None:
        """Let a later ``train()`` wrap the model in DistributedDataParallel.

        Before any training, ``Trainer.evaluate()`` prepares the bare model with accelerate in evaluation
        mode (no DDP wrapper) and marks it prepared; ``Trainer.train()`` then sees the mark and skips the
        wrapping, so under ``accelerate launch`` every rank would train alone on its shard of the data
        (transformers 5.23, accelerate 1.15). Remove the mark and the evaluation-only forward wrapper.
        """
        trainer = self.trainer
        accelerator = trainer.accelerator
        if accelerator.num_processes <= 1 or trainer.is_in_train or trainer.model_wrapped is not self.model:
            return
        state = self.model.__dict__
        state.pop("_is_accelerate_prepared", None)
        if state.pop("_original_forward", None) is not None:
            state.pop("forward", None)  # the mixed-precision autocast wrapper; train() adds its own
        if self.model in accelerator._models:
            accelerator._models.remove(self.model)

    def _release_autocast(self) -> None:
        """Give the model back computing in its own dtype.

        With bf16/fp16 mixed precision accelerate wraps ``model.forward`` in autocast and leaves it there
        after training, so later generation and evaluation would run in half precision and differ from
        the saved adapter loaded anew. The next ``train()`` wraps it again.
        """
        from accelerate.utils import extract_model_from_parallel

        extract_model_from_parallel(self.model, keep_fp32_wrapper=False)

    def _checkpoint(self, resume: str | bool | None) -> str | None:
        """The checkpoint folder to resume from (``True``: the latest complete one in ``output_dir``)."""
        if resume is None or resume is False:
            return None
        if resume is True:
            last = latest_checkpoint(self.output_dir, remove_incomplete=self.is_main_process)
            if last is None:
                raise TrainingError(
                    f"resume_from_checkpoint=True but {self.output_dir} holds no complete checkpoint-N "
                    "folder; train with save_strategy='steps' or 'epoch' first, or start without resuming"
                )
            return str(last)
        if not Path(resume).is_dir():
            raise TrainingError(f"resume_from_checkpoint: {resume} is not a checkpoint folder")
        if not checkpoint_is_complete(Path(resume)):
            raise TrainingError(
                f"resume_from_checkpoint: {resume} is incomplete (no valid {TRAINER_STATE_NAME}: the run "
                "stopped while saving it); resume from an earlier checkpoint or with "
                "resume_from_checkpoint=True, which picks the latest complete one"
            )
        return str(resume)

    def train(self, resume_from_checkpoint: str | bool | None = None) -> TrainResult:
        """Train, then compute the final validation loss and write the manifest and the loss curve.

        ``resume_from_checkpoint`` (default: ``config.resume_from_checkpoint``) continues an interrupted
        run: ``True`` picks the latest ``checkpoint-N`` in ``output_dir``.
        """
        start = time.time()
        resume = self._checkpoint(
            resume_from_checkpoint
            if resume_from_checkpoint is not None
            else self.config.resume_from_checkpoint
        )
        initial: dict[str, Any] = {}
        if self.eval_dataset is not None and resume is None:
            initial = self.evaluate()
        initial_eval = finite_or_none(initial.get("eval_loss"))
        self.model.train()
        with PeakMemory() as peak:
            output = self.trainer.train(resume_from_checkpoint=resume)
        final: dict[str, Any] = {}
        if self.eval_dataset is not None:
            final = self.evaluate()
        self._release_autocast()
        final_eval = finite_or_none(final.get("eval_loss"))
        history = list(self.trainer.state.log_history)
        if initial:  # trainer.train() starts a fresh state; keep the step-0 validation point
            point = {k: v for k, v in initial.items() if k == "eval_loss" or k in self._generation_keys()}
            history.insert(0, {"step": 0, "epoch": 0.0, **point})
        state = self.trainer.state
        planned = state.max_steps
        supervised = sum(sum(1 for t in row if t != IGNORE_INDEX) for row in self.train_dataset["labels"])
        self.result = TrainResult(
            train_loss=finite_or_none(self._mean_over_processes(output.training_loss)),
            eval_loss=final_eval,
            initial_eval_loss=initial_eval,
            global_step=int(output.global_step),
            runtime_s=time.time() - start,
            supervised_tokens=supervised,
            dropped=self.dropped,
            log_history=history,
            truncated=self.truncated,
            overlength=self.overlength_counts,
            generation_metrics={k: final[k] for k in self._generation_keys() if k in final},
            best_metric=finite_or_none(state.best_metric),
            best_checkpoint=state.best_model_checkpoint,
            stopped_early=self.config.early_stopping_patience is not None and state.global_step < planned,
            warnings=list(self.overfitting.warnings),
            tokens_seen=int(state.num_input_tokens_seen),
            peak_memory_mb=peak.megabytes,
            peak_memory_kind=peak.kind,
        )
        self.result.adapter_dir = str(self.save_adapter())
        self.result.last_adapter_dir = self._keep_last_adapter()
        if self.is_main_process:  # under accelerate launch every rank trains, one writes the run folder
            # trainer_state.json: log history, best metric and checkpoint
            save_state_atomically(self.trainer.state, self.output_dir / TRAINER_STATE_NAME)
            self.config.to_yaml(self.output_dir / "training_config.yaml")
            plot_loss_curves(
                history,
                self.output_dir / "loss_curve.png",
                title="LoRA fine-tuning loss",
                metrics=self._generation_keys(),
            )
            self.write_manifest()
        return self.result

    def _keep_last_adapter(self) -> str | None:
        """When the best checkpoint was restored, copy the last step's adapter to ``last_adapter/``."""
        state, args = self.trainer.state, self.trainer.args
        if not (args.load_best_model_at_end and state.best_model_checkpoint):
            return None
        last = latest_checkpoint(self.output_dir)
        if last is None or Path(last).resolve() == Path(state.best_model_checkpoint).resolve():
            return None
        target = self.output_dir / "last_adapter"
        if self.is_main_process:
            from safetensors.torch import load_file, save_file

            skip = (
                "optimizer",
                "scheduler",
                "rng_state",
                "trainer_state",
                "training_args",
                "scaler",
                "adapter_model",
            )
            with atomic_directory(target) as staging:
                staging.rmdir()
                shutil.copytree(
                    last, staging, ignore=lambda _, names: [n for n in names if n.startswith(skip)]
                )
                # checkpoints may carry whole embedding matrices (peft's default); keep adapter/'s tensors
                weights = "adapter_model.safetensors"
                keys = load_file(str(self.output_dir / "adapter" / weights)).keys()
                state = load_file(str(Path(last) / weights))
                save_file({k: state[k] for k in keys}, str(staging / weights), metadata={"format": "pt"})
        return str(target)

    def _mean_over_processes(self, value: float) -> float:
        """``value`` averaged over the processes of a multi-process run (``value`` itself otherwise).

        transformers averages the training loss over the processes at every logging step only; the steps
        after the last log enter ``training_loss`` with each process's own loss.
        """
        accelerator = self.trainer.accelerator
        if accelerator.num_processes <= 1:
            return value
        import torch

        tensor = torch.tensor([float(value)], device=self.trainer.args.device)
        return float(accelerator.reduce(tensor, reduction="mean").item())

    def _generation_keys(self) -> list[str]:
        callback = self.generation_callback
        return sorted(callback.last) if callback is not None else []

    def write_manifest(self) -> Path:
        """Write ``manifest.json`` (config, versions, data fingerprints, seed, results) in the run folder."""
        summary = None
        if hasattr(self.model, "get_nb_trainable_parameters"):
            trainable, total = self.model.get_nb_trainable_parameters()
            summary = {"trainable": int(trainable), "total": int(total)}
        result = self.result.to_dict() if self.result else None
        if result:
            result.pop("log_history")
        args = self.trainer.args
        manifest = build_manifest(
            training=self.config.to_dict(),
            resolved={
                "optim": str(getattr(args.optim, "value", args.optim)),
                "bf16": args.bf16,
                "fp16": args.fp16,
                "world_size": args.world_size,
            },
            seed=self.config.seed,
            template=self.template,
            model={
                "name_or_path": getattr(getattr(self.model, "config", None), "_name_or_path", None),
                "parameters": summary,
                "quantization": _quantization_name(self.model),
            },
            data=dataset_fingerprints(self.datasets),
            result=result,
        )
        return atomic_write_json(self.output_dir / "manifest.json", manifest)

    def save_adapter(self, directory: str | Path | None = None) -> Path:
        """Save the LoRA adapter (and the tokenizer) to ``directory`` (default ``output_dir/adapter``).

        The folder is written beside its place and renamed into it, so a crash leaves the previous
        adapter (or none), never a partial one. A non-empty folder that holds no adapter is refused.
        """
        path = Path(directory) if directory is not None else self.output_dir / "adapter"
        if not self.is_main_process:  # the ranks hold the same weights; one copy is written
            return path
        with atomic_directory(path, replaces="adapter_config.json", where="save_adapter") as staging:
            # domainft never resizes embeddings (see ensure_pad_token), so a LoRA on lm_head needs only its
            # own weights; peft would otherwise copy the whole embedding matrices into the adapter.
            self.model.save_pretrained(str(staging), save_embedding_layers=False)
            self.tokenizer.save_pretrained(str(staging))
        return path


def checkpoint_is_complete(folder: Path) -> bool:
    """True when ``folder`` holds a readable ``trainer_state.json``, which transformers writes last."""
    try:
        return isinstance(json.loads((folder / TRAINER_STATE_NAME).read_text(encoding="utf-8")), dict)
    except (OSError, ValueError):
        return False


def latest_checkpoint(output_dir: str | Path, *, remove_incomplete: bool = False) -> Path | None:
    """The complete ``checkpoint-N`` folder of ``output_dir`` with the largest N, or None.

    A run killed while saving leaves a ``checkpoint-N`` without a valid ``trainer_state.json``; it is
    skipped and, with ``remove_incomplete``, deleted (with a warning) so that training can write it again.
    """
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return None
    prefix = f"{PREFIX_CHECKPOINT_DIR}-"
    found = [
        (int(p.name[len(prefix) :]), p)
        for p in output_dir.iterdir()
        if p.is_dir() and p.name.startswith(prefix) and p.name[len(prefix) :].isdigit()
    ]
    for _, folder in sorted(found, reverse=True):
        if checkpoint_is_complete(folder):
            return folder
        logger.warning(
            "%s is incomplete (interrupted while saving)%s", folder, "; removed" * remove_incomplete
        )
        if remove_incomplete:
            shutil.rmtree(folder, ignore_errors=True)
    return None
