"""Hyper-parameter sweeps: train one recipe once per point of a grid and compare the runs.

Each trial is a normal ``train_from_recipe`` run in its own folder ``<sweep>/<NN>-<name>``; the data
is built once and shared. The sweep folder receives a comparison table (``sweep.csv``, ``sweep.md``,
``sweep.json``) and ``loss_curves.png`` with every trial's loss curves overlaid.

Examples:
    >>> from domainft.training.sweep import parse_grid, trial_name
    >>> grid = parse_grid(["adapter.r=16,64", "training.learning_rate=3e-5,1e-4"])
    >>> grid
    {'adapter.r': [16, 64], 'training.learning_rate': [3e-05, 0.0001]}
    >>> trial_name(0, {"adapter.r": 16, "training.learning_rate": 3e-05})
    '00-r=16_learning_rate=3e-05'
    >>> result = run_sweep(recipe, grid)                    # doctest: +SKIP
    >>> result.table[["adapter.r", "eval_loss", "best"]]    # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import difflib
import gc
import hashlib
import itertools
import json
import logging
import math
import re
import sys
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from domainft.configuration import ConfigBase, _coerce, _type_hints
from domainft.errors import ConfigError
from domainft.utils.io import atomic_write_json, atomic_write_text
from domainft.utils.numbers import finite_or_none

if TYPE_CHECKING:
    from domainft.recipe import Recipe

logger = logging.getLogger(__name__)

TRIAL_FILE = "trial.json"
SWEEP_FILES = ("sweep.csv", "sweep.md", "sweep.json", "loss_curves.png")
#: result columns of :attr:`SweepResult.table` (generation metrics go after ``best_eval_loss``)
RESULT_COLUMNS = (
    "train_loss",
    "initial_eval_loss",
    "eval_loss",
    "best_eval_loss",
    "steps",
    "runtime_s",
    "peak_memory_mb",
    "peak_memory_kind",
    "tokens_seen",
)
_SECTIONS = ("data", "model", "adapter", "training", "evaluation")


# --------------------------------------------------------------------------------------------- grid parsing


def _recipe_class() -> type[ConfigBase]:
    from domainft.recipe import Recipe

    return Recipe


def _field_type(key: str) -> Any:
    """The annotation of ``section.field`` (or ``section.sub.field``, ``section.dict_field.key``)."""
    parts = key.split(".")
    if len(parts) < 2 or not all(parts):
        hint = ""
        if len(parts) == 1 and parts[0]:
            owners = [s for s in _SECTIONS if parts[0] in _type_hints(_section_class(s))]
            if owners:
                hint = f" Did you mean {', '.join(f'{s}.{parts[0]}' for s in owners)}?"
        raise ConfigError(
            f"--grid {key!r}: expected SECTION.FIELD such as adapter.r or training.max_steps.{hint}"
        )
    cls: Any = _recipe_class()
    where = ""
    for i, part in enumerate(parts):
        hints = _type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls) if f.init]
        if part not in names:
            close = difflib.get_close_matches(part, names, n=1)
            hint = f" Did you mean {'.'.join([*parts[:i], close[0]])!r}?" if close else ""
            what = f"section {part!r}" if i == 0 else f"field {part!r} in {where}"
            raise ConfigError(f"--grid {key!r}: unknown {what}.{hint} Known: {', '.join(sorted(names))}")
        tp = hints[part]
        where = ".".join(parts[: i + 1])
        rest = parts[i + 1 :]
        if not rest:
            if i == 0:
                raise ConfigError(f"--grid {key!r}: name a field of the {part} section, e.g. {part}.FIELD")
            return tp
        sub = _config_class(tp)
        if sub is not None:
            cls = sub
            continue
        if _dict_value_type(tp) is not None and len(rest) == 1:
            return _dict_value_type(tp)
        raise ConfigError(f"--grid {key!r}: {where} has no sub-fields")
    raise AssertionError("unreachable")


def _section_class(section: str) -> type[ConfigBase]:
    return _type_hints(_recipe_class())[section]


def _config_class(tp: Any) -> type[ConfigBase] | None:
    options = get_args(tp) if get_origin(tp) is not None and get_origin(tp) is not dict else (tp,)
    for option in options:
        if isinstance(option, type) and issubclass(option, ConfigBase):
            return option
    return None


def _dict_value_type(tp: Any) -> Any | None:
    options = get_args(tp) if get_origin(tp) is not dict else (tp,)
    for option in options or (tp,):
        if get_origin(option) is dict:
            args = get_args(option)
            return args[1] if args else Any
    return None


def split_values(text: str) -> list[str]:
    """Split ``v1,v2`` at the commas outside brackets, braces and quotes.

    >>> split_values("[attention,mlp],attention")
    ['[attention,mlp]', 'attention']
    """
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    start = 0
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
            if depth < 0:
                raise ConfigError(f"--grid value {text!r}: unbalanced {char!r}")
        elif char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if depth or quote:
        raise ConfigError(f"--grid value {text!r}: unclosed bracket or quote")
    parts.append(text[start:].strip())
    return parts


def _candidates(raw: str) -> list[Any]:
    """Readings of one value, most specific first: YAML (true, null, [a, b]), int, float, the text."""
    import yaml

    readings: list[Any] = []
    for read in (yaml.safe_load, int, float):
        try:
            readings.append(read(raw))
        except (yaml.YAMLError, ValueError):
            continue
    return [*readings, raw]


def coerce_value(key: str, value: Any, tp: Any | None = None) -> Any:
    """``value`` (a string from the command line, or a Python value) as the type of recipe field ``key``.

    >>> coerce_value("training.learning_rate", "3e-5"), coerce_value("adapter.r", "16")
    (3e-05, 16)
    """
    tp = _field_type(key) if tp is None else tp
    candidates = _candidates(value) if isinstance(value, str) else [value]
    error: ConfigError | None = None
    for candidate in candidates:
        try:
            coerced = _coerce(candidate, tp, key)
        except ConfigError as exc:
            error = error or exc
            continue
        if isinstance(coerced, float) and not math.isfinite(coerced):
            raise ConfigError(f"--grid {key}={value}: expected a finite number")
        return coerced
    raise ConfigError(f"--grid {key}={value}: {str(error).removeprefix(f'{key}: ')}")


def _plain_value(value: Any) -> Any:
    return value.to_dict() if isinstance(value, ConfigBase) else value


def coerce_grid(grid: Mapping[str, Any] | Sequence[str]) -> dict[str, list[Any]]:
    """A grid as ``["section.field=v1,v2", ...]`` or ``{"section.field": [v1, v2]}``, typed and checked."""
    if isinstance(grid, str):
        grid = [grid]
    if not isinstance(grid, Mapping):
        return parse_grid(list(grid))
    out: dict[str, list[Any]] = {}
    for key, values in grid.items():
        if not isinstance(values, (list, tuple)):
            values = [values]
        tp = _field_type(key)
        out[key] = _checked(key, [_plain_value(coerce_value(key, v, tp)) for v in values])
    if not out:
        raise ConfigError("the sweep grid is empty: give at least one SECTION.FIELD=V1,V2")
    return out


def _checked(key: str, values: list[Any]) -> list[Any]:
    if not values:
        raise ConfigError(f"--grid {key}: give at least one value, e.g. {key}=V1,V2")
    seen: list[Any] = []
    for value in values:
        if any(value == s and type(value) is type(s) for s in seen):
            raise ConfigError(f"--grid {key}: the value {_format_value(value)} is listed twice")
        seen.append(value)
    return values


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """Parse ``--grid`` items ``section.field=v1,v2`` into ``{key: [typed values]}``.

    Values take the type of the recipe field (``adapter.r=16`` is an int, ``training.learning_rate=3e-5``
    a float, ``true``/``false`` booleans, ``null`` None, ``[a,b]`` a list); commas inside brackets do not
    split. Unknown sections or fields, items without ``=`` or values, and repeated keys raise ``ConfigError``.

    >>> parse_grid(["adapter.target_modules=[attention,mlp],attention", "training.packing=true,false"])
    {'adapter.target_modules': [['attention', 'mlp'], 'attention'], 'training.packing': [True, False]}
    """
    if isinstance(items, str):
        items = [items]
    grid: dict[str, list[Any]] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(
                f"--grid {item!r}: expected SECTION.FIELD=V1,V2 (e.g. adapter.r=16,64); no '=' found"
            )
        key, _, text = item.partition("=")
        key = key.strip()
        if key in grid:
            raise ConfigError(f"--grid {key}: given twice; list all its values in one item ({key}=V1,V2,...)")
        tp = _field_type(key)
        raw = split_values(text) if text.strip() else []
        if any(not r for r in raw):
            raise ConfigError(f"--grid {item!r}: empty value; separate values with single commas")
        grid[key] = _checked(key, [_plain_value(coerce_value(key, r, tp)) for r in raw])
    if not grid:
        raise ConfigError("the sweep grid is empty: give at least one SECTION.FIELD=V1,V2")
    return grid


# --------------------------------------------------------------------------------------------- naming


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "+".join(_format_value(v) for v in value)
    if isinstance(value, dict):
        return "+".join(f"{k}-{_format_value(v)}" for k, v in value.items())
    return str(value)


def _short_keys(keys: Sequence[str]) -> dict[str, str]:
    """The last name of each key, or the whole key where two keys share their last name."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: (n if last.count(n) == 1 else k) for k, n in zip(keys, last, strict=True)}


