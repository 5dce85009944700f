import pytest
import torch

from domainft.models.adapters import LoraAdapterFactory
from domainft.models.dropout import FastDropout, keep_mask
from domainft.models.loading import QuantizedLoader


@pytest.mark.parametrize("p", [0.05, 0.1, 0.5])
def test_masks_drop_p_and_keep_the_expectation(p):
    torch.manual_seed(0)
    x = torch.full((1_000_003,), 2.0)
    y = FastDropout(p)(x)
    dropped = (y == 0).float().mean().item()
    assert dropped == pytest.approx(p, abs=0.003)  # about 6 standard errors at p=0.5
    assert y.mean().item() == pytest.approx(2.0, rel=0.01)
    kept = y[y != 0]
    assert torch.allclose(kept, torch.full_like(kept, 2.0 / (1 - p)), rtol=1e-4)


def test_neighbouring_decisions_are_independent():
    """Three decisions come from one 64-bit draw: adjacent elements must not be correlated."""
    torch.manual_seed(1)
    keep, _ = keep_mask((600_000,), 0.5)
    pairs = keep.view(-1, 2).float()
    both = (pairs[:, 0] * pairs[:, 1]).mean().item()
    assert both == pytest.approx(0.25, abs=0.005)
    thirds = keep.view(-1, 3).float().mean(dim=0)
    assert torch.allclose(thirds, torch.full((3,), 0.5), atol=0.005)


def test_gradient_is_the_same_mask_and_scale_and_seeds_reproduce_masks():
    drop = FastDropout(0.2)
    x = torch.randn(64, 33, requires_grad=True)
    torch.manual_seed(3)
    y = drop(x)
    torch.manual_seed(3)
    assert torch.equal(drop(x), y)
    grad = torch.randn_like(y)
    (gx,) = torch.autograd.grad(y, x, grad)
    factor = torch.where(y != 0, 1 / 0.8, 0.0)
    assert torch.allclose(gx, grad * factor, rtol=1e-4)
    assert torch.allclose(y, x * factor, rtol=1e-4)


def test_evaluation_mode_and_zero_p_are_the_identity():
    x = torch.randn(10, 10)
    assert torch.equal(FastDropout(0.3).eval()(x), x)
    assert torch.equal(FastDropout(0.0)(x), x)
    assert torch.count_nonzero(FastDropout(1.0)(x)) == 0


def test_lora_factory_swaps_lora_dropout_only(tiny_model_dir):
    model, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
    peft_model = LoraAdapterFactory(r=4, alpha=8, dropout=0.1, target_modules="attention").apply(model)
    dropouts = [m for name, m in peft_model.named_modules() if name.endswith("lora_dropout.default")]
    assert dropouts and all(type(m) is FastDropout and m.p == 0.1 for m in dropouts)
    model, _ = QuantizedLoader(tiny_model_dir, quantization=None).load()
    none = LoraAdapterFactory(r=4, alpha=8, dropout=0.0, target_modules="attention").apply(model)
    assert not any(isinstance(m, FastDropout) for m in none.modules())
