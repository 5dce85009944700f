"""Multi-process training: two CPU processes (gloo) under ``accelerate launch``, and the shipped configs.

The launch uses examples/accelerate/cpu_2proc.yaml, so the file users copy is the one verified here.
Each rank runs tests/training/ddp_worker.py and reports what it trained (rank<k>.json).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.ddp_worker import combined_digest, state_digests
from tests.training.ddp_worker import main as run_worker

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "examples" / "accelerate"
WORKER = Path(__file__).with_name("ddp_worker.py")
PER_DEVICE_BATCH = 4
# variables of an enclosing launch that would make the subprocess join the wrong process group
_LAUNCH_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _launch_env(port: int) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in _LAUNCH_VARIABLES and not k.startswith("ACCELERATE_")
    }
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS="1",
        MASTER_PORT=str(port),
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
    )
    return env


@pytest.fixture(scope="module")
def data_file(tiny_dsd, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ddp-data") / "data.json"
    splits = {name: tiny_dsd[name].to_list() for name in ("train", "validation")}
    path.write_text(json.dumps(splits), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ddp_run(tiny_model_dir, data_file, tmp_path_factory) -> tuple[Path, list[dict]]:
    """Two CPU processes train the tiny model under ``accelerate launch``: (output folder, rank reports)."""
    out = tmp_path_factory.mktemp("ddp") / "out"
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(CONFIGS / "cpu_2proc.yaml"),
        "--main_process_port",
        str(port),
        str(WORKER),
        str(tiny_model_dir),
        str(data_file),
        str(out),
        "--batch-size",
        str(PER_DEVICE_BATCH),
    ]
    proc = subprocess.run(cmd, env=_launch_env(port), capture_output=True, text=True, timeout=240, cwd=REPO)
    assert proc.returncode == 0, f"accelerate launch exited with {proc.returncode}:\n{proc.stderr[-8000:]}"
    reports = []
    for rank in range(2):
        path = out / f"rank{rank}.json"
        assert path.is_file(), f"rank {rank} wrote no report; stderr:\n{proc.stderr[-8000:]}"
        reports.append(json.loads(path.read_text(encoding="utf-8")))
    return out, reports


def test_two_processes_train_one_model(ddp_run):
    _, (r0, r1) = ddp_run
    assert [r0["rank"], r1["rank"]] == [0, 1]
    assert r0["world_size"] == r1["world_size"] == 2
    assert r0["backend"] == r1["backend"] == "gloo"
    assert r0["distributed_type"] == r1["distributed_type"] == "MULTI_CPU"
    assert r0["parallel_mode"] == r1["parallel_mode"] == "distributed"
    assert r0["is_main_process"] and not r1["is_main_process"]
    assert r0["initial_digest"] == r1["initial_digest"]
    assert r0["final_digest"] != r0["initial_digest"], "the adapter did not change: nothing was trained"
    differing = sorted(k for k in r0["final_digests"] if r0["final_digests"][k] != r1["final_digests"][k])
    assert not differing, (
        f"the ranks finished with different adapter weights ({len(differing)} tensors, e.g. {differing[:2]}): "
        "gradients were not averaged across processes (the model was not wrapped in DistributedDataParallel)"
    )
    assert r0["logged_losses"] == r1["logged_losses"]  # losses are gathered over both ranks at logging
    assert r0["eval_loss"] == r1["eval_loss"] and r0["eval_loss"] < r0["initial_eval_loss"]


def test_the_training_data_is_split_between_the_ranks(ddp_run, tiny_dsd):
    _, (r0, r1) = ddp_run
    n_train = len(tiny_dsd["train"])
    steps = n_train // (PER_DEVICE_BATCH * 2)  # one epoch over 2 processes: half the steps of one process
    assert r0["global_step"] == r1["global_step"] == steps
    assert r0["examples_per_step"] == r1["examples_per_step"] == [PER_DEVICE_BATCH] * steps
    seen0 = [i for batch in r0["train_batches"] for i in batch]
    seen1 = [i for batch in r1["train_batches"] for i in batch]
    assert not set(seen0) & set(seen1), "both ranks trained on the same examples"
    assert sorted(seen0 + seen1) == sorted(str(i) for i in tiny_dsd["train"]["id"])


def test_two_ranks_of_four_equal_one_process_of_eight(ddp_run, tiny_model_dir, data_file, tmp_path):
    """Data parallelism computes the update of the global batch: the same batches, losses and weights."""
    import torch

    _, (r0, r1) = ddp_run
    single = run_worker(
        [
            str(tiny_model_dir),
            str(data_file),
            str(tmp_path / "single"),
            "--batch-size",
            str(2 * PER_DEVICE_BATCH),
        ]
    )
    assert single["world_size"] == 1 and single["global_step"] == r0["global_step"]
    for step, batch in enumerate(single["train_batches"]):
        assert sorted(batch) == sorted(r0["train_batches"][step] + r1["train_batches"][step]), step
    assert single["logged_losses"] == pytest.approx(r0["logged_losses"], abs=1e-5)
    from safetensors.torch import load_file

    ddp = load_file(str(ddp_run[0] / "run" / "adapter" / "adapter_model.safetensors"))
    alone = load_file(str(tmp_path / "single" / "run" / "adapter" / "adapter_model.safetensors"))
    assert sorted(ddp) == sorted(alone)
    for name in ddp:
        assert torch.allclose(ddp[name], alone[name], atol=1e-4), name


def test_the_main_process_writes_the_run_folder_and_the_adapter_once(ddp_run):
    out, (r0, r1) = ddp_run
    assert (r0["manifest_writes"], r1["manifest_writes"]) == (1, 0)
    assert (r0["adapter_writes"], r1["adapter_writes"]) == (1, 0)
    adapter = out / "run" / "adapter"
    assert Path(r0["adapter_dir"]) == Path(r1["adapter_dir"]) == adapter
    assert (adapter / "adapter_config.json").is_file() and (adapter / "tokenizer.json").is_file()
    from safetensors.torch import load_file

    saved = state_digests(load_file(str(adapter / "adapter_model.safetensors")))
    assert saved == r0["final_digests"] and combined_digest(saved) == r1["final_digest"]
    manifest = json.loads((out / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["result"]["global_step"] == r0["global_step"]
    assert (out / "run" / "loss_curve.png").is_file()


# --- the shipped accelerate config files -------------------------------------------------------------


def _launch_args(path: Path):
    """What ``accelerate launch --config_file PATH`` resolves (its own parser and checks, nothing started)."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser

    args = launch_command_parser().parse_args(["--config_file", str(path), "train.py"])
    args, defaults, _ = _validate_launch_command(args)
    return args, defaults