def trial_label(overrides: Mapping[str, Any]) -> str:
    """``adapter.r=64 training.learning_rate=3e-05``: the overrides as a human reads them."""
    return " ".join(f"{k}={_format_value(v)}" for k, v in overrides.items())


def trial_name(index: int, overrides: Mapping[str, Any], *, width: int = 2, max_chars: int = 120) -> str:
    """Folder name of a trial: ``NN-`` index prefix (keeps the grid order), then ``field=value`` pairs."""
    short = _short_keys(list(overrides))
    body = "_".join(f"{short[k]}={_format_value(v)}" for k, v in overrides.items())
    body = re.sub(r"[^A-Za-z0-9._+=-]+", "-", body).strip("-.") or "trial"
    if len(body) > max_chars:
        digest = hashlib.sha1(body.encode()).hexdigest()[:8]
        body = f"{body[: max_chars - 9]}-{digest}"
    return f"{index:0{width}d}-{body}"


# --------------------------------------------------------------------------------------------- results


@dataclass
class Trial:
    """One point of the grid: its overrides, folder, outcome and curves."""

    index: int
    name: str
    overrides: dict[str, Any]
    run_dir: Path
    status: Literal["pending", "ok", "failed"] = "pending"
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    resumed: bool = False

    @property
    def label(self) -> str:
        return trial_label(self.overrides)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "overrides": dict(self.overrides),
            "status": self.status,
            "error": self.error,
            "run_dir": str(self.run_dir),
            "metrics": dict(self.metrics),
            "curves": self.curves,
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trial:
        return cls(
            index=int(data["index"]),
            name=str(data["name"]),
            overrides=dict(data.get("overrides") or {}),
            run_dir=Path(data["run_dir"]),
            status=data.get("status", "pending"),
            error=data.get("error"),
            metrics=dict(data.get("metrics") or {}),
            curves=dict(data.get("curves") or {}),
            fingerprint=data.get("fingerprint"),
        )


