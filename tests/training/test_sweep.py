"""Hyper-parameter sweeps: grid parsing, a real sweep on the tiny model, resume, failures, the CLI."""

import argparse
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from domainft.errors import ConfigError, DataError
from domainft.recipe import Recipe
from domainft.training.sweep import (
    SWEEP_FILES,
    Sweep,
    SweepResult,
    Trial,
    add_sweep_command,
    parse_grid,
    run_sweep,
    trial_name,
)

# --------------------------------------------------------------------------------------------- parse_grid


def test_parse_grid_coerces_values_through_the_recipe_field_types():
    grid = parse_grid(
        [
            "adapter.r=16,64",
            "training.learning_rate=3e-5,1e-4",
            "training.num_train_epochs=2",
            "adapter.target_modules=[attention,mlp],attention",
            "training.packing=true,false",
            "training.template=null,chat",
            "data.validation=8,0.2",
        ]
    )
    assert grid["adapter.r"] == [16, 64] and all(type(v) is int for v in grid["adapter.r"])
    assert grid["training.learning_rate"] == [3e-5, 1e-4]
    assert all(type(v) is float for v in grid["training.learning_rate"])
    assert grid["training.num_train_epochs"] == [2.0] and type(grid["training.num_train_epochs"][0]) is float
    assert grid["adapter.target_modules"] == [["attention", "mlp"], "attention"]
    assert grid["training.packing"] == [True, False]
    assert grid["training.template"] == [None, "chat"]
    assert grid["data.validation"] == [8, 0.2] and type(grid["data.validation"][0]) is int


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["adapter.rr=1"], "Did you mean 'adapter.r'"),
        (["adaptr.r=1"], "unknown section 'adaptr'. Did you mean 'adapter'"),
        (["r=16"], "Did you mean adapter.r"),
        (["training.learning_rat=1e-4"], "Did you mean 'training.learning_rate'"),
        (["adapter.r"], "no '=' found"),
        (["adapter.r="], "give at least one value"),
        (["adapter.r=1,,2"], "empty value"),
        (["adapter.r=8", "adapter.r=16"], "given twice"),
        (["adapter.r=8,8"], "listed twice"),
        (["adapter.r=abc"], "expected an integer, got 'abc'"),
        (["training.lr_scheduler_type=cosin"], "expected one of 'cosine'"),
        (["training.learning_rate=inf"], "finite"),
        (["adapter.target_modules=[attention,mlp"], "unclosed"),
        ([], "empty"),
    ],
)
def test_parse_grid_errors_name_the_item(items, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_grid(items)


def test_trial_names_are_ordered_and_filesystem_safe():
    assert trial_name(0, {"adapter.r": 16, "training.learning_rate": 3e-05}) == "00-r=16_learning_rate=3e-05"
    name = trial_name(3, {"adapter.target_modules": ["attention", "mlp"], "training.template": "a b/c"})
    assert name == "03-target_modules=attention+mlp_template=a-b-c"
    # the same field name in two sections keeps the whole key
    assert trial_name(1, {"adapter.seed": 1, "training.seed": 2}) == "01-adapter.seed=1_training.seed=2"


def test_sweep_plans_every_combination_and_rejects_bad_ones(tmp_path):
    recipe = Recipe.from_dict(
        {
            "model": {"name_or_path": "m"},
            "data": {"path": "d.jsonl"},
            "training": {"output_dir": str(tmp_path)},
        }
    )
    sweep = Sweep(recipe, {"adapter.r": [8, 16], "training.learning_rate": ["1e-4", 3e-4]})
    assert [t.name for t in sweep.trials] == [
        "00-r=8_learning_rate=0.0001",
        "01-r=8_learning_rate=0.0003",
        "02-r=16_learning_rate=0.0001",
        "03-r=16_learning_rate=0.0003",
    ]
    assert sweep.output_dir == tmp_path / "sweep"
    assert [r.adapter.r for r in sweep.recipes] == [8, 8, 16, 16]
    assert sweep.recipes[3].training.output_dir == str(tmp_path / "sweep" / sweep.trials[3].name)
    assert recipe.adapter.r == 16  # the base recipe is left as it was
    with pytest.raises(ConfigError, match="trial 01-r=0.*must be positive"):
        Sweep(recipe, ["adapter.r=8,0"])
    with pytest.raises(ConfigError, match="evaluation"):
        Sweep(recipe, ["evaluation.max_samples=4,8"])
    assert not sweep.rebuild_data
    by_data = Sweep(recipe, ["data.seed=1,2"], tmp_path / "by-data")
    assert by_data.rebuild_data and [r.data.seed for r in by_data.recipes] == [1, 2]
    with pytest.raises(ConfigError, match="data"):  # shared datasets would ignore data.seed
        by_data.run(datasets={"train": []})


# --------------------------------------------------------------------------------------------- real sweeps


def _recipe(tmp_path, tiny_model_dir, ticket_pairs, **training):
    data = tmp_path / "tickets.jsonl"
    rows = [{"prompt": p["prompt"], "response": p["response"]} for p in ticket_pairs[:32]]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return Recipe.from_dict(
        {
            "data": {"path": str(data), "validation": 6, "test": 0},
            "model": {"name_or_path": str(tiny_model_dir), "quantization": None},
            "adapter": {"r": 4, "alpha": 8, "dropout": 0.0},
            "training": {
                "output_dir": str(tmp_path / "run"),
                "max_steps": 3,
                "per_device_train_batch_size": 8,
                "learning_rate": 1e-3,
                "logging_steps": 1,
                "eval_strategy": "steps",
                "eval_steps": 2,
                "max_length": 256,
                "disable_tqdm": True,
                "use_cpu": True,
                **training,
            },
        }
    )


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory, tiny_model_dir, ticket_pairs):
    """A real 2-trial sweep: adapter.r in {2, 8} x one learning rate."""
    tmp_path = tmp_path_factory.mktemp("sweep")
    recipe = _recipe(tmp_path, tiny_model_dir, ticket_pairs)
    result = run_sweep(recipe, ["adapter.r=2,8", "training.learning_rate=3e-3"], progress=False)
    return recipe, result


