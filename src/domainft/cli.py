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
    from domainft.utils.distributed import is_main_process
    from domainft.workflows import train_from_recipe

    recipe = _load_recipe(args.recipe)
    if args.output_dir:
        recipe.training.output_dir = args.output_dir
    outcome = train_from_recipe(recipe)
    result = outcome.result
    if not is_main_process():  # one summary for a multi-process run
        return 0
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
    print(report.summary())
    print(f"report: {recipe.eval_dir / 'report.html'}")
    print(f"summary for a README: {recipe.eval_dir / 'summary.md'}")
    return 0


def cmd_tiny_model(args: argparse.Namespace) -> int:
    from domainft.configuration import check_output_path
    from domainft.data.builder import DatasetBuilder
    from domainft.models.tiny import TinyModelConfig, build_tiny_model

    check_output_path(args.output, "--output")
    builder = DatasetBuilder.from_file(args.data)
    texts = [
        " ".join(str(v) for v in row.values() if isinstance(v, (str, int, float))) for row in builder.dataset
    ]
    config = TinyModelConfig(architecture=args.architecture, seed=args.seed)
    path = build_tiny_model(texts, args.output, config)
    print(f"tiny {args.architecture} model and tokenizer saved to {path}")
    return 0


def _report_data(args: argparse.Namespace):
    """What ``domainft data report`` analyses: a saved ``DatasetDict`` keeps its splits; a data file or a
    saved ``Dataset`` is one split. The record format and the ``--prompt``/``--response`` mapping apply."""
    from domainft.data.builder import DatasetBuilder
    from domainft.data.readers import is_saved_dataset, load_saved

    columns = {"prompt": args.prompt, "response": args.response}
    if not is_saved_dataset(args.file):
        builder = DatasetBuilder.from_file(args.file, format=args.format, reader=args.reader)
        return builder.with_columns(**columns).dataset, len(builder.rejected)
    import datasets

    saved = load_saved(args.file)
    if isinstance(saved, datasets.Dataset):
        saved = {"all": saved}
    builders = {name: DatasetBuilder.from_dataset(split, args.format) for name, split in saved.items()}
    data = {name: b.with_columns(**columns).dataset for name, b in builders.items()}
    rejected = sum(len(b.rejected) for b in builders.values())
    return (data["all"] if list(data) == ["all"] else datasets.DatasetDict(data)), rejected


def cmd_data_report(args: argparse.Namespace) -> int:
    from domainft.configuration import check_output_path
    from domainft.data.report import DataReportConfig, dataset_report

    config = DataReportConfig.from_yaml(args.config) if args.config else DataReportConfig()
    overrides = {"n_topics": args.topics, "timestamp_column": args.timestamp, "sentiment": args.sentiment}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides:
        config = config.updated(**overrides)
    name = Path(args.file.removeprefix("builtin:")).name.split(".")[0] or "data"
    out = Path(args.out) if args.out else Path(f"{name}-report")
    check_output_path(out, "--out")  # before the analysis, not after it
    data, rejected = _report_data(args)
    report = dataset_report(data, tokenizer=args.tokenizer, config=config, source=args.file)
    report.save(out)
    print(report.summary())
    if rejected:
        print(f"note: the record format could not use {rejected} row(s); they are not in the report")
    for path in report.files(out):
        print(f"wrote {path}")
    return 0


def _add_data_commands(sub: argparse._SubParsersAction) -> None:
    """The ``data`` group. A new subcommand: ``group.add_parser(NAME)``, its options, and
    ``set_defaults(func=cmd_data_NAME, command="data NAME")`` (the name errors are reported under)."""
    data = sub.add_parser("data", help="inspect data files (report)")
    data.set_defaults(func=lambda _args: data.print_help() or 0)
    group = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")

    report = group.add_parser(
        "report",
        help="rows per split, length histograms, duplicates and leakage, top terms, topics, time trend, "
        "optional sentiment and tone (report.html, report.json, PNGs)",
    )
    report.add_argument(
        "file", help="data file (csv/tsv/json/jsonl/parquet/..., builtin:NAME) or a save_to_disk folder"
    )
    report.add_argument("--out", help="output folder (default: ./<file name>-report)")
    report.add_argument("--tokenizer", help="tokenizer or model folder: adds token lengths")
    report.add_argument(
        "--format",
        default="auto",
        help="record format: auto (default), prompt_response, alpaca, sharegpt ...",
    )
    report.add_argument("--reader", help="file reader name (default: from the file suffix)")
    report.add_argument("--prompt", help="column (or format string over the row) to use as prompt")
    report.add_argument("--response", help="column (or format string over the row) to use as response")
    report.add_argument("--topics", type=int, help="number of topics (default: 5)")
    report.add_argument("--timestamp", help="date/time column of the time trend (default: detected)")
    report.add_argument(
        "--sentiment",
        nargs="?",
        const="vader",
        metavar="ANALYSER",
        help="add the sentiment and tone section (compound score per text, per split and role, most "
        "negative texts); ANALYSER defaults to vader (pip install 'domainft[diagnostics]')",
    )
    report.add_argument("--config", help="YAML or JSON file with DataReportConfig fields")
    report.set_defaults(func=cmd_data_report, command="data report")


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
    from domainft.models.tiny import ARCHITECTURES

    tiny.add_argument("--architecture", default="llama", choices=ARCHITECTURES.names())
    tiny.add_argument("--seed", type=int, default=0)
    tiny.set_defaults(func=cmd_tiny_model)

    from domainft.diagnostics.cli import add_diagnose_command
    from domainft.evaluation.knowledge.cli import add_probes_command
    from domainft.models.memory import add_plan_command
    from domainft.models.merge import add_merge_command
    from domainft.serving.cli import add_serving_commands
    from domainft.training.sweep import add_sweep_command

    add_plan_command(sub)
    add_merge_command(sub)
    add_sweep_command(sub)
    add_serving_commands(sub)
    add_diagnose_command(sub)
    add_probes_command(sub)
    _add_data_commands(sub)
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
    except OSError as exc:  # the file system refused (permissions, disk full): one line, not a traceback
        if args.verbose:
            raise
        print(
            f"domainft {args.command}: error: {type(exc).__name__}: {exc} (run with -v for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
