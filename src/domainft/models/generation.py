"""Decoding settings and batched generation: left-padded, length-sorted, KV-cached, stops at EOS.

Used by the evaluator (answers to score) and by teacher models (synthetic data), so it lives with
the models, below both.

A batch holds up to ``batch_size`` prompts and up to ``max_batch_tokens`` tokens counted as
``prompts x (longest prompt + max_new_tokens)``, the size of its KV cache at the last step. Short
prompts are therefore generated many at a time (one decoding step costs about the same for 1 or 64
rows on CPU and GPU), long ones in smaller batches, and batching never changes greedy answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domainft.configuration import ConfigBase, config_field


@dataclass
class DecodingConfig(ConfigBase):
    """Decoding settings of the generation engine (greedy by default).

    Examples:
        >>> DecodingConfig(max_new_tokens=64).generate_kwargs()["do_sample"]
        False
    """

    max_new_tokens: int = config_field(128, help="Longest answer in tokens.")
    do_sample: bool = config_field(False, help="Sample instead of greedy decoding.")
    temperature: float = config_field(1.0, help="Sampling temperature (do_sample only).")
    top_p: float = config_field(1.0, help="Nucleus sampling mass (do_sample only).")
    top_k: int = config_field(50, help="Top-k sampling (do_sample only).")
    repetition_penalty: float = config_field(1.0, help="Penalty > 1 discourages repeated tokens.")
    batch_size: int = config_field(
        64, help="Most prompts generated together (left-padded, length-sorted); see max_batch_tokens."
    )
    max_batch_tokens: int | None = config_field(
        16384,
        help="Most tokens one batch holds, as prompts x (longest prompt + max_new_tokens): bounds the KV "
        "cache, so batches of long prompts are smaller than batch_size. null = no bound.",
    )
    seed: int = config_field(0, help="Seed for sampling.")

    def validate(self) -> None:
        self.require_positive("max_new_tokens", "batch_size", "temperature", "repetition_penalty")
        if self.max_batch_tokens is not None:
            self.require_positive("max_batch_tokens")
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


def context_window(model: Any, tokenizer: Any | None = None) -> int | None:
    """Longest sequence the model handles: ``max_position_embeddings`` (or the tokenizer's limit); None
    when neither says."""
    config = getattr(model, "config", None)
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", None)
    return limit if isinstance(limit, int) and 0 < limit < 1_000_000 else None


def pad_token_id(tokenizer: Any) -> int:
    """The id that pads prompts: the tokenizer's pad token, else its EOS."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def left_pad(prompt_ids: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    """``(input_ids, attention_mask)`` tensors of prompts padded on the left, ready for ``generate``.

    Examples:
        >>> ids, mask = left_pad([[5, 6, 7], [8]], pad_id=0)
        >>> ids.tolist(), mask.tolist()
        ([[5, 6, 7], [0, 0, 8]], [[1, 1, 1], [0, 0, 1]])
    """
    import torch

    width = max(len(p) for p in prompt_ids)
    input_ids = torch.full((len(prompt_ids), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(prompt_ids), width), dtype=torch.long)
    for row, ids in enumerate(prompt_ids):
        if len(ids):
            input_ids[row, width - len(ids) :] = torch.as_tensor(list(ids), dtype=torch.long)
            attention[row, width - len(ids) :] = 1
    return input_ids, attention


def plan_batches(
    lengths: Sequence[int],
    batch_size: int,
    max_new_tokens: int = 0,
    max_batch_tokens: int | None = None,
) -> list[list[int]]:
    """Indices of ``lengths`` (prompt lengths) grouped into batches, longest prompts first.

    A batch takes prompts in order of decreasing length while it has fewer than ``batch_size`` and
    ``rows x (its longest prompt + max_new_tokens)`` stays within ``max_batch_tokens``; a prompt
    longer than the budget on its own gets a batch of one.

    Examples:
        >>> plan_batches([3, 9, 5, 1], batch_size=3)
        [[1, 2, 0], [3]]
        >>> plan_batches([3, 9, 5, 1], batch_size=3, max_new_tokens=1, max_batch_tokens=20)
        [[1, 2], [0, 3]]
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    for i in order:
        batch = batches[-1] if batches else None
        if batch is not None and len(batch) < batch_size:
            row_tokens = lengths[batch[0]] + max_new_tokens  # the batch's first prompt is its longest
            if max_batch_tokens is None or (len(batch) + 1) * row_tokens <= max_batch_tokens:
                batch.append(i)
                continue
        batches.append([i])
    return batches


def generate_texts(
    model: Any,
    tokenizer: Any,
    prompt_ids: Sequence[Sequence[int]],
    decoding: DecodingConfig | None = None,
    *,
    desc: str = "generating",
    progress: bool = True,
) -> list[str]:
    """Generate one answer per already-tokenized prompt; returns texts in the input order.

    Prompts are sorted by length so batches carry little padding and grouped by :func:`plan_batches`
    (``decoding.batch_size`` prompts, ``decoding.max_batch_tokens`` tokens at most); the decoded answer
    holds only the new tokens, without special tokens.
    """
    import torch
    from tqdm.auto import tqdm

    decoding = decoding or DecodingConfig()
    batches = plan_batches(
        [len(p) for p in prompt_ids], decoding.batch_size, decoding.max_new_tokens, decoding.max_batch_tokens
    )
    results: list[str] = [""] * len(prompt_ids)
    device = next(model.parameters()).device
    pad_id = pad_token_id(tokenizer)
    kwargs = decoding.generate_kwargs()
    was_training = model.training
    model.eval()
    if decoding.do_sample:
        torch.manual_seed(decoding.seed)
    bar = tqdm(total=len(prompt_ids), desc=desc, disable=not progress, unit="prompt")
    try:
        for batch in batches:
            input_ids, attention = left_pad([prompt_ids[i] for i in batch], pad_id)
            width = input_ids.shape[1]
            with torch.no_grad():
                out = model.generate(
                    input_ids=input_ids.to(device),
                    attention_mask=attention.to(device),
                    pad_token_id=pad_id,
                    eos_token_id=tokenizer.eos_token_id,
                    use_cache=True,
                    **kwargs,
                )
            new_tokens = out[:, width:]
            for row, i in enumerate(batch):
                ids = new_tokens[row].tolist()
                if tokenizer.eos_token_id in ids:
                    ids = ids[: ids.index(tokenizer.eos_token_id)]
                results[i] = tokenizer.decode(ids, skip_special_tokens=True).strip()
            bar.update(len(batch))
    finally:
        bar.close()
        if was_training:
            model.train()
    return results