def _curves(log_history: Sequence[Mapping[str, Any]], metric_keys: Iterable[str]) -> dict[str, Any]:
    """``{"train": [[step, loss]], "validation": [[step, loss]], "metrics": {key: [[step, value]]}}``."""
    from domainft.training.plots import loss_series

    series = loss_series(list(log_history))
    curves: dict[str, Any] = {
        name: [[s, v] for s, v in points if math.isfinite(v)] for name, points in series.items()
    }
    curves["metrics"] = {}
    for key in metric_keys:
        points = [[float(e.get("step", 0)), finite_or_none(e[key])] for e in log_history if key in e]
        curves["metrics"][key] = [p for p in points if p[1] is not None]
    return curves


def trial_metrics(result: Any) -> dict[str, Any]:
    """The table's numbers from a ``TrainResult`` (losses, generation metrics, steps, time, memory)."""
    history = result.log_history
    evals = [
        finite_or_none(e["eval_loss"]) for e in history if "eval_loss" in e and float(e.get("step", 0)) > 0
    ]
    evals = [v for v in [*evals, finite_or_none(result.eval_loss)] if v is not None]
    metrics: dict[str, Any] = {
        "train_loss": finite_or_none(result.train_loss),
        "initial_eval_loss": finite_or_none(result.initial_eval_loss),
        "eval_loss": finite_or_none(result.eval_loss),
        "best_eval_loss": min(evals) if evals else None,
        "steps": int(result.global_step),
        "runtime_s": finite_or_none(result.runtime_s),
        "peak_memory_mb": finite_or_none(result.peak_memory_mb),
        "peak_memory_kind": result.peak_memory_kind,
        "tokens_seen": int(result.tokens_seen),
    }
    for key, value in sorted((result.generation_metrics or {}).items()):
        metrics[key] = finite_or_none(value)
    return metrics


