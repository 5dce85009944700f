"""Memory planner: exact parameter counts, LoRA counts equal to peft's, estimates against measured peaks."""

import argparse
import contextlib
import json
import math

import pytest
import torch

from domainft.errors import ConfigError, DomainftError, ModelError
from domainft.models.adapters import LoraAdapterFactory
from domainft.models.loading import ModelConfig, QuantizedLoader
from domainft.models.memory import (
    GIB,
    OPTIMIZERS,
    MemoryPlan,
    MemoryPlanConfig,
    TensorMemoryTracker,
    add_plan_command,
    inspect_model,
    lora_target_modules,
    plan_memory,
    register_optimizer_memory,
)

# peft calls transformers' deprecated (is_)gradient_checkpointing properties in get_peft_model
pytestmark = pytest.mark.filterwarnings("ignore:.*gradient_checkpointing.*:FutureWarning")

ALL_LLAMA = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
#: The planner adds parts that are never all alive at once, so it must not be below a measured CPU peak,
#: and stays within this factor of it (full fine-tuning and the tiny test model; LoRA plans of the
#: mid-sized model are held to 1.15 below).
PEAK_TOLERANCE = 2.0


def _llama_7b():
    from transformers import LlamaConfig

    return LlamaConfig(
        hidden_size=4096,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=32,
        intermediate_size=11008,
        vocab_size=32000,
    )


def _mid_config(**overrides):
    from transformers import LlamaConfig

    values = dict(
        vocab_size=512,
        hidden_size=256,
        intermediate_size=688,
        num_hidden_layers=2,
        num_attention_heads=8,
        num_key_value_heads=2,
    )
    values.update(overrides)
    return LlamaConfig(**values)


@pytest.fixture(scope="module")
def llama_7b():
    return inspect_model(_llama_7b())


@pytest.fixture(scope="module")
def mid_dir(tmp_path_factory):
    """A 3M-parameter Llama (hidden 256, GQA) saved with weights, so it also loads in 4 bits."""
    from transformers import AutoModelForCausalLM

    path = tmp_path_factory.mktemp("mid-llama")
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(_mid_config()).save_pretrained(path)
    return path


def _load(path, quantization=None):
    from transformers import AutoModelForCausalLM

    if quantization is None:
        return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    bnb = QuantizedLoader(path, quantization=quantization).quantization_config()
    return AutoModelForCausalLM.from_pretrained(path, quantization_config=bnb, dtype=torch.bfloat16)


# ------------------------------------------------------------------------------------ parameter counts


def test_parameter_counts_equal_the_real_model(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    inv = inspect_model(tiny_model_dir)
    assert inv.total_params == sum(p.numel() for p in model.parameters())
    assert sum(inv.groups.values()) == inv.total_params
    assert inv.groups["lm_head"] == model.lm_head.weight.numel()
    assert inv.groups["embeddings"] == model.model.embed_tokens.weight.numel()
    assert inv.num_layers == model.config.num_hidden_layers
    assert inv.quantizable_params == sum(
        m.weight.numel()
        for n, m in model.named_modules()
        if isinstance(m, torch.nn.Linear) and n != "lm_head"
    )


def test_tied_weights_and_conv1d_are_counted_once():
    from transformers import AutoModelForCausalLM, GPT2Config

    cfg = GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=500, n_positions=128)
    model = AutoModelForCausalLM.from_config(cfg)
    inv = inspect_model(cfg)
    assert inv.total_params == sum(p.numel() for p in model.parameters())
    assert inv.groups["lm_head"] == 0  # tied to the token embedding
    c_attn = next(m for m in inv.modules if m.name.endswith("h.0.attn.c_attn"))
    assert (c_attn.in_features, c_attn.out_features) == (64, 192)


def test_inventory_round_trips_through_a_dict(tiny_model_dir):
    from domainft.models.memory import ModelInventory

    inv = inspect_model(tiny_model_dir)
    again = ModelInventory.from_dict(json.loads(json.dumps(inv.to_dict())))
    assert again == inv
    assert plan_memory(again, seq_len=64).to_dict() == plan_memory(tiny_model_dir, seq_len=64).to_dict()


