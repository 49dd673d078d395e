"""The optimiser contract: two families, optimiser-level state, range-checked loads."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn import Dense, Sequential
from ffnn.optim import (
    OPTIMIZERS,
    Adam,
    BaseOptimizer,
    FullBatchOptimizer,
    LevenbergMarquardt,
    Nadam,
    Optimizer,
    RMSprop,
)


def _param(values: list[float], grad: list[float]) -> ffnn.Tensor:
    p = ffnn.Tensor(np.array(values, dtype=np.float64), requires_grad=True)
    p.grad = np.array(grad, dtype=np.float64)
    return p


FULL_BATCH = [n for n in OPTIMIZERS.names(aliases=False)
              if issubclass(OPTIMIZERS.lookup(n), FullBatchOptimizer)]


@pytest.mark.parametrize("name", FULL_BATCH)
def test_full_batch_step_says_what_to_call_instead(name: str) -> None:
    """Guards the contract: a full-batch optimiser has no per-batch step; the error
    names model.fit and step_problem."""
    opt = OPTIMIZERS.lookup(name)([_param([1.0], [1.0])])
    assert isinstance(opt, BaseOptimizer) and not isinstance(opt, Optimizer)
    with pytest.raises(TypeError, match=r"model\.fit.*step_problem"):
        opt.step()


def test_fit_dispatches_on_the_family() -> None:
    """A full-batch optimiser gets one step_problem call per epoch, whatever batch_size."""
    calls: list[int] = []

    class Counting(LevenbergMarquardt):
        name = "lm"

        def step_problem(self, problem: Any) -> tuple[float, np.ndarray]:
            calls.append(problem.n_samples)
            return super().step_problem(problem)

    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    model = Sequential([Dense(3, "tanh", input_dim=1), Dense(1)], seed=0, dtype="float64")
    model.compile(Counting(), "mse")
    model.fit(x, x**2, epochs=3, batch_size=4, verbose=0)
    assert calls == [20, 20, 20]


# ---------------------------------------------------------------- Nadam


def test_nadam_first_step_by_hand() -> None:
    """t = 1: m = (1 − β₁)g, v = (1 − β₂)g², Π = μ₁, and the update of the docstring."""
    g = np.array([0.5, -2.0])
    p = _param([1.0, 1.0], list(g))
    Nadam([p], learning_rate=0.1).step()
    b1, b2, eps, psi = 0.9, 0.999, 1e-8, 0.004
    mu1 = b1 * (1 - 0.5 * 0.96 ** (1 * psi))
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    m, v = (1 - b1) * g, (1 - b2) * g * g
    denom = np.sqrt(v / (1 - b2)) + eps
    want = 1.0 - 0.1 * ((1 - mu1) / (1 - mu1) * g + mu2 / (1 - mu1 * mu2) * m) / denom
    np.testing.assert_allclose(p.data, want, rtol=1e-14)


def test_nadam_mu_product_is_optimiser_level_state() -> None:
    p = _param([1.0, 2.0], [0.3, -0.1])
    opt = Nadam([p])
    for _ in range(3):
        opt.step()
    mus = [0.9 * (1 - 0.5 * 0.96 ** (t * 0.004)) for t in (1, 2, 3)]
    assert opt.state_dict()["global"] == {"mu_product": pytest.approx(math.prod(mus), rel=1e-15)}
    assert opt.mu_product == opt.global_state["mu_product"]
    fresh = Nadam([_param([1.0, 2.0], [0.3, -0.1])])
    fresh.load_state_dict(opt.state_dict())
    assert fresh.mu_product == opt.mu_product and fresh.iterations == 3


@pytest.mark.parametrize("value", [0.0, -0.5, 1.5, math.nan, math.inf, "0.5", None])
def test_nadam_refuses_a_mu_product_out_of_range(value: Any) -> None:
    """Guards against resuming from a corrupt μ product (a division by 1 − Π = 0 or a
    negative step size): refused, and the optimiser left as it was."""
    p = _param([1.0], [1.0])
    opt = Nadam([p])
    opt.step()
    saved = opt.state_dict()
    saved["global"] = {"mu_product": value}
    fresh = Nadam([_param([1.0], [1.0])])
    with pytest.raises(ValueError, match="mu_product"):
        fresh.load_state_dict(saved)
    assert fresh.iterations == 0 and fresh.mu_product == 1.0


def test_global_state_keys_must_match() -> None:
    opt = Nadam([_param([1.0], [1.0])])
    saved = opt.state_dict()
    with pytest.raises(ValueError, match=r"must hold \['mu_product'\]"):
        Nadam([_param([1.0], [1.0])]).load_state_dict({**saved, "global": {"mu": 1.0}})


# ------------------------------------------------- per-parameter state ranges


@pytest.mark.parametrize(("make", "slot"), [(Adam, "v"), (lambda ps: Adam(ps, amsgrad=True),
                                                          "v_max"),
                                             (RMSprop, "square_avg"), (Nadam, "v")])
def test_negative_second_moments_are_refused(make: Any, slot: str) -> None:
    """Guards against a state file whose second moments are negative: the next step
    would take the square root of them and turn the weights into NaN."""
    opt = make([_param([1.0, 2.0], [1.0, -1.0])])
    opt.step()
    saved = opt.state_dict()
    saved["state"][0][slot] = np.array([0.5, -1.0])
    fresh = make([_param([1.0, 2.0], [1.0, -1.0])])
    with pytest.raises(ValueError, match=rf"state '{slot}' must be >= 0, but holds -1.0"):
        fresh.load_state_dict(saved)


def test_adagrad_sum_must_be_non_negative() -> None:
    opt = OPTIMIZERS.lookup("adagrad")([_param([1.0], [1.0])])
    opt.step()
    saved = opt.state_dict()
    saved["state"][0]["sum"] = np.array([-0.25])
    with pytest.raises(ValueError, match="'sum' must be >= 0"):
        OPTIMIZERS.lookup("adagrad")([_param([1.0], [1.0])]).load_state_dict(saved)


# ------------------------------------------------------- LM's damping state


@pytest.mark.parametrize(("key", "value"), [
    ("mu", 0.0), ("mu", -1.0), ("mu", math.nan), ("mu", math.inf), ("mu", None),
    ("nu", 1.0), ("nu", math.nan), ("alpha", -1e-300), ("alpha", -2.0), ("beta", -1.0),
    ("beta", 0.0),
    ("beta", math.inf), ("gamma", -0.5), ("gamma", 1e9), ("mu", "1e-3"), ("mu", True),
])
def test_lm_refuses_damping_state_out_of_range(key: str, value: Any) -> None:
    """Guards against an LM checkpoint with μ NaN, 0 or negative (it resumed and stalled
    with no stop reason) and against ν, α, β, γ outside their ranges."""
    opt = LevenbergMarquardt([_param([1.0, 2.0], [0.0, 0.0])])
    saved = opt.state_dict()
    saved["global"] = {**saved["global"], key: value}
    fresh = LevenbergMarquardt([_param([1.0, 2.0], [0.0, 0.0])])
    with pytest.raises(ValueError, match=repr(key)):
        fresh.load_state_dict(saved)
    assert fresh.current_mu == fresh.mu


def test_lm_loads_the_older_lm_entry() -> None:
    """Files written before the optimiser-level state kept μ, ν, α, β, γ under "lm"."""
    opt = LevenbergMarquardt([_param([1.0, 2.0], [0.0, 0.0])])
    saved = opt.state_dict()
    del saved["global"]
    saved["lm"] = {"mu": 0.5, "nu": 4.0, "alpha": None, "beta": None, "gamma": None}
    saved["steps"], saved["state"] = [0, 0], {0: {}, 1: {}}
    fresh = LevenbergMarquardt([_param([1.0, 2.0], [0.0, 0.0])])
    fresh.load_state_dict(saved)
    assert (fresh.current_mu, fresh.nu) == (0.5, 4.0)


@pytest.mark.parametrize("make", [
    lambda ps: ffnn.optimizers.SGD(ps, 0.1, momentum=0.9, clipnorm=0.5),
    lambda ps: ffnn.optimizers.SGD(ps, 0.1, global_clipnorm=0.3, weight_decay=0.01),
    lambda ps: ffnn.optimizers.Adam(ps, 0.01, clipvalue=0.2),
    lambda ps: ffnn.optimizers.RMSprop(ps, 0.01),
])
def test_step_gradients_is_step_with_the_grads_set(make: Any) -> None:
    """The traced step's entry point: the same clipping, decay and update, bit for bit,
    and p.grad set as backward() would (None for a parameter without a gradient)."""
    rng = np.random.default_rng(0)
    shapes = [(5, 3), (5,), (2, 5)]
    start = [rng.standard_normal(s) for s in shapes]
    a = [ffnn.Tensor(v.copy(), requires_grad=True) for v in start]
    b = [ffnn.Tensor(v.copy(), requires_grad=True) for v in start]
    opt_a, opt_b = make(a), make(b)
    for step in range(3):
        grads = [rng.standard_normal(s) for s in shapes]
        if step == 1:
            grads[1] = None  # skipped: no decay, no update, its step count unchanged
        for p, g in zip(a, grads, strict=True):
            p.grad = None if g is None else g.copy()
        opt_a.step()
        opt_b.step_gradients(grads)
        for p, q, g in zip(a, b, grads, strict=True):
            assert np.array_equal(p.data, q.data)
            assert q.grad is g
    assert opt_a.state_dict()["steps"] == opt_b.state_dict()["steps"]


@pytest.mark.parametrize("bad, error, match", [
    ([np.ones((5, 3)), np.ones(5)], ValueError, "2 gradients for 3 parameters"),
    ([np.ones((5, 3)), np.ones(1), np.ones((2, 5))], ValueError, r"parameter 1 has shape \(5,\)"),
    ([np.ones((5, 3)), np.ones(5), [[1.0] * 5] * 2], TypeError, "gradient 2 is a list"),
])
def test_step_gradients_refuses_what_step_would_and_changes_nothing(
        bad: list[Any], error: type, match: str) -> None:
    params = [ffnn.Tensor(np.zeros(s), requires_grad=True) for s in [(5, 3), (5,), (2, 5)]]
    opt = ffnn.optimizers.SGD(params, 0.1)
    with pytest.raises(error, match=match):
        opt.step_gradients(bad)
    with pytest.raises(error, match=match):
        opt.step_gradients(iter(bad))  # a generator is read once, checked the same way
    assert all(p.grad is None and not p.data.any() for p in params)
    assert opt.iterations == 0
