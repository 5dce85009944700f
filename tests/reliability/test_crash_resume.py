"""Kill -9 in the middle of training, resume, and end with the adapter of an uninterrupted run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, wait: bool = True) -> subprocess.Popen | dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if not wait:
        return proc
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "adapter" / "adapter_model.safetensors"))


@pytest.fixture(scope="module")
def data_file(ticket_pairs, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("crash-data") / "splits.json"
    path.write_text(json.dumps({"train": ticket_pairs[:24]}), encoding="utf-8")
    return path


def test_kill_9_then_resume_ends_with_the_uninterrupted_weights(tiny_model_dir, data_file, tmp_path):
    model, data = str(tiny_model_dir), str(data_file)
    straight = _run(model, data, str(tmp_path / "straight"))
    assert straight["global_step"] == 12

    crashed = tmp_path / "crashed"
    marker = tmp_path / "paused"
    proc = _run(model, data, str(crashed), "--pause-at", "10", str(marker), wait=False)
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the child never reached step 10"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert sorted(p.name for p in crashed.glob("checkpoint-*")) == ["checkpoint-4", "checkpoint-8"]
    assert not (crashed / "adapter").exists()  # nothing final was written before the kill

    # a kill while saving checkpoint 12 would leave it without a complete trainer_state.json
    partial = crashed / "checkpoint-12"
    shutil.copytree(crashed / "checkpoint-8", partial)
    state = partial / "trainer_state.json"
    state.write_text(state.read_text()[:40])

    resumed = _run(model, data, str(crashed), "--resume")
    assert resumed["global_step"] == 12
    # steps 1-8 come from checkpoint-8's history; 9-12 were trained again with the same losses
    assert resumed["losses"] == straight["losses"]
    a, b = _weights(tmp_path / "straight"), _weights(crashed)
    assert a.keys() == b.keys() and len(a) > 0
    for name in a:
        assert torch.equal(a[name], b[name]), name
    # nothing pickled is kept, and no staging folder is left behind
    assert not list(crashed.rglob("training_args.bin"))
    assert not [p for p in crashed.iterdir() if p.name.startswith(".")]
