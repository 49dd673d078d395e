"""The Huber loss: PyTorch's ``HuberLoss(delta)`` on both branches, finite differences,
its gradient formula, the registry config and the places it plugs into."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn.layers import Dense
from ffnn.losses import LOSSES, Huber


def _problem(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Residuals on both sides of δ = 0.5 and of −δ, away from the kinks."""
    y = rng.standard_normal((9, 3))
    r = rng.choice([-1.0, 1.0], (9, 3)) * rng.choice([0.2, 0.4, 0.7, 2.0], (9, 3))
    return y, y + r


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("delta", [0.5, 1.0, 3.0])
def test_huber_matches_torch_value_and_gradient(delta: float, weighted: bool) -> None:
    rng = np.random.default_rng(0)
    y, pred = _problem(rng)
    w = rng.uniform(0.1, 2.0, 9) if weighted else None
    p = ffnn.Tensor(pred, requires_grad=True)
    value = ffnn.losses.get({"name": "huber", "delta": delta})(y, p, sample_weight=w)
    value.backward()
    pt = torch.tensor(pred, requires_grad=True)
    per = torch.nn.HuberLoss(reduction="none", delta=delta)(pt, torch.tensor(y)).mean(1)
    ref = per.mean() if w is None else (per * torch.tensor(w)).sum() / float(w.sum())
    ref.backward()
    np.testing.assert_allclose(value.item(), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(p.grad, pt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_huber_by_hand_and_gradient_is_clipped_residual() -> None:
    """δ = 1: residuals 0.5 and 3 give ½·0.25 = 0.125 and 1·(3 − 0.5) = 2.5; the mean is
    1.3125 and the gradient −clip(r, −δ, δ)/N = (0.25, 0.5) for ŷ = y − r."""
    p = ffnn.Tensor(np.array([[-0.5], [-3.0]]), requires_grad=True)
    value = Huber()(np.zeros((2, 1)), p)
    value.backward()
    assert value.item() == pytest.approx(1.3125, rel=1e-15)
    np.testing.assert_allclose(p.grad, [[-0.25], [-0.5]], rtol=1e-15)


def test_huber_finite_differences() -> None:
    y, pred = _problem(np.random.default_rng(1))
    loss = Huber(delta=0.5)
    ffnn.check_grads(lambda p: loss(y, p), pred)
    ffnn.check_grads(lambda p: loss(y, p, sample_weight=np.linspace(0.5, 1.5, 9)), pred)


def test_huber_config_registry_and_errors() -> None:
    assert "huber" in LOSSES
    loss = ffnn.losses.get({"name": "huber", "delta": 2.5})
    assert loss.get_config() == {"name": "huber", "delta": 2.5}
    assert ffnn.losses.get(loss.get_config()) == loss
    for bad in (0, -1.0, float("nan"), True, "1"):
        with pytest.raises(ValueError, match="delta must be a finite number > 0"):
            Huber(delta=bad)  # type: ignore[arg-type]


def test_huber_trains_saves_and_is_refused_by_lm(tmp_path) -> None:
    """A model compiled with Huber trains against outliers and round-trips through a
    model file with its delta; Levenberg–Marquardt refuses it naming the losses it takes."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (64, 1))
    y = 2 * x[:, 0] + 0.01 * rng.standard_normal(64)
    y[:4] += 50.0  # outliers
    model = ffnn.Sequential([Dense(1, input_dim=1)], seed=0, dtype="float64")
    model.compile(ffnn.optimizers.get("sgd", learning_rate=0.5), {"name": "huber",
                                                                  "delta": 0.1})
    model.fit(x, y, epochs=500, batch_size=64, verbose=0)
    assert model.get_weights()[0][0, 0] == pytest.approx(2.0, abs=0.2)
    model.save(tmp_path / "h.safetensors")
    assert ffnn.load(tmp_path / "h.safetensors").loss == Huber(delta=0.1)
    with pytest.raises(ValueError, match="least-squares loss, got 'huber'"):
        model.compile("lm", "huber")
