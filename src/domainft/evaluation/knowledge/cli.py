"""``domainft probes RECIPE``: write the recipe's knowledge probes to a folder, to read before evaluating.

The folder (``facts.jsonl``, ``probes.jsonl``, ``dropped.jsonl``, ``probe_set.json``) can be edited and
named as ``evaluation.knowledge.facts``: a saved probe set is then asked as it is.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def cmd_probes(args: argparse.Namespace) -> int:
    from domainft.cli import _load_recipe
    from domainft.configuration import check_output_path
    from domainft.workflows import build_datasets, probe_set_from_recipe

    recipe = _load_recipe(args.recipe)
    output = Path(args.output) if args.output else recipe.run_dir / "knowledge_probes"
    check_output_path(output, "--output")
    probe_set = probe_set_from_recipe(
        recipe, build_datasets(recipe, write_report=False), progress=not args.quiet
    )
    probe_set.save(output)
    print(probe_set.summary())
    for reason, count in Counter(d["reason"] for d in probe_set.dropped).most_common():
        print(f"  dropped {count}: {reason}")
    print(f"probe set: {output} (name it as evaluation.knowledge.facts to ask it as it is)")
    return 0


def add_probes_command(sub: argparse._SubParsersAction) -> None:
    probes = sub.add_parser(
        "probes", help="write a recipe's knowledge probes (facts, paraphrases, unanswerable) to read first"
    )
    probes.add_argument("recipe", help="recipe YAML file with an evaluation.knowledge section")
    probes.add_argument("--output", help="folder to write (default: <training.output_dir>/knowledge_probes)")
    probes.add_argument("--quiet", action="store_true", help="no progress bars")
    probes.set_defaults(func=cmd_probes)
