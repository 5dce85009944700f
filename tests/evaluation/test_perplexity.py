import math

import pytest

from domainft.evaluation.perplexity import perplexity_output
from domainft.models.adapters import LoraAdapterFactory
from domainft.models.loading import QuantizedLoader
from domainft.training.config import TrainingConfig
from domainft.training.trainer import DomainTrainer


def test_perplexity_is_the_exponential_of_the_validation_loss(tiny_model_dir, tiny_dsd, tmp_path):
    """Scored like training: token-weighted NLL of the answers given the prompts equals eval_loss."""
    base, tok = QuantizedLoader(tiny_model_dir, quantization=None).load()
    model = LoraAdapterFactory(r=4, target_modules="attention").apply(base)
    config = TrainingConfig(output_dir=str(tmp_path), per_device_eval_batch_size=8, disable_tqdm=True)
    eval_loss = DomainTrainer(model=model, tokenizer=tok, datasets=tiny_dsd, config=config).evaluate()[
        "eval_loss"
    ]
    rows = tiny_dsd["validation"]
    out = perplexity_output(model, tok, rows["prompt"], rows["response"], batch_size=3)
    assert math.log(out.values["perplexity"]) == pytest.approx(eval_loss, rel=1e-4)
    assert len(out.per_sample["perplexity"]) == len(rows) and all(p > 1 for p in out.per_sample["perplexity"])
