"""``domainft diagnose``: the layer report of a base model, and of the base with an adapter merged.

``domainft diagnose --model BASE --adapter RUN/adapter`` writes ``RUN/diagnostics/`` (the adapter's run
folder) and links it from ``RUN/eval/report.html`` when that evaluation exists; ``--recipe`` takes the
model, adapter and folders from a recipe.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _targets(args: argparse.Namespace) -> tuple[str, Path | None, Path, Path | None]:
    """Model, adapter, output folder and evaluation folder from the options (and the recipe)."""
    from domainft.diagnostics.layer_report import RUN_SUBDIR
    from domainft.errors import ConfigError

    model, adapter, eval_dir = args.model, Path(args.adapter) if args.adapter else None, None
    out = Path(args.out) if args.out else None
    if args.recipe:
        from domainft.cli import _load_recipe

        recipe = _load_recipe(args.recipe)
        model = model or recipe.model.name_or_path
        adapter = adapter or recipe.adapter_dir
        out = out or recipe.run_dir / RUN_SUBDIR
        eval_dir = recipe.eval_dir
    if not model:
        raise ConfigError("diagnose: give the base model with --model BASE (or a recipe with --recipe)")
    if out is None:
        out = adapter.parent / RUN_SUBDIR if adapter is not None else Path(RUN_SUBDIR)
    if eval_dir is None and adapter is not None:
        eval_dir = adapter.parent / "eval"
    return model, adapter, out, eval_dir


def cmd_diagnose(args: argparse.Namespace) -> int:
    from domainft.configuration import check_output_path
    from domainft.diagnostics.layer_report import LayerReportConfig, layer_report, link_into_evaluation

    config = LayerReportConfig.from_yaml(args.config) if args.config else LayerReportConfig()
    overrides = {
        "dtype": args.dtype,
        "device_map": args.device_map,
        "include": args.include,
        "exclude": args.exclude,
        "top_n": args.top,
    }
    config = config.updated(**{k: v for k, v in overrides.items() if v is not None})
    model, adapter, out, eval_dir = _targets(args)
    check_output_path(out, "--out")  # before the analysis, not after it
    report = layer_report(model, adapter, config=config, progress=not args.quiet)
    report.save(out)
    print(report.summary_text())
    for path in report.files(out):
        print(f"wrote {path}")
    if eval_dir is not None and link_into_evaluation(out, eval_dir):
        print(f"linked from {eval_dir / 'report.html'}")
    return 0


def add_diagnose_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``diagnose`` to a ``domainft`` argparse sub-parser group (``build_parser`` wires it)."""
    from domainft.models.merge import MERGE_DTYPES

    diagnose = subparsers.add_parser(
        "diagnose",
        help="spectral health of every weight matrix (weightwatcher alpha, flags), base vs base + adapter",
    )
    diagnose.add_argument("--model", help="base model folder or hub id (loaded unquantized)")
    diagnose.add_argument("--adapter", help="adapter folder to merge and compare with the base")
    diagnose.add_argument(
        "--recipe", help="recipe YAML: model, adapter (<training.output_dir>/adapter) and folders from it"
    )
    diagnose.add_argument(
        "--out", help="output folder (default: <adapter's run folder>/diagnostics, else ./diagnostics)"
    )
    diagnose.add_argument("--dtype", choices=MERGE_DTYPES.names(), help="load precision (default: auto)")
    diagnose.add_argument(
        "--device-map", help="e.g. 'auto' to place a large model on the GPUs (default: CPU)"
    )
    diagnose.add_argument(
        "--include", nargs="+", metavar="REGEX", help="analyse only matrices whose name matches one"
    )
    diagnose.add_argument("--exclude", nargs="+", metavar="REGEX", help="leave out matrices matching one")
    diagnose.add_argument("--top", type=int, help="matrices listed as changed most (default: 5)")
    diagnose.add_argument("--config", help="YAML or JSON file with LayerReportConfig fields")
    diagnose.add_argument("--quiet", action="store_true", help="no progress bar")
    diagnose.set_defaults(func=cmd_diagnose)
    return diagnose
