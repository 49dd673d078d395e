"""Regularisers: the notes' (λ/2)‖W‖²_F and its gradient λW, L1, L1+L2; registry."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import ffnn
from ffnn.nn import regularizers
from ffnn.nn.regularizers import REGULARIZERS


def _value_and_grad(reg, w):
    t = ffnn.Tensor(w, requires_grad=True)
    out = reg(t)
    out.backward()
    return out, t.grad


def test_l2_is_half_lambda_frobenius_with_weight_decay_gradient(rng):
    w = rng.standard_normal((4, 3))
    out, grad = _value_and_grad(regularizers.l2(0.3), w)
    assert out.shape == ()
    assert out.item() == pytest.approx(0.15 * np.sum(w**2), rel=1e-12)
    np.testing.assert_allclose(grad, 0.3 * w, rtol=1e-12)


def test_l1_value_and_gradient_against_torch(rng):
    w = rng.standard_normal((4, 3))
    out, grad = _value_and_grad(regularizers.l1(0.2), w)
    wt = torch.tensor(w, requires_grad=True)
    ref = 0.2 * wt.abs().sum()
    ref.backward()
    assert out.item() == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(grad, wt.grad.numpy(), rtol=1e-12)


def test_l1_l2_is_the_sum(rng):
    w = rng.standard_normal((5, 2))
    both, grad = _value_and_grad(regularizers.l1_l2(l1=0.1, l2=0.4), w)
    assert both.item() == pytest.approx(0.1 * np.abs(w).sum() + 0.2 * (w**2).sum(), rel=1e-12)
    np.testing.assert_allclose(grad, 0.1 * np.sign(w) + 0.4 * w, rtol=1e-12)


@pytest.mark.parametrize("config", [{"name": "l1", "lam": 0.1}, {"name": "l2", "lam": 0.7},
                                    {"name": "l1_l2", "l1": 0.2, "l2": 0.3}])
def test_finite_differences(config, rng):
    w = rng.standard_normal((3, 4))
    w[np.abs(w) < 0.05] = 0.3  # away from the kink of |w|
    ffnn.check_grads(regularizers.get(config), w)


def test_float32_stays_float32(rng):
    w = ffnn.Tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True)
    assert regularizers.get("l1_l2")(w).dtype == np.float32


@pytest.mark.parametrize("name", REGULARIZERS.names())
def test_every_name_round_trips(name, rng):
    reg = regularizers.get(name)
    config = reg.get_config()
    assert config["name"] == name
    assert json.loads(json.dumps(config)) == config
    again = regularizers.get(config)
    assert again == reg
    w = ffnn.Tensor(rng.standard_normal((2, 2)))
    assert again(w).item() == reg(w).item()


def test_get_none_object_and_callable():
    assert regularizers.get(None) is None
    reg = regularizers.L2(1e-3)
    assert regularizers.get(reg) is reg
    assert regularizers.get("l2").lam == 0.01

    def total(w):
        return ffnn.sum(w)

    custom = regularizers.get(total)
    assert custom.name == "custom:total"
    assert custom(ffnn.Tensor(np.ones((2, 2)))).item() == 4.0
    with pytest.raises(TypeError, match="cannot be serialised"):
        custom.get_config()


def test_errors():
    with pytest.raises(ValueError, match=r"unknown regularizer 'l3'.*l1, l1_l2, l2"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match=r"unexpected parameter.*'l2'.*takes: lam"):
        regularizers.get({"name": "l2", "l2": 0.1})
    with pytest.raises(ValueError, match="lam must be a finite non-negative number, got -1"):
        regularizers.l2(-1)
    with pytest.raises(TypeError, match=r"cannot interpret 0.1"):
        regularizers.get(0.1)


@pytest.mark.parametrize("reg", ["l1", "l2", "l1_l2"])
def test_penalised_kernel_gradient_keeps_the_kernel_memory_order(reg):
    # Dense kernels are Fortran-ordered; a C-ordered penalty gradient made every sum with
    # the data gradient, and the update, take NumPy's slow mixed-layout loops (and
    # kept the update off BLAS).
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 100)).astype(np.float32)
    y = rng.standard_normal((64, 1)).astype(np.float32)
    model = ffnn.Sequential(
        [ffnn.Dense(80, activation="relu", input_dim=100, kernel_regularizer=reg),
         ffnn.Dense(1)],
        seed=0,
    )
    model.compile(optimizer="sgd", loss="mse")
    model.train_step(x, y)
    kernel = model.layers[0].params[0]
    assert kernel.data.flags.f_contiguous and kernel.grad.flags.f_contiguous
