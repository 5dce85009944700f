"""DomainTrainer: LoRA fine-tuning on prompt/response data, wrapping ``transformers.Trainer``.

Example:
    >>> from domainft import DomainTrainer, TrainingConfig          # doctest: +SKIP
    >>> trainer = DomainTrainer(model=peft_model, tokenizer=tok, datasets=dsd,  # doctest: +SKIP
    ...                         config=TrainingConfig(output_dir="runs/x", num_train_epochs=3))
    >>> result = trainer.train(); trainer.save_adapter("runs/x/adapter")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from domainft.data.templates import IGNORE_INDEX, overlength_counts, resolve_template_name, tokenize_dataset
from domainft.errors import DataError, TrainingError
from domainft.training.callbacks import FourBitCpuLayoutCallback, GradientGuard
from domainft.training.collator import PaddingCollator, PaddingFreeCollator
from domainft.training.config import TrainingConfig
from domainft.training.manifest import build_manifest, dataset_fingerprints
from domainft.training.plots import plot_loss_curves
from domainft.utils.io import atomic_write_json

logger = logging.getLogger(__name__)


def finite_or_none(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing or not finite (never NaN in a manifest)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
        from transformers import Trainer

        args = self.config.to_training_arguments(has_eval=self.eval_dataset is not None)
        collator = (
            PaddingFreeCollator()
            if self.config.packing
            else PaddingCollator(pad_token_id=self.tokenizer.pad_token_id)
        )
        self.trainer = Trainer(
            model=self.model,
            args=args,
            train_dataset=self.train_dataset,
            eval_dataset=self.eval_dataset,
            data_collator=collator,
            processing_class=self.tokenizer,
            callbacks=[FourBitCpuLayoutCallback(), GradientGuard(), *callbacks],
        )
        if self.config.disable_tqdm:  # quiet: no bars and no printed log lines (they stay in log_history)
            from transformers.trainer_callback import PrinterCallback

            self.trainer.remove_callback(PrinterCallback)

    @property
    def output_dir(self) -> Path:
        return Path(self.config.output_dir)

    def evaluate(self) -> dict[str, float]:
        """Validation loss (per supervised token) of the current adapter."""
        if self.eval_dataset is None:
            raise DataError("there is no validation split to evaluate on")
        return self.trainer.evaluate()  # FourBitCpuLayoutCallback.on_evaluate restores 4-bit layouts

    def train(self, resume_from_checkpoint: str | bool | None = None) -> TrainResult:
        """Train, then compute the final validation loss and write the manifest and the loss curve."""
        start = time.time()
        initial_eval = None
        if self.eval_dataset is not None:
            initial_eval = finite_or_none(self.evaluate().get("eval_loss"))
        self.model.train()
        output = self.trainer.train(resume_from_checkpoint=resume_from_checkpoint)
        final_eval = None
        if self.eval_dataset is not None:
            final_eval = finite_or_none(self.evaluate().get("eval_loss"))
        history = list(self.trainer.state.log_history)
        if initial_eval is not None:  # trainer.train() starts a fresh state; keep the step-0 validation point
            history.insert(0, {"step": 0, "epoch": 0.0, "eval_loss": initial_eval})
        supervised = sum(sum(1 for t in row if t != IGNORE_INDEX) for row in self.train_dataset["labels"])
        self.result = TrainResult(
            train_loss=finite_or_none(output.training_loss),
            eval_loss=final_eval,
            initial_eval_loss=initial_eval,
            global_step=int(output.global_step),
            runtime_s=time.time() - start,
            supervised_tokens=supervised,
            dropped=self.dropped,
            log_history=history,
            truncated=self.truncated,
            overlength=self.overlength_counts,
        )
        self.output_dir.mkdir(parents=True, exist_ok=True)
        plot_loss_curves(history, self.output_dir / "loss_curve.png", title="LoRA fine-tuning loss")
        self.write_manifest()
        return self.result

    def write_manifest(self) -> Path:
        """Write ``manifest.json`` (config, versions, data fingerprints, seed, results) in the run folder."""
        summary = None
        if hasattr(self.model, "get_nb_trainable_parameters"):
            trainable, total = self.model.get_nb_trainable_parameters()
            summary = {"trainable": int(trainable), "total": int(total)}
        result = self.result.to_dict() if self.result else None
        if result:
            result.pop("log_history")
        manifest = build_manifest(
            training=self.config.to_dict(),
            seed=self.config.seed,
            template=self.template,
            model={
                "name_or_path": getattr(getattr(self.model, "config", None), "_name_or_path", None),
                "parameters": summary,
            },
            data=dataset_fingerprints(self.datasets),
            result=result,
        )
        return atomic_write_json(self.output_dir / "manifest.json", manifest)

    def save_adapter(self, directory: str | Path | None = None) -> Path:
        """Save the LoRA adapter (and the tokenizer) to ``directory`` (default ``output_dir/adapter``)."""
        path = Path(directory) if directory is not None else self.output_dir / "adapter"
        path.mkdir(parents=True, exist_ok=True)
        # domainft never resizes embeddings (see ensure_pad_token), so a LoRA on lm_head needs only its own
        # weights; peft would otherwise copy the whole embedding matrices into the adapter.
        self.model.save_pretrained(str(path), save_embedding_layers=False)
        self.tokenizer.save_pretrained(str(path))
        return path
