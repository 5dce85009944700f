"""Shared fixtures: a tiny model built offline once per session and small prompt/response splits."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest

from domainft.data.samples import builtin_path

PROMPT = "Machine: {machine_type}. Problem: {problem}"
RESPONSE = "Cause: {cause} Solution: {solution} Expected time: {hours:g} h."


@pytest.fixture(scope="session")
def ticket_pairs() -> list[dict[str, str]]:
    """Complete machinery tickets as prompt/response pairs (formatted here, independent of the builder)."""
    rows = [
        json.loads(line)
        for line in builtin_path("machinery_tickets").read_text(encoding="utf-8").splitlines()
    ]
    pairs = []
    for r in rows:
        if r["problem"].strip() and r["solution"].strip():
            pairs.append({"id": r["id"], "prompt": PROMPT.format(**r), "response": RESPONSE.format(**r)})
    return pairs


@pytest.fixture(scope="session")
def tiny_dsd(ticket_pairs):
    """Small train/validation/test splits."""
    import datasets

    return datasets.DatasetDict(
        train=datasets.Dataset.from_list(ticket_pairs[:48]),
        validation=datasets.Dataset.from_list(ticket_pairs[48:56]),
        test=datasets.Dataset.from_list(ticket_pairs[56:64]),
    )


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, ticket_pairs):
    """A tiny Llama + BPE tokenizer trained on the tickets, saved with save_pretrained."""
    from domainft.models.tiny import build_tiny_model

    texts = [f"{p['prompt']}\n{p['response']}" for p in ticket_pairs]
    return build_tiny_model(texts, tmp_path_factory.mktemp("tiny-llama"), seed=0)


def greedy_new_ids(model, tok, prompt: str, max_new_tokens: int) -> list[int]:
    """The token ids plain ``model.generate`` adds to one prompt (chat template, greedy): the reference
    that batched generation and stopping at EOS are checked against."""
    import torch

    from domainft.data.templates import encode_prompt, render_prompt

    ids = torch.tensor([encode_prompt(tok, render_prompt(tok, prompt))])
    with torch.no_grad():
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            do_sample=False,
            max_new_tokens=max_new_tokens,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
        )
    return out[0, ids.shape[1] :].tolist()


def cpu_repacks_4bit() -> bool:
    """True where bitsandbytes repacks 4-bit weights for CPU inference (the gradient trap)."""
    try:
        import torch
        from bitsandbytes.nn import Linear4bit

        layer = Linear4bit(64, 64, compute_dtype=torch.bfloat16)
        return bool(getattr(layer, "support_avx512bf16_for_cpu", False))
    except Exception:
        return False
