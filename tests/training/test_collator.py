import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoTokenizer

from domainft.data.templates import IGNORE_INDEX, encode_conversation, encode_example
from domainft.errors import DataError
from domainft.training.collator import PaddingCollator, PaddingFreeCollator, pack_dataset


@pytest.fixture(scope="module")
def tok(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def examples(tok, ticket_pairs):
    """Four encoded examples of different lengths, one learning every token (its first label is set)."""
    out = [encode_example(tok, p["prompt"], p["response"]) for p in ticket_pairs[:3]]
    messages = [{"role": "user", "content": "Pump leaks?"}, {"role": "assistant", "content": "Seal."}]
    out.append(
        {
            k: v
            for k, v in encode_conversation(tok, messages, train_on_prompt=True).items()
            if k != "response_start"
        }
    )
    assert len({len(e["input_ids"]) for e in out}) > 1 and out[-1]["labels"][0] != IGNORE_INDEX
    return out


def _token_losses(logits, labels):
    """Cross-entropy of each next-token prediction (position t predicts label t+1), -100 ignored."""
    logits, labels = logits[0, :-1].float(), labels[0, 1:]
    return F.cross_entropy(
        logits, labels, ignore_index=IGNORE_INDEX, reduction="none"
    ), labels != IGNORE_INDEX


def _separate_losses(model, examples):
    losses = []
    with torch.no_grad():
        for e in examples:
            logits = model(input_ids=torch.tensor([e["input_ids"]])).logits
            loss, mask = _token_losses(logits, torch.tensor([e["labels"]]))
            losses.append(loss[mask].mean().item())
    return losses


def _packed_losses(model, batch, lengths):
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        loss, mask = _token_losses(model(**inputs).logits, batch["labels"])
    out, start = [], 0
    for n in lengths:  # example i is predicted at shifted positions start .. start + n - 2
        span = slice(start, start + n - 1)
        out.append(loss[span][mask[span]].mean().item())
        start += n
    return out


def test_padding_free_batch_layout(examples):
    batch = PaddingFreeCollator()(examples)
    lengths = [len(e["input_ids"]) for e in examples]
    total = sum(lengths)
    assert set(batch) == {"input_ids", "labels", "position_ids", "use_cache"} and batch["use_cache"] is False
    assert "attention_mask" not in batch  # a mask would let the examples attend to each other
    assert batch["input_ids"].shape == batch["labels"].shape == batch["position_ids"].shape == (1, total)
    assert batch["input_ids"][0].tolist() == [t for e in examples for t in e["input_ids"]]
    positions = batch["position_ids"][0].tolist()
    starts = [sum(lengths[:i]) for i in range(len(lengths))]
    assert [i for i, p in enumerate(positions) if p == 0] == starts  # restart at every example
    assert positions[starts[-1] :] == list(range(lengths[-1]))
    labels = batch["labels"][0].tolist()
    assert [labels[s] for s in starts] == [IGNORE_INDEX] * len(starts)  # no learning across a boundary
    for e, s, n in zip(examples, starts, lengths, strict=True):
        assert labels[s + 1 : s + n] == e["labels"][1:]


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_packed_losses_equal_separate_losses(tiny_model_dir, examples, attention):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=attention).eval()
    assert model.config.use_cache  # the configuration a user has outside Trainer
    lengths = [len(e["input_ids"]) for e in examples]
    separate = _separate_losses(model, examples)
    batch = PaddingFreeCollator()(examples)
    assert _packed_losses(model, batch, lengths) == pytest.approx(separate, abs=1e-4)
    # the model's own loss is the token-weighted mean of the same per-token losses
    with torch.no_grad():
        mean_loss = model(**batch).loss.item()
        padded = PaddingCollator(pad_token_id=0)(examples)
        padded_loss = model(**padded).loss.item()
    assert mean_loss == pytest.approx(padded_loss, abs=1e-4)
    # the two traps the collator avoids: an all-ones mask, and a KV cache, both join the examples
    joined = _packed_losses(model, {**batch, "attention_mask": torch.ones_like(batch["input_ids"])}, lengths)
    assert max(abs(a - b) for a, b in zip(joined[1:], separate[1:], strict=True)) > 1e-3
    cached = _packed_losses(model, {**batch, "use_cache": True}, lengths)
    assert max(abs(a - b) for a, b in zip(cached[1:], separate[1:], strict=True)) > 1e-3


def test_pack_dataset_groups_whole_examples(tiny_model_dir, examples):
    import datasets

    tokenized = datasets.Dataset.from_list(examples * 3)
    lengths = [len(e["input_ids"]) for e in examples * 3]
    max_length = max(lengths) + min(lengths)
    packed = pack_dataset(tokenized, max_length)
    assert all(n <= max_length for n in packed["length"]) and sum(packed["num_examples"]) == len(lengths)
    assert len(packed) < len(lengths) and len(packed) >= -(-sum(lengths) // max_length)
    pieces = []
    for row in packed:
        assert len(row["input_ids"]) == len(row["labels"]) == len(row["position_ids"]) == row["length"]
        starts = [i for i, p in enumerate(row["position_ids"]) if p == 0]
        assert len(starts) == row["num_examples"] and all(row["labels"][s] == IGNORE_INDEX for s in starts)
        for s, e in zip(starts, [*starts[1:], row["length"]], strict=True):
            pieces.append(tuple(row["input_ids"][s:e]))
            assert row["position_ids"][s:e] == list(range(e - s))
    assert sorted(pieces) == sorted(tuple(e["input_ids"]) for e in examples * 3)  # each example once, whole
    # the collator keeps the rows' own position ids, so a batch of packs is still separated correctly
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    rows = [packed[0], packed[1]]
    batch = PaddingFreeCollator()(rows)
    assert batch["position_ids"][0].tolist() == rows[0]["position_ids"] + rows[1]["position_ids"]
    members = []
    for row in rows:
        starts = [i for i, p in enumerate(row["position_ids"]) if p == 0]
        for s, e in zip(starts, [*starts[1:], row["length"]], strict=True):
            members.append(next(x for x in examples if x["input_ids"] == row["input_ids"][s:e]))
    got = _packed_losses(model, batch, [len(m["input_ids"]) for m in members])
    assert got == pytest.approx(_separate_losses(model, members), abs=1e-4)


def test_pack_dataset_best_fit_and_errors():
    import datasets

    rows = datasets.Dataset.from_list([{"input_ids": [7] * n, "labels": [7] * n} for n in (6, 3, 4, 2, 5)])
    packed = pack_dataset(rows, 10)
    assert sorted(packed["length"]) == [10, 10] and len(packed) == 2  # 6+4 and 5+3+2: no room wasted
    with pytest.raises(DataError, match=r"longer than max_length=5 \(row 0 has 6 tokens\)"):
        pack_dataset(rows, 5)
    with pytest.raises(DataError, match="without any token"):
        PaddingFreeCollator()([{"input_ids": [], "labels": []}])
