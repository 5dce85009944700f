import os
import subprocess
import sys
import time

import pytest

import domainft


def test_import_is_cheap_and_lazy():
    code = (
        "import sys, time; t = time.perf_counter(); import domainft; dt = time.perf_counter() - t; "
        "heavy = [m for m in ('torch', 'transformers', 'peft', 'datasets', 'pandas') if m in sys.modules]; "
        "print(dt, ','.join(heavy))"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        seconds, heavy = out.stdout.split()[0], out.stdout.split()[1:]
        runs.append(float(seconds))
        assert heavy == []
    assert min(runs) < 0.5


@pytest.mark.parametrize("name", domainft.__all__)
def test_every_public_name_resolves(name):
    assert getattr(domainft, name) is not None


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        domainft.Nope  # noqa: B018


def test_cli_help_is_fast():
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "domainft.cli", "--help"], capture_output=True, check=True)
    assert time.perf_counter() - start < 10  # generous: the benchmark measures the real figure


def test_the_all_extra_installs_working_optional_libraries():
    """The pins of the quant, eval and diagnostics extras resolve to libraries that import (ragas needs
    an older langchain-community than the resolver picks on its own)."""
    code = (
        "import bitsandbytes, openai, sentence_transformers, ragas, vaderSentiment, weightwatcher; "
        "from ragas.metrics.collections import AnswerCorrectness, Faithfulness; print(ragas.__version__)"
    )
    env = {**os.environ, "RAGAS_DO_NOT_TRACK": "true", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().startswith("0.4")