def test_config_sources_agree(tiny_model_dir):
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(tiny_model_dir)
    as_dict = {"model_type": cfg.model_type, **cfg.to_diff_dict()}
    counts = {
        inspect_model(source).total_params
        for source in (
            tiny_model_dir,
            tiny_model_dir / "config.json",
            cfg,
            as_dict,
            str(tiny_model_dir),
            ModelConfig(name_or_path=str(tiny_model_dir)),
        )
    }
    assert len(counts) == 1


def test_7b_llama_counts_exactly(llama_7b):
    assert llama_7b.total_params == 6_738_415_616
    plan = plan_memory(llama_7b, method="qlora", lora_r=16, target_modules=ALL_LLAMA)
    assert plan.params.trainable == 39_976_960
    assert plan.params.adapted_modules == 7 * 32
    assert plan_memory(llama_7b, target_modules="attention+mlp").params.trainable == 39_976_960


@pytest.mark.parametrize(
    ("r", "targets"),
    [
        (4, "attention"),
        (8, "mlp"),
        (2, "attention+mlp"),
        (4, "all-linear"),
        (3, ["q_proj", "down_proj", "lm_head"]),
        (4, ["v_proj", "embed_tokens"]),
    ],
)
def test_lora_counts_equal_peft(tiny_model_dir, r, targets):
    model, _ = QuantizedLoader(tiny_model_dir, quantization=None, device_map=None).load()
    factory = LoraAdapterFactory(r=r, target_modules=targets)
    factory.apply(model)
    plan = plan_memory(tiny_model_dir, method="lora", lora_r=r, target_modules=targets)
    assert plan.params.trainable == factory.summary.trainable
    assert plan.params.total + plan.params.trainable == factory.summary.total


def test_lora_counts_equal_peft_on_conv1d_models():
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, GPT2Config

    cfg = GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=500, n_positions=128)
    targets = LoraAdapterFactory(target_modules="attention+mlp").resolve_targets("gpt2")
    with pytest.warns(UserWarning):  # peft: Conv1D needs fan_in_fan_out
        peft_model = get_peft_model(
            AutoModelForCausalLM.from_config(cfg), LoraConfig(r=4, target_modules=targets)
        )
    trainable, _ = peft_model.get_nb_trainable_parameters()
    assert (
        plan_memory(cfg, method="lora", lora_r=4, target_modules="attention+mlp").params.trainable
        == trainable
    )


def test_unknown_target_names_the_linear_layers(tiny_model_dir):
    inv = inspect_model(tiny_model_dir)
    with pytest.raises(ModelError, match="'wq' is not a Linear.*q_proj"):
        lora_target_modules(inv, ["wq"])


# ------------------------------------------------------------------------------------------- bytes


def test_breakdown_arithmetic_for_7b(llama_7b):
    plan = plan_memory(llama_7b, method="qlora", target_modules=ALL_LLAMA, seq_len=512, batch_size=4)
    parts = plan.parts
    quantized = plan.params.quantized
    assert quantized == 6_476_005_376  # every Linear except lm_head
    others = plan.params.total - quantized
    assert parts["base_weights"] == quantized // 2 + others * 4  # 4-bit + fp32 (peft's k-bit upcast)
    assert quantized / 64 < parts["quant_state"] < quantized / 64 * 1.05  # double quant: ~1 byte per block
    trainable = plan.params.trainable
    assert parts["trainable_weights"] == parts["gradients"] == 4 * trainable
    assert parts["optimizer_states"] == 8 * trainable
    assert parts["logits"] == 512 * 4 * 32000 * 12  # fp32 log-softmax + two fp32 gradients in backward
    assert parts["overhead"] == GIB
    assert plan.total_bytes == sum(parts.values())
    no_upcast = plan_memory(llama_7b, method="qlora", target_modules=ALL_LLAMA, kbit_upcast=False)
    assert no_upcast.parts["base_weights"] == quantized // 2 + others * 2
    single = plan_memory(llama_7b, method="qlora", target_modules=ALL_LLAMA, double_quant=False)
    assert single.parts["quant_state"] > 3.9 * parts["quant_state"]  # fp32 absmax per block
    int8 = plan_memory(llama_7b, method="qlora", quantization="int8", target_modules=ALL_LLAMA)
    assert int8.parts["base_weights"] == quantized + others * 4


