import json
import math

import pytest
import torch

from domainft.errors import ConfigError, DataError, TrainingError
from domainft.models.adapters import LoraAdapterFactory, load_adapter
from domainft.models.bnb_cpu import restore_trainable_4bit_layout
from domainft.models.loading import QuantizedLoader
from domainft.training.config import TrainingConfig
from domainft.training.trainer import DomainTrainer
from tests.conftest import cpu_repacks_4bit


def _config(tmp_path, **kw):
    base = dict(
        output_dir=str(tmp_path / "run"),
        num_train_epochs=8,
        learning_rate=5e-3,
        logging_steps=2,
        disable_tqdm=True,
        per_device_train_batch_size=8,
    )
    base.update(kw)
    return TrainingConfig(**base)


def _peft(tiny_model_dir, quantization="nf4"):
    model, tok = QuantizedLoader(tiny_model_dir, quantization=quantization).load()
    return LoraAdapterFactory(
        r=8, alpha=16, dropout=0.0, target_modules=["attention", "mlp", "lm_head"]
    ).apply(model), tok


def test_overfit_run_lowers_loss_and_writes_run_folder(tiny_model_dir, tiny_dsd, tmp_path):
    model, tok = _peft(tiny_model_dir)
    trainer = DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=_config(tmp_path))
    result = trainer.train()
    train_losses = [e["loss"] for e in result.log_history if "loss" in e]
    assert train_losses[-1] < 0.8 * train_losses[0]
    assert result.eval_loss < result.initial_eval_loss
    run = tmp_path / "run"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["seed"] == 42 and manifest["versions"]["peft"]
    assert manifest["model"]["quantization"] == "nf4"
    assert manifest["data"]["train"]["rows"] == 48 and manifest["data"]["train"]["fingerprint"]
    assert manifest["result"]["eval_loss"] == pytest.approx(result.eval_loss)
    assert (run / "loss_curve.png").stat().st_size > 1000
    adapter = trainer.save_adapter()
    assert (adapter / "adapter_config.json").is_file() and (adapter / "tokenizer.json").is_file()


def test_saved_adapter_reproduces_the_trained_model(tiny_model_dir, tiny_dsd, tmp_path):
    model, tok = _peft(tiny_model_dir, quantization=None)
    trainer = DomainTrainer(
        model=model, tokenizer=tok, datasets=tiny_dsd, config=_config(tmp_path, num_train_epochs=2)
    )
    trainer.train()
    path = trainer.save_adapter(tmp_path / "adapter")
    ids = tok("Machine: chiller. Problem: icing", return_tensors="pt")
    model.eval()
    with torch.no_grad():
        expected = model(**ids).logits
        base, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
        assert torch.allclose(load_adapter(base, path)(**ids).logits, expected, atol=1e-5)


@pytest.mark.skipif(not cpu_repacks_4bit(), reason="this CPU does not repack 4-bit weights")
def test_training_after_eval_mode_generation_still_learns(tiny_model_dir, tiny_dsd, tmp_path):
    model, tok = QuantizedLoader(tiny_model_dir).load()
    model.eval()
    with torch.no_grad():
        model.generate(**tok(["Machine: forklift"], return_tensors="pt"), max_new_tokens=2)
    assert restore_trainable_4bit_layout(model) > 0  # the trap was armed, and is undone
    with torch.no_grad():
        model.generate(**tok(["Machine: forklift"], return_tensors="pt"), max_new_tokens=2)  # armed again
    peft_model = LoraAdapterFactory(r=8, alpha=16, target_modules=["attention", "mlp", "lm_head"]).apply(
        model
    )
    result = DomainTrainer(
        model=peft_model, tokenizer=tok, datasets=tiny_dsd, config=_config(tmp_path)
    ).train()
    assert result.eval_loss < result.initial_eval_loss - 0.3


