"""Nothing runs code it should not: no remote code by default, no pickles loaded, none left in our outputs."""

from __future__ import annotations

import json
import pickle
import shutil
import warnings
from pathlib import Path

import pytest
import torch

from domainft.errors import ModelError
from domainft.models.adapters import LoraAdapterFactory, load_adapter
from domainft.models.loading import ModelConfig, QuantizedLoader
from domainft.training.config import TrainingConfig
from domainft.training.trainer import DomainTrainer


class _Payload:
    """Unpickling this creates ``marker``: proof that a loader executed code from a pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _plant_pickle(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps({"weight": _Payload(marker)}))


def test_remote_code_is_off_by_default_and_warned_about_when_on(tiny_model_dir, tmp_path):
    assert ModelConfig().trust_remote_code is False
    folder = tmp_path / "custom"
    shutil.copytree(tiny_model_dir, folder)
    marker = tmp_path / "custom-code-ran"
    (folder / "custom_model.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).touch()\n"
        "from transformers import LlamaConfig, LlamaForCausalLM\n"
        "class CustomConfig(LlamaConfig):\n    model_type = 'domainft-custom'\n"
        "class CustomModel(LlamaForCausalLM):\n    config_class = CustomConfig\n",
        encoding="utf-8",
    )
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "domainft-custom"
    config["auto_map"] = {
        "AutoConfig": "custom_model.CustomConfig",
        "AutoModelForCausalLM": "custom_model.CustomModel",
    }
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="trust_remote_code"):
        QuantizedLoader(str(folder), quantization=None).load()
    assert not marker.exists()

    with warnings.catch_warnings(record=True) as caught:  # a folder without custom code: loads, warns
        warnings.simplefilter("always")
        QuantizedLoader(str(tiny_model_dir), quantization=None, trust_remote_code=True).load()
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert any("trust_remote_code=True" in m and "will run on this machine" in m for m in messages)


def test_pickled_model_weights_are_refused_unopened(tiny_model_dir, tmp_path):
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "model-pickle-ran"
    _plant_pickle(folder / "pytorch_model.bin", marker)
    with pytest.raises(ModelError, match=r"pickle \.bin files.*save_pretrained\(new_folder\)"):
        QuantizedLoader(str(folder), quantization=None).load()
    assert not marker.exists()


def test_pickled_adapter_weights_are_refused_unopened(tiny_model_dir, tmp_path):
    model, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
    adapter = tmp_path / "adapter"
    LoraAdapterFactory(r=4, alpha=8, target_modules="attention").apply(model).save_pretrained(str(adapter))
    (adapter / "adapter_model.safetensors").unlink()
    marker = tmp_path / "adapter-pickle-ran"
    _plant_pickle(adapter / "adapter_model.bin", marker)
    base, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
    with pytest.raises(ModelError, match=r"adapter_model\.bin, a pickle"):
        load_adapter(base, adapter)
    assert not marker.exists()


def test_nothing_saved_by_a_run_can_execute_code_when_loaded(tiny_model_dir, tiny_dsd, tmp_path):
    from domainft.evaluation.evaluator import Evaluator

    model, tok = QuantizedLoader(tiny_model_dir, quantization=None).load()
    model = LoraAdapterFactory(r=4, alpha=8, target_modules="attention").apply(model)
    run = tmp_path / "run"
    config = TrainingConfig(
        output_dir=str(run),
        max_steps=4,
        save_steps=2,
        save_strategy="steps",
        logging_steps=1,
        disable_tqdm=True,
    )
    DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=config).train()
    Evaluator(metrics=["rouge"], decoding={"max_new_tokens": 4}, progress=False).evaluate(
        model, tok, tiny_dsd["test"]
    ).save(run / "eval")

    files = [p for p in run.rglob("*") if p.is_file()]
    assert any(p.name == "optimizer.pt" for p in files) and any(p.suffix == ".safetensors" for p in files)
    assert not [
        p for p in files if p.name == "training_args.bin" or p.suffix in (".pkl", ".pickle", ".joblib")
    ]
    from transformers.trainer_pt_utils import safe_globals

    for path in files:
        if path.suffix in (".pt", ".pth", ".bin"):
            # as transformers loads them on resume: torch's restricted unpickler, which admits tensors,
            # plain data and numpy arrays (the RNG state) and refuses anything that could run code
            with safe_globals():
                torch.load(path, weights_only=True)
        else:
            assert not path.read_bytes().startswith(b"\x80"), f"{path} looks like a pickle"
