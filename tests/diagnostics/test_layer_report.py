"""The layer report: weightwatcher metrics per weight matrix, base against base + adapter merged."""

import html
import json
import math
import sys

import pytest
import torch

from domainft.diagnostics import (
    LayerReport,
    LayerReportConfig,
    layer_report,
    spectral_metrics,
    weight_matrices,
)
from domainft.diagnostics.layer_report import (
    REPORT_CSV,
    REPORT_HTML,
    REPORT_JSON,
    evaluation_link,
    link_into_evaluation,
)
from domainft.diagnostics.spectral import NOT_FITTED, SPECTRAL_METRICS, trained_range
from domainft.errors import ConfigError, ModelError
from domainft.models.adapters import LoraAdapterFactory
from domainft.models.loading import QuantizedLoader
from domainft.models.merge import merged_copy

METRICS = [*SPECTRAL_METRICS]


def _fp32(path):
    return QuantizedLoader(str(path), quantization=None, dtype="float32", device_map=None).load()


def _linear_and_embedding_names(model):
    return [
        name
        for name, module in model.named_modules()
        if isinstance(module, (torch.nn.Linear, torch.nn.Embedding))
    ]


@pytest.fixture(scope="module")
def overtrained(tiny_model_dir, tiny_dsd, tmp_path_factory):
    """A LoRA adapter on attention trained far too hard (large learning rate and scale, many epochs)."""
    import datasets

    from domainft.training.config import TrainingConfig
    from domainft.training.trainer import DomainTrainer

    model, tok = _fp32(tiny_model_dir)
    peft_model = LoraAdapterFactory(r=8, alpha=64, dropout=0.0, target_modules="attention", seed=0).apply(
        model
    )
    run = tmp_path_factory.mktemp("overtrained-run")
    train = datasets.DatasetDict(train=tiny_dsd["train"].select(range(16)))
    config = TrainingConfig(
        output_dir=str(run),
        num_train_epochs=30,
        learning_rate=5e-2,
        per_device_train_batch_size=8,
        save_strategy="no",
        eval_strategy="no",
        logging_steps=100,
        precision="fp32",
        report_to=[],
    )
    DomainTrainer(model=peft_model, tokenizer=tok, datasets=train, config=config).train()
    return run


@pytest.fixture(scope="module")
def base_report(tiny_model_dir):
    return layer_report(str(tiny_model_dir), progress=False)


@pytest.fixture(scope="module")
def tuned_report(tiny_model_dir, overtrained):
    return layer_report(str(tiny_model_dir), overtrained / "adapter", progress=False)


def test_one_row_per_weight_matrix_with_finite_values(tiny_model_dir, base_report):
    model, _ = _fp32(tiny_model_dir)
    assert [r["name"] for r in base_report.rows] == _linear_and_embedding_names(model)
    assert base_report.systems == ["base"]
    for row in base_report.rows:
        values = [row[f"base_{m}"] for m in METRICS]
        assert all(isinstance(v, float) and math.isfinite(v) for v in values), row
        assert row["base_flag"] in ("ok", "under-trained", "over-trained")
        assert row["base_num_evals"] == min(row["rows"], row["cols"])
    blocks = {r["block"] for r in base_report.rows}
    assert blocks == {None, 0, 1}
    assert "tuned_alpha" not in base_report.rows[0]


def test_rows_equal_weightwatcher_on_each_matrix(tiny_model_dir, base_report):
    model, _ = _fp32(tiny_model_dir)
    weight = model.get_submodule("model.layers.1.mlp.down_proj").weight.detach()
    direct = spectral_metrics(weight)
    row = next(r for r in base_report.rows if r["name"] == "model.layers.1.mlp.down_proj")
    assert {m: row[f"base_{m}"] for m in METRICS} == {m: direct[m] for m in METRICS}
    low, high = trained_range()
    expected = "ok" if low <= direct["alpha"] <= high else ("over" if direct["alpha"] < low else "under")
    assert direct["flag"].startswith(expected)


def test_overtrained_adapter_changes_the_spectra(tuned_report):
    report = tuned_report
    assert report.systems == ["base", "tuned"]
    adapted = [r for r in report.rows if r["adapted"]]
    names = {r["kind"] for r in adapted}
    assert names == {"q_proj", "k_proj", "v_proj", "o_proj"}
    assert len(adapted) == 8 == report.summary["n_adapted"]
    for row in report.rows:
        if row["adapted"]:
            assert row["relative_change"] > 1.0  # the update dwarfs the random base weights
            assert row["tuned_alpha"] < row["base_alpha"]  # a few large directions: heavier tail
            assert row["alpha_change"] == pytest.approx(row["tuned_alpha"] - row["base_alpha"])
        else:
            assert row["relative_change"] == 0.0 and row["alpha_change"] == 0.0
            assert all(row[f"tuned_{m}"] == row[f"base_{m}"] for m in METRICS)
    flagged = report.outside_range("tuned")
    assert any(r["tuned_flag"] == "over-trained" for r in flagged)
    newly = report.summary["newly_outside"]
    assert newly and all(r["base_flag"] == "ok" and r["tuned_flag"] != "ok" for r in newly)
    changed = [r["relative_change"] for r in report.summary["most_changed"]]
    assert changed == sorted(changed, reverse=True) and len(changed) == 5
    assert changed[0] == max(r["relative_change"] for r in adapted)
    text = report.summary_text()
    assert "left the well-trained range" in text and report.summary["most_changed"][0]["name"] in text


