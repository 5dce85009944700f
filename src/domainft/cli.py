"""The ``domainft`` command line: a thin layer over the library's classes.

Heavy libraries are imported inside the commands, so ``domainft --help`` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def _load_recipe(path: str):
    from domainft.recipe import Recipe

    return Recipe.from_yaml(path).resolve_paths(Path(path).parent)


def cmd_demo(args: argparse.Namespace) -> int:
    from domainft.demo import run_demo

    run_demo(args.output_dir, epochs=args.epochs, progress=not args.quiet)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from domainft.workflows import train_from_recipe

    recipe = _load_recipe(args.recipe)
    if args.output_dir:
        recipe.training.output_dir = args.output_dir
    outcome = train_from_recipe(recipe)
    result = outcome.result
    print(
        f"trained {result.global_step} steps; train loss {result.train_loss}; validation loss "
        f"{result.initial_eval_loss} -> {result.eval_loss}"
    )
    print(f"adapter: {outcome.adapter_dir}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from domainft.workflows import evaluate_from_recipe

    recipe = _load_recipe(args.recipe)
    if args.output_dir:
        recipe.evaluation.output_dir = args.output_dir
    report = evaluate_from_recipe(recipe, adapter_dir=args.adapter)
    print(report.table.round(4).to_string())
    print(f"report: {recipe.eval_dir / 'report.html'}")
    return 0


def cmd_tiny_model(args: argparse.Namespace) -> int:
    from domainft.data.builder import DatasetBuilder
    from domainft.models.tiny import TinyModelConfig, build_tiny_model

    builder = DatasetBuilder.from_file(args.data)
    texts = [
        " ".join(str(v) for v in row.values() if isinstance(v, (str, int, float))) for row in builder.dataset
    ]
    config = TinyModelConfig(architecture=args.architecture, seed=args.seed)
    path = build_tiny_model(texts, args.output, config)
    print(f"tiny {args.architecture} model and tokenizer saved to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from domainft import __version__

    parser = argparse.ArgumentParser(
        prog="domainft",
        description="Adapt an open LLM to one domain with (Q)LoRA and prove it got better. Runs offline.",
    )
    parser.add_argument("--version", action="version", version=f"domainft {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the offline end-to-end demo (tiny model, machinery tickets)")
    demo.add_argument("--output-dir", default="runs/demo", help="run folder (default: runs/demo)")
    demo.add_argument("--epochs", type=float, default=20.0, help="training epochs (default: 20)")
    demo.add_argument("--quiet", action="store_true", help="no progress output")
    demo.set_defaults(func=cmd_demo)

    train = sub.add_parser("train", help="fine-tune as a YAML recipe says (data, model, adapter, training)")
    train.add_argument("recipe", help="recipe YAML file")
    train.add_argument("--output-dir", help="override training.output_dir")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="compare base vs fine-tuned as a YAML recipe says")
    evaluate.add_argument("recipe", help="recipe YAML file")
    evaluate.add_argument("--adapter", help="adapter folder (default: <training.output_dir>/adapter)")
    evaluate.add_argument("--output-dir", help="override evaluation.output_dir")
    evaluate.set_defaults(func=cmd_evaluate)

    tiny = sub.add_parser(
        "tiny-model", help="build a tiny Llama/Mistral and tokenizer offline from a data file"
    )
    tiny.add_argument("--data", required=True, help="data file (csv/json/jsonl/parquet) or builtin:NAME")
    tiny.add_argument("--output", required=True, help="folder to save the model and tokenizer in")
    tiny.add_argument("--architecture", default="llama", choices=["llama", "mistral"])
    tiny.add_argument("--seed", type=int, default=0)
    tiny.set_defaults(func=cmd_tiny_model)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    if not args.verbose:  # bitsandbytes logs an optional-kernel miss at import on every CPU run
        logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
    from domainft.errors import DomainftError

    try:
        return int(args.func(args))
    except DomainftError as exc:
        print(f"domainft {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
