"""TrainingConfig: the training recipe, turned into ``transformers.TrainingArguments``.

Examples:
    >>> from domainft import TrainingConfig
    >>> cfg = TrainingConfig(output_dir="runs/x", num_train_epochs=1, learning_rate=1e-3)
    >>> cfg.to_training_arguments().learning_rate
    0.001
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError


def cpu_has_native_bf16() -> bool:
    """True when this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX), where bf16 autocast pays off.

    Elsewhere bf16 is emulated and slower than fp32.
    """
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private in torch 2.x: probe safely
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


@dataclass
class TrainingConfig(ConfigBase):
    """Optimisation, batching, evaluation and output settings of a LoRA fine-tune."""

    output_dir: str = config_field(
        "runs/domainft", help="Run folder: adapter, manifest, curves, checkpoints."
    )
    num_train_epochs: float = config_field(3.0, help="Passes over the training split.")
    max_steps: int = config_field(
        -1, help="Stop after this many optimizer steps (overrides epochs when > 0)."
    )
    per_device_train_batch_size: int = config_field(8, help="Examples per device per step.")
    per_device_eval_batch_size: int = config_field(8, help="Examples per device per evaluation step.")
    gradient_accumulation_steps: int = config_field(1, help="Micro-batches accumulated per optimizer step.")
    learning_rate: float = config_field(2e-4, help="Peak learning rate.")
    lr_scheduler_type: Literal["cosine", "linear", "constant", "constant_with_warmup"] = config_field(
        "cosine", help="Learning-rate schedule."
    )
    warmup_ratio: float = config_field(
        0.03, help="Fraction of steps of linear warmup (ignored if warmup_steps > 0)."
    )
    warmup_steps: int = config_field(0, help="Exact warmup steps.")
    weight_decay: float = config_field(0.0, help="AdamW weight decay.")
    max_grad_norm: float = config_field(1.0, help="Gradient clipping norm.")
    optim: str = config_field(
        "auto",
        help="Optimizer: auto = paged_adamw_32bit when bitsandbytes and a GPU are present, adamw_torch "
        "otherwise; or any transformers name (adamw_torch, paged_adamw_8bit, adamw_bnb_8bit, adafactor...).",
    )
    precision: Literal["auto", "bf16", "fp16", "fp32"] = config_field(
        "auto",
        help="Mixed precision: auto = bf16 on a GPU that supports it, fp16 on other GPUs; on a CPU bf16 "
        "autocast when it computes bf16 natively (AVX512-BF16 or AMX, about 1.5x faster), else fp32.",
    )
    gradient_checkpointing: bool = config_field(False, help="Recompute activations to save memory.")
    max_length: int = config_field(
        1024, help="Longest example in tokens; longer ones follow `overlength` and are counted."
    )
    overlength: Literal["drop", "truncate_response", "truncate_prompt_left"] = config_field(
        "drop",
        help="Examples longer than max_length: drop them, cut the response on the right (its EOS is "
        "lost), or cut the prompt on the left (oldest tokens first, the response kept whole).",
    )
    assistant_turns: Literal["all", "last"] = config_field(
        "all", help="In multi-turn data, learn every assistant turn or only the last one."
    )
    train_on_prompt: bool = config_field(
        False, help="Learn every token (system, user turns, role markers) instead of only the answers."
    )
    packing: bool = config_field(
        False,
        help="Padding-free batches: each batch is one row with position ids restarting per example "
        "(no attention across examples). Saves memory and work on GPUs; slower than length grouping on CPU.",
    )
    template: str | None = config_field(
        None, help="Prompt template: chat (tokenizer's), a registered name, or null for chat when available."
    )
    system_prompt: str | None = config_field(None, help="System message rendered before every prompt.")
    group_by_length: bool = config_field(
        True, help="Batch examples of similar length to waste less on padding."
    )
    logging_steps: int = config_field(10, help="Log the training loss every N steps.")
    eval_strategy: Literal["no", "steps", "epoch"] = config_field(
        "epoch", help="When to compute validation loss."
    )
    eval_steps: int | None = config_field(None, help="Evaluate every N steps when eval_strategy=steps.")
    save_strategy: Literal["no", "steps", "epoch", "best"] = config_field(
        "no", help="When to write checkpoints."
    )
    save_steps: int = config_field(500, help="Checkpoint every N steps when save_strategy=steps.")
    save_total_limit: int | None = config_field(2, help="Keep at most this many checkpoints.")
    seed: int = config_field(42, help="Seed of initialisation, shuffling and dropout.")
    report_to: list[str] = config_field(
        [],
        help="Loggers: tensorboard (written to <output_dir>/tensorboard), wandb (offline unless WANDB_MODE "
        "is set), mlflow (local ./mlruns unless MLFLOW_TRACKING_URI is set); empty = none.",
    )
    neftune_noise_alpha: float | None = config_field(None, help="NEFTune embedding noise (e.g. 5).")
    use_cpu: bool = config_field(False, help="Train on the CPU even when a GPU is present.")
    disable_tqdm: bool = config_field(False, help="Hide progress bars.")
    early_stopping_patience: int | None = config_field(
        None,
        help="Stop after this many evaluations without improvement of metric_for_best_model (null = off); "
        "the best adapter is restored at the end.",
    )
    early_stopping_threshold: float = config_field(
        0.0, help="Smallest improvement of metric_for_best_model that counts (min delta)."
    )
    metric_for_best_model: str = config_field(
        "eval_loss",
        help="Metric deciding the best checkpoint: eval_loss, or a generation metric such as rougeL or bleu "
        "(needs generation_metrics).",
    )
    generation_metrics: list[str] = config_field(
        [],
        help="Metrics computed from real generations on a fixed validation subset at every evaluation, "
        "e.g. [rouge, bleu] (empty = off).",
    )
    generation_samples: int = config_field(32, help="Validation examples answered for generation metrics.")
    generation_max_new_tokens: int = config_field(
        128, help="Longest generated answer for generation metrics."
    )
    overfit_patience: int = config_field(
        2,
        help="Warn when validation loss rises for this many evaluations in a row while training loss "
        "falls (0 = off).",
    )
    resume_from_checkpoint: bool | str | None = config_field(
        None, help="true resumes from the latest checkpoint in output_dir; or a checkpoint folder."
    )
    extra: dict[str, Any] = config_field({}, help="Other TrainingArguments fields, passed through.")

    def validate(self) -> None:
        self.require_positive(
            "per_device_train_batch_size",
            "per_device_eval_batch_size",
            "gradient_accumulation_steps",
            "max_length",
            "logging_steps",
            "learning_rate",
        )
        self.require_range("warmup_ratio", 0, 1)
        if self.num_train_epochs <= 0 and self.max_steps <= 0:
            raise ConfigError("TrainingConfig: set num_train_epochs > 0 or max_steps > 0")
        if self.train_on_prompt and self.assistant_turns == "last":
            raise ConfigError(
                "TrainingConfig.assistant_turns='last' has no effect with train_on_prompt=True (every token "
                "is learned); set assistant_turns='all' or train_on_prompt=False"
            )
        if self.eval_strategy == "steps" and not self.eval_steps:
            raise ConfigError("TrainingConfig.eval_steps is required when eval_strategy='steps'")
        self.require_positive("generation_samples", "generation_max_new_tokens")
        if self.overfit_patience < 0:
            raise ConfigError(f"TrainingConfig.overfit_patience must be >= 0, got {self.overfit_patience}")
        if self.early_stopping_patience is not None:
            if self.early_stopping_patience < 1:
                raise ConfigError(
                    "TrainingConfig.early_stopping_patience must be >= 1 or null, "
                    f"got {self.early_stopping_patience}"
                )
            if self.eval_strategy == "no":
                raise ConfigError(
                    "TrainingConfig.early_stopping_patience needs eval_strategy 'epoch' or 'steps'"
                )
        if self.early_stopping_threshold < 0:
            raise ConfigError("TrainingConfig.early_stopping_threshold must be >= 0")
        metric = self.best_metric_key()
        if metric != "eval_loss" and not self.generation_metrics:
            raise ConfigError(
                f"TrainingConfig.metric_for_best_model={self.metric_for_best_model!r} is a generation "
                "metric; "
                "list the metric that produces it in generation_metrics (e.g. [rouge, bleu])"
            )

    def best_metric_key(self) -> str:
        """``metric_for_best_model`` with the ``eval_`` prefix transformers logs it under."""
        name = self.metric_for_best_model
        return name if name.startswith("eval_") else f"eval_{name}"

    def greater_is_better(self) -> bool:
        """Losses improve downwards, every generation metric upwards."""
        return not self.best_metric_key().endswith("loss")

    def on_gpu(self) -> bool:
        """True when training will run on a CUDA GPU."""
        import torch

        return torch.cuda.is_available() and not self.use_cpu

    def resolved_optim(self) -> str:
        """The transformers optimizer name ``optim`` stands for on this machine."""
        has_bnb = importlib.util.find_spec("bitsandbytes") is not None
        if self.optim == "auto":
            return "paged_adamw_32bit" if has_bnb and self.on_gpu() else "adamw_torch"
        if ("bnb" in self.optim or "8bit" in self.optim or self.optim.startswith("paged_")) and not has_bnb:
            raise ConfigError(
                f"TrainingConfig.optim={self.optim!r} needs bitsandbytes: pip install 'domainft[quant]', "
                "or use optim='auto' / 'adamw_torch'"
            )
        return self.optim

    def mixed_precision(self) -> tuple[bool, bool]:
        """``(bf16, fp16)`` flags for the current machine."""
        import torch

        if self.precision == "bf16":
            return True, False
        if self.precision == "fp16":
            return False, True
        if self.precision == "auto" and self.on_gpu():
            bf16 = torch.cuda.is_bf16_supported()
            return bf16, not bf16
        if self.precision == "auto":
            return cpu_has_native_bf16(), False
        return False, False

    def to_training_arguments(self, *, has_eval: bool = True) -> Any:
        """The ``transformers.TrainingArguments`` of this config."""
        from transformers import TrainingArguments

        bf16, fp16 = self.mixed_precision()
        eval_strategy = self.eval_strategy if has_eval else "no"
        kwargs: dict[str, Any] = {
            "output_dir": self.output_dir,
            "num_train_epochs": self.num_train_epochs,
            "max_steps": self.max_steps,
            "per_device_train_batch_size": self.per_device_train_batch_size,
            "per_device_eval_batch_size": self.per_device_eval_batch_size,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "learning_rate": self.learning_rate,
            "lr_scheduler_type": self.lr_scheduler_type,
            "warmup_steps": self.warmup_steps if self.warmup_steps > 0 else self.warmup_ratio,
            "weight_decay": self.weight_decay,
            "max_grad_norm": self.max_grad_norm,
            "optim": self.resolved_optim(),
            "bf16": bf16,
            "fp16": fp16,
            "activation_checkpointing": self.gradient_checkpointing,
            "train_sampling_strategy": "group_by_length" if self.group_by_length else "random",
            "length_column_name": "length",
            "logging_steps": self.logging_steps,
            "logging_first_step": True,
            "eval_strategy": eval_strategy,
            "eval_steps": self.eval_steps,
            "save_strategy": self.save_strategy,
            "save_steps": self.save_steps,
            "save_total_limit": self.save_total_limit,
            "seed": self.seed,
            # tensorboard is attached by DomainTrainer, writing to <output_dir>/tensorboard
            "report_to": [r for r in self.report_to if r != "tensorboard"] or "none",
            # every token counts when batches carry no padding; otherwise the attention mask tells
            "include_num_input_tokens_seen": "all" if self.packing else "non_padding",
            "neftune_noise_alpha": self.neftune_noise_alpha,
            # transformers accepts bf16 without a GPU only with use_cpu
            "use_cpu": self.use_cpu or (bf16 and not self.on_gpu()),
            "disable_tqdm": self.disable_tqdm,
            "remove_unused_columns": False,
            "dataloader_pin_memory": self.on_gpu(),
            "label_names": ["labels"],
        }
        if self.early_stopping_patience is not None and eval_strategy != "no":
            # the best checkpoint can only be restored if checkpoints are written at every evaluation
            kwargs.update(
                save_strategy=eval_strategy,
                save_steps=self.eval_steps or self.save_steps,
                load_best_model_at_end=True,
                metric_for_best_model=self.best_metric_key(),
                greater_is_better=self.greater_is_better(),
            )
        kwargs.update(self.extra)
        try:
            return TrainingArguments(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"TrainingConfig -> TrainingArguments: {exc}") from exc
