"""Scaled conjugate gradient: step by step against a float64 transcription of Møller
(1993), MATLAB trainscg's defaults, stopping, checkpoints and training quality."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn import Dense, Sequential
from ffnn.optim import OPTIMIZERS, ScaledConjugateGradient
from ffnn.training.problem import Problem
from ffnn.utils import flatten_params

Fn = Callable[[np.ndarray], tuple[float, np.ndarray]]


def moller(fun: Fn, w: np.ndarray, iterations: int, sigma: float = 5e-5,
           lam: float = 5e-7) -> list[np.ndarray]:
    """Møller's algorithm, steps 1–9 of the paper, written independently of ffnn:
    the weights after each iteration."""
    n = len(w)
    e, g = fun(w)
    r = -g
    p = r.copy()
    lam_bar, success, delta = 0.0, True, 0.0
    out = []
    for k in range(1, iterations + 1):
        p_sq = p @ p
        if success:
            sig = sigma / math.sqrt(p_sq)
            s = (fun(w + sig * p)[1] - g) / sig
            delta = p @ s
        delta = delta + (lam - lam_bar) * p_sq
        if delta <= 0:
            lam_bar = 2 * (lam - delta / p_sq)
            delta = -delta + lam * p_sq
            lam = lam_bar
        mu = p @ r
        alpha = mu / delta
        e_new, g_new = fun(w + alpha * p)
        big_delta = 2 * delta * (e - e_new) / mu**2
        if big_delta >= 0:
            w = w + alpha * p
            r_new = -g_new
            lam_bar, success = 0.0, True
            if k % n == 0:
                p = r_new
            else:
                beta = (r_new @ r_new - r_new @ r) / mu
                p = r_new + beta * p
            r, e, g = r_new, e_new, g_new
            if big_delta >= 0.75:
                lam = lam / 4
        else:
            lam_bar, success = lam, False
        if big_delta < 0.25:
            lam = lam + delta * (1 - big_delta) / p_sq
        out.append(w.copy())
    return out


class Rosenbrock:
    """A Problem on a closed-form objective (the optimiser sees only the protocol)."""

    n_samples = n_outputs = n_residuals = 1
    n_observations = 1.0
    dtype = np.dtype(np.float64)

    def __init__(self, theta: np.ndarray) -> None:
        self.theta = theta.astype(np.float64)
        self.n_params = len(theta)

    @staticmethod
    def fun(t: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = t[:-1], t[1:]
        value = float(np.sum(100 * (b - a**2) ** 2 + (1 - a) ** 2))
        grad = np.zeros_like(t)
        grad[:-1] = -400 * a * (b - a**2) - 2 * (1 - a)
        grad[1:] += 200 * (b - a**2)
        return value, grad

    def get_flat(self) -> np.ndarray:
        return self.theta.copy()

    def set_flat(self, theta: np.ndarray) -> None:
        self.theta = np.asarray(theta, dtype=np.float64).copy()

    def value_and_grad(self) -> tuple[float, np.ndarray, np.ndarray]:
        value, grad = self.fun(self.theta)
        return value, grad, np.array([[value]])

    def forward(self) -> np.ndarray:
        return np.array([[self.fun(self.theta)[0]]])


def test_matches_the_paper_step_by_step_on_rosenbrock() -> None:
    """Guards every step of the algorithm (δ scaling, the Hessian fix, Δ, β, the
    restarts every P iterations on this 3-parameter problem, λ's updates): 60 iterations,
    including rejected ones, equal the transcription of the paper."""
    start = np.array([-1.2, 1.0, 0.5])
    problem = Rosenbrock(start)
    opt = ScaledConjugateGradient(min_grad=0.0)
    opt.build([ffnn.Tensor(np.zeros(3), requires_grad=True)])
    want = moller(Rosenbrock.fun, start, 60)
    successes = []
    for k in range(60):
        opt.step_problem(problem)
        successes.append(opt.epoch_logs["success"])
        np.testing.assert_allclose(problem.theta, want[k], rtol=1e-12, atol=1e-14)
    assert 0.0 in successes and 1.0 in successes  # both branches ran
    assert Rosenbrock.fun(problem.theta)[0] < 0.5 * Rosenbrock.fun(start)[0]


def _net(seed: int = 0) -> Sequential:
    model = Sequential([Dense(5, activation="tanh", input_dim=2), Dense(1)], seed=seed,
                       dtype="float64")
    model.compile("scg", "mse")
    return model


def test_matches_the_paper_on_a_network(rng: np.random.Generator) -> None:
    """The same check through fit: ffnn's epochs are Møller's iterations on the
    network's objective (the gradients come from ffnn's own Problem)."""
    x = rng.normal(size=(50, 2))
    y = np.sin(x[:, :1]) * x[:, 1:]
    model = _net()
    model.build(2)
    twin = _net()
    xa, ya, _ = twin.validate_data(x, y)
    twin.prepare_training()
    oracle = Problem(twin, xa, ya)

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        oracle.set_flat(theta)
        value, grad, _ = oracle.value_and_grad()
        return value, grad

    want = moller(fun, flatten_params(model), 25)
    model.fit(x, y, epochs=25, verbose=0)
    # The two evaluate the same objective through different arrays, whose BLAS products
    # may round differently in the last bit (alignment picks the kernel); 25 iterations
    # amplify that to ~1e-10 at worst, while a wrong step is wrong at the first digits.
    np.testing.assert_allclose(flatten_params(model), want[-1], rtol=1e-7, atol=1e-10)
    assert len(model.history.history["loss"]) == 25


def test_defaults_are_trainscg_and_registered() -> None:
    opt = OPTIMIZERS.lookup("trainscg")()
    assert isinstance(opt, ScaledConjugateGradient)
    assert (opt.sigma, opt.lambda_, opt.goal, opt.min_grad) == (5e-5, 5e-7, 0.0, 1e-6)


def test_trains_xor_to_the_goal_and_says_why_it_stopped() -> None:
    x, y = ffnn.datasets.xor()
    model = Sequential([Dense(3, activation="tanh", input_dim=2), Dense(1, activation="sigmoid")],
                       seed=2, dtype="float64")
    model.compile({"name": "scg", "goal": 1e-4}, "mse")
    model.fit(x, y, epochs=1000, verbose=0)
    assert model.history.history["loss"][-1] <= 1e-4
    assert "goal" in model.stop_reason
    assert np.array_equal(model.predict(x) > 0.5, y > 0.5)


def test_min_grad_stops_training(rng: np.random.Generator) -> None:
    x = rng.normal(size=(30, 2))
    model = _net()
    model.compile({"name": "scg", "min_grad": 1e3}, "mse")
    model.fit(x, x[:, :1], epochs=10, verbose=0)
    assert "min_grad" in model.stop_reason
    assert len(model.history.history["loss"]) == 1


@pytest.mark.parametrize(("key", "value"), [("lambda", 0.0), ("lambda_bar", -1.0),
                                            ("success", 0.5), ("k", 1.5), ("delta", math.nan)])
def test_state_out_of_range_is_refused(key: str, value: Any) -> None:
    opt = ScaledConjugateGradient([ffnn.Tensor(np.zeros(2), requires_grad=True)])
    saved = opt.state_dict()
    saved["global"][key] = value
    with pytest.raises(ValueError, match=key):
        opt.load_state_dict(saved)


def test_direction_of_the_wrong_shape_or_dtype_is_refused() -> None:
    opt = ScaledConjugateGradient([ffnn.Tensor(np.zeros(2), requires_grad=True)])
    saved = opt.state_dict()
    saved["state"][0]["direction"] = np.zeros(3)
    with pytest.raises(ValueError, match="direction"):
        opt.load_state_dict(saved)
    saved["state"][0]["direction"] = np.zeros(2, dtype=np.float32)
    with pytest.raises(ValueError, match="float64"):
        opt.load_state_dict(saved)


@pytest.mark.parametrize("bad", [{"sigma": 0.0}, {"lambda_": -1.0}, {"goal": -1.0}])
def test_options_are_checked(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad)).rstrip("_")):
        ScaledConjugateGradient(**bad)
