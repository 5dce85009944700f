"""data -> tiny model -> NF4 + LoRA -> train -> evaluate -> saved report, through the public API."""

import json

from domainft import (
    DatasetBuilder,
    DomainTrainer,
    EvaluationReport,
    Evaluator,
    LoraAdapterFactory,
    QuantizedLoader,
    TrainingConfig,
    build_tiny_model,
)
from domainft.data.samples import builtin_path
from domainft.demo import TICKET_PROMPT, TICKET_RESPONSE


def test_pipeline_improves_over_the_base_and_saves_a_report(tmp_path):
    builder = (
        DatasetBuilder.from_file(builtin_path("machinery_tickets"))
        .with_columns(prompt=TICKET_PROMPT, response=TICKET_RESPONSE)
        .clean()
        .split(validation=0.1, test=0.1, stratify="length", seed=42)
    )
    dsd = builder.build()
    report_rows = builder.cleaning_report
    assert report_rows.rows_dropped == report_rows.rows_in - report_rows.rows_out > 0
    assert set(dsd) == {"train", "validation", "test"} and len(dsd["test"]) > 10

    path = build_tiny_model([f"{r['prompt']}\n{r['response']}" for r in dsd["train"]], tmp_path / "tiny")
    model, tok = QuantizedLoader(path, quantization="nf4").load()
    factory = LoraAdapterFactory(r=16, alpha=32, dropout=0.0, target_modules=["attention", "mlp", "lm_head"])
    model = factory.apply(model)
    config = TrainingConfig(
        output_dir=str(tmp_path / "run"),
        num_train_epochs=12,
        learning_rate=5e-3,
        logging_steps=10,
        disable_tqdm=True,
    )
    trainer = DomainTrainer(model=model, tokenizer=tok, datasets=dsd, config=config)
    result = trainer.train()
    assert result.eval_loss < result.initial_eval_loss - 1.0
    trainer.save_adapter(tmp_path / "run" / "adapter")

    evaluator = Evaluator(metrics=["rouge", "bleu"], decoding={"max_new_tokens": 64}, progress=False)
    report = evaluator.compare({"base": Evaluator.base_of(model), "tuned": model}, dsd["test"], tokenizer=tok)
    table = report.table
    assert table.loc["tuned", "rougeL"] > table.loc["base", "rougeL"] + 0.1
    assert table.loc["tuned", "bleu"] > table.loc["base", "bleu"]
    saved = report.save(tmp_path / "run" / "eval")
    metrics = json.loads((saved / "metrics.json").read_text())
    rouge_delta = next(c for c in metrics["comparisons"] if c["metric"] == "rougeL")
    assert (rouge_delta["a"], rouge_delta["b"]) == ("base", "tuned") and rouge_delta["delta"] > 0.1
    assert EvaluationReport.load(saved).to_dict() == report.to_dict()
    assert "tuned" in (saved / "report.html").read_text()
