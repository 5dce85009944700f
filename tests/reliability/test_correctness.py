"""Behaviour a fine-tune must have: answers that end, reproducible runs, and no silent 4-bit trap."""

from __future__ import annotations

import pytest
import torch

from domainft.errors import TrainingError
from domainft.evaluation.evaluator import Evaluator
from domainft.models.adapters import LoraAdapterFactory
from domainft.models.loading import QuantizedLoader
from domainft.training.config import TrainingConfig
from domainft.training.trainer import DomainTrainer
from tests.conftest import cpu_repacks_4bit, greedy_new_ids


def _peft(model_dir, quantization=None, dropout=0.0):
    model, tok = QuantizedLoader(model_dir, quantization=quantization).load()
    factory = LoraAdapterFactory(
        r=8, alpha=16, dropout=dropout, target_modules=["attention", "mlp", "lm_head"]
    )
    return factory.apply(model), tok


def _config(out, **kw):
    base = dict(
        output_dir=str(out),
        learning_rate=5e-3,
        per_device_train_batch_size=8,
        logging_steps=1,
        disable_tqdm=True,
        save_strategy="no",
    )
    return TrainingConfig(**{**base, **kw})


def _stops_at_eos(model, tok, prompts, max_new_tokens):
    """For each prompt: True when greedy decoding emitted EOS before ``max_new_tokens``."""
    model.eval()
    return [tok.eos_token_id in greedy_new_ids(model, tok, prompt, max_new_tokens) for prompt in prompts]


def test_after_fine_tuning_answers_stop_at_eos(ticket_pairs, tmp_path):
    from domainft.models.tiny import build_tiny_model

    texts = [f"{p['prompt']}\n{p['response']}" for p in ticket_pairs]
    model_dir = build_tiny_model(texts, tmp_path / "model", seed=0, hidden_size=128, intermediate_size=256)
    train = ticket_pairs[:8]
    prompts = [p["prompt"] for p in train]
    model, tok = _peft(model_dir)
    cap = max(len(ids) for ids in tok([p["response"] for p in train])["input_ids"]) + 24
    assert sum(_stops_at_eos(model, tok, prompts, cap)) <= 2  # the random base runs on to the cap
    import datasets

    DomainTrainer(
        model=model,
        tokenizer=tok,
        datasets={"train": datasets.Dataset.from_list(train)},
        config=_config(tmp_path / "run", num_train_epochs=60, learning_rate=1e-2, eval_strategy="no"),
    ).train()
    assert all(_stops_at_eos(model, tok, prompts, cap))


def test_same_seed_runs_give_identical_losses_adapters_and_metrics(tiny_model_dir, tiny_dsd, tmp_path):
    runs = []
    for name, noise in (("a", 1), ("b", 2)):
        torch.manual_seed(noise)  # a different global RNG state before each run
        torch.rand(noise)
        model, tok = _peft(tiny_model_dir, dropout=0.1)
        result = DomainTrainer(
            model=model, tokenizer=tok, datasets=tiny_dsd, config=_config(tmp_path / name, num_train_epochs=2)
        ).train()
        report = Evaluator(
            metrics=["rouge", "bleu"], decoding={"max_new_tokens": 16}, progress=False
        ).evaluate(model, tok, tiny_dsd["test"], name="tuned")
        weights = {k: v.clone() for k, v in model.state_dict().items() if "lora_" in k}
        runs.append((result, report, weights))
    (ra, pa, wa), (rb, pb, wb) = runs
    losses = [[e["loss"] for e in r.log_history if "loss" in e] for r in (ra, rb)]
    assert len(losses[0]) > 5 and losses[0] == losses[1]
    assert ra.eval_loss == rb.eval_loss and ra.train_loss == rb.train_loss
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    values = [{k: (m.value, m.ci_low, m.ci_high) for k, m in p.systems["tuned"].items()} for p in (pa, pb)]
    assert values[0] == values[1] and "bleu" in values[0]
    assert [s.predictions for s in pa.samples] == [s.predictions for s in pb.samples]


@pytest.mark.skipif(not cpu_repacks_4bit(), reason="this CPU does not repack 4-bit weights")
def test_bitsandbytes_cpu_trap_is_detected_when_it_cannot_be_undone(
    tiny_model_dir, tiny_dsd, tmp_path, monkeypatch
):
    import domainft.training.callbacks as callbacks

    model, tok = QuantizedLoader(tiny_model_dir).load()
    model.eval()
    with torch.no_grad():  # arms the trap: bitsandbytes repacks the 4-bit weights for CPU inference
        model.generate(**tok(["Machine: forklift"], return_tensors="pt"), max_new_tokens=2)
    peft_model = LoraAdapterFactory(r=8, alpha=16, target_modules=["attention", "mlp"]).apply(model)
    # as with a bitsandbytes release whose layout domainft cannot undo
    monkeypatch.setattr(callbacks, "restore_trainable_4bit_layout", lambda model: 0)
    trainer = DomainTrainer(
        model=peft_model, tokenizer=tok, datasets=tiny_dsd, config=_config(tmp_path, max_steps=2)
    )
    with pytest.raises(TrainingError, match=r"CPU inference layout .*Re-load the model") as err:
        trainer.train()
    assert "q_proj" in str(err.value) and "AVX512-BF16" in str(err.value)


@pytest.mark.skipif(not cpu_repacks_4bit(), reason="this CPU does not repack 4-bit weights")
def test_generation_inside_training_is_undone_before_the_next_step(tiny_model_dir, tiny_dsd, tmp_path):
    from transformers import TrainerCallback

    from domainft.models.bnb_cpu import packed_4bit_weights

    seen, at_step = [], []

    class PeekAnswers(TrainerCallback):  # a user callback that generates after each step
        def on_step_begin(self, args, state, control, model=None, **kwargs):
            at_step.append(len(packed_4bit_weights(model)))

        def on_step_end(self, args, state, control, model=None, **kwargs):
            model.eval()
            with torch.no_grad():
                model.generate(**tok(["Machine: forklift"], return_tensors="pt"), max_new_tokens=2)
            seen.append(len(packed_4bit_weights(model)))
            model.train()

    model, tok = _peft(tiny_model_dir, quantization="nf4")
    trainer = DomainTrainer(
        model=model,
        tokenizer=tok,
        datasets=tiny_dsd,
        config=_config(tmp_path, max_steps=4, eval_strategy="no"),
        callbacks=[PeekAnswers()],
    )
    losses = [e["loss"] for e in trainer.train().log_history if "loss" in e]
    assert len(seen) == 4 and min(seen) > 0  # each step was followed by a repacking ...
    assert at_step == [0, 0, 0, 0]  # ... undone before the next step began
    assert len(losses) == 4 and losses[-1] < losses[0]
