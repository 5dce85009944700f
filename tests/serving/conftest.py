"""Serving fixtures: a topic gate for the tickets, and ``domainft serve`` started as a real process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

API_KEY = "test-key-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """A running ``domainft serve``: its address, process and log file."""

    process: subprocess.Popen
    port: int
    log: Path
    api_key: str | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def health(self) -> dict:
        with urllib.request.urlopen(f"{self.root}/health", timeout=10) as reply:
            return json.loads(reply.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(model_dir: Path, log: Path, *args: str, api_key: str | None = None) -> ServerProcess:
    """Start ``domainft serve`` on a free port of 127.0.0.1 and wait until ``/health`` answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DOMAINFT_API_KEY"}
    if api_key:
        env["DOMAINFT_API_KEY"] = api_key
    cmd = [
        sys.executable,
        "-m",
        "domainft.cli",
        "serve",
        "--model",
        str(model_dir),
        "--port",
        str(port),
        *args,
    ]
    handle = log.open("w")
    process = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env)
    server = ServerProcess(process, port, log, api_key)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"domainft serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            server.health()
            return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"domainft serve did not answer /health within 120 s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def ticket_gate_dir(tmp_path_factory, ticket_pairs) -> Path:
    """A TopicGate fitted on the ticket prompts against the built-in general questions, saved."""
    from domainft.data.topic_gate import TopicGate

    gate = TopicGate().fit([p["prompt"] for p in ticket_pairs])
    return gate.save(tmp_path_factory.mktemp("gate") / "gate")


@pytest.fixture(scope="session")
def server(tiny_model_dir, ticket_gate_dir, tmp_path_factory) -> Iterator[ServerProcess]:
    """``domainft serve`` with the tiny model, the ticket topic gate and an API key."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    running = start_server(
        tiny_model_dir,
        log,
        "--topic-gate",
        str(ticket_gate_dir),
        "--served-model-name",
        "tiny-tickets",
        "--max-new-tokens",
        "24",
        "--domain",
        "machine maintenance",
        "--title",
        "Workshop assistant",
        api_key=API_KEY,
    )
    yield running
    running.stop()


JUDGE_REPLY = "Score: 8"


@pytest.fixture(scope="session")
def judge_run_dir(tmp_path_factory, tiny_model_dir) -> Path:
    """A LoRA adapter trained (about 10 s) to answer our judge's grading prompts with ``Score: 8``."""
    import datasets

    from domainft.data.samples import builtin_path
    from domainft.evaluation.judges.judge import LLMJudge
    from domainft.models.adapters import LoraAdapterFactory
    from domainft.models.loading import QuantizedLoader
    from domainft.training.config import TrainingConfig
    from domainft.training.trainer import DomainTrainer

    rows = [
        json.loads(line)
        for line in builtin_path("machinery_tickets").read_text(encoding="utf-8").splitlines()
    ]
    judge = LLMJudge({"endpoint": {"base_url": "http://127.0.0.1:9/v1", "model": "unused"}})
    train = [
        {
            "messages": [
                *judge.grading_messages(r["problem"], r["solution"], r["cause"]),
                {"role": "assistant", "content": JUDGE_REPLY},
            ]
        }
        for r in rows[:64]
    ]
    model, tok = QuantizedLoader(tiny_model_dir, quantization=None).load()
    model = LoraAdapterFactory(r=8, alpha=16, dropout=0.0, target_modules=["attention", "mlp"]).apply(model)
    run = tmp_path_factory.mktemp("judge") / "judge-run"
    config = TrainingConfig(
        output_dir=str(run),
        max_steps=60,
        learning_rate=2e-2,
        per_device_train_batch_size=8,
        logging_steps=20,
        disable_tqdm=True,
        report_to=[],
        save_strategy="no",
        eval_strategy="no",
        max_length=1024,
    )
    DomainTrainer(
        model=model,
        tokenizer=tok,
        datasets=datasets.DatasetDict(train=datasets.Dataset.from_list(train)),
        config=config,
    ).train()
    return run
