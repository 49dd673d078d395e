"""Tests of ffnn.training.diagnostics: dead ReLUs, saturated units, gradient norms, callback."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import ffnn
from ffnn import diagnostics


def _dead_relu_model(separate_activation: bool) -> ffnn.Sequential:
    """4 ReLU units on 3 inputs: units 0 and 2 have bias −100 (dead for |x| ≤ 1), unit 1
    is active on part of the data only, unit 3 always."""
    if separate_activation:
        layers = [ffnn.Dense(4, input_dim=3), ffnn.Dropout(0.5), ffnn.Activation("relu")]
    else:
        layers = [ffnn.Dense(4, activation="relu", input_dim=3)]
    model = ffnn.Sequential([*layers, ffnn.Dense(1)], seed=0, dtype="float64")
    model.build()
    w1 = np.array([[0.5, 0.5, 0.5], [1.0, 0.0, 0.0], [-0.5, 0.2, 0.1], [0.1, 0.1, 0.1]])
    b1 = np.array([-100.0, 0.0, -100.0, 5.0])
    model.set_weights([w1, b1, np.ones((1, 4)), np.zeros(1)])
    return model


@pytest.mark.parametrize("separate_activation", [False, True])
def test_dead_relu_share_is_exact(rng: np.random.Generator, separate_activation: bool) -> None:
    """Dense(activation="relu") and Dense + Activation("relu") are both recognised (the
    second reported under the Dense layer's name, through a Dropout)."""
    model = _dead_relu_model(separate_activation)
    x = rng.uniform(-1, 1, size=(50, 3))
    result = diagnostics.report(model, x)
    entry = result["dense"]
    assert entry.activation == "relu"
    assert entry.hidden
    assert entry.units == 4
    assert entry.dead_units == (0, 2)
    assert entry.dead_share == 0.5
    assert entry.saturated_share is None
    assert entry.grad_norm is None  # no targets, no gradients
    assert result.to_logs() == {"dead_relu/dense": 0.5}
    assert "2/4 (50%)" in str(result)
    assert result.layers[-1].name == "dense_1" and not result.layers[-1].hidden


def test_a_unit_active_on_one_sample_is_not_dead() -> None:
    model = _dead_relu_model(False)
    x = np.zeros((10, 3))
    x[3, 0] = 0.5  # only sample 3 switches unit 1 on
    assert diagnostics.report(model, x)["dense"].dead_units == (0, 2)
    assert diagnostics.report(model, x[:3])["dense"].dead_units == (0, 1, 2)


def _big_weight_model(activation: str, separate: bool = False) -> ffnn.Sequential:
    """Units 0 and 1 get weights 100 (|z| ≥ 10 for |x| ≥ 0.1); unit 2 weight 0.1."""
    first = (
        [ffnn.Dense(3, input_dim=2), ffnn.Activation(activation)]
        if separate
        else [ffnn.Dense(3, activation=activation, input_dim=2)]
    )
    model = ffnn.Sequential([*first, ffnn.Dense(1, activation="sigmoid")], seed=1,
                            dtype="float64")
    model.build()
    w1 = np.array([[100.0, 0.0], [0.0, -100.0], [0.1, 0.0]])
    model.set_weights([w1, np.zeros(3), 100 * np.ones((1, 3)), np.zeros(1)])
    return model


def _far_from_zero(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(0.1, 1.0, size=(n, 2)) * rng.choice([-1.0, 1.0], size=(n, 2))


@pytest.mark.parametrize("activation", ["sigmoid", "logistic", "tanh", "hard_logistic",
                                        "hard_tanh", "saturating_linear", "satlin",
                                        "satlins"])
def test_huge_weights_saturate_units(rng: np.random.Generator, activation: str) -> None:
    result = diagnostics.report(_big_weight_model(activation), _far_from_zero(rng, 40))
    entry = result["dense"]
    assert entry.saturated_units == (0, 1)
    assert entry.saturated_share == pytest.approx(2 / 3)
    assert entry.dead_share is None
    # the output layer is saturated too, but it is not a hidden layer
    assert result["dense_1"].saturated_share is None
    assert set(result.to_logs()) == {"saturated/dense"}


def test_saturation_through_an_activation_layer(rng: np.random.Generator) -> None:
    result = diagnostics.report(_big_weight_model("tanh", separate=True),
                                _far_from_zero(rng, 40))
    assert result["dense"].saturated_units == (0, 1)
    assert [e.name for e in result.layers] == ["dense", "dense_1"]


def test_fraction_and_tol_define_saturation() -> None:
    """Unit 0 is saturated on exactly half the samples; unit 2's output is σ(0.1·x₀)."""
    model = _big_weight_model("sigmoid")
    x = np.array([[1.0, 1.0], [-1.0, 1.0], [0.001, 1.0], [-0.001, 1.0]])
    assert diagnostics.report(model, x)["dense"].saturated_units == (1,)
    assert diagnostics.report(model, x, fraction=0.5)["dense"].saturated_units == (0, 1)
    # unit 2 on samples 0-1: σ(±0.1) = 0.5 ± 0.025, within tol = 0.48 of an asymptote
    # but not within 0.47 (and unit 0's σ(±0.1) on samples 2-3 likewise)
    assert diagnostics.report(model, x, tol=0.48)["dense"].saturated_units == (0, 1)
    both = diagnostics.report(model, x, tol=0.48, fraction=0.5)["dense"]
    assert both.saturated_units == (0, 1, 2)
    assert diagnostics.report(model, x, tol=0.47, fraction=0.5)["dense"].saturated_units == (0, 1)


@pytest.mark.parametrize(("kwargs", "bad"), [({"tol": -0.1}, "-0.1"), ({"tol": 0.5}, "0.5"),
                                              ({"fraction": 0.0}, "0.0"),
                                              ({"fraction": 1.5}, "1.5")])
def test_bad_options_are_named(kwargs: dict[str, float], bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        diagnostics.report(_big_weight_model("tanh"), np.ones((2, 2)), **kwargs)


def _numpy_gradients(weights: list[np.ndarray], x: np.ndarray,
                     y: np.ndarray) -> list[np.ndarray]:
    """Backprop by hand (the notes' matrix form) for sigmoid hidden layers, a linear
    output and L = mean((y − ŷ)²)."""
    acts = [x]
    for k in range(0, len(weights) - 2, 2):
        acts.append(1 / (1 + np.exp(-(acts[-1] @ weights[k].T + weights[k + 1]))))
    out = acts[-1] @ weights[-2].T + weights[-1]
    delta = 2 * (out - y) / y.size
    grads: list[np.ndarray] = []
    for k in range(len(weights) - 2, -1, -2):
        a = acts[k // 2]
        grads = [delta.T @ a, delta.sum(axis=0), *grads]
        delta = (delta @ weights[k]) * a * (1 - a)
    return grads


def test_gradient_norms_equal_a_hand_computed_backward_pass(rng: np.random.Generator) -> None:
    model = ffnn.Sequential([ffnn.Dense(5, activation="sigmoid", input_dim=3),
                             ffnn.Dense(4, activation="sigmoid"), ffnn.Dense(2)],
                            seed=3, dtype="float64")
    model.compile("sgd", "mse")
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    model.build()
    sentinel = np.full((5, 3), 7.0)
    model.params[0].grad = sentinel
    result = diagnostics.report(model, x, y)
    grads = _numpy_gradients(model.get_weights(), x, y)
    for i, name in enumerate(["dense", "dense_1", "dense_2"]):
        entry = result[name]
        assert entry.kernel_grad_norm == pytest.approx(np.linalg.norm(grads[2 * i]), rel=1e-10)
        assert entry.bias_grad_norm == pytest.approx(np.linalg.norm(grads[2 * i + 1]), rel=1e-10)
        expected = math.hypot(np.linalg.norm(grads[2 * i]), np.linalg.norm(grads[2 * i + 1]))
        assert entry.grad_norm == pytest.approx(expected, rel=1e-10)
    assert result.loss == pytest.approx(model.evaluate(x, y))
    assert model.params[0].grad is sentinel  # the parameters' gradients are left alone
    assert all(p.grad is None for p in model.params[1:])


def test_gradient_norms_shrink_toward_the_input_in_a_deep_sigmoid_stack(
    rng: np.random.Generator,
) -> None:
    """Vanishing gradients: σ' ≤ ¼ shrinks the backpropagated signal at every layer."""
    model = ffnn.Sequential(
        [ffnn.Dense(8, activation="sigmoid", input_dim=8) for _ in range(6)] + [ffnn.Dense(1)],
        seed=0, dtype="float64",
    )
    model.compile("sgd", "mse")
    result = diagnostics.report(model, rng.normal(size=(64, 8)), rng.normal(size=(64, 1)))
    norms = [e.grad_norms["kernel"] for e in result.layers]
    assert all(a < b for a, b in itertools.pairwise(norms)), norms
    assert norms[0] < 1e-2 * norms[5]


def test_report_needs_a_compiled_model_for_gradients() -> None:
    model = ffnn.Sequential([ffnn.Dense(2, activation="relu", input_dim=2), ffnn.Dense(1)])
    with pytest.raises(RuntimeError, match="compile"):
        diagnostics.report(model, np.ones((3, 2)), np.ones((3, 1)))


def test_callback_adds_the_diagnostics_to_the_history(rng: np.random.Generator) -> None:
    x = rng.normal(size=(40, 2))
    y = (x[:, :1] * x[:, 1:] > 0).astype(float)
    model = ffnn.Sequential([ffnn.Dense(6, activation="relu", input_dim=2),
                             ffnn.Dense(4), ffnn.Activation("tanh"),
                             ffnn.Dense(1, activation="sigmoid")], seed=0)
    model.compile(ffnn.optimizers.Adam(learning_rate=0.01), "binary_crossentropy")
    cb = diagnostics.DiagnosticsCallback(x[:16], y[:16])
    assert issubclass(diagnostics.DiagnosticsCallback, ffnn.callbacks.Callback)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, seed=0, callbacks=[cb])
    keys = {"dead_relu/dense", "saturated/dense_1", "grad_norm/dense", "grad_norm/dense_1",
            "grad_norm/dense_2"}
    assert keys <= set(history.history)
    for key in keys:
        assert len(history.history[key]) == 3
        assert all(math.isfinite(v) for v in history.history[key])
    assert [epoch for epoch, _ in cb.reports] == [0, 1, 2]
    final = diagnostics.report(model, x[:16], y[:16]).to_logs()
    assert {k: history.history[k][-1] for k in keys} == pytest.approx(final)


def test_callback_every_logs_nan_between_diagnosed_epochs(rng: np.random.Generator) -> None:
    x = rng.normal(size=(20, 2))
    model = ffnn.Sequential([ffnn.Dense(3, activation="relu", input_dim=2), ffnn.Dense(1)],
                            seed=0)
    model.compile("sgd", "mse")
    cb = diagnostics.DiagnosticsCallback(x, every=2)
    history = model.fit(x, x[:, :1], epochs=5, verbose=0, callbacks=[cb])
    series = history.history["dead_relu/dense"]
    assert [math.isnan(v) for v in series] == [False, True, False, True, False]
    assert "grad_norm/dense" not in history.history  # no targets given to the callback


@pytest.mark.parametrize("every", [0, -1, 1.5, True])
def test_callback_rejects_a_bad_period(every: object) -> None:
    with pytest.raises(ValueError, match="every"):
        diagnostics.DiagnosticsCallback(np.ones((2, 2)), every=every)