@dataclass
class SweepResult:
    """The trials of a sweep, their comparison table, and the files that show it.

    ``metric`` (``eval_loss`` or the recipe's ``metric_for_best_model``, e.g. ``eval_rougeL``) picks
    :attr:`best`: the lowest (losses) or highest (generation metrics) among the trials that finished.
    """

    trials: list[Trial]
    grid: dict[str, list[Any]]
    output_dir: Path
    metric: str = "eval_loss"
    greater_is_better: bool = False

    @property
    def failed(self) -> list[Trial]:
        return [t for t in self.trials if t.status == "failed"]

    @property
    def ok(self) -> bool:
        """True when every trial finished."""
        return all(t.status == "ok" for t in self.trials)

    @property
    def best(self) -> Trial | None:
        """The finished trial with the best ``metric`` (None when no trial has it)."""
        scored = [(t, finite_or_none(t.metrics.get(self.metric))) for t in self.trials if t.status == "ok"]
        scored = [(t, v) for t, v in scored if v is not None]
        if not scored:
            return None
        pick = max if self.greater_is_better else min
        return pick(scored, key=lambda tv: tv[1])[0]

    def metric_columns(self) -> list[str]:
        """Result columns present in any trial: the fixed ones, then generation metrics."""
        extra = sorted({k for t in self.trials for k in t.metrics if k not in RESULT_COLUMNS})
        fixed = list(RESULT_COLUMNS)
        at = fixed.index("best_eval_loss") + 1
        return [*fixed[:at], *extra, *fixed[at:]]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per trial: name, swept values, status, best flag, metrics, error."""
        best = self.best
        rows = []
        for t in self.trials:
            row: dict[str, Any] = {"trial": t.name}
            row.update({k: t.overrides.get(k) for k in self.grid})
            row["status"] = t.status
            row["best"] = best is not None and t.name == best.name
            row.update({c: t.metrics.get(c) for c in self.metric_columns()})
            row["error"] = t.error
            rows.append(row)
        return rows

    @property
    def table(self) -> Any:
        """``pandas.DataFrame`` indexed by trial name: swept values, status, best, losses, metrics, cost."""
        import pandas as pd

        columns = ["trial", *self.grid, "status", "best", *self.metric_columns(), "error"]
        frame = pd.DataFrame(self.rows(), columns=columns).set_index("trial")
        for column in ("steps", "tokens_seen"):
            frame[column] = frame[column].astype("Int64")
        return frame

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "grid": self.grid,
            "metric": self.metric,
            "greater_is_better": self.greater_is_better,
            "best": best.name if best is not None else None,
            "n_trials": len(self.trials),
            "n_failed": len(self.failed),
            "trials": [
                {**t.to_dict(), "best": best is not None and t.name == best.name} for t in self.trials
            ],
        }

    def to_markdown(self) -> str:
        """A markdown table (best trial in bold), with the errors of failed trials below it."""
        rows = self.rows()
        columns = ["trial", *self.grid, "status", *self.metric_columns()]
        columns = [c for c in columns if c in self.grid or any(r.get(c) is not None for r in rows)]
        lines = [
            "| " + " | ".join(columns) + " |",
            "|" + "|".join("---" if c in ("trial", "status", *self.grid) else "---:" for c in columns) + "|",
        ]
        for row in rows:
            cells = [_markdown_cell(c, row.get(c)) for c in columns]
            if row["best"]:
                cells[0] = f"**{cells[0]}** (best)"
            lines.append("| " + " | ".join(cells) + " |")
        best = self.best
        direction = "highest" if self.greater_is_better else "lowest"
        text = "\n".join(lines) + "\n"
        if best is not None:
            text += f"\nBest trial ({direction} {self.metric}): `{best.name}` ({best.label})\n"
        else:
            text += f"\nNo trial has a {self.metric} to compare.\n"
        for t in self.failed:
            text += f"\n- `{t.name}` failed: {_markdown_escape(t.error or 'unknown error')}"
        return text + ("\n" if self.failed else "")

    def plot(self, path: str | Path) -> Path:
        """Overlaid loss curves: train dashed, validation solid, one colour per trial; a generation panel."""
        from domainft.utils.plotting import agg_figure, figure_png

        trials = [t for t in self.trials if t.curves]
        gen_key = self._plot_metric()
        fig = agg_figure((12.0, 4.6) if gen_key else (7.6, 4.6))
        ax = fig.add_subplot(1, 2, 1) if gen_key else fig.add_subplot()
        colours = _colours(len(trials))
        for t, colour in zip(trials, colours, strict=True):
            for name, style in (("train", "--"), ("validation", "o-")):
                points = t.curves.get(name) or []
                if points:
                    xs, ys = zip(*points, strict=True)
                    label = t.name if name == "validation" or not t.curves.get("validation") else None
                    ax.plot(xs, ys, style, color=colour, label=label, markersize=3, linewidth=1.4)
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("loss per supervised token")
        ax.set_title("Sweep: train (dashed) and validation (solid) loss")
        ax.grid(alpha=0.3)
        if trials:
            ax.legend(fontsize="small")
        if gen_key:
            gen = fig.add_subplot(1, 2, 2)
            for t, colour in zip(trials, colours, strict=True):
                points = (t.curves.get("metrics") or {}).get(gen_key) or []
                if points:
                    xs, ys = zip(*points, strict=True)
                    gen.plot(xs, ys, "o-", color=colour, label=t.name, markersize=3, linewidth=1.4)
            gen.set_xlabel("optimizer step")
            gen.set_ylabel(f"{gen_key.removeprefix('eval_')} on validation generations")
            gen.set_title(f"Sweep: {gen_key.removeprefix('eval_')}")
            gen.grid(alpha=0.3)
            gen.legend(fontsize="small")
        fig.tight_layout()
        figure_png(fig, path)
        return Path(path)

    def _plot_metric(self) -> str | None:
        keys = sorted({k for t in self.trials for k, pts in (t.curves.get("metrics") or {}).items() if pts})
        for preferred in (self.metric, "eval_rougeL", "eval_bleu"):
            if preferred in keys:
                return preferred
        return keys[0] if keys else None

    def save(self, directory: str | Path | None = None) -> dict[str, Path]:
        """Write ``sweep.csv``, ``sweep.md``, ``sweep.json`` and ``loss_curves.png``; returns their paths."""
        out = Path(directory) if directory is not None else self.output_dir
        out.mkdir(parents=True, exist_ok=True)
        paths = {name: out / name for name in SWEEP_FILES}
        frame = self.table
        for column in self.grid:  # lists and dicts as readable text, not Python reprs
            frame[column] = [_format_value(v) if isinstance(v, (list, dict)) else v for v in frame[column]]
        atomic_write_text(paths["sweep.csv"], frame.to_csv())
        atomic_write_text(paths["sweep.md"], self.to_markdown())
        atomic_write_json(paths["sweep.json"], self.to_dict())
        self.plot(paths["loss_curves.png"])
        return paths

    @classmethod
    def load(cls, directory: str | Path) -> SweepResult:
        """Read a saved sweep back from its ``sweep.json``."""
        from domainft.configuration import load_mapping

        directory = Path(directory)
        data = load_mapping(directory / "sweep.json")
        return cls(
            trials=[Trial.from_dict(t) for t in data.get("trials", [])],
            grid={k: list(v) for k, v in (data.get("grid") or {}).items()},
            output_dir=directory,
            metric=data.get("metric", "eval_loss"),
            greater_is_better=bool(data.get("greater_is_better", False)),
        )


def _colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _markdown_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_cell(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if column == "runtime_s":
            return f"{value:.1f}"
        if column == "peak_memory_mb":
            return f"{value:.0f}"
        return f"{value:.4g}" if column.endswith(("loss", "_s")) or "eval_" in column else repr(value)
    if isinstance(value, (list, dict)):
        return _markdown_escape(_format_value(value))
    return _markdown_escape(str(value))


# --------------------------------------------------------------------------------------------- running


def _set(tree: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    node = tree
    for part in parents:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        node = child
    node[last] = value


def _fingerprint(recipe: Recipe) -> str:
    """Hash of a trial's resolved recipe without its output folder (a moved sweep still resumes)."""
    data = recipe.to_dict()
    data["training"].pop("output_dir", None)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Sweep:
    """A grid of overrides on one recipe: :attr:`trials` plans them, :meth:`run` trains them.

    Every combination of the grid's values (the first key varies slowest) is one trial, trained with
    :func:`domainft.workflows.train_from_recipe` in ``<output_dir>/<NN>-<name>``. ``output_dir``
    defaults to ``<training.output_dir>/sweep``. Invalid combinations raise ``ConfigError`` here, before
    anything trains. ``evaluation.*`` and ``training.output_dir`` cannot be swept.

    Examples:
        >>> from domainft.recipe import Recipe
        >>> recipe = Recipe.from_dict({"model": {"name_or_path": "runs/tiny"}, "data": {"path": "d.jsonl"}})
        >>> [t.name for t in Sweep(recipe, ["adapter.r=8,16", "training.seed=1"]).trials]
        ['00-r=8_seed=1', '01-r=16_seed=1']
    """

    def __init__(
        self,
        recipe: Recipe,
        grid: Mapping[str, Any] | Sequence[str],
        output_dir: str | Path | None = None,
    ) -> None:
        from domainft.recipe import Recipe

        self.recipe = recipe
        self.grid = coerce_grid(grid)
        for key in self.grid:
            if key.startswith("evaluation."):
                raise ConfigError(
                    f"--grid {key}: a sweep compares training runs and evaluation.* does not change them; "
                    "sweep data, model, adapter or training fields (evaluate the best trial afterwards)"
                )
            if key == "training.output_dir":
                raise ConfigError("--grid training.output_dir: the sweep gives each trial its own folder")
        self.output_dir = Path(output_dir) if output_dir is not None else recipe.run_dir / "sweep"
        self.rebuild_data = any(k.startswith("data.") for k in self.grid)
        combos = list(itertools.product(*self.grid.values()))
        width = max(2, len(str(len(combos) - 1)))
        base = recipe.to_dict()
        self.trials: list[Trial] = []
        self.recipes: list[Recipe] = []
        for index, values in enumerate(combos):
            overrides = dict(zip(self.grid, values, strict=True))
            name = trial_name(index, overrides, width=width)
            data = copy.deepcopy(base)
            for key, value in overrides.items():
                _set(data, key, value)
            data["training"]["output_dir"] = str(self.output_dir / name)
            try:
                trial_recipe = Recipe.from_dict(data)
            except ConfigError as exc:
                raise ConfigError(f"sweep trial {name} ({trial_label(overrides)}): {exc}") from None
            self.recipes.append(trial_recipe)
            self.trials.append(
                Trial(
                    index=index,
                    name=name,
                    overrides=overrides,
                    run_dir=self.output_dir / name,
                    fingerprint=_fingerprint(trial_recipe),
                )
            )

    def __len__(self) -> int:
        return len(self.trials)

    def result(self) -> SweepResult:
        """The current state of the trials as a :class:`SweepResult`."""
        training = self.recipe.training
        return SweepResult(
            trials=self.trials,
            grid=self.grid,
            output_dir=self.output_dir,
            metric=training.best_metric_key(),
            greater_is_better=training.greater_is_better(),
        )

    def _finished(self, trial: Trial) -> Trial | None:
        """The saved outcome of ``trial`` when its folder holds a finished run of the same recipe."""
        path = trial.run_dir / TRIAL_FILE
        if not path.is_file():
            return None
        try:
            saved = Trial.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("sweep: ignoring unreadable %s (%s); training the trial again", path, exc)
            return None
        if saved.status != "ok":
            return None
        if saved.fingerprint != trial.fingerprint:
            logger.warning("sweep: %s was trained with another recipe; training it again", trial.run_dir)
            return None
        return saved

    def run(
        self,
        *,
        datasets: Any | None = None,
        continue_on_error: bool = True,
        progress: bool = True,
        rerun: bool = False,
    ) -> SweepResult:
        """Train every trial (skipping those finished in an earlier run unless ``rerun``); save the table.

        A trial that raises is recorded as failed with its error (traceback in ``<trial>/error.txt``) and
        the sweep goes on, unless ``continue_on_error=False`` (then the table is written and the error
        re-raised). ``datasets`` (a DatasetDict) replaces building the recipe's data once for all trials.
        """
        from domainft.workflows import build_datasets, check_recipe

        if datasets is not None and self.rebuild_data:
            raise ConfigError(
                "the grid sweeps data.* fields, which only act when each trial builds its data; "
                "do not pass datasets"
            )
        check_recipe(self.recipe, progress=False)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        total = len(self.trials)
        shared = datasets
        try:
            for trial, trial_recipe in zip(self.trials, self.recipes, strict=True):
                head = f"trial {trial.index + 1}/{total}: {trial.label}"
                saved = None if rerun else self._finished(trial)
                if saved is not None:
                    trial.status, trial.error = saved.status, saved.error
                    trial.metrics, trial.curves, trial.resumed = saved.metrics, saved.curves, True
                    _say(
                        progress, f"{head} (finished in an earlier run: skipped; rerun=True trains it again)"
                    )
                    continue
                _say(progress, head)
                if shared is None and not self.rebuild_data:
                    data_recipe = self.recipe.to_dict()
                    data_recipe["training"]["output_dir"] = str(self.output_dir)  # cleaning report goes here
                    shared = build_datasets(type(self.recipe).from_dict(data_recipe))
                error = self._run_trial(trial, trial_recipe, None if self.rebuild_data else shared)
                _say(progress, f"  {_outcome(trial)}")
                if error is not None and not continue_on_error:
                    raise error
                if trial.index + 1 < total:
                    self.result().save()  # a partial table while the sweep goes on
        finally:
            self.result().save()
        return self.result()

    def _run_trial(self, trial: Trial, recipe: Recipe, datasets: Any | None) -> Exception | None:
        """Train one trial and write its ``trial.json``; returns the exception of a failed trial."""
        from domainft.workflows import train_from_recipe

        trial.run_dir.mkdir(parents=True, exist_ok=True)
        (trial.run_dir / TRIAL_FILE).unlink(missing_ok=True)
        (trial.run_dir / "error.txt").unlink(missing_ok=True)
        trial.status, trial.error, trial.metrics, trial.curves, trial.resumed = "pending", None, {}, {}, False
        start = time.time()
        outcome = None
        error: Exception | None = None
        try:
            outcome = train_from_recipe(recipe, datasets=datasets)
        except Exception as exc:
            error = exc
            trial.status = "failed"
            trial.error = f"{type(exc).__name__}: {exc}"
            trial.metrics = {"runtime_s": time.time() - start}
            atomic_write_text(trial.run_dir / "error.txt", traceback.format_exc())
            logger.warning("sweep trial %s failed: %s", trial.name, trial.error)
        else:
            result = outcome.result
            trial.status = "ok"
            trial.metrics = trial_metrics(result)
            trial.curves = _curves(result.log_history, sorted(result.generation_metrics or {}))
        finally:
            del outcome
            _free_memory()
        atomic_write_json(trial.run_dir / TRIAL_FILE, trial.to_dict())
        return error


