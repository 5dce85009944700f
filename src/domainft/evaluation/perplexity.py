"""Perplexity of the reference answers under a local model: how unsurprising the expected answer is.

Each example is rendered and masked exactly as in training (``encode_example``: prompt masked,
reference answer and its EOS scored), so the number is comparable to the validation loss:
``perplexity = exp(total NLL / total reference tokens)`` over the test set, and per example
``exp(mean NLL of its tokens)``. Lower is better. It needs the model's logits, so endpoint systems
have none.

Examples:
    >>> from domainft.evaluation.perplexity import perplexity_output   # doctest: +SKIP
    >>> out = perplexity_output(model, tok, prompts, references)   # doctest: +SKIP
    >>> out.values["perplexity"]   # doctest: +SKIP
    12.7
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from domainft.data.templates import IGNORE_INDEX, encode_example
from domainft.evaluation.metrics.base import MetricOutput


def reference_nll(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    references: Sequence[str],
    *,
    template: str | None = None,
    system_prompt: str | None = None,
    batch_size: int = 8,
) -> list[tuple[float, int]]:
    """``(summed NLL, scored tokens)`` of every reference given its prompt, in input order."""
    import torch

    encoded = [
        encode_example(tokenizer, p, r, template=template, system_prompt=system_prompt)
        for p, r in zip(prompts, references, strict=True)
    ]
    device = next(model.parameters()).device
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]["input_ids"]))
    results: list[tuple[float, int]] = [(0.0, 0)] * len(encoded)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            width = max(len(encoded[i]["input_ids"]) for i in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                n = len(encoded[i]["input_ids"])
                ids[row, :n] = torch.as_tensor(encoded[i]["input_ids"])
                labels[row, :n] = torch.as_tensor(encoded[i]["labels"])
                mask[row, :n] = 1
            with torch.no_grad():
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            shifted = labels[:, 1:].to(logits.device)
            nll = torch.nn.functional.cross_entropy(
                logits[:, :-1].transpose(1, 2), shifted, ignore_index=IGNORE_INDEX, reduction="none"
            )
            scored = shifted != IGNORE_INDEX
            for row, i in enumerate(batch):
                results[i] = (float(nll[row][scored[row]].sum()), int(scored[row].sum()))
    finally:
        if was_training:
            model.train()
    return results


def perplexity_output(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    references: Sequence[str],
    **options: Any,
) -> MetricOutput:
    """``perplexity`` (corpus, token-weighted) and per-example perplexities of the references."""
    pairs = reference_nll(model, tokenizer, prompts, references, **options)
    total_nll = sum(n for n, _ in pairs)
    total_tokens = sum(t for _, t in pairs)
    per_sample = [math.exp(n / t) if t else None for n, t in pairs]
    failures = [
        {"index": i, "reason": "the reference has no token to score (empty answer)"}
        for i, (_, t) in enumerate(pairs)
        if not t
    ]
    value = math.exp(total_nll / total_tokens) if total_tokens else float("inf")
    if not math.isfinite(value):
        raise ValueError("perplexity: no reference token could be scored (all references empty?)")
    return MetricOutput(
        {"perplexity": value},
        {"perplexity": per_sample},
        {"nll_per_token": total_nll / total_tokens, "tokens": total_tokens},
        failures,
    )
