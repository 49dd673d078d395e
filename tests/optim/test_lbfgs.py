"""Full-batch L-BFGS (``ffnn.optimizers.LBFGS``) through scipy's L-BFGS-B."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ffnn import Dense, Sequential, regularizers
from ffnn.datasets import xor
from ffnn.optim.lbfgs import LBFGS
from ffnn.training.problem import Problem


def _sine_model(seed: int = 0) -> Sequential:
    return Sequential([Dense(10, activation="tanh", input_dim=1), Dense(1)], seed=seed,
                      dtype="float64")


def test_fits_sine_and_reports_why_it_stopped() -> None:
    x = np.linspace(-np.pi, np.pi, 100).reshape(-1, 1)
    y = np.sin(x)
    model = _sine_model()
    model.compile(optimizer=LBFGS(maxiter=500), loss="mse")
    hist = model.fit(x, y, epochs=3, verbose=0).history
    assert hist["loss"][-1] < 1e-4
    assert model.stop_reason is not None and model.stop_reason.startswith("L-BFGS-B")
    assert {"iterations", "function_evals", "gradient_norm"} <= set(hist)


def test_maxiter_bounds_each_epoch_and_does_not_stop_fit() -> None:
    x = np.linspace(-np.pi, np.pi, 50).reshape(-1, 1)
    model = _sine_model()
    model.compile(optimizer=LBFGS(maxiter=5), loss="mse")
    hist = model.fit(x, np.sin(x), epochs=4, verbose=0).history
    assert len(hist["loss"]) == 4 and model.stop_reason is None
    assert all(n <= 5 for n in hist["iterations"])
    assert hist["loss"][-1] < hist["loss"][0]


def test_any_loss_works_xor_with_cross_entropy() -> None:
    x, y = xor()
    model = Sequential([Dense(4, activation="tanh", input_dim=2),
                        Dense(1, activation="sigmoid")], seed=1, dtype="float64")
    model.compile(optimizer=LBFGS(maxiter=200), loss="binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=2, verbose=0).history
    assert hist["accuracy"][-1] == 1.0 and hist["loss"][-1] < 0.05


def test_gradient_includes_the_penalty_at_the_optimum(rng: np.random.Generator) -> None:
    """At L-BFGS's solution ∇(loss + (λ/2)‖W‖²) ≈ 0 while ∇loss alone is not."""
    x, y = rng.normal(size=(60, 3)), rng.normal(size=(60, 1))
    model = Sequential([Dense(1, input_dim=3, kernel_regularizer=regularizers.l2(5.0))], seed=0,
                       dtype="float64")
    model.compile(optimizer=LBFGS(maxiter=200, gtol=1e-10, tol=0.0), loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    _, grad, _ = Problem(model, x, y).value_and_grad()
    assert np.linalg.norm(grad) < 1e-6
    w = model.layers[0].kernel.data
    assert np.linalg.norm(5.0 * w) > 1e-3  # the penalty's pull is real: the loss gradient is −λW
    # the exact ridge solution of (1/N)‖Xw + b − y‖² + (λ/2)‖w‖²
    xb = np.column_stack([x, np.ones(60)])
    reg = np.diag([5.0 * 60 / 2] * 3 + [0.0])
    exact = np.linalg.solve(xb.T @ xb + reg, xb.T @ y).ravel()
    np.testing.assert_allclose(np.r_[w.ravel(), model.layers[0].bias.data], exact, atol=1e-6)


def test_float32_model_is_supported() -> None:
    x = np.linspace(-np.pi, np.pi, 50).reshape(-1, 1)
    model = Sequential([Dense(8, activation="tanh", input_dim=1), Dense(1)], seed=0,
                       dtype="float32")  # given: second-order would choose float64
    model.compile(optimizer=LBFGS(maxiter=300), loss="mse")
    hist = model.fit(x, np.sin(x), epochs=2, verbose=0).history
    assert model.layers[0].kernel.data.dtype == np.float32 and hist["loss"][-1] < 1e-3


def test_options_are_validated_and_config_round_trips() -> None:
    opt = LBFGS(maxiter=7, tol=1e-6, history_size=4)
    assert LBFGS.from_config(opt.get_config()).get_config() == opt.get_config()
    for bad in ({"maxiter": 0}, {"history_size": 1.5}, {"max_fun": -3}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            LBFGS(**bad)
    with pytest.raises(ValueError, match="tol"):
        LBFGS(tol=-1.0)
    with pytest.raises(TypeError, match=r"model\.fit"):
        opt.step()


def test_defect_08_infinite_loss_is_a_stop_reason_not_convergence() -> None:
    """issue 11 #8: with float32 inputs times 1e20 the loss is infinite and L-BFGS-B
    reported "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL" (its gradient was the
    zeros we hand it for an inf value) while the weights never moved. Now the stop
    reason says the loss is not finite, and the weights are the finite initial ones."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)) * 1e20
    y = rng.normal(size=(20, 1))
    model = Sequential([Dense(4, "relu", input_dim=3), Dense(1)], seed=0, dtype="float32")
    model.compile(LBFGS(), "mse")
    model.build()
    initial = model.get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = model.fit(x, y, epochs=3, verbose=0)
    assert hist.stop_reason is not None and "PGTOL" not in hist.stop_reason
    assert "not finite" in hist.stop_reason and "initial weights" in hist.stop_reason
    assert len(hist.epoch) == 1
    for a, b in zip(initial, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_defect_08_loss_that_turns_infinite_restores_the_best_finite_point() -> None:
    """When the loss becomes non-finite after finite evaluations, the weights with the
    lowest finite loss of the epoch are restored and the stop reason gives it."""
    x = np.linspace(-1, 1, 30).reshape(-1, 1)
    y = np.sin(3 * x)
    model = _sine_model()
    model.compile(LBFGS(maxiter=20), "mse")
    calls = {"n": 0}
    original = Problem.value_and_grad

    def flaky(self: Problem) -> tuple[float, np.ndarray, np.ndarray]:
        value, grad, out = original(self)
        calls["n"] += 1
        return (np.inf if calls["n"] > 5 else value), grad, out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Problem, "value_and_grad", flaky)
        hist = model.fit(x, y, epochs=2, verbose=0)
    assert "restored the weights with the lowest finite loss" in (hist.stop_reason or "")
    loss = hist.history["loss"][-1]
    assert np.isfinite(loss)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), loss, rtol=1e-12)
    assert all(np.isfinite(w).all() for w in model.get_weights())
