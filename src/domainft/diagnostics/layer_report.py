"""Layer report: the spectral health of every weight matrix, base against base + adapter merged.

:func:`layer_report` runs weightwatcher's analysis (see :mod:`domainft.diagnostics.spectral`) on each
weight matrix of the base model and, when an adapter is given, of the same matrix with the adapter
merged, and returns a :class:`LayerReport`: one row per matrix with alpha, weighted alpha, spectral
norm, stable rank, log norm and weightwatcher's under-/over-trained flag for both, the change of
alpha and the relative size of the update ``‖W_merged − W‖ / ‖W‖``; a summary of the matrices the
fine-tune changed most and of those it moved out of the range weightwatcher considers well trained;
a chart of alpha per layer for both and a heat map of the update per block and kind.

A model given by path is loaded without quantization (like ``merge_adapter``: the analysis must see
the real weights), on CPU or across GPUs with ``device_map="auto"``; a model given as an object may
be 4-bit (each matrix is dequantized on its own). The adapter is never merged into the model: each
merged matrix is computed on a copy, one at a time, so memory stays at one model plus one matrix.
``report.save(directory)`` writes ``layer_report.json``, ``layer_report.csv``, ``layer_report.html``
and the PNGs; ``LayerReport.load`` reads them back.

Examples:
    >>> import tempfile
    >>> from domainft.models.tiny import build_tiny_model
    >>> from domainft.diagnostics import LayerReport, layer_report
    >>> base = build_tiny_model(["the pump leaks oil", "replace the seal"] * 20, tempfile.mkdtemp())
    >>> report = layer_report(base, progress=False)
    >>> report.systems, len(report.rows)  # embeddings, 2 blocks x 7 matrices, lm_head
    (['base'], 16)
    >>> sorted(report.rows[1])[:4]
    ['adapted', 'base_alpha', 'base_alpha_weighted', 'base_flag']
    >>> out = report.save(tempfile.mkdtemp())
    >>> LayerReport.load(out).rows == report.rows
    True
    >>> layer_report(base, "runs/x/adapter")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domainft.configuration import ConfigBase, config_field
from domainft.diagnostics.matrices import WeightMatrix, weight_matrices
from domainft.diagnostics.spectral import NOT_FITTED, OK, SPECTRAL_METRICS, spectral_metrics, trained_range
from domainft.errors import ConfigError, DataError, ModelError
from domainft.models.merge import MergeDtype
from domainft.utils.io import atomic_write_text
from domainft.utils.report_files import load_report, write_images

REPORT_JSON = "layer_report.json"
REPORT_CSV = "layer_report.csv"
REPORT_HTML = "layer_report.html"
IMAGE_NAMES = ("alpha_per_layer", "change_per_layer")
#: Folder of a run directory that ``domainft diagnose`` writes into by default.
RUN_SUBDIR = "diagnostics"
SYSTEMS = ("base", "tuned")
COLUMNS = ("name", "block", "kind", "rows", "cols", "adapted")


@dataclass
class LayerReportConfig(ConfigBase):
    """What :func:`layer_report` analyses and how a model given by path is loaded.

    Examples:
        >>> from domainft.diagnostics import LayerReportConfig
        >>> cfg = LayerReportConfig(include=["self_attn"], top_n=3)
        >>> LayerReportConfig.from_dict(cfg.to_dict()) == cfg
        True
    """

    dtype: MergeDtype = config_field(
        "auto", help="Precision a model given by path is loaded in, unquantized ('auto': as saved)."
    )
    device_map: str | None = config_field(
        None, help="Placement of a model given by path: None = CPU; 'auto' spreads a 7B model over GPUs."
    )
    include: list[str] | None = config_field(
        None, help="Regular expressions: only matrices whose name matches one are analysed (None: all)."
    )
    exclude: list[str] = config_field(
        [], help="Regular expressions: matrices whose name matches one are left out."
    )
    min_evals: int = config_field(
        8, help="Matrices with fewer eigenvalues (their smaller side) are listed but not fitted."
    )
    max_rows: int | None = config_field(
        None, help="Matrices with a side longer than this are listed but not fitted (None: no limit)."
    )
    top_n: int = config_field(5, help="Matrices listed as changed most in the summary.")
    strict: bool = config_field(
        True, help="Refuse an adapter trained on another architecture or whose layers do not fit."
    )

    def validate(self) -> None:
        self.require_positive("min_evals", "top_n")
        if self.max_rows is not None:
            self.require_positive("max_rows")
        for name in ("include", "exclude"):
            for pattern in getattr(self, name) or []:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ConfigError(
                        f"LayerReportConfig.{name}: {pattern!r} is not a regular expression ({exc})"
                    ) from None


# ------------------------------------------------------------------------------------------ report


@dataclass(repr=False)
class LayerReport:
    """The findings of :func:`layer_report`.

    Attributes:
        rows: one dict per weight matrix, in model order: ``name``, ``block`` (None outside the
            transformer blocks), ``kind`` (``q_proj`` ...), ``rows``, ``cols``, ``adapted``, then
            ``base_<metric>`` and (with an adapter) ``tuned_<metric>`` for ``alpha``,
            ``alpha_weighted``, ``spectral_norm``, ``stable_rank``, ``log_norm``, ``num_evals``,
            ``flag``; and ``alpha_change`` (tuned - base) and ``relative_change`` (Frobenius norm of
            the update over that of the base matrix).
        systems: ``["base"]`` or ``["base", "tuned"]``.
        summary: counts per flag and mean alpha per system, ``most_changed``, ``largest_alpha_shifts``,
            ``newly_outside`` and ``back_inside`` (matrices whose flag the fine-tune changed).
        meta: model, adapter, dtype, device, trained range, versions, seconds.
        images: PNG bytes by name (``alpha_per_layer``, ``change_per_layer``); not in the JSON.
    """

    rows: list[dict[str, Any]]
    systems: list[str]
    summary: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    @property
    def tuned(self) -> bool:
        """True when the report compares the base with the adapter merged."""
        return "tuned" in self.systems

    def to_frame(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (one row per weight matrix)."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    def outside_range(self, system: str = "tuned") -> list[dict[str, Any]]:
        """Rows whose matrix ``system`` has flagged under- or over-trained by weightwatcher."""
        if system not in self.systems:
            raise ConfigError(f"LayerReport: no system {system!r}; systems: {', '.join(self.systems)}")
        return [r for r in self.rows if r[f"{system}_flag"] not in (OK, NOT_FITTED)]

    # -------------------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-native dict of everything but the image bytes (``images`` lists their file names)."""
        return {
            "systems": list(self.systems),
            "summary": self.summary,
            "rows": self.rows,
            "meta": self.meta,
            "images": {name: f"{name}.png" for name in self.images},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerReport:
        """Inverse of :meth:`to_dict` (without image bytes)."""
        try:
            return cls(
                rows=[dict(r) for r in data["rows"]],
                systems=[str(s) for s in data["systems"]],
                summary=dict(data.get("summary") or {}),
                meta=dict(data.get("meta") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"not a valid layer report: {type(exc).__name__}: {exc}") from None

    def save(self, directory: str | Path) -> Path:
        """Write ``layer_report.json``, ``layer_report.csv``, ``layer_report.html`` and one PNG per
        chart into ``directory``; returns it."""
        directory = Path(directory)
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
        directory.mkdir(parents=True, exist_ok=True)
        write_images(directory, self.images, IMAGE_NAMES)
        atomic_write_text(directory / REPORT_JSON, text + "\n")
        atomic_write_text(directory / REPORT_CSV, self.to_frame().to_csv(index=False))
        atomic_write_text(directory / REPORT_HTML, self.to_html())
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> LayerReport:
        """Read a report written by :meth:`save` (the PNGs too, where present)."""
        return load_report(cls, directory, REPORT_JSON, "layer report")

    def files(self, directory: str | Path) -> list[Path]:
        """The paths :meth:`save` writes into ``directory``."""
        directory = Path(directory)
        names = [REPORT_JSON, REPORT_CSV, REPORT_HTML] + [f"{name}.png" for name in self.images]
        return [directory / name for name in names]

    # -------------------------------------------------------------------------- views
    def summary_text(self) -> str:
        """A few lines of plain text: what was analysed, flags per system, what the fine-tune changed."""
        s = self.summary
        low, high = self.meta.get("trained_range", trained_range())
        lines = [
            f"LayerReport: {len(self.rows)} weight matrices of {self.meta.get('model')}"
            + (f" with adapter {self.meta.get('adapter')} merged" if self.tuned else "")
            + f"; weightwatcher's well-trained range: {low:g} <= alpha <= {high:g}"
        ]
        for system in self.systems:
            st = s["systems"][system]
            mean = "-" if st["mean_alpha"] is None else f"{st['mean_alpha']:.2f}"
            lines.append(
                f"{system}: mean alpha {mean}; "
                + ", ".join(f"{flag} {n}" for flag, n in st["flags"].items() if n)
            )
        if self.tuned:
            lines.append(f"the adapter changes {s['n_adapted']} matrices; changed most (relative update):")
            lines.extend(
                f"  {r['name']}: {_fmt(r['relative_change'], '.3g')}, alpha {_fmt(r['base_alpha'])} -> "
                f"{_fmt(r['tuned_alpha'])} ({r['tuned_flag']})"
                for r in s["most_changed"]
            )
            left = [
                f"{r['name']} ({r['tuned_flag']}, alpha {_fmt(r['tuned_alpha'])})" for r in s["newly_outside"]
            ]
            if left:
                lines.append(
                    f"{len(left)} matrix(es) left the well-trained range after fine-tuning: {', '.join(left)}"
                )
            else:
                lines.append("no matrix left the well-trained range after fine-tuning")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary_text()

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_html(self) -> str:
        """A self-contained HTML page (summary, charts as data URIs, the table of every matrix)."""
        from domainft.diagnostics.layer_render import render_html

        return render_html(self)


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


# ------------------------------------------------------------------------------------------ building


def layer_report(
    model: Any,
    adapter: str | Path | None = None,
    *,
    config: LayerReportConfig | None = None,
    progress: bool = True,
    **overrides: Any,
) -> LayerReport:
    """Analyse every weight matrix of ``model`` (and of ``model`` with ``adapter`` merged).

    Args:
        model: a model folder or hub id (loaded unquantized, see :class:`LayerReportConfig`), a loaded
            ``PreTrainedModel`` (4-bit allowed), or a peft ``PeftModel`` (its active LoRA adapter is
            the one merged).
        adapter: a saved adapter folder to merge; None analyses ``model`` alone, or base and merged
            for a ``PeftModel``. A model object is left as it was (the adapter is detached again).
        config: what to analyse; ``overrides`` replace its fields (``layer_report(m, top_n=3)``).
        progress: a progress bar over the matrices.
    """
    cfg = (config or LayerReportConfig()).updated(**overrides)
    started = time.time()
    loaded, name, loaded_as = _load_model(model, cfg)
    attached = None
    if adapter is not None:
        attached = _attach(loaded, Path(adapter), name, cfg)
    target = attached if attached is not None else loaded
    try:
        matrices = _select(weight_matrices(target), cfg)
        has_adapter = any(m.adapted for m in matrices)
        if attached is not None and not has_adapter:
            raise ModelError(f"the adapter {adapter} changes none of the selected matrices of {name}")
        rows = _analyse(matrices, cfg, tuned=has_adapter, progress=progress)
    finally:
        if attached is not None and not isinstance(model, (str, Path)):
            attached.unload()  # the caller's model without the LoRA layers, as it came
    systems = ["base", "tuned"] if has_adapter else ["base"]
    report = LayerReport(rows=rows, systems=systems, summary=_summary(rows, systems, cfg.top_n))
    if adapter is None and has_adapter:
        adapter = f"{', '.join(target.active_adapters)} (the PeftModel's active adapter)"
    report.meta = _meta(target, name, adapter, loaded_as, cfg, started)
    from domainft.diagnostics.layer_render import alpha_chart, change_chart

    report.images["alpha_per_layer"] = alpha_chart(report)
    if report.tuned:
        report.images["change_per_layer"] = change_chart(report)
    return report


def _load_model(model: Any, cfg: LayerReportConfig) -> tuple[Any, str, str]:
    """The model to analyse, its name, and how it was loaded."""
    if not isinstance(model, (str, Path)):
        if not hasattr(model, "named_modules"):
            raise ConfigError(
                f"layer_report expects a model folder, a hub id or a loaded torch model, got "
                f"{type(model).__name__}"
            )
        config = getattr(model, "config", None)
        name = str(getattr(config, "_name_or_path", "") or type(model).__name__)
        from domainft.models.loading import is_quantized

        return (
            model,
            name,
            "given in memory" + (" (quantized: matrices dequantized)" if is_quantized(model) else ""),
        )
    from domainft.models.merge import load_unquantized_base

    loaded, _, loaded_as = load_unquantized_base(model, cfg.dtype, cfg.device_map)
    loaded.eval()
    return loaded, str(model), loaded_as


def _attach(model: Any, adapter: Path, name: str, cfg: LayerReportConfig) -> Any:
    from domainft.models.adapters import check_adapter_dir
    from domainft.models.merge import attach_adapter

    if hasattr(model, "peft_config"):
        raise ConfigError(
            "layer_report: the model already carries a peft adapter; give the base model and the adapter "
            "folder, or the PeftModel alone (its active adapter is analysed)"
        )
    adapter_config = check_adapter_dir(adapter)
    return attach_adapter(model, adapter, name, adapter_config, cfg.strict)


def _select(matrices: list[WeightMatrix], cfg: LayerReportConfig) -> list[WeightMatrix]:
    include = [re.compile(p) for p in cfg.include] if cfg.include is not None else None
    exclude = [re.compile(p) for p in cfg.exclude]
    chosen = [
        m
        for m in matrices
        if (include is None or any(p.search(m.name) for p in include))
        and not any(p.search(m.name) for p in exclude)
    ]
    if not chosen:
        raise ConfigError(
            f"LayerReportConfig.include/exclude select none of the {len(matrices)} weight matrices "
            f"(e.g. {', '.join(m.name for m in matrices[:3])})"
        )
    return chosen


def _analyse(
    matrices: Sequence[WeightMatrix], cfg: LayerReportConfig, *, tuned: bool, progress: bool
) -> list[dict[str, Any]]:
    import torch
    from tqdm.auto import tqdm

    rows = []
    with torch.no_grad():
        for m in tqdm(matrices, desc="layer report", unit="matrix", disable=not progress):
            base, merged = m.load()
            row: dict[str, Any] = {
                "name": m.name,
                "block": m.block,
                "kind": m.kind,
                "rows": int(base.shape[0]),
                "cols": int(base.shape[1]),
                "adapted": merged is not None,
            }
            base_metrics = spectral_metrics(base, min_evals=cfg.min_evals, max_rows=cfg.max_rows)
            row.update({f"base_{k}": v for k, v in base_metrics.items()})
            if tuned:  # an unchanged matrix has the base's numbers: not fitted twice
                tuned_metrics = (
                    base_metrics
                    if merged is None
                    else spectral_metrics(merged, min_evals=cfg.min_evals, max_rows=cfg.max_rows)
                )
                row.update({f"tuned_{k}": v for k, v in tuned_metrics.items()})
                fitted = base_metrics["alpha"] is not None and tuned_metrics["alpha"] is not None
                row["alpha_change"] = tuned_metrics["alpha"] - base_metrics["alpha"] if fitted else None
                row["relative_change"] = 0.0 if merged is None else _relative_change(base, merged)
            rows.append(row)
            del base, merged
    return rows


def _relative_change(base: Any, merged: Any) -> float | None:
    """``‖merged - base‖ / ‖base‖`` (Frobenius); None for an all-zero base that the adapter changed."""
    base = base.float()
    norm = float(base.norm())
    delta = float((merged.float() - base).norm())
    if norm > 0:
        return delta / norm
    return None if delta > 0 else 0.0


def _summary(rows: list[dict[str, Any]], systems: list[str], top_n: int) -> dict[str, Any]:
    flags = (OK, "under-trained", "over-trained", NOT_FITTED)
    summary: dict[str, Any] = {"n_matrices": len(rows), "systems": {}}
    for system in systems:
        counts = {flag: sum(r[f"{system}_flag"] == flag for r in rows) for flag in flags}
        summary["systems"][system] = {
            "mean_alpha": _mean(r[f"{system}_alpha"] for r in rows),
            "mean_alpha_weighted": _mean(r[f"{system}_alpha_weighted"] for r in rows),
            "flags": counts,
        }
    if "tuned" not in systems:
        return summary

    def brief(r: Mapping[str, Any]) -> dict[str, Any]:
        keys = ("name", "block", "kind", "relative_change", "alpha_change", "base_alpha", "tuned_alpha")
        return {k: r[k] for k in (*keys, "base_flag", "tuned_flag")}

    adapted = [r for r in rows if r["adapted"]]
    summary["n_adapted"] = len(adapted)
    by_change = sorted(
        adapted, key=lambda r: -(math.inf if r["relative_change"] is None else r["relative_change"])
    )
    summary["most_changed"] = [brief(r) for r in by_change[:top_n]]
    shifted = [r for r in adapted if r["alpha_change"] is not None]
    summary["largest_alpha_shifts"] = [
        brief(r) for r in sorted(shifted, key=lambda r: -abs(r["alpha_change"]))[:top_n]
    ]
    summary["newly_outside"] = [
        brief(r) for r in adapted if r["base_flag"] == OK and r["tuned_flag"] not in (OK, NOT_FITTED)
    ]
    summary["back_inside"] = [
        brief(r) for r in adapted if r["base_flag"] not in (OK, NOT_FITTED) and r["tuned_flag"] == OK
    ]
    return summary


def _mean(values: Any) -> float | None:
    found = [v for v in values if v is not None]
    return sum(found) / len(found) if found else None


def _meta(
    model: Any, name: str, adapter: Any, loaded_as: str, cfg: LayerReportConfig, started: float
) -> dict[str, Any]:
    from domainft import __version__
    from domainft.diagnostics.spectral import weightwatcher

    parameter = next(model.parameters(), None)
    low, high = trained_range()
    return {
        "model": name,
        "adapter": None if adapter is None else str(adapter),
        "loaded_as": loaded_as,
        "device": None if parameter is None else str(parameter.device),
        "trained_range": [low, high],
        "metrics": list(SPECTRAL_METRICS),
        "config": cfg.to_dict(),
        "weightwatcher_version": getattr(weightwatcher(), "__version__", None),
        "domainft_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.time() - started, 3),
    }


# ------------------------------------------------------------------------------------------ runs


def headline(report: LayerReport) -> str:
    """One line for other reports: mean alpha per system and how many matrices left the range."""
    systems = report.summary["systems"]
    means = " -> ".join(f"{s} {_fmt(systems[s]['mean_alpha'])}" for s in report.systems)
    text = f"mean alpha {means} over {report.summary['n_matrices']} matrices"
    if report.tuned:
        n = len(report.summary["newly_outside"])
        text += f"; {n} matrix(es) left weightwatcher's well-trained range after fine-tuning"
    return text


def evaluation_link(diagnostics_dir: str | Path, eval_dir: str | Path) -> dict[str, Any] | None:
    """The ``meta["links"]`` entry of an evaluation report in ``eval_dir`` pointing at the layer report
    saved in ``diagnostics_dir``; None when there is none."""
    import os

    diagnostics_dir = Path(diagnostics_dir)
    if not (diagnostics_dir / REPORT_JSON).is_file():
        return None
    report = LayerReport.load(diagnostics_dir)
    href = os.path.relpath(diagnostics_dir / REPORT_HTML, Path(eval_dir))
    return {"title": "Layer spectral analysis", "href": Path(href).as_posix(), "summary": headline(report)}


def link_into_evaluation(diagnostics_dir: str | Path, eval_dir: str | Path) -> bool:
    """Add the layer report in ``diagnostics_dir`` to the saved evaluation report in ``eval_dir`` (its
    page gets a Diagnostics section); False when ``eval_dir`` holds no evaluation report."""
    from domainft.evaluation.report import METRICS_FILE, EvaluationReport

    eval_dir = Path(eval_dir)
    link = evaluation_link(diagnostics_dir, eval_dir)
    if link is None or not (eval_dir / METRICS_FILE).is_file():
        return False
    evaluation = EvaluationReport.load(eval_dir)
    evaluation.meta.setdefault("links", {})["layer_report"] = link
    evaluation.save(eval_dir)
    return True
