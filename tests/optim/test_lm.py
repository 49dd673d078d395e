"""Levenberg–Marquardt and Bayesian regularisation (``ffnn.optimizers``)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import scipy.optimize

from ffnn import Dense, Sequential, regularizers
from ffnn.datasets import higham_points
from ffnn.optim import Adam
from ffnn.optim.lm import BayesianRegularization, LevenbergMarquardt, lm_step
from ffnn.training.callbacks import Callback, EarlyStopping
from ffnn.training.problem import Problem
from ffnn.utils import flatten_params

NORMAL = {"name": "normal", "stddev": 0.5}


def _higham(seed: int, dtype: str = "float64") -> Sequential:
    """The 2-2-3-2 sigmoid network of Higham & Higham, N(0, 0.5²) weights and biases."""
    sizes = (2, 3, 2)
    layers = [Dense(n, activation="sigmoid", kernel_initializer=NORMAL, bias_initializer=NORMAL,
                    **({"input_dim": 2} if i == 0 else {})) for i, n in enumerate(sizes)]
    model = Sequential(layers, seed=seed, dtype=dtype)
    model.build()
    return model


def _sin_data() -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(-np.pi, np.pi, 100).reshape(-1, 1)
    return x, np.sin(x)


def _problem(model: Sequential, opt: Any, x: np.ndarray, y: np.ndarray,
             loss: str = "sse") -> Problem:
    model.compile(optimizer=opt, loss=loss)
    model.prepare_training()
    return Problem(model, x.astype(model.dtype), y.astype(model.dtype))


# ----------------------------------------------------------------- the linear algebra
def test_woodbury_primal_and_dual_steps_agree(rng: np.random.Generator) -> None:
    """(JᵀJ + A)δ = Jᵀe − q solved as P×P and as m×m, for A = μI and a general diagonal."""
    from ffnn.optim.lm import _Linearization

    m, p = 6, 9
    jac, e, q = rng.normal(size=(m, p)), rng.normal(size=m), rng.normal(size=p)
    for a, qq in ((np.full(p, 1e-3), 0.0), (rng.uniform(0.1, 2.0, p), q)):
        g = jac.T @ e - qq
        primal = _Linearization(True, jac.T @ jac, jac.T @ e, np.zeros(p), 0.0, e, g=g)
        dual = _Linearization(False, jac @ jac.T, jac.T @ e, np.zeros(p), 0.0, e, jac=jac, e=e,
                              q=qq, g=g)
        direct = np.linalg.solve(jac.T @ jac + np.diag(a), g)
        np.testing.assert_allclose(lm_step(primal, a), direct, rtol=1e-10)
        np.testing.assert_allclose(lm_step(dual, a), direct, rtol=1e-10)
    # the notes' form δ = Jᵀ(JJᵀ + μI)⁻¹e, stable even for a tiny μ
    mu = 1e-14
    plain = _Linearization(False, jac @ jac.T, jac.T @ e, np.zeros(p), 0.0, e, jac=jac, e=e)
    expected = jac.T @ np.linalg.solve(jac @ jac.T + mu * np.eye(m), e)
    np.testing.assert_allclose(lm_step(plain, np.full(p, mu)), expected, rtol=1e-8)


def test_primal_and_dual_epochs_agree(rng: np.random.Generator) -> None:
    x, y = rng.uniform(size=(30, 2)), rng.uniform(size=(30, 2))
    weights = []
    for form in ("primal", "dual"):
        model = _higham(3)
        model.compile(optimizer=LevenbergMarquardt(form=form), loss="mse")
        model.fit(x, y, epochs=3, verbose=0, shuffle=False)
        weights.append(flatten_params(model))
    np.testing.assert_allclose(weights[0], weights[1], rtol=1e-8, atol=1e-10)


def test_dual_form_when_parameters_outnumber_residuals() -> None:
    """23 parameters, 20 residuals: MINPACK's LM refuses; ours takes the dual form."""
    x, y = higham_points()
    model = _higham(0)
    assert model.count_params() == 23
    with pytest.raises(ValueError, match="residuals"):
        scipy.optimize.least_squares(lambda t: t[:20], np.zeros(23), method="lm")
    model.compile(optimizer=LevenbergMarquardt(), loss="sse")
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# ------------------------------------------------------------- Higham & Higham problem
@pytest.mark.parametrize("update", ["trainlm", "nielsen"])
def test_higham_problem_most_starts_reach_tiny_sse(update: str) -> None:
    x, y = higham_points()
    solved = 0
    for seed in range(10):
        model = _higham(seed)
        model.compile(optimizer=LevenbergMarquardt(goal=1e-6, update=update), loss="sse")
        model.fit(x, y, epochs=100, verbose=0)
        sse = float(np.sum((model.predict(x) - y) ** 2))
        classified = bool(np.all(model.predict(x).argmax(axis=1) == y.argmax(axis=1)))
        solved += sse <= 1e-6 and classified
    assert solved >= 7