def test_7b_lands_in_known_gpu_ranges(llama_7b):
    qlora = plan_memory(
        llama_7b,
        method="qlora",
        target_modules=ALL_LLAMA,
        seq_len=512,
        batch_size=4,
        gradient_checkpointing=True,
    )
    assert 6 <= qlora.total_gb <= 10
    full = plan_memory(llama_7b, method="full", seq_len=512, batch_size=4, optimizer="adamw_torch")
    assert full.total_gb > 100
    assert full.parts["optimizer_states"] == 8 * 6_738_415_616
    lora = plan_memory(llama_7b, method="lora", target_modules=ALL_LLAMA, seq_len=512, batch_size=4)
    assert qlora.total_gb < lora.total_gb < full.total_gb
    assert lora.parts["base_weights"] == 2 * 6_738_415_616


def test_checkpointing_batch_and_optimizers_move_the_right_parts(llama_7b):
    base = plan_memory(llama_7b, method="qlora", seq_len=1024, batch_size=2)
    ckpt = plan_memory(llama_7b, method="qlora", seq_len=1024, batch_size=2, gradient_checkpointing=True)
    assert ckpt.parts["activations"] < base.parts["activations"] / 5
    double = plan_memory(llama_7b, method="qlora", seq_len=1024, batch_size=4)
    assert double.parts["activations"] == 2 * base.parts["activations"]
    assert double.parts["base_weights"] == base.parts["base_weights"]
    sizes = {
        name: plan_memory(llama_7b, method="full", optimizer=name).parts["optimizer_states"]
        for name in ("adamw_torch", "paged_adamw_32bit", "adamw_8bit", "paged_adamw_8bit", "adafactor", "sgd")
    }
    n = 6_738_415_616
    assert sizes["adamw_torch"] == sizes["paged_adamw_32bit"] == 8 * n
    assert 2 * n < sizes["adamw_8bit"] == sizes["paged_adamw_8bit"] < 2.1 * n
    assert 0 < sizes["adafactor"] < 0.01 * n
    assert sizes["sgd"] == 0


def test_register_optimizer_memory(llama_7b):
    register_optimizer_memory(
        "test_one_state", lambda shapes, nbytes: sum(a * b for a, b in shapes) * nbytes, overwrite=True
    )
    assert "test_one_state" in OPTIMIZERS
    plan = plan_memory(llama_7b, method="qlora", target_modules=["q_proj"], optimizer="test_one_state")
    assert plan.parts["optimizer_states"] == 4 * plan.params.trainable


# ----------------------------------------------------------------------------- estimate vs measurement


def _train_step(model, ids, autocast):
    """One optimizer step as transformers' Trainer takes it (the model outputs are dropped once the loss is
    computed); returns the tracker (peak of tensor bytes, model weights in the baseline)."""
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    context = torch.autocast("cpu", dtype=torch.bfloat16) if autocast else contextlib.nullcontext()
    with TensorMemoryTracker(baseline=[model]) as tracker:
        with context:
            loss = model(input_ids=ids, labels=ids).loss
        after_forward = tracker.current_new_bytes
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        del loss
    assert tracker.current_new_bytes > 0  # the optimizer states stay
    return tracker, after_forward


def _prepare(model, method, r, targets, dropout, checkpointing):
    if method != "full":
        factory = LoraAdapterFactory(
            r=r, target_modules=targets, dropout=dropout, gradient_checkpointing=checkpointing
        )
        model = factory.apply(model)
    if checkpointing:
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        base.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        if method != "full":
            base.enable_input_require_grads()
    return model.train()