def _say(progress: bool, message: str) -> None:
    logger.info("%s", message)
    if progress:
        print(message, file=sys.stderr, flush=True)


def _outcome(trial: Trial) -> str:
    m = trial.metrics
    if trial.status == "failed":
        return f"failed: {trial.error}"

    def fmt(v: Any) -> str:
        return "n/a" if v is None else f"{v:.4f}"

    text = f"done in {m.get('runtime_s') or 0:.1f} s: train loss {fmt(m.get('train_loss'))}"
    if m.get("eval_loss") is not None:
        text += f", validation loss {fmt(m.get('initial_eval_loss'))} -> {fmt(m.get('eval_loss'))}"
    return text


def _free_memory() -> None:
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def run_sweep(
    recipe: Recipe,
    grid: Mapping[str, Any] | Sequence[str],
    output_dir: str | Path | None = None,
    *,
    datasets: Any | None = None,
    continue_on_error: bool = True,
    progress: bool = True,
    rerun: bool = False,
) -> SweepResult:
    """Train ``recipe`` once per point of ``grid`` and write the comparison into ``output_dir``.

    ``grid``: ``["adapter.r=16,64", "training.learning_rate=3e-5,1e-4"]`` or
    ``{"adapter.r": [16, 64], ...}``. See :class:`Sweep` and :meth:`Sweep.run`.

    >>> result = run_sweep(recipe, ["adapter.r=16,64"], "runs/sweep")   # doctest: +SKIP
    >>> print(result.best.name)                                          # doctest: +SKIP
    """
    sweep = Sweep(recipe, grid, output_dir)
    return sweep.run(datasets=datasets, continue_on_error=continue_on_error, progress=progress, rerun=rerun)