def test_sweep_writes_its_table(finished_sweep):
    recipe, result = finished_sweep
    out = recipe.run_dir / "sweep"
    assert result.output_dir == out
    for name in SWEEP_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    assert (out / "cleaning_report.json").is_file()  # the data was built once, for every trial

    table = pd.read_csv(out / "sweep.csv", index_col="trial")
    assert list(table.index) == ["00-r=2_learning_rate=0.003", "01-r=8_learning_rate=0.003"]
    assert list(table["adapter.r"]) == [2, 8] and list(table["training.learning_rate"]) == [0.003, 0.003]
    assert list(table["status"]) == ["ok", "ok"] and list(table["steps"]) == [3, 3]
    for column in ("train_loss", "initial_eval_loss", "eval_loss", "best_eval_loss", "runtime_s"):
        assert all(math.isfinite(v) for v in table[column]), column
    assert (table["best_eval_loss"] <= table["eval_loss"]).all()
    assert (table["eval_loss"] < table["initial_eval_loss"]).all()  # 3 steps at 3e-3 already help
    assert table["best"].sum() == 1
    assert table.loc[table["best"], "eval_loss"].iloc[0] == table["eval_loss"].min()

    saved = json.loads((out / "sweep.json").read_text())
    assert saved["metric"] == "eval_loss" and saved["best"] == table.index[table["best"]][0]
    assert saved["grid"] == {"adapter.r": [2, 8], "training.learning_rate": [0.003]}
    assert [t["overrides"]["adapter.r"] for t in saved["trials"]] == [2, 8]
    assert all(t["curves"]["train"] and t["curves"]["validation"] for t in saved["trials"])

    markdown = (out / "sweep.md").read_text()
    assert markdown.startswith("| trial | adapter.r | training.learning_rate | status |")
    assert f"**{saved['best']}** (best)" in markdown and "Best trial (lowest eval_loss)" in markdown

    for trial in result.trials:  # each trial ran in its own folder with its resolved recipe
        trained = Recipe.from_yaml(trial.run_dir / "recipe.yaml")
        assert trained.adapter.r == trial.overrides["adapter.r"]
        assert (trial.run_dir / "adapter" / "adapter_config.json").is_file()
        assert json.loads((trial.run_dir / "trial.json").read_text())["status"] == "ok"

    loaded = SweepResult.load(out)
    assert loaded.to_dict() == result.to_dict()


def test_finished_trials_are_not_trained_again(finished_sweep, capsys):
    recipe, first = finished_sweep
    again = run_sweep(recipe, ["adapter.r=2,8", "training.learning_rate=3e-3"], progress=True)
    err = capsys.readouterr().err
    assert "trial 1/2: adapter.r=2 training.learning_rate=0.003 (finished in an earlier run" in err
    assert all(t.resumed for t in again.trials)
    assert again.table.drop(columns=["error"]).equals(first.table.drop(columns=["error"]))
    # a trial folder trained with another recipe is not taken as finished
    changed = Recipe.from_dict({**recipe.to_dict(), "training": {**recipe.training.to_dict(), "seed": 7}})
    stale = Sweep(changed, ["adapter.r=2,8", "training.learning_rate=3e-3"])
    assert [t.run_dir for t in stale.trials] == [t.run_dir for t in first.trials]
    assert stale._finished(stale.trials[0]) is None
    fresh = Sweep(recipe, ["adapter.r=2,8", "training.learning_rate=3e-3"])
    assert fresh._finished(fresh.trials[0]).status == "ok"


