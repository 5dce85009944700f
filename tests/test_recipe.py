from pathlib import Path

import pytest

from domainft.errors import ConfigError
from domainft.recipe import Recipe

ROOT = Path(__file__).resolve().parents[1]


def test_example_recipe_parses_into_the_component_configs():
    recipe = Recipe.from_yaml(ROOT / "examples/quickstart/recipe.yaml")
    assert recipe.data.path == "builtin:machinery_tickets" and recipe.data.stratify == "length"
    assert recipe.model.quantization == "nf4" and recipe.adapter.target_modules == [
        "attention",
        "mlp",
        "lm_head",
    ]
    assert (
        recipe.training.learning_rate == 0.005
        and recipe.training.num_train_epochs == 20
        and recipe.evaluation.decoding.max_new_tokens == 96
    )
    assert recipe.eval_dir == Path("runs/machinery/eval")


def test_round_trip(tmp_path):
    recipe = Recipe.from_yaml(ROOT / "examples/quickstart/recipe.yaml")
    recipe.to_yaml(tmp_path / "r.yaml")
    assert Recipe.from_yaml(tmp_path / "r.yaml") == recipe
    recipe.to_json(tmp_path / "r.json")
    assert Recipe.from_json(tmp_path / "r.json") == recipe


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("modell: {}\n", "unknown field 'modell'. Did you mean 'model'"),
        ("adapter:\n  r: sixteen\n", r"adapter.r: expected an integer, got 'sixteen'"),
        ("model:\n  quantization: nf3\n", "model.quantization: expected one of"),
        ("training: 5\n", "training: expected a mapping"),
        ("evaluation:\n  decoding:\n    top_p: 2\n", "top_p"),
        ("- a\n- b\n", "expected a mapping of sections"),
    ],
)
def test_invalid_recipes_name_the_field(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Recipe.from_yaml(path)


def test_relative_paths_resolve_against_the_recipe_folder(tmp_path):
    (tmp_path / "data.jsonl").write_text('{"prompt": "p", "response": "r"}\n')
    recipe = Recipe.from_dict({"data": {"path": "data.jsonl"}, "model": {"name_or_path": "not-here"}})
    recipe.resolve_paths(tmp_path)
    assert recipe.data.path == str(tmp_path / "data.jsonl") and recipe.model.name_or_path == "not-here"


def test_train_fails_before_work_on_a_missing_model_or_unknown_metric(tmp_path):
    from domainft.workflows import train_from_recipe

    recipe = Recipe.from_dict(
        {"data": {"path": "builtin:machinery_tickets"}, "training": {"output_dir": str(tmp_path / "run")}}
    )
    with pytest.raises(ConfigError, match=r"model\.name_or_path is empty"):
        train_from_recipe(recipe)
    recipe.model.name_or_path = "some/model"
    recipe.evaluation.metrics = ["rouge", "blue"]
    with pytest.raises(ConfigError, match="unknown metric 'blue'"):
        train_from_recipe(recipe)
    assert not (tmp_path / "run").exists()  # nothing written before the checks


def test_direct_construction_checks_types():
    from domainft import AdapterConfig, EvaluationConfig, TrainingConfig

    with pytest.raises(ConfigError, match=r"AdapterConfig\.r: expected an integer, got '8'"):
        AdapterConfig(r="8")
    with pytest.raises(ConfigError, match=r"TrainingConfig\.learning_rate: expected a number"):
        TrainingConfig(learning_rate="1e-4")
    assert TrainingConfig(num_train_epochs=2).num_train_epochs == 2.0  # ints widen to float
    a, b = EvaluationConfig(), EvaluationConfig()
    assert a.decoding == b.decoding and a.decoding is not b.decoding