def test_guard_stops_when_no_gradient_flows(tiny_model_dir, tiny_dsd, tmp_path):
    model, tok = _peft(tiny_model_dir, quantization=None)
    for param in model.parameters():  # dead gradients, as after the bitsandbytes CPU repacking
        if param.requires_grad:
            param.register_hook(torch.zeros_like)
    with pytest.raises(TrainingError, match="no usable gradient.*exactly zero"):
        DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=_config(tmp_path)).train()


@pytest.mark.parametrize("how", ["switched_off", "zero_scale"])
def test_guard_fires_on_a_frozen_adapter(tiny_model_dir, tiny_dsd, tmp_path, how):
    """Adapters whose parameters are trainable but take no part in the loss are stopped at step 1."""
    from peft.tuners.lora import LoraLayer

    model, tok = _peft(tiny_model_dir, quantization=None)
    if how == "switched_off":  # out of the forward pass, parameters still marked trainable
        model.base_model.disable_adapter_layers()
        for name, param in model.named_parameters():
            param.requires_grad_("lora_" in name)
        expected = "does not depend on any trainable parameter"
    else:  # in the forward pass, scaled to nothing
        for module in model.modules():
            if isinstance(module, LoraLayer):
                module.scaling = {k: 0.0 for k in module.scaling}
        expected = "exactly zero"
    with pytest.raises(TrainingError, match=f"no usable gradient.*{expected}"):
        DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=_config(tmp_path)).train()


def test_guard_names_parameters_with_non_finite_gradients(tiny_model_dir, tiny_dsd, tmp_path):
    model, tok = _peft(tiny_model_dir, quantization=None)
    name, param = next((n, p) for n, p in model.named_parameters() if "lora_B" in n)
    param.register_hook(lambda g: torch.full_like(g, float("nan")))
    with pytest.raises(TrainingError, match="non-finite gradient"):
        DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=_config(tmp_path)).train()


def test_refuses_models_without_adapter_and_bad_data(tiny_model_dir, tiny_dsd, tmp_path):
    model, tok = QuantizedLoader(tiny_model_dir, quantization=None).load()
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(TrainingError, match="LoraAdapterFactory"):
        DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=_config(tmp_path))
    peft_model, tok = _peft(tiny_model_dir, quantization=None)
    with pytest.raises(DataError, match="'train' split"):
        DomainTrainer(
            model=peft_model, tokenizer=tok, datasets={"test": tiny_dsd["test"]}, config=_config(tmp_path)
        )
    with pytest.raises(DataError, match="max_length"):
        DomainTrainer(
            model=peft_model, tokenizer=tok, datasets=tiny_dsd, config=_config(tmp_path, max_length=8)
        )


def test_same_seeds_give_the_same_run(tiny_model_dir, tiny_dsd, tmp_path):
    losses = []
    for run in ("a", "b"):
        torch.manual_seed(len(run) + len(losses))  # a different global RNG state before each run
        model, tok = _peft(tiny_model_dir, quantization=None)
        config = _config(tmp_path / run, num_train_epochs=2)
        losses.append(
            DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=config).train().eval_loss
        )
    assert losses[0] == losses[1]


def test_packing_evaluates_like_padding_and_trains(tiny_model_dir, tiny_dsd, tmp_path):
    from domainft.training.collator import PaddingFreeCollator

    model, tok = _peft(tiny_model_dir, quantization=None)
    padded = DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=_config(tmp_path / "pad"))
    config = _config(tmp_path / "pack", packing=True, max_steps=12, eval_strategy="no")
    packed = DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=config)
    assert isinstance(packed.trainer.data_collator, PaddingFreeCollator)
    # the same validation batches, flattened: the same loss (eval works and examples stay separate)
    assert packed.evaluate()["eval_loss"] == pytest.approx(padded.evaluate()["eval_loss"], abs=1e-4)
    result = packed.train()
    losses = [e["loss"] for e in result.log_history if "loss" in e]
    assert all(math.isfinite(x) for x in losses) and losses[-1] < losses[0] - 0.5
    assert result.eval_loss < result.initial_eval_loss


