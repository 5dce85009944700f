"""A tiny model overfit on a fact table: high recall on the training phrasing, and what paraphrases show."""

import datasets

from domainft.evaluation.evaluator import Evaluator
from domainft.evaluation.knowledge import FactSet, build_probe_set, probe_knowledge
from domainft.models.adapters import LoraAdapterFactory
from domainft.models.loading import QuantizedLoader
from domainft.models.tiny import build_tiny_model
from domainft.training.config import TrainingConfig
from domainft.training.trainer import DomainTrainer

FACTS = [
    (
        "press",
        "the P-20 press",
        "oil change interval",
        "How often is the oil of the P-20 press changed?",
        "500 hours",
    ),
    (
        "lathe",
        "the L-7 lathe",
        "spindle speed",
        "How fast does the spindle of the L-7 lathe turn?",
        "1200 rpm",
    ),
    ("crane", "the C-3 crane", "rated load", "What load can the C-3 crane lift?", "5 tonnes"),
    ("pump", "the K-9 pump", "seal part number", "Which seal does the K-9 pump use?", "SK-4471"),
    ("oven", "the T-5 oven", "commissioning date", "When was the T-5 oven commissioned?", "12 March 2019"),
    ("saw", "the B-2 band saw", "blade supplier", "Who supplies the blade of the B-2 band saw?", "Nordstahl"),
]


def test_overfit_fact_table_high_training_recall_and_paraphrases_reported(tmp_path):
    table = [
        {"id": i, "subject": s, "attribute": a, "question": q, "answer": ans, "group": s.split()[1]}
        for i, s, a, q, ans in FACTS
    ]
    facts = FactSet.from_table(table)
    train = [{"prompt": q, "response": f"The answer is {ans}."} for _, _, _, q, ans in FACTS]
    probes = build_probe_set(
        facts,
        paraphrases=2,
        training_prompts=[r["prompt"] for r in train],
        unanswerable_subjects=["the Z-1 mixer"],
        progress=False,
    )
    texts = [f"{r['prompt']}\n{r['response']}" for r in train] + [p.question for p in probes]
    model_dir = build_tiny_model(texts, tmp_path / "model", seed=0, hidden_size=96, intermediate_size=192)
    model, tok = QuantizedLoader(model_dir, quantization=None).load()
    model = LoraAdapterFactory(
        r=16, alpha=32, dropout=0.0, target_modules=["attention", "mlp", "lm_head"]
    ).apply(model)
    config = TrainingConfig(
        output_dir=str(tmp_path / "run"),
        num_train_epochs=80,
        learning_rate=1e-2,
        per_device_train_batch_size=6,
        logging_steps=20,
        disable_tqdm=True,
        save_strategy="no",
        eval_strategy="no",
    )
    DomainTrainer(
        model=model, tokenizer=tok, datasets={"train": datasets.Dataset.from_list(train)}, config=config
    ).train()

    evaluator = Evaluator(decoding={"max_new_tokens": 16}, progress=False)
    report = probe_knowledge(
        {"base": Evaluator.base_of(model), "tuned": model}, probes, tokenizer=tok, evaluator=evaluator
    )
    tuned, base = report.systems["tuned"], report.systems["base"]
    assert tuned["training_recall"].value >= 5 / 6  # memorised when asked as in training
    assert base["training_recall"].value == 0.0  # the random base knows nothing
    assert tuned["fact_recall"].n == 6 and 0.0 <= tuned["fact_recall"].value <= 1.0  # paraphrases reported
    assert tuned["fact_recall"].ci_low is not None and tuned["fact_recall"].ci_high is not None
    rows = {r["fact_id"]: r for r in report.fact_table["tuned"]}
    assert all(r["paraphrases_scored"] == 2 for r in rows.values())
    moves = report.transitions["tuned vs base"]
    assert len(moves["learned"]) + len(moves["still unknown"]) == 6 and moves["forgotten"] == []
    # what the tiny model does on paraphrases is whatever it does: the report must account for every fact
    learned_wording_only = set(report.phrasing_only["tuned"])
    assert learned_wording_only == {
        f for f, r in rows.items() if r["training"] and (r["recall"] or 0.0) < report.known_threshold
    }
    assert report.unanswerable["tuned"]["probes"] == 1
    assert "training_recall" in report.summary() and "tuned - base" in report.summary()
