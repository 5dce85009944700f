"""Batch planning of the generation engine: prompts and tokens per batch, same greedy answers."""

from __future__ import annotations

import random

import pytest

from domainft.data.templates import prompt_ids
from domainft.errors import ConfigError
from domainft.evaluation.evaluator import PERPLEXITY_BATCH_SIZE, Evaluator
from domainft.models.generation import DecodingConfig, generate_texts, plan_batches
from domainft.models.loading import QuantizedLoader


@pytest.fixture()
def fp32_model(tiny_model_dir):
    model, tok = QuantizedLoader(tiny_model_dir, quantization=None).load()
    return model.eval(), tok


def _check_plan(lengths: list[int], batch_size: int, new: int, budget: int | None) -> list[list[int]]:
    batches = plan_batches(lengths, batch_size, new, budget)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))  # each prompt once
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(lengths, reverse=True)  # longest first, so batches carry little padding
    for batch in batches:
        assert 1 <= len(batch) <= batch_size
        if budget is not None and len(batch) > 1:
            assert len(batch) * (max(lengths[i] for i in batch) + new) <= budget
    return batches


@pytest.mark.parametrize("seed", range(5))
def test_plan_batches_respects_prompts_and_tokens(seed: int) -> None:
    rng = random.Random(seed)
    lengths = [rng.choice([rng.randint(1, 40), rng.randint(200, 900)]) for _ in range(rng.randint(1, 150))]
    for batch_size, new, budget in [(64, 128, 16384), (16, 0, None), (8, 64, 500), (3, 10, 1)]:
        batches = _check_plan(lengths, batch_size, new, budget)
        if budget is None:  # no token bound: fixed chunks of the sorted order, as before the bound existed
            assert [len(b) for b in batches[:-1]] == [batch_size] * (len(batches) - 1)
    # a prompt longer than the budget on its own is generated alone, never dropped
    assert plan_batches([50, 5, 5], batch_size=8, max_new_tokens=10, max_batch_tokens=40) == [[0], [1, 2]]
    assert plan_batches([], batch_size=8) == []


def test_token_budget_shrinks_batches_of_long_prompts_only() -> None:
    short, long = [30] * 64, [1000] * 64
    assert [len(b) for b in plan_batches(short, 64, 128, 16384)] == [64]
    assert [len(b) for b in plan_batches(long, 64, 128, 16384)] == [14] * 4 + [8]


def test_decoding_config_max_batch_tokens() -> None:
    assert DecodingConfig().batch_size == 64 and DecodingConfig().max_batch_tokens == 16384
    config = DecodingConfig(max_batch_tokens=None)
    assert DecodingConfig.from_dict(config.to_dict()).max_batch_tokens is None
    with pytest.raises(ConfigError, match="max_batch_tokens"):
        DecodingConfig(max_batch_tokens=0)
    assert "max_batch_tokens" not in DecodingConfig().generate_kwargs()


def test_token_bounded_batches_give_the_same_greedy_answers(fp32_model, ticket_pairs) -> None:
    model, tok = fp32_model
    ids = [prompt_ids(tok, p["prompt"]) for p in ticket_pairs[:12]]
    assert len({len(i) for i in ids}) > 3  # ragged, so batches really are padded differently
    one_by_one = generate_texts(
        model, tok, ids, DecodingConfig(max_new_tokens=8, batch_size=1), progress=False
    )
    longest = max(len(i) for i in ids)
    tight = DecodingConfig(max_new_tokens=8, max_batch_tokens=3 * (longest + 8))  # about 3 prompts a batch
    assert len(plan_batches([len(i) for i in ids], 64, 8, tight.max_batch_tokens)) >= 4
    assert generate_texts(model, tok, ids, tight, progress=False) == one_by_one
    assert generate_texts(model, tok, ids, DecodingConfig(max_new_tokens=8), progress=False) == one_by_one


def test_evaluator_generates_wide_batches_and_keeps_perplexity_batches_small(
    fp32_model, ticket_pairs
) -> None:
    model, tok = fp32_model
    rows = ticket_pairs[: PERPLEXITY_BATCH_SIZE + 8]
    seen: list[tuple[int, bool]] = []  # (rows in the forward pass, generating with a KV cache)

    def record(_module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        seen.append((int(ids.shape[0]), kwargs.get("past_key_values") is not None))

    handle = model.register_forward_pre_hook(record, with_kwargs=True)
    try:
        report = Evaluator(metrics=["exact_match"], decoding={"max_new_tokens": 3}, progress=False).evaluate(
            model, tok, rows
        )
    finally:
        handle.remove()
    assert report.systems["model"]["perplexity"].n == len(rows)
    generation = [n for n, cached in seen if cached]
    perplexity = [n for n, cached in seen if not cached]
    assert max(generation) == len(rows)  # one batch: the default batch holds them all
    assert perplexity and max(perplexity) <= PERPLEXITY_BATCH_SIZE
    assert sum(perplexity) == len(rows)
