"""``domainft demo``: the whole pipeline offline on the shipped machinery tickets and a tiny model.

Builds the data (clean + length-stratified split), trains a byte-level BPE tokenizer and a tiny
Llama on the training split, attaches LoRA to its NF4-quantized weights, fine-tunes, and compares
base against fine-tuned on the test split with ROUGE and BLEU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domainft.data.config import DataConfig
from domainft.evaluation.config import EvaluationConfig
from domainft.models.adapters import AdapterConfig
from domainft.models.generation import DecodingConfig
from domainft.models.loading import ModelConfig
from domainft.recipe import Recipe
from domainft.training.config import TrainingConfig

#: How a maintenance ticket becomes a question and the answer a technician should get.
TICKET_PROMPT = "Machine: {machine_type}. Problem: {problem}"
TICKET_RESPONSE = "Cause: {cause} Solution: {solution} Expected time: {hours:g} h."


def demo_recipe(output_dir: str | Path = "runs/demo", *, epochs: float = 20.0) -> Recipe:
    """The recipe the demo runs (its model path is filled in once the tiny model is built)."""
    output_dir = Path(output_dir)
    return Recipe(
        data=DataConfig(
            path="builtin:machinery_tickets",
            columns={"prompt": TICKET_PROMPT, "response": TICKET_RESPONSE},
            validation=0.1,
            test=0.1,
            stratify="length",
            seed=42,
        ),
        model=ModelConfig(name_or_path=str(output_dir / "tiny-model"), quantization="nf4"),
        adapter=AdapterConfig(r=16, alpha=32, dropout=0.0, target_modules=["attention", "mlp", "lm_head"]),
        training=TrainingConfig(
            output_dir=str(output_dir),
            num_train_epochs=epochs,
            learning_rate=5e-3,
            per_device_train_batch_size=8,
            logging_steps=20,
            eval_strategy="epoch",
            max_length=512,
        ),
        evaluation=EvaluationConfig(metrics=["rouge", "bleu"], decoding=DecodingConfig(max_new_tokens=96)),
    )


def run_demo(output_dir: str | Path = "runs/demo", *, epochs: float = 20.0, progress: bool = True) -> Any:
    """Run the demo end to end and return the :class:`EvaluationReport`."""
    from domainft.models.tiny import build_tiny_model
    from domainft.workflows import build_datasets, evaluate_from_recipe, train_from_recipe

    recipe = demo_recipe(output_dir, epochs=epochs)
    recipe.training.disable_tqdm = not progress
    say = print if progress else (lambda *a, **k: None)
    say(f"[1/4] building the dataset from {recipe.data.path}")
    datasets = build_datasets(recipe)
    say("      " + ", ".join(f"{split}: {len(ds)}" for split, ds in datasets.items()))
    say(f"[2/4] building a tiny model offline in {recipe.model.name_or_path}")
    texts = [f"{r['prompt']}\n{r['response']}" for r in datasets["train"]]
    build_tiny_model(texts, recipe.model.name_or_path, seed=0)
    say("[3/4] LoRA fine-tuning the NF4-quantized model")
    outcome = train_from_recipe(recipe, datasets=datasets)
    say(
        f"      validation loss {outcome.result.initial_eval_loss:.3f} -> {outcome.result.eval_loss:.3f}; "
        f"adapter in {outcome.adapter_dir}"
    )
    say("[4/4] evaluating base vs fine-tuned on the test split")
    report = evaluate_from_recipe(
        recipe,
        datasets=datasets,
        model=outcome.model,
        tokenizer=outcome.tokenizer,
        adapter_dir=outcome.adapter_dir,
        progress=progress,
    )
    say("")
    say(report.summary())
    say(f"\nreport: {recipe.eval_dir / 'report.html'}")
    say(f"summary for a README: {recipe.eval_dir / 'summary.md'}")
    return report