@pytest.mark.parametrize(
    ("method", "batch", "checkpointing"),
    [("full", 2, False), ("lora", 4, False), ("qlora", 2, False), ("qlora", 4, True), ("full", 4, True)],
)
def test_estimate_bounds_the_measured_cpu_peak(mid_dir, method, batch, checkpointing):
    """A real CPU training step (forward, backward, AdamW step) of a 3M-parameter Llama, counted tensor by
    tensor: the plan (device='cpu', no CUDA overhead) is at or above the peak and within PEAK_TOLERANCE."""
    seq, r, targets, dropout = 128, 8, "attention+mlp", 0.05
    model = _load(mid_dir, "nf4" if method == "qlora" else None)
    model = _prepare(model, method, r, targets, dropout, checkpointing)
    ids = torch.randint(0, 512, (batch, seq), generator=torch.Generator().manual_seed(0))
    tracker, _ = _train_step(model, ids, autocast=method == "qlora")
    plan = plan_memory(
        mid_dir,
        method=method,
        lora_r=r,
        target_modules=targets,
        lora_dropout=dropout,
        seq_len=seq,
        batch_size=batch,
        gradient_checkpointing=checkpointing,
        compute_dtype="bf16" if method == "qlora" else "fp32",
        device="cpu",
    )
    assert plan.parts["overhead"] == 0
    ratio = plan.total_bytes / tracker.peak_bytes
    assert 1.0 <= ratio <= PEAK_TOLERANCE, (ratio, plan.parts, tracker.peak_bytes)


@pytest.mark.parametrize(
    ("method", "targets", "dropout"),
    [
        ("full", None, 0.0),
        ("lora", "attention+mlp", 0.0),
        ("lora", "attention", 0.1),
        ("qlora", "all-linear", 0.05),
    ],
)
def test_activation_formula_matches_what_the_forward_keeps(mid_dir, method, targets, dropout):
    """Bytes alive after the forward pass = activations + autocast weight copies + the forward third of the
    logits term (the fp32 log-softmax), within 20%."""
    model = _prepare(_load(mid_dir, "nf4" if method == "qlora" else None), method, 8, targets, dropout, False)
    ids = torch.randint(0, 512, (4, 128), generator=torch.Generator().manual_seed(0))
    _, after_forward = _train_step(model, ids, autocast=method == "qlora")
    plan = plan_memory(
        mid_dir,
        method=method,
        lora_r=8,
        target_modules=targets,
        lora_dropout=dropout,
        seq_len=128,
        batch_size=4,
        compute_dtype="bf16" if method == "qlora" else "fp32",
        device="cpu",
    )
    estimate = plan.parts["activations"] + plan.parts["weight_copies"] + plan.parts["logits"] // 3
    assert 0.85 <= estimate / after_forward <= 1.2


def test_tiny_model_through_domainft_loader_within_tolerance(tiny_model_dir):
    model, _ = QuantizedLoader(tiny_model_dir, quantization="nf4", device_map=None).load()
    model = _prepare(model, "qlora", 4, "attention", 0.05, False)
    ids = torch.randint(0, model.config.vocab_size, (2, 64), generator=torch.Generator().manual_seed(0))
    tracker, _ = _train_step(model, ids, autocast=True)
    plan = plan_memory(
        tiny_model_dir, lora_r=4, target_modules="attention", seq_len=64, batch_size=2, device="cpu"
    )
    assert 1.0 <= plan.total_bytes / tracker.peak_bytes <= PEAK_TOLERANCE


