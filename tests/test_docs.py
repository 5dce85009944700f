"""The documentation site's hooks: the CLI reference and the link rewriting of included READMEs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("domainft_docs_hooks", ROOT / "docs/hooks/domainft_docs.py")
hooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hooks)


def test_cli_reference_covers_every_command():
    text = hooks._cli_reference()
    for command in (
        "demo",
        "train",
        "evaluate",
        "tiny-model",
        "plan",
        "merge",
        "sweep",
        "chat",
        "serve",
        "diagnose",
        "probes",
    ):
        assert f"`domainft {command}`" in text
    assert "`domainft data report`" in text and "usage: domainft train" in text


def test_links_of_an_included_readme_are_re_pointed():
    readme = ROOT / "examples/quickstart/README.md"
    page = ROOT / "docs/examples/quickstart.md"
    text = (
        "See [the recipe](recipe.yaml), [training](../../docs/training.md#early-stopping), "
        "[web](https://example.org) and `[not](a link)`.\n```\n[x](recipe.yaml)\n```\n"
    )
    out = hooks._rewrite_links(text, readme, page)
    assert "the recipe (`examples/quickstart/recipe.yaml`)" in out
    assert "[training](../training.md#early-stopping)" in out
    assert "[web](https://example.org)" in out
    assert "```\n[x](recipe.yaml)\n```" in out


def test_every_page_in_docs_is_in_the_navigation():
    import yaml

    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]

    def pages(items):
        for item in items:
            for value in item.values() if isinstance(item, dict) else [item]:
                yield from pages(value) if isinstance(value, list) else [value]

    listed = set(pages(nav))
    on_disk = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert on_disk == listed