@pytest.mark.parametrize("layout", ["packed", "length_grouped"])
def test_fast_batches_train_exactly_like_padded_batches(tiny_model_dir, tiny_dsd, tmp_path, layout):
    """Same examples per step: the loss per supervised token and the updated adapter equal plain padding."""
    fast = {"packed": {"packing": True, "group_by_length": False}, "length_grouped": {}}[layout]
    runs = {}
    for name, options in (("padded", {"group_by_length": layout == "length_grouped"}), (layout, fast)):
        model, tok = _peft(tiny_model_dir, quantization=None)
        # fp32: bf16 autocast rounds differently in a flattened row than in a padded batch
        cfg = _config(
            tmp_path / name, max_steps=3, logging_steps=1, eval_strategy="no", precision="fp32", **options
        )
        result = DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=cfg).train()
        losses = [e["loss"] for e in result.log_history if "loss" in e]
        weights = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
        runs[name] = (losses, weights, result.tokens_seen)
    (pad_losses, pad_weights, pad_tokens), (losses, weights, tokens) = runs["padded"], runs[layout]
    assert len(losses) == 3 and losses == pytest.approx(pad_losses, rel=1e-5)
    assert all(torch.allclose(weights[n], pad_weights[n], atol=1e-6) for n in weights)
    assert tokens == pad_tokens > 0  # real tokens only: padding is never counted


def test_run_folder_records_config_state_tokens_memory_and_tensorboard(tiny_model_dir, tiny_dsd, tmp_path):
    model, tok = _peft(tiny_model_dir, quantization=None)
    cfg = _config(tmp_path, num_train_epochs=2, report_to=["tensorboard"])
    trainer = DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=cfg)
    result = trainer.train()
    run = tmp_path / "run"
    assert TrainingConfig.from_yaml(run / "training_config.yaml") == cfg
    state = json.loads((run / "trainer_state.json").read_text())
    assert state["global_step"] == result.global_step == 12
    # every real token of the training split, once per epoch
    assert result.tokens_seen == 2 * sum(len(ids) for ids in trainer.train_dataset["input_ids"])
    assert result.peak_memory_mb > 0 and result.peak_memory_kind in ("process_peak_rss", "cuda_max_allocated")
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert (run / "adapter" / "adapter_model.safetensors").is_file() and result.last_adapter_dir is None
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["result"]["tokens_seen"] == result.tokens_seen
    assert manifest["resolved"]["optim"] == "adamw_torch" and manifest["resolved"]["world_size"] == 1
    assert manifest["machine"]["cpus"] >= 1 and "gpus" in manifest["machine"]
    git = manifest["git"]
    assert git is None or (len(git["commit"]) == 40 and isinstance(git["dirty"], bool))


def test_optimizer_choice(tiny_model_dir, tiny_dsd, tmp_path):
    assert TrainingConfig().resolved_optim() == (
        "paged_adamw_32bit" if torch.cuda.is_available() else "adamw_torch"
    )
    assert TrainingConfig(optim="auto", use_cpu=True).resolved_optim() == "adamw_torch"
    model, tok = _peft(tiny_model_dir, quantization=None)
    cfg = _config(tmp_path, optim="paged_adamw_8bit", max_steps=6, eval_strategy="no", learning_rate=1e-2)
    trainer = DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=cfg)
    result = trainer.train()
    optimizer = trainer.trainer.optimizer.optimizer
    assert type(optimizer).__module__.startswith("bitsandbytes.optim")
    assert optimizer.is_paged and optimizer.args.optim_bits == 8
    losses = [e["loss"] for e in result.log_history if "loss" in e]
    assert losses[-1] < losses[0]