def test_in_memory_peft_model_gives_the_same_rows_and_is_left_unchanged(
    tiny_model_dir, overtrained, tuned_report
):
    from domainft.models.adapters import load_adapter

    model, _ = _fp32(tiny_model_dir)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    from_object = layer_report(model, overtrained / "adapter", progress=False)
    assert from_object.rows == tuned_report.rows
    assert not hasattr(model, "peft_config")  # the adapter was detached again
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert set(model.state_dict()) == set(before)

    peft_model = load_adapter(_fp32(tiny_model_dir)[0], overtrained / "adapter")
    from_peft = layer_report(peft_model, progress=False)
    assert from_peft.rows == tuned_report.rows
    assert "active adapter" in from_peft.meta["adapter"]


@pytest.mark.parametrize("use_dora", [False, True])
def test_merged_matrices_equal_peft_merge_and_unload(tiny_model_dir, use_dora):
    model, _ = _fp32(tiny_model_dir)
    factory = LoraAdapterFactory(
        r=4, alpha=8, target_modules="attention+mlp", use_dora=use_dora, init_lora_weights=False, seed=3
    )
    peft_model = factory.apply(model)
    merged = merged_copy(peft_model)
    reference = dict(merged.named_parameters())
    found = weight_matrices(peft_model)
    assert sum(m.adapted for m in found) == 14
    for matrix in found:
        base, tuned = matrix.load()
        expected = reference[f"{matrix.name}.weight"]
        if matrix.adapted:
            torch.testing.assert_close(tuned, expected, rtol=1e-5, atol=1e-6)
            assert not torch.allclose(base, expected)
        else:
            assert tuned is None and torch.equal(base, expected)


def test_four_bit_model_is_dequantized_per_matrix(tiny_model_dir):
    pytest.importorskip("bitsandbytes")
    fp32, _ = _fp32(tiny_model_dir)
    model, _ = QuantizedLoader(str(tiny_model_dir), quantization="nf4", device_map=None).load()
    report = layer_report(model, progress=False, include=[r"layers\.0\."])
    assert "dequantized" in report.meta["loaded_as"]
    assert [r["name"] for r in report.rows] == [
        n for n in _linear_and_embedding_names(fp32) if ".layers.0." in n
    ]
    for row in report.rows:
        exact = spectral_metrics(fp32.get_submodule(row["name"]).weight.detach())
        assert row["base_alpha"] is not None and math.isfinite(row["base_alpha"])
        # NF4 keeps the spectrum's bulk: the stable rank moves by little
        assert row["base_stable_rank"] == pytest.approx(exact["stable_rank"], rel=0.15)


def test_matrices_too_small_to_fit_are_listed_not_fitted(tmp_path, ticket_pairs):
    from domainft.models.tiny import build_tiny_model

    texts = [p["prompt"] for p in ticket_pairs[:30]]
    path = build_tiny_model(texts, tmp_path / "moe", architecture="mixtral", num_local_experts=4)
    report = layer_report(str(path), progress=False, include=[r"layers\.0\.mlp"])
    routers = [r for r in report.rows if r["kind"] == "gate"]
    experts = [r for r in report.rows if r["kind"] in ("gate_up_proj", "down_proj")]
    assert len(routers) == 1 and routers[0]["base_flag"] == NOT_FITTED and routers[0]["base_alpha"] is None
    assert len(experts) == 8 and all(r["base_alpha"] is not None for r in experts)
    assert report.summary["systems"]["base"]["flags"][NOT_FITTED] == 1
    report.save(tmp_path / "out")  # None metrics are written as null
    assert json.loads((tmp_path / "out" / REPORT_JSON).read_text())["rows"][0]["base_alpha"] is None


def test_save_load_round_trip_and_files(tuned_report, tmp_path):
    out = tuned_report.save(tmp_path / "diag")
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in tuned_report.files(out))
    loaded = LayerReport.load(out)
    assert loaded.rows == tuned_report.rows and loaded.summary == tuned_report.summary
    assert loaded.images.keys() == {"alpha_per_layer", "change_per_layer"}
    assert all(png.startswith(b"\x89PNG") for png in loaded.images.values())
    import pandas as pd

    table = pd.read_csv(out / REPORT_CSV)
    assert len(table) == len(tuned_report.rows) and {"base_alpha", "tuned_alpha", "relative_change"} <= set(
        table
    )
    page = (out / REPORT_HTML).read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "Left the well-trained range" in page
    for row in tuned_report.rows:
        assert row["name"] in page