@pytest.mark.parametrize(
    ("method", "vocab", "targets", "dropout", "checkpointing"),
    [
        ("lora", 512, "attention", 0.05, False),
        ("lora", 512, "all-linear", 0.0, False),  # fp32 adapters without dropout share inputs
        ("lora", 512, "all-linear", 0.05, True),  # the recomputed block's backward is the peak
        ("lora", 4096, "attention+mlp", 0.05, True),  # the loss's backward is the peak
        ("lora", 4096, "attention", 0.05, False),
        ("qlora", 512, "attention+mlp", 0.05, False),
    ],
)
def test_plan_is_close_to_the_peak_of_a_trainer_step(mid_dir, method, vocab, targets, dropout, checkpointing):
    """The plan of a LoRA/QLoRA step is at or above its measured CPU peak and within 15% of it (measured
    +2% to +12%: on this 2-layer model with a 512 vocabulary, the first block's savings and the bound on the
    MLP backward weigh most; benchmarks/bench_memory.py checks larger shapes, within 5%)."""
    from transformers import AutoModelForCausalLM

    if vocab == 512:
        model = _load(mid_dir, "nf4" if method == "qlora" else None)
        source = mid_dir
    else:
        torch.manual_seed(0)
        source = _mid_config(vocab_size=vocab)
        model = AutoModelForCausalLM.from_config(source, dtype=torch.float32)
    model = _prepare(model, method, 8, targets, dropout, checkpointing)
    ids = torch.randint(0, vocab, (4, 128), generator=torch.Generator().manual_seed(0))
    tracker, _ = _train_step(model, ids, autocast=method == "qlora")
    plan = plan_memory(
        source,
        method=method,
        lora_r=8,
        target_modules=targets,
        lora_dropout=dropout,
        seq_len=128,
        batch_size=4,
        gradient_checkpointing=checkpointing,
        compute_dtype="bf16" if method == "qlora" else "fp32",
        device="cpu",
    )
    ratio = plan.total_bytes / tracker.peak_bytes
    assert 1.0 <= ratio <= 1.15, (ratio, plan.parts, tracker.peak_bytes)


def test_checkpointed_peak_is_the_larger_of_loss_backward_and_block_backward():
    """With checkpointing the step peaks either in the loss's backward or in one recomputed block's backward,
    never in both at once: with a 128k vocabulary the activations are just the checkpoints (and the final
    norm's input); with 32k or 1k the recomputed block is the peak, whatever the vocabulary."""
    settings = dict(
        method="qlora", target_modules=ALL_LLAMA, seq_len=512, batch_size=4, gradient_checkpointing=True
    )
    tokens, layers, h = 2048, 32, 4096

    def plan(vocab):
        cfg = _llama_7b()
        cfg.vocab_size = vocab
        return plan_memory(cfg, **settings)

    plans = {vocab: plan(vocab) for vocab in (128_000, 32_000, 1_000)}
    for vocab, p in plans.items():
        assert p.parts["logits"] == tokens * vocab * 12
    checkpoints = tokens * layers * 4 * h  # one fp32 block input per layer and token
    assert plans[128_000].parts["activations"] == checkpoints + tokens * 4 * h
    block_peak = {v: p.parts["activations"] + p.parts["logits"] for v, p in plans.items() if v < 128_000}
    assert block_peak[32_000] == block_peak[1_000]
    assert (
        plans[128_000].parts["activations"]
        < plans[32_000].parts["activations"]
        < plans[1_000].parts["activations"]
    )
    no_ckpt = plan_memory(_llama_7b(), **{**settings, "gradient_checkpointing": False})
    assert plans[32_000].parts["activations"] < no_ckpt.parts["activations"] / 5


def test_fp32_adapters_share_only_the_inputs_they_really_share():
    """Without dropout, fp32 LoRA on q, k and v keeps their one common input; o_proj reads another tensor."""
    cfg = _mid_config()
    settings = dict(
        method="lora", lora_r=8, lora_dropout=0.0, seq_len=128, compute_dtype="fp32", device="cpu"
    )

    def activations(targets):
        return plan_memory(cfg, target_modules=targets, **settings).parts["activations"]

    tokens, layers, h, r = 128, 2, 256, 8
    q = activations(["q_proj"])
    assert activations(["q_proj", "k_proj", "v_proj"]) - q == tokens * layers * 2 * 4 * r
    assert activations(["q_proj", "o_proj"]) - q == tokens * layers * (4 * h + 4 * r)
    assert activations(["gate_proj", "up_proj"]) - activations(["gate_proj"]) == tokens * layers * 4 * r


