"""Trainer callbacks: gradient and loss guards, the bitsandbytes CPU layout fix, generation metrics
during training and the overfitting warning."""

from __future__ import annotations

import itertools
import logging
import math
from typing import Any

from transformers import TrainerCallback

from domainft.errors import TrainingError
from domainft.models.bnb_cpu import is_packed_4bit, restore_trainable_4bit_layout

logger = logging.getLogger(__name__)


def gradient_problems(model: Any) -> tuple[list[str], int]:
    """Trainable parameters with a missing or non-finite gradient, and how many got a non-zero one."""
    import torch

    problems: list[str] = []
    nonzero = 0
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.grad is None:
            problems.append(f"{name}: no gradient")
            continue
        grad = param.grad.detach()
        if not bool(torch.isfinite(grad).all()):
            problems.append(f"{name}: non-finite gradient")
        elif bool(grad.abs().sum() > 0):
            nonzero += 1
    return problems, nonzero


class GradientGuard(TrainerCallback):
    """Stops training after the first backward pass if no gradient reaches the adapter.

    LoRA's B matrices start at zero, so the A matrices legitimately get zero gradients at the first
    step; the guard therefore asks that every trainable parameter has a finite gradient and that at
    least one of them is non-zero.
    """

    def __init__(self) -> None:
        self.checked = False

    def on_pre_optimizer_step(
        self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any
    ) -> None:
        if self.checked or model is None:
            return
        self.checked = True
        problems, nonzero = gradient_problems(model)
        if problems or nonzero == 0:
            raise no_gradient_error("; ".join(problems[:5]) or "every trainable gradient is exactly zero")


def no_gradient_error(detail: str) -> TrainingError:
    """The error of a first step whose gradients cannot train the adapter, with the usual causes."""
    return TrainingError(
        f"no usable gradient reached the trainable parameters after the first step ({detail}). "
        "Typical causes: the adapter is not attached or was disabled (call LoraAdapterFactory.apply), "
        "all labels are -100 (prompts longer than max_length), or a 4-bit model was run in eval mode on "
        "the CPU before training (domainft restores it; re-load the model if you changed it by hand)."
    )


class FourBitCpuLayoutCallback(TrainerCallback):
    """Restores trainable 4-bit weights before training, after each evaluation and before any step that finds
    them repacked (see ``bnb_cpu``); stops training when a weight stays in the CPU inference layout."""

    def __init__(self) -> None:
        self.modules: list[tuple[str, Any]] = []  # the 4-bit layers, listed at each restore

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self._restore(model)

    def on_evaluate(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self._restore(model)

    def on_step_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if model is not None and any(is_packed_4bit(module) for _, module in self.modules):
            self._restore(model)  # a callback generated with the model since the last step

    def _restore(self, model: Any) -> None:
        if model is None:
            return
        restore_trainable_4bit_layout(model)
        self.modules = [
            (name, m)
            for name, m in model.named_modules()
            if hasattr(getattr(m, "weight", None), "quant_state")
        ]
        packed = [name for name, module in self.modules if is_packed_4bit(module)]
        if packed:
            raise four_bit_trap_error(packed, "after domainft tried to restore them")


def four_bit_trap_error(packed: list[str], when: str) -> TrainingError:
    """The bitsandbytes CPU trap: 4-bit weights in the inference layout, through which no gradient flows."""
    return TrainingError(
        f"{len(packed)} 4-bit weight(s) are in bitsandbytes' CPU inference layout {when} "
        f"(first: {packed[0]}). "
        "bitsandbytes repacks them on a CPU with AVX512-BF16 whenever the model runs in eval mode without "
        "gradients (generate, evaluation); training through them would silently compute wrong gradients. "
        "Re-load the model (QuantizedLoader(...).load()) and train before generating with it, or train "
        "unquantized on the CPU (quantization: null); a bitsandbytes version domainft does not know may "
        "also cause this (see docs/loading.md)"
    )


class NonFiniteLossGuard(TrainerCallback):
    """Stops training as soon as a logged training loss is NaN or infinite, naming the step and epoch."""

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise TrainingError(
                f"the training loss became {loss} at optimizer step {state.global_step} (epoch "
                f"{state.epoch:.2f}). Lower learning_rate, keep max_grad_norm, use bf16 rather than fp16, "
                "or look for empty/garbled examples in that part of the data"
            )


class GenerationMetricsCallback(TrainerCallback):
    """At every evaluation, answers a fixed validation subset by real generation and scores it.

    The scores (e.g. ``eval_rougeL``, ``eval_bleu``) are added to the evaluation metrics before the
    other callbacks see them, so early stopping and best-checkpoint selection can use them, and they
    are written to the log history next to the validation loss. Generation runs in eval mode and the
    model returns to training mode afterwards.
    """

    def __init__(
        self,
        rows: list[dict[str, Any]],
        tokenizer: Any,
        metrics: list[str],
        *,
        max_new_tokens: int = 128,
        batch_size: int = 16,
        template: str | None = None,
        system_prompt: str | None = None,
    ) -> None:
        self.rows = rows
        self.tokenizer = tokenizer
        self.metrics = list(metrics)
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.template = template
        self.system_prompt = system_prompt
        self.last: dict[str, float] = {}

    def scores(self, model: Any) -> dict[str, float]:
        """``{"eval_<metric>": value}`` of ``model`` on the subset."""
        from domainft.evaluation.evaluator import Evaluator
        from domainft.models.generation import DecodingConfig

        evaluator = Evaluator(
            metrics=self.metrics,
            decoding=DecodingConfig(max_new_tokens=self.max_new_tokens, batch_size=self.batch_size),
            template=self.template,
            system_prompt=self.system_prompt,
            progress=False,
            perplexity=False,  # the validation loss is already logged
            statistics={"resamples": 0, "test": "none"},  # point values only, at every evaluation
        )
        report = evaluator.compare({"model": model}, self.rows, tokenizer=self.tokenizer)
        return {f"eval_{name}": float(value.value) for name, value in report.systems["model"].items()}

    def on_evaluate(
        self,
        args: Any,
        state: Any,
        control: Any,
        model: Any = None,
        metrics: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if model is None or metrics is None:
            return
        self.last = self.scores(model)
        metrics.update(self.last)
        state.log_history.append({**self.last, "epoch": state.epoch, "step": state.global_step})


class OverfittingWarning(TrainerCallback):
    """Warns when validation loss rose for ``patience`` evaluations in a row while training loss fell."""

    def __init__(self, patience: int = 2) -> None:
        self.patience = patience
        self.points: list[tuple[int, float, float]] = []  # (step, train loss, validation loss)
        self.warnings: list[str] = []

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        loss = (metrics or {}).get("eval_loss")
        train = next((e["loss"] for e in reversed(state.log_history) if "loss" in e), None)
        if loss is None or train is None or self.patience < 1:
            return
        self.points.append((state.global_step, float(train), float(loss)))
        recent = self.points[-(self.patience + 1) :]
        if len(recent) < self.patience + 1:
            return
        pairs = list(itertools.pairwise(recent))
        rising = all(b[2] > a[2] for a, b in pairs)
        falling = all(b[1] < a[1] for a, b in pairs)
        if rising and falling:
            message = (
                f"possible overfitting at step {state.global_step}: validation loss rose for {self.patience} "
                f"evaluations ({recent[0][2]:.4f} -> {recent[-1][2]:.4f}) while training loss fell "
                f"({recent[0][1]:.4f} -> {recent[-1][1]:.4f}); consider early_stopping_patience, fewer "
                "epochs, a lower learning rate or more data"
            )
            logger.warning("%s", message)
            self.warnings.append(message)