def test_base_only_report_has_no_change_chart(base_report, tmp_path):
    out = base_report.save(tmp_path / "base")
    assert (out / "alpha_per_layer.png").is_file() and not (out / "change_per_layer.png").exists()
    with pytest.raises(ConfigError, match="no system 'tuned'"):
        base_report.outside_range("tuned")


def test_config_validation_and_selection_errors(tiny_model_dir):
    with pytest.raises(ConfigError, match=r"LayerReportConfig\.include: '\[' is not a regular expression"):
        LayerReportConfig(include=["["])
    with pytest.raises(ConfigError, match="min_evals"):
        LayerReportConfig(min_evals=0)
    with pytest.raises(ConfigError, match="select none of the 16 weight matrices"):
        layer_report(str(tiny_model_dir), progress=False, include=["no_such_layer"])
    report = layer_report(str(tiny_model_dir), progress=False, exclude=["embed_tokens", "lm_head"])
    assert len(report.rows) == 14 and all(r["block"] is not None for r in report.rows)


def test_adapter_errors(tiny_model_dir, overtrained, tmp_path, ticket_pairs):
    from domainft.models.adapters import load_adapter
    from domainft.models.tiny import build_tiny_model

    peft_model = load_adapter(_fp32(tiny_model_dir)[0], overtrained / "adapter")
    with pytest.raises(ConfigError, match="already carries a peft adapter"):
        layer_report(peft_model, overtrained / "adapter", progress=False)
    other = build_tiny_model([p["prompt"] for p in ticket_pairs[:20]], tmp_path / "wide", hidden_size=96)
    with pytest.raises(ModelError, match="do not fit|different"):
        layer_report(str(other), overtrained / "adapter", progress=False)
    with pytest.raises(ModelError, match="adapter_config.json"):
        layer_report(str(tiny_model_dir), tmp_path, progress=False)


def test_missing_weightwatcher_names_the_extra(monkeypatch):
    from domainft.diagnostics import spectral

    spectral.weightwatcher.cache_clear()
    monkeypatch.setitem(sys.modules, "weightwatcher", None)
    try:
        with pytest.raises(ModelError, match=r"pip install 'domainft\[diagnostics\]'"):
            spectral_metrics(torch.ones(16, 16))
    finally:
        spectral.weightwatcher.cache_clear()


def _evaluation(directory):
    from domainft.evaluation.metrics import MetricOutput
    from domainft.evaluation.report import EvaluationReport

    def out(s):
        return {"m": MetricOutput({"rougeL": sum(s) / len(s)}, {"rougeL": s})}

    report = EvaluationReport.from_outputs(
        {"base": out([0.2, 0.4]), "tuned": out([0.5, 0.7])},
        references=["a", "b"],
        predictions={"base": ["x", "y"], "tuned": ["a", "b"]},
    )
    return report.save(directory)


def test_linked_from_the_evaluation_report(tuned_report, tmp_path):
    from domainft.evaluation.report import EvaluationReport

    run = tmp_path / "run"
    assert evaluation_link(run / "diagnostics", run / "eval") is None  # nothing to link yet
    assert not link_into_evaluation(run / "diagnostics", run / "eval")
    tuned_report.save(run / "diagnostics")
    assert not link_into_evaluation(run / "diagnostics", run / "eval")  # no evaluation yet
    _evaluation(run / "eval")
    assert link_into_evaluation(run / "diagnostics", run / "eval")
    page = html.unescape((run / "eval" / "report.html").read_text())
    assert "href='../diagnostics/layer_report.html'" in page and "Layer spectral analysis" in page
    n = len(tuned_report.summary["newly_outside"])
    assert f"{n} matrix(es) left weightwatcher's well-trained range" in page
    assert EvaluationReport.load(run / "eval").meta["links"]["layer_report"]["href"] == (
        "../diagnostics/layer_report.html"
    )


def test_diagnose_command_writes_into_the_run_and_links_the_evaluation(
    tiny_model_dir, overtrained, tmp_path, capsys
):
    import shutil

    from domainft.cli import main

    run = tmp_path / "run"
    shutil.copytree(overtrained / "adapter", run / "adapter")
    _evaluation(run / "eval")
    code = main(["diagnose", "--model", str(tiny_model_dir), "--adapter", str(run / "adapter"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert (run / "diagnostics" / REPORT_HTML).is_file()
    assert "left the well-trained range" in out and f"linked from {run / 'eval' / 'report.html'}" in out
    assert "layer_report.html" in (run / "eval" / "report.html").read_text()
    code = main(["diagnose", "--adapter", str(run / "adapter")])
    assert code == 2 and "--model BASE" in capsys.readouterr().err