def test_tracker_counts_4bit_quantization_constants(mid_dir):
    """A module's baseline holds its 4-bit weights and their constants (absmax, code tables): neither is a
    parameter or a buffer. They equal the plan's quant_state exactly."""
    bnb = pytest.importorskip("bitsandbytes")
    layer = bnb.nn.Linear4bit(128, 256, bias=False, compute_dtype=torch.bfloat16, quant_type="nf4").to("cpu")
    assert layer.weight.quant_state is not None
    with TensorMemoryTracker(baseline=[layer]) as tracker:
        pass
    n = 128 * 256
    blocks = n // 64
    # packed 4-bit weight; double quant: uint8 absmax per 64-block, fp32 absmax per 256 of them,
    # the 256-entry fp32 code of the nested state, the 16-entry nf4 code and one fp32 offset
    assert tracker.baseline_bytes == n // 2 + blocks + 4 * math.ceil(blocks / 256) + 256 * 4 + 16 * 4 + 4

    model = _load(mid_dir, "nf4")
    with TensorMemoryTracker(baseline=[model]) as tracker:
        pass
    own = sum(p.untyped_storage().nbytes() for p in model.parameters())
    own += sum(b.untyped_storage().nbytes() for b in model.buffers())
    plan = plan_memory(mid_dir, method="qlora", kbit_upcast=False)
    assert tracker.baseline_bytes - own == plan.parts["quant_state"]


def test_tracker_counts_frees_views_and_baseline():
    x = torch.zeros(1000)
    with TensorMemoryTracker(baseline=[x]) as tracker:
        y = torch.ones(500)
        view = y[:10]
        del y
        z = torch.ones(250)
        x.mul_(2)
    assert tracker.baseline_bytes == 4000
    assert tracker.peak_new_bytes == 3000  # y and z alive together (the view keeps y's storage)
    del view
    assert tracker.current_new_bytes == 1000
    assert z.shape == (250,)


def test_tracker_does_not_keep_the_measured_model_alive():
    """Tensors created inside the block that outlive it (optimizer states) must not hold the tracker, whose
    baseline holds the model and optimizer: measuring a model must not leak it."""
    import gc
    import weakref

    model = torch.nn.Linear(64, 64)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    with TensorMemoryTracker(baseline=[model, optimizer]) as tracker:
        model(torch.ones(4, 64)).sum().backward()
        optimizer.step()
    assert tracker.peak_new_bytes > 0
    model_ref, optimizer_ref = weakref.ref(model), weakref.ref(optimizer)
    del model, optimizer, tracker
    gc.collect()
    assert model_ref() is None and optimizer_ref() is None


# ------------------------------------------------------------------------------- verdict and output


def test_verdicts_and_suggestions(llama_7b):
    settings = dict(method="qlora", target_modules=ALL_LLAMA, seq_len=512, batch_size=4)
    total = plan_memory(llama_7b, **settings).total_gb
    assert plan_memory(llama_7b, **settings, gpu_memory_gb=total * 2).verdict == "fits"
    tight = plan_memory(llama_7b, **settings, gpu_memory_gb=total * 1.05)
    assert tight.verdict == "tight" and tight.suggestions
    tight_fit = plan_memory(llama_7b, **settings, gpu_memory_gb=total / 0.92)
    assert tight_fit.verdict == "tight"
    assert plan_memory(llama_7b, **settings).verdict is None

    small = plan_memory(llama_7b, **settings, gpu_memory_gb=12)
    assert small.verdict == "does not fit"
    changes = {s.change: s for s in small.suggestions}
    assert changes["enable gradient checkpointing"].fits
    assert any(c.startswith("batch size") for c in changes)
    assert all(s.total_gb < small.total_gb for s in small.suggestions)

    full = plan_memory(llama_7b, method="full", seq_len=512, batch_size=4, gpu_memory_gb=80)
    changes = {s.change: s for s in full.suggestions}
    assert full.verdict == "does not fit"
    assert changes["QLoRA (4-bit nf4 base + LoRA)"].fits
    assert "paged_adamw_8bit optimizer" in changes
    assert "does not fit" in full.table() and "try: " in full.table()