def test_overlength_actions_are_counted_in_the_manifest(tiny_model_dir, tiny_dsd, tmp_path):
    from domainft.data.templates import encode_example

    model, tok = _peft(tiny_model_dir, quantization=None)
    lengths = [len(encode_example(tok, r["prompt"], r["response"])["input_ids"]) for r in tiny_dsd["train"]]
    max_length = sorted(lengths)[len(lengths) // 2]
    config = _config(tmp_path, max_length=max_length, overlength="truncate_prompt_left", max_steps=2)
    trainer = DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=config)
    counts = trainer.overlength_counts["train"]
    assert counts.get("truncated_prompt_left", 0) > 0
    assert sum(counts.values()) == sum(n > max_length for n in lengths)
    assert len(trainer.train_dataset) == 48 - counts.get("dropped", 0)
    assert max(trainer.train_dataset["length"]) == max_length
    assert all(
        r["kept_length"] == max_length and r["split"] == "train"
        for r in trainer.truncated
        if r["split"] == "train"
    )
    trainer.train()
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["result"]["overlength"] == json.loads(json.dumps(trainer.overlength_counts))
    assert len(manifest["result"]["truncated"]) == len(trainer.truncated) > 0
    assert manifest["training"]["overlength"] == "truncate_prompt_left"


def test_masking_options_reach_the_training_data(tiny_model_dir, tiny_dsd, tmp_path):
    model, tok = _peft(tiny_model_dir, quantization=None)
    config = _config(tmp_path, train_on_prompt=True, template="chatml", max_steps=1)
    trainer = DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=config)
    assert trainer.train_dataset["labels"] == trainer.train_dataset["input_ids"]
    assert tok.decode(trainer.train_dataset["input_ids"][0]).startswith("<|im_start|>user\n")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"overlength": "cut"}, r"TrainingConfig\.overlength: expected one of 'drop'"),
        ({"assistant_turns": "first"}, r"TrainingConfig\.assistant_turns"),
        ({"packing": "yes"}, r"TrainingConfig\.packing: expected true or false"),
        ({"train_on_prompt": True, "assistant_turns": "last"}, "assistant_turns='last' has no effect"),
    ],
)
def test_packing_and_masking_options_are_validated(kwargs, match, tmp_path):
    with pytest.raises(ConfigError, match=match):
        TrainingConfig.from_dict(kwargs)
    config = TrainingConfig(packing=True, overlength="truncate_response", assistant_turns="last")
    config.to_yaml(tmp_path / "t.yaml")
    assert TrainingConfig.from_yaml(tmp_path / "t.yaml") == config


# ------------------------------------------------------------------------------------- issue 4: control


def test_early_stopping_stops_and_restores_the_best_adapter(tiny_model_dir, tiny_dsd, tmp_path):
    """A huge learning rate makes validation loss climb after the first epochs: training must stop
    early and end with the best checkpoint's adapter, whose validation loss is the best seen."""
    model, tok = _peft(tiny_model_dir, quantization=None)
    cfg = _config(
        tmp_path, num_train_epochs=30, learning_rate=3e-2, early_stopping_patience=2, overfit_patience=2
    )
    trainer = DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=cfg)
    result = trainer.train()
    evals = [e["eval_loss"] for e in result.log_history if "eval_loss" in e and e["step"] > 0]
    steps_per_epoch = math.ceil(48 / 8)
    assert result.stopped_early and result.global_step < 30 * steps_per_epoch
    assert result.best_metric == pytest.approx(min(evals[:-1]), rel=1e-4)
    assert result.eval_loss == pytest.approx(result.best_metric, rel=1e-3)  # the best adapter was restored
    assert (
        result.best_checkpoint and (tmp_path / "run").joinpath(result.best_checkpoint.split("/")[-1]).is_dir()
    )
    # adapter/ is the restored best; the last step's adapter is kept beside it, without optimizer state
    best, last = _adapter_weights(result.adapter_dir), _adapter_weights(result.last_adapter_dir)
    assert best.keys() == last.keys() and any(not torch.equal(best[k], last[k]) for k in best)
    assert not list((tmp_path / "run" / "last_adapter").glob("optimizer*"))


def _adapter_weights(folder):
    from safetensors.torch import load_file

    return load_file(f"{folder}/adapter_model.safetensors")


