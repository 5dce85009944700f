"""Batched generation: left-padded, length-sorted, KV-cached, stops at EOS, with a progress bar."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domainft.evaluation.config import DecodingConfig


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

    Prompts are sorted by length so batches carry little padding; the decoded answer holds only
    the new tokens, without special tokens.
    """
    import torch
    from tqdm.auto import tqdm

    decoding = decoding or DecodingConfig()
    order = sorted(range(len(prompt_ids)), key=lambda i: len(prompt_ids[i]), reverse=True)
    results: list[str] = [""] * len(prompt_ids)
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    kwargs = decoding.generate_kwargs()
    was_training = model.training
    model.eval()
    if decoding.do_sample:
        torch.manual_seed(decoding.seed)
    bar = tqdm(total=len(order), desc=desc, disable=not progress, unit="prompt")
    try:
        for start in range(0, len(order), decoding.batch_size):
            batch = order[start : start + decoding.batch_size]
            width = max(len(prompt_ids[i]) for i in batch)
            input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            attention = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                ids = list(prompt_ids[i])
                input_ids[row, width - len(ids) :] = torch.as_tensor(ids, dtype=torch.long)
                attention[row, width - len(ids) :] = 1
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