def test_lm_fits_sine_in_far_fewer_epochs_than_adam() -> None:
    x, y = _sin_data()
    model = Sequential([Dense(10, activation="tanh", input_dim=1), Dense(1)], seed=3,
                       dtype="float64")
    model.compile(optimizer=LevenbergMarquardt(goal=1e-5), loss="mse")
    history = model.fit(x, y, epochs=300, verbose=0)
    assert history.history["loss"][-1] <= 1e-5
    assert "goal" in (model.stop_reason or "")
    lm_epochs = len(history.history["loss"])
    assert lm_epochs <= 250
    for lr in (0.003, 0.01, 0.03):
        adam = Sequential([Dense(10, activation="tanh", input_dim=1), Dense(1)], seed=3,
                          dtype="float64")
        adam.compile(optimizer=Adam(learning_rate=lr), loss="mse")
        losses = adam.fit(x, y, epochs=4 * lm_epochs, batch_size=None, verbose=0).history["loss"]
        assert min(losses) > 1e-5


# ----------------------------------------------------------------- mechanics
def test_chunked_accumulation_equals_unchunked(rng: np.random.Generator) -> None:
    x = rng.normal(size=(53, 3))
    y = np.column_stack([np.sin(x.sum(1)), np.cos(x[:, 0])])
    weights = []
    for chunk in (None, 7, 1):
        model = Sequential([Dense(4, activation="tanh", input_dim=3), Dense(2)], seed=2,
                           dtype="float64")
        model.compile(optimizer=LevenbergMarquardt(chunk_size=chunk, form="primal"), loss="mse")
        model.fit(x, y, epochs=2, verbose=0, shuffle=False,
                  sample_weight=np.linspace(0.5, 2.0, 53))
        weights.append(flatten_params(model))
    np.testing.assert_allclose(weights[1], weights[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights[2], weights[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rejected_step_leaves_parameters_bit_identical(seed: int) -> None:
    """Guards against restoring θ from a float64 copy (or θ + δ − δ): a rejected trial
    must put back exactly the bits that were there (float32 model)."""
    x, y = higham_points()
    model = _higham(seed, dtype="float32")
    opt = LevenbergMarquardt(mu=1e-9, max_retries=1)  # a Gauss–Newton step that overshoots
    problem = _problem(model, opt, x, y)
    before = model.get_weights()
    loss, _ = opt.step_problem(problem)
    assert opt.current_mu == pytest.approx(1e-8)  # the step was rejected
    for a, b in zip(before, model.get_weights(), strict=False):
        assert a.tobytes() == b.tobytes()
    assert loss == pytest.approx(float(np.sum((model.predict(x) - y) ** 2)), rel=1e-5)


class _Poison(Callback):
    """Writes NaN into a weight at the end of one epoch and records the weights there."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.snapshot: list[np.ndarray] = []

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if epoch == self.epoch:
            self.snapshot = self.model.get_weights()
            self.model.layers[0].kernel.data[0, 0] = np.nan


def test_nan_residuals_stop_training_and_restore_best_weights() -> None:
    x, y = higham_points()
    model = _higham(0)
    model.compile(optimizer=LevenbergMarquardt(), loss="sse")
    poison = _Poison(epoch=3)
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[poison])
    assert len(history.history["loss"]) == 5
    assert "non-finite" in (model.stop_reason or "") and "restored" in model.stop_reason
    for a, b in zip(poison.snapshot, model.get_weights(), strict=False):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(history.history["loss"][-1])


def test_other_losses_are_rejected_with_the_accepted_list(rng: np.random.Generator) -> None:
    """Rejected when compiled, before any training, naming the losses LM accepts."""
    model = Sequential([Dense(1, activation="sigmoid", input_dim=2)], seed=0)
    for loss in ("binary_crossentropy", "mae", "hinge"):
        with pytest.raises(ValueError, match=r"accepts: mse, quadratic, sse"):
            model.compile(optimizer=LevenbergMarquardt(), loss=loss)
    with pytest.raises(ValueError, match=r"accepts: mse, quadratic, sse"):
        model.compile(optimizer="trainbr", loss="categorical_crossentropy")


def test_history_and_stopping_criteria(rng: np.random.Generator) -> None:
    x, y = _sin_data()

    def fit(**options: Any) -> tuple[Sequential, Any]:
        model = Sequential([Dense(5, activation="tanh", input_dim=1), Dense(1)], seed=0,
                           dtype="float64")
        model.compile(optimizer=LevenbergMarquardt(**options), loss="quadratic")
        return model, model.fit(x, y, epochs=400, verbose=0).history

    model, hist = fit(goal=1e-3)
    assert {"loss", "mu", "gradient_norm"} <= set(hist)
    assert hist["loss"][-1] <= 1e-3 < hist["loss"][0] and model.stop_reason.startswith("loss goal")
    assert all(b <= a for a, b in zip(hist["loss"], hist["loss"][1:], strict=False))
    model, hist = fit(min_grad=1e-2)
    assert "min_grad" in model.stop_reason and hist["gradient_norm"][-1] <= 1e-2
    model, hist = fit(mu_max=1e-1, mu_inc=1e3)
    assert "mu_max" in model.stop_reason


def test_gradient_norm_includes_the_l2_penalty(rng: np.random.Generator) -> None:
    x, y = rng.normal(size=(40, 2)), rng.normal(size=(40, 1))
    model = Sequential([Dense(4, activation="tanh", input_dim=2,
                              kernel_regularizer=regularizers.l2(0.5)), Dense(1)], seed=0,
                       dtype="float64")
    model.build()
    model.compile(optimizer=LevenbergMarquardt(), loss="mse")
    model.prepare_training()
    _, grad, _ = Problem(model, x, y).value_and_grad()
    hist = model.fit(x, y, epochs=5, verbose=0, shuffle=False).history
    assert hist["gradient_norm"][0] == pytest.approx(np.linalg.norm(grad), rel=1e-8)
    assert hist["loss"][-1] < hist["loss"][0]


def test_validation_and_early_stopping_restore_best(rng: np.random.Generator) -> None:
    x = rng.uniform(-1, 1, (40, 1))
    y = np.sin(3 * x) + 0.3 * rng.normal(size=x.shape)
    xv = rng.uniform(-1, 1, (40, 1))
    yv = np.sin(3 * xv)
    model = Sequential([Dense(30, activation="tanh", input_dim=1), Dense(1)], seed=0,
                       dtype="float64")
    model.compile(optimizer=LevenbergMarquardt(), loss="mse")
    stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    hist = model.fit(x, y, epochs=200, verbose=0, validation_data=(xv, yv), callbacks=[stop])
    assert "val_loss" in hist.history and stop.best_epoch is not None
    assert model.evaluate(xv, yv, verbose=0) == pytest.approx(min(hist.history["val_loss"]))


_MEMORY_SCRIPT = """
import resource
import numpy as np
from ffnn import Dense, Sequential
from ffnn.optim.lm import LevenbergMarquardt
rng = np.random.default_rng(0)
x = rng.normal(size=(200_000, 8))
y = np.tanh(x[:, :1] - x[:, 1:2])
model = Sequential([Dense(50, activation="tanh", input_dim=8), Dense(1)], seed=0)
model.build()
model.compile(optimizer=LevenbergMarquardt(), loss="mse")
loss = model.fit(x, y, epochs=1, verbose=0, shuffle=False).history["loss"][0]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:  # ru_maxrss inherits the parent's peak through exec on Linux; VmHWM is this image's
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(model.count_params(), loss / float(np.var(y)), peak)
"""


def test_memory_is_bounded_by_chunking() -> None:
    """200,000 samples × 501 parameters: J alone would take 400 MB in float32 and 800 MB
    in float64; the chunked accumulation keeps the whole process far below the 2 GB
    budget (peak resident memory of a fresh interpreter: /proc's VmHWM, because Linux
    hands a child the parent's ru_maxrss across exec, which made this test depend on
    what the pytest worker had run before)."""
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    n_params, relative_loss, peak_kib = int(out[0]), float(out[1]), int(out[2])
    assert n_params == 501
    assert relative_loss < 0.5
    assert peak_kib * 1024 < 700e6


def test_state_dict_round_trip_and_options() -> None:
    x, y = higham_points()
    model = _higham(1)
    opt = LevenbergMarquardt(update="nielsen", marquardt_scaling=True)
    model.compile(optimizer=opt, loss="sse")
    model.fit(x, y, epochs=3, verbose=0)
    other = LevenbergMarquardt.from_config(opt.get_config())
    other.build(model.params)
    other.load_state_dict(opt.state_dict())
    assert other.current_mu == opt.current_mu and other.nu == opt.nu
    assert other.get_config() == opt.get_config()
    for bad in ({"mu": 0.0}, {"mu_dec": 1.5}, {"mu_inc": 0.5}, {"form": "qr"},
                {"update": "fast"}, {"chunk_size": 0}, {"max_retries": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            LevenbergMarquardt(**bad)
    with pytest.raises(TypeError, match=r"model\.fit"):
        opt.step()


# -------------------------------------------------------------- Bayesian regularisation
def _noisy_sine() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-1, 1, 30)).reshape(-1, 1)
    y = np.sin(np.pi * x) + 0.2 * rng.standard_normal(x.shape)
    xt = np.linspace(-1, 1, 200).reshape(-1, 1)
    return x, y, xt, np.sin(np.pi * xt)


@pytest.mark.parametrize("seed", [0, 1])
def test_bayesian_regularisation_beats_plain_lm_on_noisy_data(seed: int) -> None:
    """61 parameters for 30 noisy points: plain LM fits the noise, BR does not."""
    x, y, xt, yt = _noisy_sine()
    errors, hists = {}, {}
    for opt in (LevenbergMarquardt(), BayesianRegularization(), LevenbergMarquardt(bayesian=True)):
        model = Sequential([Dense(20, activation="tanh", input_dim=1), Dense(1)], seed=seed,
                           dtype="float64")
        model.compile(optimizer=opt, loss="sse")
        hists[opt.name, opt.bayesian] = model.fit(x, y, epochs=200, verbose=0).history
        errors[opt.name, opt.bayesian] = float(np.mean((model.predict(xt) - yt) ** 2))
    assert errors["br", True] < 0.5 * errors["lm", False]
    assert errors["br", True] == pytest.approx(errors["lm", True], rel=1e-6)
    gamma = hists["br", True]["gamma"]
    assert {"alpha", "beta", "gamma"} <= set(hists["br", True])
    assert 2.0 < gamma[-1] < 15.0  # far fewer effective parameters than 61


def test_bayesian_rejects_layer_penalties(rng: np.random.Generator) -> None:
    model = Sequential([Dense(3, input_dim=2, kernel_regularizer=regularizers.l2(0.1)), Dense(1)],
                       seed=0)
    model.compile(optimizer=BayesianRegularization(), loss="mse")
    with pytest.raises(ValueError, match="kernel_regularizer"):
        model.fit(rng.normal(size=(10, 2)), rng.normal(size=(10, 1)), epochs=1, verbose=0)


def test_each_fit_starts_a_new_run() -> None:
    """Guards against LM keeping μ and its stop reason across fit calls, so that after a
    μ-limit stop every later fit did nothing (MATLAB's train also restarts μ)."""
    x, y = _sin_data()
    model = Sequential([Dense(5, activation="tanh", input_dim=1), Dense(1)], seed=0,
                       dtype="float64")
    model.compile(optimizer=LevenbergMarquardt(mu=1.0, mu_max=0.5), loss="mse")
    first = model.fit(x, y, epochs=5, verbose=0)
    assert "mu_max" in first.stop_reason
    model.optimizer.mu_max = 1e10
    second = model.fit(x, y, epochs=5, verbose=0)
    assert len(second.epoch) == 5 and second.stop_reason is None
    assert second.history["mu"][0] <= 1.0


def test_bayesian_weights_act_like_repeated_rows() -> None:
    """Guards against Bayesian regularisation counting residuals instead of Σw as N."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (30, 1))
    y = np.sin(3 * x) + 0.1 * rng.standard_normal((30, 1))
    reps = rng.integers(1, 4, 30)

    def fit(xs, ys, sw):
        model = Sequential([Dense(6, activation="tanh", input_dim=1), Dense(1)], seed=1,
                           dtype="float64")
        model.compile(optimizer=BayesianRegularization(), loss="sse")
        history = model.fit(xs, ys, epochs=5, verbose=0, sample_weight=sw)
        return model.get_weights(), history.history["gamma"]

    w1, g1 = fit(x, y, reps.astype(float))
    w2, g2 = fit(np.repeat(x, reps, axis=0), np.repeat(y, reps, axis=0), None)
    np.testing.assert_allclose(g1, g2, rtol=1e-6)
    for a, b in zip(w1, w2, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
