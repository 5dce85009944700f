import pytest
import torch

from domainft.errors import ConfigError, ModelError
from domainft.models.adapters import AdapterConfig, LoraAdapterFactory, load_adapter, register_target_preset
from domainft.models.loading import QuantizedLoader


@pytest.mark.parametrize(
    ("arch", "preset", "expected"),
    [
        ("llama", "attention", ["q_proj", "k_proj", "v_proj", "o_proj"]),
        ("mistral", "mlp", ["gate_proj", "up_proj", "down_proj"]),
        ("falcon", "attention", ["query_key_value", "dense"]),
        ("falcon", "attention+mlp", ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]),
    ],
)
def test_presets_resolve_per_architecture(arch, preset, expected):
    assert LoraAdapterFactory(target_modules=preset).resolve_targets(arch) == expected


def test_mixed_list_and_all_linear():
    factory = LoraAdapterFactory(target_modules=["attention", "lm_head"])
    assert factory.resolve_targets("llama") == ["q_proj", "k_proj", "v_proj", "o_proj", "lm_head"]
    assert LoraAdapterFactory(target_modules="all-linear").resolve_targets("anything") == "all-linear"


def test_unknown_preset_and_architecture_errors():
    with pytest.raises(ConfigError, match="not a preset"):
        LoraAdapterFactory(target_modules="attn")
    with pytest.raises(ConfigError, match="not known for architecture 'weird'"):
        LoraAdapterFactory(target_modules="attention").resolve_targets("weird")
    register_target_preset("weird_arch", {"attention": ["wq"], "mlp": ["w1"]}, overwrite=True)
    assert LoraAdapterFactory(target_modules="mlp").resolve_targets("weird_arch") == ["w1"]


def test_apply_on_nf4_model_reports_trainable_parameters(tiny_model_dir):
    model, _ = QuantizedLoader(tiny_model_dir).load()
    factory = LoraAdapterFactory(r=4, alpha=8, dropout=0.1, target_modules="attention")
    peft_model = factory.apply(model)
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    assert factory.summary.trainable == trainable > 0
    assert 0 < factory.summary.percent < 100
    assert "trainable params" in str(factory.summary)
    lora_names = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert all("lora_" in n for n in lora_names)
    assert any("q_proj" in n for n in lora_names) and not any("gate_proj" in n for n in lora_names)


def test_unknown_module_lists_the_linear_layers(tiny_model_dir):
    model, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
    with pytest.raises(ModelError, match="'wq' is not in this llama.*q_proj"):
        LoraAdapterFactory(target_modules=["wq"]).apply(model)


def test_peft_extras_pass_through(tiny_model_dir):
    model, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
    factory = LoraAdapterFactory(
        r=4,
        target_modules="mlp",
        use_dora=True,
        use_rslora=True,
        init_lora_weights="gaussian",
        exclude_modules=["down_proj"],
    )
    peft_model = factory.apply(model)
    cfg = peft_model.peft_config["default"]
    assert cfg.use_dora and cfg.use_rslora and cfg.init_lora_weights == "gaussian"
    assert factory.config.extra == {"exclude_modules": ["down_proj"]}
    assert not any("down_proj.lora" in n for n, _ in peft_model.named_parameters())


def test_adapter_save_load_round_trip(tiny_model_dir, tmp_path):
    model, tok = QuantizedLoader(tiny_model_dir, quantization=None).load()
    peft_model = LoraAdapterFactory(r=4, target_modules="attention", init_lora_weights="gaussian").apply(
        model
    )
    peft_model.save_pretrained(tmp_path / "adapter")
    ids = tok("Machine: forklift", return_tensors="pt")
    peft_model.eval()
    with torch.no_grad():
        expected = peft_model(**ids).logits
    fresh, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
    loaded = load_adapter(fresh, tmp_path / "adapter")
    with torch.no_grad():
        assert torch.allclose(loaded(**ids).logits, expected, atol=1e-6)
    with pytest.raises(ModelError, match="not an adapter folder"):
        load_adapter(fresh, tmp_path)


def test_adapter_config_validation_and_round_trip(tmp_path):
    with pytest.raises(ConfigError, match="AdapterConfig.r"):
        AdapterConfig(r=0)
    with pytest.raises(ConfigError, match="dropout"):
        AdapterConfig(dropout=1.5)
    cfg = AdapterConfig(r=64, alpha=16, target_modules=["attention", "mlp"], layers_to_transform=[0])
    cfg.to_yaml(tmp_path / "a.yaml")
    assert AdapterConfig.from_yaml(tmp_path / "a.yaml") == cfg


def test_unknown_keyword_is_rejected_with_a_hint():
    with pytest.raises(ConfigError, match="unknown argument 'rank'"):
        LoraAdapterFactory(rank=8)
    with pytest.raises(ConfigError, match="Did you mean 'use_dora'"):
        LoraAdapterFactory(use_dorra=True)


def test_adapter_initialisation_is_seeded_and_leaves_the_global_rng_alone(tiny_model_dir):
    def lora_a(seed):
        model, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
        peft_model = LoraAdapterFactory(r=4, target_modules="attention", seed=seed).apply(model)
        return torch.cat([p.detach().flatten() for n, p in peft_model.named_parameters() if "lora_A" in n])

    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = lora_a(7)
    assert torch.equal(torch.rand(1), expected_next)  # apply() did not consume the caller's random stream
    assert torch.equal(first, lora_a(7))
    assert not torch.equal(first, lora_a(8))


def _adapted_blocks(peft_model):
    import re

    return {
        int(m.group(1))
        for name, p in peft_model.named_parameters()
        if p.requires_grad and (m := re.search(r"\.layers\.(\d+)\.", name))
    }


@pytest.mark.parametrize(
    ("kwargs", "blocks"),
    [({}, {0, 1}), ({"last_n_layers": 1}, {1}), ({"layers_to_transform": [0]}, {0})],
)
def test_layer_freezing_adapts_only_the_chosen_blocks(tiny_model_dir, kwargs, blocks):
    model, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
    factory = LoraAdapterFactory(r=4, target_modules=["attention", "lm_head"], **kwargs)
    peft_model = factory.apply(model)
    assert _adapted_blocks(peft_model) == blocks
    assert factory.summary.layers == (sorted(blocks) if kwargs else None)
    # lm_head sits outside the blocks and is named exactly: it keeps its adapter
    assert any("lm_head.lora_A" in n for n, _ in peft_model.named_parameters())


def test_layer_freezing_errors_name_the_depth(tiny_model_dir):
    model, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
    with pytest.raises(ConfigError, match="last_n_layers=3 but the model has 2 blocks"):
        LoraAdapterFactory(last_n_layers=3).apply(model)
    with pytest.raises(ConfigError, match=r"\[5\] are not blocks of this model \(indices 0..1\)"):
        LoraAdapterFactory(layers_to_transform=[0, 5]).apply(model)
    with pytest.raises(ConfigError, match="not both"):
        LoraAdapterFactory(last_n_layers=1, layers_to_transform=[1])
    with pytest.raises(ConfigError, match="last_n_layers"):
        LoraAdapterFactory(last_n_layers=0)