def test_generation_metrics_are_logged_and_drive_best_model(tiny_model_dir, tiny_dsd, tmp_path):
    model, tok = _peft(tiny_model_dir, quantization=None)
    cfg = _config(
        tmp_path,
        num_train_epochs=2,
        generation_metrics=["rouge", "bleu"],
        generation_samples=4,
        generation_max_new_tokens=8,
        metric_for_best_model="rougeL",
        early_stopping_patience=5,
    )
    trainer = DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=cfg)
    result = trainer.train()
    points = [e for e in result.log_history if "eval_rougeL" in e]
    assert [p["step"] for p in points][:3] == [0, 6, 12]  # before training and after each epoch
    assert all(0 <= p["eval_rougeL"] <= 1 and p["eval_bleu"] >= 0 for p in points)
    assert set(result.generation_metrics) >= {"eval_rougeL", "eval_bleu"}
    assert result.best_metric == pytest.approx(max(p["eval_rougeL"] for p in points if p["step"] > 0))


def test_generation_metric_config_checks():
    with pytest.raises(ConfigError, match="generation metric; list the metric"):
        TrainingConfig(metric_for_best_model="bleu")
    with pytest.raises(ConfigError, match="needs eval_strategy"):
        TrainingConfig(early_stopping_patience=2, eval_strategy="no")
    assert TrainingConfig(metric_for_best_model="rougeL", generation_metrics=["rouge"]).greater_is_better()


def test_overfitting_warning_fires_on_rising_validation_loss():
    from types import SimpleNamespace

    from domainft.training.callbacks import OverfittingWarning

    watch = OverfittingWarning(patience=2)
    state = SimpleNamespace(global_step=0, log_history=[])
    for step, (train, val) in enumerate([(2.0, 1.5), (1.5, 1.4), (1.0, 1.6), (0.5, 1.9)], start=1):
        state.global_step = step
        state.log_history.append({"loss": train, "step": step})
        watch.on_evaluate(None, state, None, metrics={"eval_loss": val})
    assert (
        len(watch.warnings) == 1
        and "validation loss rose for 2 evaluations (1.4000 -> 1.9000)" in watch.warnings[0]
    )


def test_non_finite_loss_stops_with_the_step():
    from types import SimpleNamespace

    from domainft.training.callbacks import NonFiniteLossGuard

    state = SimpleNamespace(global_step=7, epoch=1.25)
    NonFiniteLossGuard().on_log(None, state, None, logs={"loss": 0.5})
    with pytest.raises(TrainingError, match="became nan at optimizer step 7 \\(epoch 1.25\\)"):
        NonFiniteLossGuard().on_log(None, state, None, logs={"loss": float("nan")})


def test_resume_continues_from_the_latest_checkpoint(tiny_model_dir, tiny_dsd, tmp_path):
    cfg = _config(tmp_path, num_train_epochs=2, save_strategy="epoch", save_total_limit=3)
    model, tok = _peft(tiny_model_dir, quantization=None)
    first = DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=cfg).train()
    # an "interrupted" run: its last checkpoint is removed, so resuming must redo exactly one epoch
    import shutil

    shutil.rmtree(tmp_path / "run" / f"checkpoint-{first.global_step}")
    from transformers import TrainerCallback

    class CountSteps(TrainerCallback):
        steps = 0

        def on_step_end(self, args, state, control, **kwargs):
            CountSteps.steps += 1

    model2, tok2 = _peft(tiny_model_dir, quantization=None)
    trainer = DomainTrainer(
        model=model2, tokenizer=tok2, datasets=tiny_dsd, config=cfg, callbacks=[CountSteps()]
    )
    resumed = trainer.train(resume_from_checkpoint=True)
    assert resumed.global_step == first.global_step
    assert CountSteps.steps == first.global_step // 2  # only the second epoch was trained again
    assert resumed.train_loss is not None
    with pytest.raises(TrainingError, match="holds no complete checkpoint"):
        empty = _config(tmp_path / "other", num_train_epochs=1)
        DomainTrainer(model=model2, tokenizer=tok2, datasets=tiny_dsd, config=empty).train(
            resume_from_checkpoint=True
        )
