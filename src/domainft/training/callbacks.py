"""Trainer callbacks: the dead-gradient guard and the bitsandbytes CPU layout fix."""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from domainft.errors import TrainingError
from domainft.models.bnb_cpu import restore_trainable_4bit_layout


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
            detail = "; ".join(problems[:5]) or "every trainable gradient is exactly zero"
            raise TrainingError(
                f"no usable gradient reached the trainable parameters after the first step ({detail}). "
                "Typical causes: the adapter is not attached (call LoraAdapterFactory.apply), all labels are "
                "-100 (prompts longer than max_length), or a 4-bit model was run in eval mode on the CPU "
                "before training (domainft restores it; re-load the model if you changed it by hand)."
            )


class FourBitCpuLayoutCallback(TrainerCallback):
    """Restores trainable 4-bit weights before training and after each evaluation (see ``bnb_cpu``)."""

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if model is not None:
            restore_trainable_4bit_layout(model)

    def on_evaluate(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if model is not None:
            restore_trainable_4bit_layout(model)