@pytest.mark.parametrize(
    "name", ["cpu_2proc", "ddp", "fsdp", "deepspeed_zero2", "deepspeed_zero3"], ids=lambda n: n
)
def test_accelerate_config_is_valid_for_the_installed_accelerate(name):
    from accelerate.commands.config.config_args import ClusterConfig
    from accelerate.commands.launch import launch_command_parser

    path = CONFIGS / f"{name}.yaml"
    config = ClusterConfig.from_yaml_file(str(path))  # refuses unknown top-level keys
    # every nested key must be an option of `accelerate launch` that accepts the value given
    flags = []
    for section, prefix in ((config.fsdp_config, "fsdp_"), (config.deepspeed_config, "")):
        for key, value in section.items():
            option = key if key.startswith(prefix) else prefix + key
            flags += [f"--{option}", str(value).lower() if isinstance(value, bool) else str(value)]
    launch_command_parser().parse_args([*flags, "train.py"])  # SystemExit on an unknown option or value
    args, _ = _launch_args(path)
    assert args.num_processes == config.num_processes >= 2


def test_the_cpu_config_starts_processes_on_the_cpu():
    args, _ = _launch_args(CONFIGS / "cpu_2proc.yaml")
    assert args.multi_gpu and args.use_cpu and args.num_processes == 2  # torchrun launcher, CPU devices


def test_fsdp_config_builds_the_fsdp2_plugin():
    from accelerate.utils import FullyShardedDataParallelPlugin, patch_environment
    from accelerate.utils.launch import prepare_multi_gpu_env

    args, _ = _launch_args(CONFIGS / "fsdp.yaml")
    assert args.use_fsdp
    env = {k: v for k, v in prepare_multi_gpu_env(args).items() if k.startswith("FSDP_")}
    with patch_environment(**env):
        plugin = FullyShardedDataParallelPlugin()
    assert plugin.fsdp_version == 2 and plugin.reshard_after_forward is True
    assert plugin.state_dict_type.name == "FULL_STATE_DICT" and plugin.cpu_ram_efficient_loading


@pytest.mark.parametrize("stage", [2, 3])
def test_deepspeed_configs_build_the_plugin_with_trainer_values_left_auto(stage):
    from accelerate.utils import DeepSpeedPlugin, patch_environment
    from accelerate.utils.launch import prepare_deepspeed_cmd_env

    args, defaults = _launch_args(CONFIGS / f"deepspeed_zero{stage}.yaml")
    assert args.use_deepspeed
    args.deepspeed_fields_from_accelerate_config = ",".join(defaults.deepspeed_config)
    _, env = prepare_deepspeed_cmd_env(args)
    with patch_environment(**{k: v for k, v in env.items() if k.startswith("ACCELERATE_")}):
        plugin = DeepSpeedPlugin()
    ds = plugin.deepspeed_config
    assert ds["zero_optimization"]["stage"] == stage
    # batch sizes, accumulation and clipping come from TrainingConfig through transformers
    assert ds["train_micro_batch_size_per_gpu"] == ds["gradient_accumulation_steps"] == "auto"
    assert ds["gradient_clipping"] == "auto"
    if stage == 3:
        assert ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True