def test_table_json_and_save_load_round_trip(llama_7b, tmp_path):
    plan = plan_memory(llama_7b, method="qlora", seq_len=256, batch_size=2, gpu_memory_gb=24)
    table = plan.table()
    for text in ("6.74B parameters", "QLoRA nf4", "base weights", "optimizer states", "activations", "total"):
        assert text in table
    assert "24 GiB: fits" in table
    data = json.loads(plan.to_json())
    assert data["params"]["total"] == 6_738_415_616
    assert data["total_bytes"] == plan.total_bytes
    assert data["verdict"] == "fits"
    path = plan.save(tmp_path / "plan")
    assert path.name == "memory_plan.json"
    again = MemoryPlan.load(tmp_path / "plan")
    assert again.to_dict() == plan.to_dict()
    assert again.table() == table


def test_config_errors_name_the_field(tiny_model_dir):
    with pytest.raises(ConfigError, match="method='qlora' needs quantization"):
        MemoryPlanConfig(method="qlora", quantization="none")
    with pytest.raises(ConfigError, match="use method='qlora'"):
        MemoryPlanConfig(method="lora", quantization="nf4")
    with pytest.raises(ConfigError, match="method='full' cannot train quantized"):
        MemoryPlanConfig(method="full", quantization="int8")
    with pytest.raises(ConfigError, match="unknown optimizer 'adamw'"):
        MemoryPlanConfig(optimizer="adamw")
    with pytest.raises(ConfigError, match="seq_len must be positive"):
        plan_memory(tiny_model_dir, seq_len=0)
    with pytest.raises(ConfigError, match="unknown field 'batch'.*'batch_size'"):
        plan_memory(tiny_model_dir, batch=2)
    with pytest.raises(ConfigError, match="needs a 'model_type'"):
        plan_memory({"hidden_size": 64})
    with pytest.raises(ConfigError, match="not a preset"):
        MemoryPlanConfig(target_modules="attn")
    assert MemoryPlanConfig().effective_quantization == "nf4"
    assert MemoryPlanConfig(method="full").effective_quantization == "none"


def test_missing_sources_raise_domainft_errors(tmp_path):
    with pytest.raises(DomainftError, match="not found"):
        inspect_model(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no config.json"):
        inspect_model(tmp_path / "empty")
    bad = tmp_path / "config.json"
    bad.write_text('{"model_type": "llama",\n "hidden_size": }')
    with pytest.raises(ConfigError, match=r"config.json:2:\d+: invalid JSON"):
        inspect_model(bad)


# --------------------------------------------------------------------------------------------- CLI


def _parser():
    parser = argparse.ArgumentParser(prog="domainft")
    sub = parser.add_subparsers(dest="command")
    add_plan_command(sub)
    return parser


def test_cli_prints_the_table_and_json(tiny_model_dir, capsys):
    args = _parser().parse_args(
        ["plan", str(tiny_model_dir), "--method", "lora", "--r", "4", "--gpu-memory", "8"]
    )
    assert args.command == "plan"
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "LoRA, r=4" in out and "8 GiB: fits" in out

    argv = [
        "plan",
        str(tiny_model_dir),
        "--target-modules",
        "q_proj,v_proj",
        "--seq-len",
        "256",
        "--batch-size",
        "2",
        "--optimizer",
        "paged_adamw_8bit",
        "--gradient-checkpointing",
        "--json",
    ]
    args = _parser().parse_args(argv)
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["target_modules"] == ["q_proj", "v_proj"]
    assert data["config"]["method"] == "qlora" and data["config"]["gradient_checkpointing"] is True
    assert data["config"]["seq_len"] == 256 and data["config"]["optimizer"] == "paged_adamw_8bit"
    assert data["params"]["adapted_modules"] == 2 * 2


def test_cli_errors_are_domainft_errors(tmp_path):
    args = _parser().parse_args(["plan", str(tmp_path / "missing"), "--method", "full"])
    with pytest.raises(DomainftError):
        args.func(args)
    args = _parser().parse_args(["plan", str(tmp_path), "--optimizer", "adam"])
    with pytest.raises(ConfigError, match="unknown optimizer"):
        args.func(args)
