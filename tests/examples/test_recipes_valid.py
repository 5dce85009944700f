"""Every YAML recipe shipped in examples/ validates against the config dataclasses."""

from __future__ import annotations

import pytest

from domainft.recipe import Recipe
from tests.examples import EXAMPLES

RECIPES = sorted(EXAMPLES.glob("*/recipe*.yaml"))


def test_the_domain_recipes_ship_recipes():
    folders = {p.parent.name for p in RECIPES}
    assert {"quickstart"} <= folders
    assert {p.parent.name for p in EXAMPLES.glob("*/run.py")} <= folders


@pytest.mark.parametrize("path", RECIPES, ids=[str(p.relative_to(EXAMPLES)) for p in RECIPES])
def test_recipe_validates_and_round_trips(path, tmp_path):
    recipe = Recipe.from_yaml(path)
    assert recipe.model.name_or_path and recipe.data.path, f"{path}: set model.name_or_path and data.path"
    recipe.to_yaml(tmp_path / "again.yaml")
    assert Recipe.from_yaml(tmp_path / "again.yaml") == recipe
