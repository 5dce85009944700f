import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from domainft.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, cwd=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "domainft.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


def test_help_lists_the_commands():
    out = _run("--help")
    assert out.returncode == 0
    for command in ("demo", "train", "evaluate", "tiny-model"):
        assert command in out.stdout


def test_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    assert main(["train", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  learning_rat: 0.1\n")
    assert main(["train", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown field 'learning_rat'" in err and "Did you mean 'learning_rate'" in err
    bad.write_text("data: [1, 2\n")
    assert main(["evaluate", str(bad)]) == 2
    assert "bad.yaml:" in capsys.readouterr().err


def test_example_recipe_trains_and_evaluates(tmp_path):
    recipe = yaml.safe_load((ROOT / "examples/machinery/recipe.yaml").read_text())
    recipe["model"]["name_or_path"] = str(tmp_path / "tiny")
    recipe["training"].update(output_dir=str(tmp_path / "run"), num_train_epochs=2, disable_tqdm=True)
    recipe["evaluation"]["max_samples"] = 6
    recipe["evaluation"]["decoding"]["max_new_tokens"] = 16
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))

    assert (
        main(["tiny-model", "--data", "builtin:machinery_tickets", "--output", str(tmp_path / "tiny")]) == 0
    )
    assert main(["train", str(path)]) == 0
    run = tmp_path / "run"
    assert (run / "adapter" / "adapter_config.json").is_file() and (run / "manifest.json").is_file()
    cleaning = json.loads((run / "cleaning_report.json").read_text())
    assert cleaning["rows_in"] - cleaning["rows_out"] == sum(cleaning["dropped_by_reason"].values()) > 0
    assert main(["evaluate", str(path)]) == 0
    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    assert set(metrics["systems"]) == {"base", "tuned"} and metrics["systems"]["tuned"]["rouge1"]["n"] == 6


@pytest.mark.slow
def test_demo_command_end_to_end(tmp_path):
    out = _run("demo", "--output-dir", str(tmp_path / "demo"), "--quiet")
    assert out.returncode == 0, out.stderr[-2000:]
    metrics = json.loads((tmp_path / "demo" / "eval" / "metrics.json").read_text())
    assert metrics["systems"]["tuned"]["rougeL"]["value"] > metrics["systems"]["base"]["rougeL"]["value"]


def test_quickstart_example_runs(tmp_path):
    script = ROOT / "examples" / "quickstart.py"
    out = subprocess.run(
        [
            sys.executable,
            str(script),
            "--output-dir",
            str(tmp_path / "q"),
            "--epochs",
            "1",
            "--max-new-tokens",
            "8",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "validation loss" in out.stdout and (tmp_path / "q" / "eval" / "report.html").is_file()
