"""predict(x, return_std=True) for br/lm models: MacKay's evidence approximation.

The constants are proved by calibration: on a noisy 1-D function with known noise,
95% intervals cover 88–99% of fresh noisy samples (averaged over seeds), the noise part
matches the true noise variance (a factor 2 in β would miss it), and σ grows away from
the training inputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn import Dense, Sequential
from ffnn.utils import flatten_params

NOISE = 0.1


def _truth(x: np.ndarray) -> np.ndarray:
    return np.sin(3.0 * x)


def _trained(seed: int, optimizer: str = "br", n: int = 100, hidden: int = 8) -> tuple[
        Sequential, np.random.Generator]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 1))
    y = _truth(x) + NOISE * rng.normal(size=x.shape)
    model = Sequential([Dense(hidden, activation="tanh"), Dense(1)], seed=seed, dtype="float64")
    model.compile(optimizer, "mse")
    model.fit(x, y, epochs=150, verbose=0)
    return model, rng


@pytest.mark.parametrize("optimizer", ["br", "lm"])
def test_95_percent_intervals_are_calibrated(optimizer: str) -> None:
    coverage, noise_var = [], []
    for seed in range(6):
        model, rng = _trained(seed, optimizer)
        x = rng.uniform(-1, 1, (3000, 1))
        y = _truth(x) + NOISE * rng.normal(size=x.shape)
        mean, std = model.predict(x, return_std=True)
        assert std.shape == mean.shape == (3000, 1)
        coverage.append(np.mean(np.abs(y - mean) <= 1.96 * std))
        noise_var.append(np.median(std[np.abs(x) < 0.5] ** 2))
    assert 0.88 <= np.mean(coverage) <= 0.99, coverage
    # σ² ≈ the noise variance amid the data: 1/β instead of 1/(2β) would double it
    assert 0.7 * NOISE**2 <= np.mean(noise_var) <= 1.4 * NOISE**2, noise_var


@pytest.mark.parametrize("optimizer", ["br", "lm"])
def test_std_grows_away_from_the_training_inputs(optimizer: str) -> None:
    model, _ = _trained(0, optimizer)
    x = np.array([[0.0], [0.5], [1.5], [2.5], [4.0]])
    _, std = model.predict(x, return_std=True)
    s = std.ravel()
    assert s[0] < 1.5 * NOISE and s[1] < 1.5 * NOISE
    assert s[1] < s[2] < s[3] < s[4]
    assert s[4] > 3 * s[0]


def test_bayesian_noise_term_is_one_over_two_beta() -> None:
    """Hand check of the constants at a training input far from nothing: σ² − gᵀA⁻¹g
    is exactly 1/(2β) with A = 2βJᵀJ + 2αI computed here independently."""
    model, _ = _trained(1)
    ev = model.evidence
    alpha, beta = ev.alpha, ev.beta
    jac = model.jacobian(ev.x)  # residual Jacobian: −∂ŷ/∂θ, the same JᵀJ
    a = 2 * beta * jac.T @ jac + 2 * alpha * np.eye(jac.shape[1])
    x = np.array([[0.3], [2.0]])
    g = model.jacobian(x)
    want = 1 / (2 * beta) + np.einsum("ij,ij->i", g @ np.linalg.inv(a), g)
    _, std = model.predict(x, return_std=True)
    np.testing.assert_allclose(std.ravel() ** 2, want, rtol=1e-8)


def test_one_factorisation_is_reused_until_the_weights_change(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = _trained(2)
    calls = []
    eigh = np.linalg.eigh

    def counting(a: Any) -> Any:
        calls.append(a.shape)
        return eigh(a)

    monkeypatch.setattr(np.linalg, "eigh", counting)
    x = np.linspace(-1, 1, 7)[:, None]
    first = model.predict(x, return_std=True)[1]
    again = model.predict(x[::-1], return_std=True)[1]
    p = len(flatten_params(model))
    assert calls == [(p, p)]
    np.testing.assert_allclose(first[::-1], again, rtol=1e-12)
    model.set_weights([w * 1.01 for w in model.get_weights()])
    model.predict(x, return_std=True)
    assert len(calls) == 2


def test_models_without_the_evidence_say_why() -> None:
    x = np.linspace(-1, 1, 20)[:, None]
    adam = Sequential([Dense(3, activation="tanh", input_dim=1), Dense(1)], seed=0)
    adam.compile("adam", "mse")
    adam.fit(x, x, epochs=2, verbose=0)
    with pytest.raises(ValueError, match="'br'"):
        adam.predict(x, return_std=True)
    with pytest.raises(ValueError, match="return_std must be true or false"):
        adam.predict(x, return_std="yes")
    lm = Sequential([Dense(30, activation="tanh", input_dim=1), Dense(1)], seed=0,
                    dtype="float64")
    lm.compile("lm", "mse")
    lm.fit(x, x, epochs=2, verbose=0)
    with pytest.raises(ValueError, match="more residuals"):
        lm.predict(x, return_std=True)


def test_mlpregressor_br_returns_std_like_bayesian_ridge() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (100, 1))
    y = _truth(x[:, 0]) + NOISE * rng.normal(size=100)
    reg = ffnn.MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", solver="br",
                            max_iter=150, tol=0.0, random_state=0).fit(x, y)
    mean, std = reg.predict(np.array([[0.2], [3.0]]), return_std=True)
    assert mean.shape == std.shape == (2,)
    np.testing.assert_array_equal(mean, reg.predict(np.array([[0.2], [3.0]])))
    assert std[0] < 1.5 * NOISE < 3 * NOISE < std[1]
