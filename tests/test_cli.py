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
    for command in ("demo", "train", "evaluate", "tiny-model", "data", "plan", "merge", "sweep"):
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
    recipe = yaml.safe_load((ROOT / "examples/quickstart/recipe.yaml").read_text())
    recipe["model"]["name_or_path"] = str(tmp_path / "tiny")
    recipe["training"].update(output_dir=str(tmp_path / "run"), num_train_epochs=2, disable_tqdm=True)
    recipe["evaluation"]["max_samples"] = 6
    recipe["evaluation"]["decoding"]["max_new_tokens"] = 16
    (tmp_path / "facts.csv").write_text(
        "subject,attribute,answer\nthe hydraulic press,oil change interval,500 hours\n"
        "the CNC lathe,spindle speed,1200 rpm\n",
        encoding="utf-8",
    )
    recipe["evaluation"]["knowledge"] = {
        "facts": "facts.csv",
        "paraphrases": 2,
        "unanswerable": ["Who built it?"],
    }
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
    assert main(["diagnose", "--recipe", str(path), "--quiet"]) == 0  # before the evaluation: linked by it
    layers = json.loads((run / "diagnostics" / "layer_report.json").read_text())
    assert layers["systems"] == ["base", "tuned"] and layers["meta"]["adapter"] == str(run / "adapter")
    assert main(["probes", str(path), "--quiet"]) == 0  # the probes, to read before evaluating
    probes = [
        json.loads(line) for line in (run / "knowledge_probes" / "probes.jsonl").read_text().splitlines()
    ]
    assert [p["kind"] for p in probes].count("paraphrase") == 4 and probes[-1]["kind"] == "unanswerable"
    assert main(["evaluate", str(path)]) == 0
    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    assert set(metrics["systems"]) == {"base", "tuned"} and metrics["systems"]["tuned"]["rouge1"]["n"] == 6
    assert metrics["meta"]["links"]["layer_report"]["href"] == "../diagnostics/layer_report.html"
    assert "../diagnostics/layer_report.html" in (run / "eval" / "report.html").read_text()
    knowledge = metrics[
        "knowledge"
    ]  # the recipe names a fact set: probed closed-book, relative to the recipe
    assert set(knowledge["systems"]) == {"base", "tuned"} and knowledge["counts"]["paraphrase"] == 4
    assert (
        knowledge["systems"]["tuned"]["fact_recall"]["n"] == 2
        and knowledge["unanswerable"]["tuned"]["probes"] == 1
    )
    assert (run / "eval" / "knowledge.json").is_file() and "Knowledge probes" in (
        run / "eval" / "report.html"
    ).read_text()


@pytest.mark.slow
def test_demo_command_end_to_end(tmp_path):
    out = _run("demo", "--output-dir", str(tmp_path / "demo"), "--quiet")
    assert out.returncode == 0, out.stderr[-2000:]
    metrics = json.loads((tmp_path / "demo" / "eval" / "metrics.json").read_text())
    assert metrics["systems"]["tuned"]["rougeL"]["value"] > metrics["systems"]["base"]["rougeL"]["value"]


def test_quickstart_example_runs(tmp_path):
    script = ROOT / "examples" / "quickstart" / "quickstart.py"
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


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_data_report_on_a_jsonl_file(tmp_path, capsys):
    rows = [
        {
            "question": f"Why does the {w} pump leak at station {i}?",
            "answer": f"Replace the {w} seal.",
            "date": d,
        }
        for i, (w, d) in enumerate(
            [("oil", "2024-01-03"), ("water", "2024-01-04"), ("fuel", "2024-01-04"), ("air", "2024-01-09")]
        )
    ]
    rows.append({**rows[0], "date": "2024-01-05"})  # an exact duplicate question
    data = _write_jsonl(tmp_path / "tickets.jsonl", rows)
    out = tmp_path / "report"
    argv = ["data", "report", str(data), "--out", str(out), "--prompt", "question", "--response", "answer"]
    assert main([*argv, "--topics", "2"]) == 0
    printed = capsys.readouterr().out
    assert "DatasetReport: 5 rows" in printed and f"wrote {out / 'report.html'}" in printed
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["splits"] == {"all": 5} and report["text_columns"] == ["prompt", "response"]
    assert report["duplicates"]["within"]["all"]["duplicate_rows"] == 1
    assert report["time_trend"]["column"] == "date" and report["time_trend"]["frequency"] == "day"
    assert sum(report["time_trend"]["counts"]["all"]) == 5 and len(report["topics"]["topics"]) == 2
    assert (out / "lengths_chars.png").read_bytes()[:4] == b"\x89PNG"
    assert "<h1>domainft dataset report</h1>" in (out / "report.html").read_text(encoding="utf-8")


def test_data_report_keeps_the_splits_of_a_saved_dataset_dict(tmp_path, capsys):
    import datasets

    def split(prefix, questions):
        return datasets.Dataset.from_list(
            [{"id": f"{prefix}{i}", "prompt": q, "response": "Check it."} for i, q in enumerate(questions)]
        )

    dsd = datasets.DatasetDict(
        train=split("a", ["Belt slips?", "Pump leaks?", "Oven cold?"]),
        test=split("t", ["belt  SLIPS?"]),
    )
    dsd.save_to_disk(str(tmp_path / "saved"))
    assert main(["data", "report", str(tmp_path / "saved"), "--out", str(tmp_path / "r")]) == 0
    assert "leakage: 1 train/test pair(s)" in capsys.readouterr().out
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert report["splits"] == {"train": 3, "test": 1}
    assert report["duplicates"]["across"][0]["pairs"][0]["a_id"] == "a0"


def test_data_report_errors_are_one_line(tmp_path, capsys):
    data = _write_jsonl(tmp_path / "x.jsonl", [{"question": "Belt slips?", "answer": "Tighten it."}])
    assert main(["data", "report", str(data), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("domainft data report: error: dataset_report: no text column") and err.count("\n") == 1
    )
    assert "columns: question, answer, id" in err and "--prompt COL --response COL" in err
    assert main(["data", "report", str(tmp_path / "missing.jsonl")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    assert main(["data"]) == 0 and "report" in capsys.readouterr().out
