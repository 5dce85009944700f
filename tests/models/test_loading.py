import pytest
import torch

from domainft.errors import ConfigError, ModelError
from domainft.models.loading import ModelConfig, QuantizedLoader, ensure_pad_token, is_quantized


@pytest.mark.parametrize(
    ("quantization", "layer"),
    [("nf4", "Linear4bit"), ("fp4", "Linear4bit"), ("int8", "Linear8bitLt"), (None, "Linear")],
)
def test_load_each_quantization(tiny_model_dir, quantization, layer):
    model, tok = QuantizedLoader(tiny_model_dir, quantization=quantization).load()
    assert type(model.model.layers[0].self_attn.q_proj).__name__ == layer
    assert is_quantized(model) == (quantization is not None)
    assert tok.pad_token_id is not None and model.config.pad_token_id == tok.pad_token_id
    if quantization == "nf4":
        state = model.model.layers[0].self_attn.q_proj.weight.quant_state
        assert state.quant_type == "nf4" and state.nested  # double quantization on by default
    if quantization is None:
        assert model.dtype == torch.float32


def test_qlora_defaults():
    cfg = ModelConfig(name_or_path="x")
    assert (cfg.quantization, cfg.double_quant, cfg.compute_dtype) == ("nf4", True, "bfloat16")


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ModelError, match="model folder not found"):
        QuantizedLoader(str(tmp_path / "nope")).load()
    with pytest.raises(ModelError, match="no config.json"):
        QuantizedLoader(str(tmp_path)).load()
    with pytest.raises(ConfigError, match="quantization.*'nf3'"):
        QuantizedLoader("x", quantization="nf3")
    with pytest.raises(ConfigError, match="model_name_or_path is required"):
        QuantizedLoader()


def test_folder_without_tokenizer_files(tmp_path, tiny_model_dir):
    import shutil

    target = tmp_path / "model-only"
    target.mkdir()
    for name in ("config.json", "model.safetensors", "generation_config.json"):
        shutil.copy(tiny_model_dir / name, target / name)
    with pytest.raises(ModelError, match="tokenizer"):
        QuantizedLoader(str(target), quantization=None).load()


def test_pad_token_fallbacks_keep_eos_distinct_when_possible(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.pad_token = None
    assert ensure_pad_token(tok) == "unk" and tok.pad_token == "<unk>"
    tok.pad_token = None
    tok.unk_token = None
    assert ensure_pad_token(tok) == "eos" and tok.pad_token == tok.eos_token


def test_model_config_yaml_round_trip(tmp_path):
    cfg = ModelConfig(name_or_path="m", quantization="int8", device_map=None, adapter="a")
    cfg.to_yaml(tmp_path / "m.yaml")
    assert ModelConfig.from_yaml(tmp_path / "m.yaml") == cfg


def test_missing_relative_folder_with_the_hub_off(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        ModelError, match="model folder not found: runs/nothing-here and the model hub is off"
    ):
        QuantizedLoader("runs/nothing-here").load()


def test_device_map_per_process(monkeypatch):
    from domainft.models.loading import process_device_map

    assert process_device_map("auto") == "auto" and process_device_map(None) is None
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert process_device_map({"": 0}) == {"": 0}  # explicit maps are the user's
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    assert process_device_map("auto") is None  # FSDP shards and places the weights itself
    monkeypatch.delenv("ACCELERATE_USE_FSDP")
    import torch

    expected = {"": 2} if torch.cuda.is_available() else "auto"
    assert process_device_map("auto") == expected
