"""A training process for the crash tests: ``python crash_child.py MODEL DATA OUT [--pause-at N MARKER] [--resume]``.

It trains a LoRA adapter on the prompt/response rows of ``DATA`` (JSON) with checkpoints every 4
steps. ``--pause-at N MARKER`` writes ``MARKER`` after optimizer step N and then waits, so that the
test can kill it with SIGKILL at a known point; ``--resume`` continues from the latest checkpoint.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from transformers import TrainerCallback


class PauseAt(TrainerCallback):
    def __init__(self, step: int, marker: Path) -> None:
        self.step, self.marker = step, marker

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            self.marker.write_text(str(state.global_step))
            time.sleep(600)  # the test kills the process here


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("data")
    parser.add_argument("out")
    parser.add_argument("--pause-at", nargs=2)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--set", nargs=2, action="append", default=[], metavar=("FIELD", "JSON"))
    args = parser.parse_args()

    import datasets

    from domainft import DomainTrainer, LoraAdapterFactory, QuantizedLoader, TrainingConfig

    splits = json.loads(Path(args.data).read_text(encoding="utf-8"))
    dsd = datasets.DatasetDict({name: datasets.Dataset.from_list(rows) for name, rows in splits.items()})
    model, tok = QuantizedLoader(args.model, quantization=None).load()
    model = LoraAdapterFactory(r=4, alpha=8, dropout=0.1, target_modules=["attention", "mlp"]).apply(model)
    config = TrainingConfig(
        output_dir=args.out,
        num_train_epochs=2,
        per_device_train_batch_size=4,
        learning_rate=3e-3,
        save_strategy="steps",
        save_steps=4,
        eval_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
        seed=7,
    ).updated(**{name: json.loads(value) for name, value in args.set})
    callbacks = [PauseAt(int(args.pause_at[0]), Path(args.pause_at[1]))] if args.pause_at else []
    trainer = DomainTrainer(model=model, tokenizer=tok, datasets=dsd, config=config, callbacks=callbacks)
    result = trainer.train(resume_from_checkpoint=True if args.resume else None)
    losses = [e["loss"] for e in result.log_history if "loss" in e]
    print(json.dumps({"global_step": result.global_step, "losses": losses}))


if __name__ == "__main__":
    main()
