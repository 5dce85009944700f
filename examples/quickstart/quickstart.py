"""The five components chained in plain Python, offline, on the bundled machinery tickets.

    python examples/quickstart/quickstart.py [--output-dir runs/quickstart] [--epochs 20]

Swap ``build_tiny_model`` for your own base model folder to run it for real.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from domainft import (
    DatasetBuilder,
    DomainTrainer,
    Evaluator,
    LoraAdapterFactory,
    QuantizedLoader,
    TrainingConfig,
    build_tiny_model,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="runs/quickstart")
    parser.add_argument("--epochs", type=float, default=20.0)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    args = parser.parse_args()
    out = Path(args.output_dir)

    # 1. data: tickets -> prompt/response pairs, cleaned and split by answer length
    builder = (
        DatasetBuilder.from_file("builtin:machinery_tickets")
        .with_columns(
            prompt="Machine: {machine_type}. Problem: {problem}",
            response="Cause: {cause} Solution: {solution} Expected time: {hours:g} h.",
        )
        .clean()
        .split(validation=0.1, test=0.1, stratify="length", seed=42)
    )
    dsd = builder.build()
    print(builder.cleaning_report.summary())

    # 2. a base model: here a tiny Llama trained offline on the training texts
    base_dir = build_tiny_model([f"{r['prompt']}\n{r['response']}" for r in dsd["train"]], out / "tiny-model")
    model, tok = QuantizedLoader(base_dir, quantization="nf4").load()

    # 3. LoRA on attention, MLP and the output head
    factory = LoraAdapterFactory(r=16, alpha=32, dropout=0.0, target_modules=["attention", "mlp", "lm_head"])
    model = factory.apply(model)
    print(factory.summary)

    # 4. training
    config = TrainingConfig(
        output_dir=str(out), num_train_epochs=args.epochs, learning_rate=5e-3, logging_steps=20
    )
    trainer = DomainTrainer(model=model, tokenizer=tok, datasets=dsd, config=config)
    result = trainer.train()
    print(f"validation loss {result.initial_eval_loss:.3f} -> {result.eval_loss:.3f}")
    print("adapter:", result.adapter_dir)  # train() saved it to <output_dir>/adapter

    # 5. evaluation: base (adapter switched off) vs fine-tuned, on the held-out test split
    evaluator = Evaluator(metrics=["rouge", "bleu"], decoding={"max_new_tokens": args.max_new_tokens})
    report = evaluator.compare({"base": Evaluator.base_of(model), "tuned": model}, dsd["test"], tokenizer=tok)
    print(report.summary())
    print("report:", report.save(out / "eval") / "report.html")


if __name__ == "__main__":
    main()