def test_a_failing_trial_is_recorded_and_the_others_run(tmp_path, tiny_model_dir, ticket_pairs, capsys):
    recipe = _recipe(tmp_path, tiny_model_dir, ticket_pairs, max_steps=2, eval_strategy="no")
    result = run_sweep(recipe, {"training.max_length": [4, 256]}, tmp_path / "sw")
    err = capsys.readouterr().err
    assert "trial 1/2: training.max_length=4" in err and "trial 2/2: training.max_length=256" in err
    failed, ok = result.trials
    assert (failed.status, ok.status) == ("failed", "ok") and result.failed == [failed]
    assert failed.error.startswith("DataError: no training example fits max_length=4")
    assert "Traceback" in (failed.run_dir / "error.txt").read_text()
    assert ok.metrics["steps"] == 2 and math.isfinite(ok.metrics["train_loss"])
    table = pd.read_csv(tmp_path / "sw" / "sweep.csv", index_col="trial")
    assert list(table["status"]) == ["failed", "ok"] and "no training example" in table["error"].iloc[0]
    assert "failed: DataError" in (tmp_path / "sw" / "sweep.md").read_text()
    assert result.best is ok  # a failed trial is never the best one

    with pytest.raises(DataError, match="no training example"):  # stop at the first failure if asked
        run_sweep(recipe, {"training.max_length": [4, 256]}, tmp_path / "sw", continue_on_error=False)


def test_cli_prints_the_table_and_exits_1_on_a_failed_trial(finished_sweep, tmp_path, capsys):
    recipe, result = finished_sweep
    path = tmp_path / "recipe.yaml"
    recipe.to_yaml(path)
    parser = argparse.ArgumentParser()
    add_sweep_command(parser.add_subparsers(dest="command"))
    grid = ["--grid", "adapter.r=2,8", "--grid", "training.learning_rate=3e-3"]

    # the finished sweep again: nothing trains, the table is printed, exit 0
    args = parser.parse_args(["sweep", str(path), *grid, "--output-dir", str(result.output_dir), "--quiet"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "00-r=2_learning_rate=0.003" in printed and "01-r=8_learning_rate=0.003" in printed
    assert f"best trial (eval_loss): {result.best.name}" in printed
    assert f"wrote {result.output_dir / 'sweep.csv'}" in printed

    out = tmp_path / "failing"
    args = parser.parse_args(
        ["sweep", str(path), "--grid", "training.max_length=4", "--output-dir", str(out)]
    )
    assert args.func(args) == 1
    printed = capsys.readouterr().out
    assert "FAILED 00-max_length=4: DataError" in printed and (out / "sweep.csv").is_file()

    args = parser.parse_args(["sweep", str(path), "--grid", "adapter.alpah=4"])
    with pytest.raises(ConfigError, match="Did you mean 'adapter.alpha'"):
        args.func(args)


def _trial(index, r, status="ok", **metrics):
    curves = {
        "train": [[1, 3.0 - r / 10], [2, 2.0 - r / 10]],
        "validation": [[0, 3.1], [2, 2.5 - r / 10]],
        "metrics": {"eval_rougeL": [[0, 0.1], [2, metrics.get("eval_rougeL", 0.0)]]},
    }
    return Trial(
        index=index,
        name=trial_name(index, {"adapter.r": r}),
        overrides={"adapter.r": r},
        run_dir=Path("sweep") / trial_name(index, {"adapter.r": r}),
        status=status,
        error="TrainingError: boom" if status == "failed" else None,
        metrics=metrics if status == "ok" else {},
        curves=curves if status == "ok" else {},
    )


def test_best_trial_follows_the_metric_and_generation_metrics_get_a_panel(tmp_path):
    trials = [
        _trial(0, 4, eval_loss=2.1, eval_rougeL=0.30),
        _trial(1, 8, eval_loss=1.9, eval_rougeL=0.25),
        _trial(2, 16, status="failed"),
    ]
    by_loss = SweepResult(trials, {"adapter.r": [4, 8, 16]}, tmp_path)
    assert by_loss.best.name == "01-r=8"
    by_rouge = SweepResult(
        trials, {"adapter.r": [4, 8, 16]}, tmp_path, metric="eval_rougeL", greater_is_better=True
    )
    assert by_rouge.best.name == "00-r=4"
    table = by_rouge.table
    assert list(table.columns[:3]) == ["adapter.r", "status", "best"]
    assert "eval_rougeL" in table.columns and list(table["best"]) == [True, False, False]
    assert (
        table.loc["02-r=16", "status"] == "failed" and table.loc["02-r=16", "error"] == "TrainingError: boom"
    )

    paths = by_rouge.save(tmp_path / "out")
    assert "Best trial (highest eval_rougeL): `00-r=4`" in paths["sweep.md"].read_text()
    assert "- `02-r=16` failed: TrainingError: boom" in paths["sweep.md"].read_text()
    with_panel = _png_size(paths["loss_curves.png"])
    for t in trials:
        t.curves.pop("metrics", None)
    without = _png_size(by_loss.save(tmp_path / "plain")["loss_curves.png"])
    assert with_panel[0] > without[0] and with_panel[1] == without[1]  # a second panel widens the figure
    assert SweepResult.load(tmp_path / "out").best.name == "00-r=4"


def _png_size(path):
    import struct

    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])
