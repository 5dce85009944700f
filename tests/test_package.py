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