# --------------------------------------------------------------------------------------------- CLI


def cmd_sweep(args: argparse.Namespace) -> int:
    """``domainft sweep``: train a recipe per grid point, print the table and the files written."""
    from domainft.cli import _load_recipe

    recipe = _load_recipe(args.recipe)
    grid = parse_grid(args.grid)
    result = run_sweep(
        recipe, grid, args.output_dir, continue_on_error=True, progress=not args.quiet, rerun=args.rerun
    )
    import pandas as pd

    table = result.table.drop(columns=["error"])
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    best = result.best
    if best is not None:
        print(f"best trial ({result.metric}): {best.name}")
    for trial in result.failed:
        print(f"FAILED {trial.name}: {trial.error} (traceback: {trial.run_dir / 'error.txt'})")
    for name in SWEEP_FILES:
        print(f"wrote {result.output_dir / name}")
    return 1 if result.failed else 0


def add_sweep_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``sweep`` to the ``domainft`` subcommands; returns its parser."""
    sweep = subparsers.add_parser(
        "sweep",
        help="train a recipe once per hyper-parameter combination and compare the runs (table + curves)",
    )
    sweep.add_argument("recipe", help="recipe YAML file")
    sweep.add_argument(
        "--grid",
        nargs="+",
        action="extend",
        required=True,
        metavar="KEY=V1,V2",
        help="recipe field and its values, e.g. adapter.r=16,64 training.learning_rate=3e-5,1e-4 "
        "(every combination is one trial)",
    )
    sweep.add_argument("--output-dir", help="sweep folder (default: <training.output_dir>/sweep)")
    sweep.add_argument("--rerun", action="store_true", help="train again trials finished in an earlier run")
    sweep.add_argument("--quiet", action="store_true", help="no progress lines")
    sweep.set_defaults(func=cmd_sweep, command="sweep")
    return sweep
