"""Layers: values and gradients against PyTorch and finite differences (float64);
whole networks: the gradient of the full objective (loss + L2 penalties); parameter
counts, configs, the LAYERS registry, argument validation and dtypes."""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ffnn
from ffnn import RBF, Activation, Dense, Dropout, Maxout, PReLU, Sequential
from ffnn.nn.activations import ACTIVATIONS
from ffnn.nn.layers import LAYERS, MapMinMax, MapStd, RemoveConstantRows

F64 = np.float64
KINKS = (-2.0, -1.0, 0.0, 1.0, 2.0)  # every kink of the activation catalogue
UNIFORM = {"name": "uniform", "minval": -1.0, "maxval": 1.0}


# ----------------------------------------------------------------------- helpers
def build(layer, n_in: int, seed: int = 0, dtype=F64):
    """Build ``layer`` for ``n_in`` features with a seeded generator; return it."""
    layer.build((None, n_in), np.random.default_rng(seed), dtype)
    return layer


def inputs_away_from_kinks(rng, pre, n: int, n_in: int, margin: float = 0.05, scale=2.0):
    """Inputs x (n, n_in) whose values ``pre(x)`` lie at least ``margin`` from every kink.

    Offending rows are redrawn, so the result is seeded and kink-free.
    """
    x = rng.uniform(-scale, scale, size=(n, n_in))
    for _ in range(200):
        z = pre(x)
        bad = np.any(np.min(np.abs(z[..., None] - np.array(KINKS)), axis=-1) < margin, axis=1)
        if not bad.any():
            return x
        x[bad] = rng.uniform(-scale, scale, size=(int(bad.sum()), n_in))
    raise RuntimeError("could not draw kink-free inputs")


def run_ffnn(layer, x, upstream, names):
    """Forward and backward through ``layer``; return the output and the gradients of
    the input and of the named parameters."""
    xt = ffnn.Tensor(x, requires_grad=True)
    out = layer(xt)
    out.backward(upstream)
    grads = [np.zeros_like(x) if xt.grad is None else xt.grad]
    for name in names:
        p = layer.named_params[name]
        grads.append(np.zeros_like(p.data) if p.grad is None else p.grad)
    return out, grads


def run_torch(fn, upstream, *arrays):
    """Forward ``fn`` on float64 torch copies of ``arrays``; backward ``upstream``."""
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*ts)
    if out.requires_grad:
        (out * torch.tensor(upstream)).sum().backward()
    grads = [np.zeros(a.shape) if t.grad is None else t.grad.numpy() for a, t in zip(
        arrays, ts, strict=True)]
    return out.detach().numpy(), grads


def assert_matches(ours, theirs, grads, ref_grads, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(ours.data, theirs, rtol=rtol, atol=atol)
    for g, r in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol)


def through_layer(layer, attrs):
    """f(x, *params) applying ``layer`` with its parameter attributes replaced, for
    ``check_grads`` (the layer is restored after every call)."""

    def f(x, *params):
        saved = [getattr(layer, a) for a in attrs]
        for a, p in zip(attrs, params, strict=True):
            setattr(layer, a, p)
        try:
            return layer(x)
        finally:
            for a, p in zip(attrs, saved, strict=True):
                setattr(layer, a, p)

    return f


# --------------------------------------------------------------- Dense: every activation
def _activation_references():
    """The activation table of tests/nn/test_activations.py (one row per activation)."""
    path = Path(__file__).with_name("test_activations.py")
    spec = importlib.util.spec_from_file_location("_activation_cases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DEFAULT_REFERENCES


TORCH_ACTIVATIONS = _activation_references()
# Parametrised variants, an alias and the composed route of fused names.
EXTRA_ACTIVATIONS = [
    ({"name": "leaky_relu", "gamma": 0.2}, lambda z: TF.leaky_relu(z, 0.2)),
    ({"name": "elu", "gamma": 0.5}, lambda z: TF.elu(z, alpha=0.5)),
    ({"name": "swish", "beta": 2.5}, lambda z: z * torch.sigmoid(2.5 * z)),
    ({"name": "gelu", "approximate": "tanh"}, lambda z: TF.gelu(z, approximate="tanh")),
    ({"name": "softmax", "axis": -1}, lambda z: torch.softmax(z, dim=-1)),
    ("logistic", torch.sigmoid),
]
DENSE_CASES = [(name, TORCH_ACTIVATIONS[name]) for name in ACTIVATIONS.names(aliases=False)]
DENSE_CASES += EXTRA_ACTIVATIONS
DENSE_IDS = [c if isinstance(c, str) else "-".join(map(str, c.values())) for c, _ in DENSE_CASES]


def test_every_activation_has_a_torch_reference():
    """Guards against a new activation that the Dense tests below would silently skip."""
    assert set(TORCH_ACTIVATIONS) == set(ACTIVATIONS.names(aliases=False))


def _dense_setup(activation, seed=0, n=6, n_in=3, units=4, use_bias=True):
    layer = build(
        Dense(units, activation=activation, use_bias=use_bias, bias_initializer=UNIFORM), n_in,
        seed,
    )
    rng = np.random.default_rng(seed + 100)
    w = layer.kernel.data
    b = layer.bias.data if use_bias else 0.0
    x = inputs_away_from_kinks(rng, lambda x: x @ w.T + b, n, n_in)
    upstream = rng.standard_normal((n, units))
    return layer, x, upstream


@pytest.mark.parametrize(("activation", "reference"), DENSE_CASES, ids=DENSE_IDS)
def test_dense_matches_torch(activation, reference):
    layer, x, upstream = _dense_setup(activation)
    out, grads = run_ffnn(layer, x, upstream, ["kernel", "bias"])
    ref, ref_grads = run_torch(
        lambda x, w, b: reference(TF.linear(x, w, b)), upstream, x, layer.kernel.data,
        layer.bias.data,
    )
    assert out.dtype == F64 and out.shape == (6, 4)
    assert_matches(out, ref, grads, ref_grads)


@pytest.mark.parametrize(("activation", "reference"), DENSE_CASES, ids=DENSE_IDS)
def test_dense_check_grads(activation, reference):
    layer, x, _ = _dense_setup(activation, seed=1, n=5)
    ffnn.check_grads(through_layer(layer, ["kernel", "bias"]), x, layer.kernel.data,
                     layer.bias.data)


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh"])
def test_dense_fused_and_composed_routes_agree(activation):
    """The fused ``dense`` primitive and the composed linear → activation route (a
    wrapped callable is never fused) give the same values and gradients."""
    fn = getattr(ffnn.activations, activation)
    fused, x, upstream = _dense_setup(activation, seed=2)
    composed, _, _ = _dense_setup(lambda z: fn(z), seed=2)
    np.testing.assert_array_equal(fused.kernel.data, composed.kernel.data)
    out_f, grads_f = run_ffnn(fused, x, upstream, ["kernel", "bias"])
    out_c, grads_c = run_ffnn(composed, x, upstream, ["kernel", "bias"])
    assert_matches(out_f, out_c.data, grads_f, grads_c, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("activation", ["tanh", "gelu"])
def test_dense_without_bias(activation):
    layer, x, upstream = _dense_setup(activation, seed=3, use_bias=False)
    assert layer.bias is None and list(layer.named_params) == ["kernel"]
    out, grads = run_ffnn(layer, x, upstream, ["kernel"])
    ref, ref_grads = run_torch(lambda x, w: TORCH_ACTIVATIONS[activation](TF.linear(x, w)),
                               upstream, x, layer.kernel.data)
    assert_matches(out, ref, grads, ref_grads)


def test_dense_parameters_follow_the_notes_convention():
    layer = build(Dense(4, kernel_regularizer=ffnn.regularizers.l2(0.3)), 3, seed=5)
    assert layer.kernel.shape == (4, 3) and layer.bias.shape == (4,)
    assert list(layer.named_params) == ["kernel", "bias"]
    assert layer.params == [layer.kernel, layer.bias]
    assert all(p.requires_grad for p in layer.params)
    np.testing.assert_array_equal(layer.bias.data, 0.0)
    assert layer.compute_output_shape((None, 3)) == (None, 4)
    pen = layer.regularization_loss()
    np.testing.assert_allclose(pen.data, 0.15 * np.sum(layer.kernel.data ** 2), rtol=1e-14)
    assert build(Dense(4), 3).regularization_loss() is None


# --------------------------------------------------------------------------- Maxout
def _maxout_torch(units, pieces):
    def fn(x, w, b):
        return TF.linear(x, w, b).view(x.shape[0], units, pieces).amax(-1)

    return fn


@pytest.mark.parametrize(("units", "pieces"), [(2, 3), (3, 2), (1, 4), (2, 1)])
def test_maxout_matches_torch_and_finite_differences(units, pieces):
    layer = build(Maxout(units, pieces=pieces, bias_initializer=UNIFORM), 4, seed=units)
    assert layer.kernel.shape == (units * pieces, 4) and layer.bias.shape == (units * pieces,)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 4))
    upstream = rng.standard_normal((5, units))
    out, grads = run_ffnn(layer, x, upstream, ["kernel", "bias"])
    ref, ref_grads = run_torch(_maxout_torch(units, pieces), upstream, x, layer.kernel.data,
                               layer.bias.data)
    assert out.shape == (5, units)
    assert layer.compute_output_shape((None, 4)) == (None, units)
    assert_matches(out, ref, grads, ref_grads)
    ffnn.check_grads(through_layer(layer, ["kernel", "bias"]), x, layer.kernel.data,
                     layer.bias.data)


def test_maxout_pieces_are_consecutive_rows():
    """Rows i·k … i·k + k − 1 of the kernel belong to unit i (the documented layout)."""
    layer = build(Maxout(2, pieces=3), 2)
    layer.kernel.data[:] = 0.0
    layer.bias.data[:] = [1.0, 5.0, 2.0, -1.0, -3.0, -2.0]
    out = layer(np.zeros((1, 2)))
    np.testing.assert_array_equal(out.data, [[5.0, -1.0]])


def test_maxout_regularizer():
    layer = build(Maxout(2, kernel_regularizer=ffnn.regularizers.l2(0.2)), 3)
    np.testing.assert_allclose(layer.regularization_loss().data,
                               0.1 * np.sum(layer.kernel.data ** 2), rtol=1e-14)
    assert build(Maxout(2), 3).regularization_loss() is None


# ------------------------------------------------------------------------------ RBF
def _rbf_torch(x, c, log_gamma):
    sq = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    return torch.exp(-torch.exp(log_gamma) * sq)


@pytest.mark.parametrize("trainable", [False, True])
@pytest.mark.parametrize("gamma", [1.0, 0.3])
def test_rbf_matches_torch_and_finite_differences(trainable, gamma):
    layer = build(RBF(4, gamma=gamma, trainable_gamma=trainable), 3, seed=11)
    names = ["centers", "log_gamma"] if trainable else ["centers"]
    assert list(layer.named_params) == names
    rng = np.random.default_rng(12)
    if trainable:
        np.testing.assert_allclose(layer.log_gamma.data, np.log(gamma))
        layer.log_gamma.data[:] = np.log(gamma) + rng.uniform(-0.5, 0.5, 4)
        log_gamma = layer.log_gamma.data
    else:
        log_gamma = np.full(4, np.log(gamma))
    x = rng.uniform(-1.0, 1.0, (6, 3))
    upstream = rng.standard_normal((6, 4))
    out, grads = run_ffnn(layer, x, upstream, names)
    ref, ref_grads = run_torch(_rbf_torch, upstream, x, layer.centers.data, log_gamma)
    assert out.shape == (6, 4) and layer.compute_output_shape((None, 3)) == (None, 4)
    assert_matches(out, ref, grads, ref_grads[: len(grads)])
    ffnn.check_grads(through_layer(layer, names), x, *(p.data for p in layer.params))


def test_rbf_is_one_at_its_centre_and_default_centres_lie_in_the_unit_box():
    layer = build(RBF(5, gamma=2.0), 3, seed=4)
    c = layer.centers.data
    assert np.all(np.abs(c) <= 1.0) and np.ptp(c) > 0.5
    out = layer(c.copy()).data
    np.testing.assert_allclose(np.diag(out), 1.0, rtol=1e-12)
    d2 = np.sum((c[:, None] - c[None]) ** 2, axis=-1)
    np.testing.assert_allclose(out, np.exp(-2.0 * d2), rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------- PReLU
def test_prelu_matches_torch_and_finite_differences():
    layer = build(PReLU(), 5)
    np.testing.assert_array_equal(layer.alpha.data, 0.25)
    assert layer.alpha.shape == (5,) and list(layer.named_params) == ["alpha"]
    rng = np.random.default_rng(21)
    layer.alpha.data[:] = rng.uniform(-0.5, 0.9, 5)
    x = inputs_away_from_kinks(rng, lambda x: x, 7, 5)
    upstream = rng.standard_normal((7, 5))
    out, grads = run_ffnn(layer, x, upstream, ["alpha"])
    ref, ref_grads = run_torch(TF.prelu, upstream, x, layer.alpha.data)
    assert_matches(out, ref, grads, ref_grads)
    ffnn.check_grads(through_layer(layer, ["alpha"]), x, layer.alpha.data)


def test_prelu_initial_slope():
    layer = build(PReLU(alpha_initializer=0.1), 3)
    np.testing.assert_array_equal(layer.alpha.data, 0.1)
    np.testing.assert_allclose(layer(np.array([[-2.0, 0.0, 3.0]])).data, [[-0.2, 0.0, 3.0]])


# -------------------------------------------------------------------------- Dropout
def test_dropout_is_the_identity_at_inference():
    layer = build(Dropout(0.5), 4)
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_array_equal(layer(x).data, x)
    np.testing.assert_array_equal(layer(x, training=False).data, x)
    assert layer.params == [] and layer.count_params() == 0
    np.testing.assert_array_equal(build(Dropout(0.0), 4)(x, training=True).data, x)


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.75])
def test_dropout_training_zeroes_rate_and_rescales(rate):
    layer = build(Dropout(rate), 100, seed=3)
    x = np.full((200, 100), 2.0)
    out = layer(x, training=True).data
    dropped = out == 0.0
    # 20 000 Bernoulli draws: the standard error of the share is below 0.0035.
    assert abs(dropped.mean() - rate) < 0.015
    np.testing.assert_allclose(out[~dropped], 2.0 / (1.0 - rate), rtol=1e-15)
    assert abs(out.mean() - 2.0) < 0.1  # inverted dropout keeps the expectation


def test_dropout_masks_are_reproducible_for_a_seeded_build_and_change_per_call():
    x = np.ones((20, 30))
    a, b = build(Dropout(0.5), 30, seed=8), build(Dropout(0.5), 30, seed=8)
    first = a(x, training=True).data
    np.testing.assert_array_equal(first, b(x, training=True).data)
    second = a(x, training=True).data
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(second, b(x, training=True).data)
    other = build(Dropout(0.5), 30, seed=9)(x, training=True).data
    assert not np.array_equal(first, other)


def test_dropout_gradient_flows_only_through_kept_units():
    layer = build(Dropout(0.4), 8, seed=5)
    rng = np.random.default_rng(6)
    x = rng.uniform(0.5, 1.5, (10, 8))
    upstream = rng.standard_normal((10, 8))
    xt = ffnn.Tensor(x, requires_grad=True)
    out = layer(xt, training=True)
    out.backward(upstream)
    kept = out.data != 0.0
    assert 0 < kept.sum() < kept.size
    np.testing.assert_allclose(xt.grad, np.where(kept, upstream / 0.6, 0.0), rtol=1e-15)


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_dropout_rate_validation(rate):
    with pytest.raises(ValueError, match=f"rate.*{rate!r}"):
        Dropout(rate)


# ----------------------------------------------------------------------- Activation
ACTIVATION_LAYER_CASES = [
    (("relu",), {}, TF.relu),
    (("leaky_relu",), {"gamma": 0.2}, lambda x: TF.leaky_relu(x, 0.2)),
    (("elu",), {"gamma": 0.7}, lambda x: TF.elu(x, alpha=0.7)),
    (("gelu",), {"approximate": "tanh"}, lambda x: TF.gelu(x, approximate="tanh")),
    (("softmax",), {}, lambda x: torch.softmax(x, dim=-1)),
    (("hard_logistic",), {}, TORCH_ACTIVATIONS["hard_logistic"]),
    ((), {}, lambda x: x),
]


@pytest.mark.parametrize(("args", "params", "reference"), ACTIVATION_LAYER_CASES,
                         ids=lambda v: str(v) if not callable(v) else "ref")
def test_activation_layer_matches_torch(args, params, reference):
    layer = build(Activation(*args, **params), 4)
    assert layer.params == [] and layer.count_params() == 0
    assert layer.compute_output_shape((None, 4)) == (None, 4)
    rng = np.random.default_rng(31)
    x = inputs_away_from_kinks(rng, lambda x: x, 5, 4, scale=3.0)
    upstream = rng.standard_normal((5, 4))
    out, grads = run_ffnn(layer, x, upstream, [])
    ref, ref_grads = run_torch(reference, upstream, x)
    assert_matches(out, ref, grads, ref_grads)
    ffnn.check_grads(lambda t: layer(t), x)


def test_activation_layer_keeps_its_parameters():
    layer = Activation("leaky_relu", gamma=0.2)
    assert layer.activation.params == {"gamma": 0.2}
    assert layer.get_config()["activation"] == {"name": "leaky_relu", "gamma": 0.2}
    with pytest.raises(TypeError):
        Activation(ffnn.activations.leaky_relu, gamma=0.2)
    with pytest.raises(ValueError, match="slope"):
        Activation("leaky_relu", slope=0.2)


# ---------------------------------------------------------------- whole networks
NETWORK_HEADS = [
    ("categorical_crossentropy", "softmax"),
    ("mse", "linear"),
    ("binary_crossentropy", "sigmoid"),
    ("mse", "sigmoid"),
]
LAM = 0.1


def _network(loss, head, lam=LAM, seed=0):
    reg = ffnn.regularizers.l2(lam) if lam else None
    model = Sequential(
        [
            Dense(5, activation="tanh", input_dim=3, kernel_regularizer=reg),
            PReLU(),
            Dropout(0.5),
            Maxout(4, pieces=2),
            RBF(3, gamma=0.5, trainable_gamma=True),
            Dense(4, activation="gelu", kernel_regularizer=reg),
            Dense(3, activation=head, kernel_regularizer=reg),
        ],
        dtype="float64",
        seed=seed,
    )
    model.compile(optimizer="sgd", loss=loss)
    model.build(3)
    # Non-zero biases and slopes so that every parameter's gradient is exercised.
    rng = np.random.default_rng(seed + 1)
    model.set_weights([w + 0.3 * rng.standard_normal(w.shape) for w in model.get_weights()])
    return model


def _data(loss, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((8, 3))
    if loss == "categorical_crossentropy":
        y = np.eye(3)[rng.integers(0, 3, 8)]
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, (8, 3)).astype(F64)
    else:
        y = rng.uniform(0.1, 0.9, (8, 3))
    return x, y


def _objective_and_grads(model, x, y):
    model.prepare_training()
    for p in model.params:
        p.grad = None
    objective, _ = model.objective(x, y, None, training=False)
    objective.backward()
    return float(objective.data), [p.grad.copy() for p in model.params]


def _torch_network(model, x, y, loss, head, lam=LAM):
    """The same network, penalty included, in PyTorch; returns the objective and the
    gradients in ``model.params`` order."""
    leaves = [torch.tensor(p.data, requires_grad=True) for p in model.params]
    it = iter(leaves)
    h = torch.tensor(x)
    penalty = torch.zeros((), dtype=torch.float64)
    for layer in model.layers:
        if isinstance(layer, Dense):
            w, b = next(it), next(it)
            z = TF.linear(h, w, b)
            penalty = penalty + 0.5 * lam * (w * w).sum()
            h = {
                "tanh": torch.tanh, "gelu": TF.gelu, "linear": lambda z: z,
                "sigmoid": torch.sigmoid, "softmax": lambda z: torch.softmax(z, -1),
            }[layer.activation.name](z)
        elif isinstance(layer, PReLU):
            h = TF.prelu(h, next(it))
        elif isinstance(layer, Maxout):
            h = _maxout_torch(layer.units, layer.pieces)(h, next(it), next(it))
        elif isinstance(layer, RBF):
            h = _rbf_torch(h, next(it), next(it))
        else:
            assert isinstance(layer, Dropout)
    yt = torch.tensor(y)
    if loss == "categorical_crossentropy":
        value = -(yt * torch.log(h)).sum(-1).mean()
    elif loss == "binary_crossentropy":
        value = TF.binary_cross_entropy(h, yt)
    else:
        value = ((h - yt) ** 2).mean()
    objective = value + penalty
    objective.backward()
    return float(objective.detach()), [t.grad.numpy() for t in leaves]


@pytest.mark.parametrize(("loss", "head"), NETWORK_HEADS)
def test_network_objective_gradient_by_central_differences(loss, head):
    model = _network(loss, head)
    x, y = _data(loss)
    value, grads = _objective_and_grads(model, x, y)
    params = model.params
    # Dense 3→5, PReLU 5, Maxout 5→4×2, RBF 4→3 with γ, Dense 3→4, Dense 4→3
    n_params = (3 + 1) * 5 + 5 + (5 + 1) * 8 + (4 + 1) * 3 + (3 + 1) * 4 + (4 + 1) * 3
    assert sum(p.data.size for p in params) == model.count_params() == n_params == 119
    eps = 1e-6
    for p, g in zip(params, grads, strict=True):
        numeric = np.empty(p.data.shape)
        for idx in np.ndindex(p.data.shape):  # perturbs the parameter in place
            orig = p.data[idx]
            p.data[idx] = orig + eps
            plus = float(model.objective(x, y, None, training=False)[0].data)
            p.data[idx] = orig - eps
            minus = float(model.objective(x, y, None, training=False)[0].data)
            p.data[idx] = orig
            numeric[idx] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)
    # The objective is unchanged by the perturbations and matches the public path.
    assert _objective_and_grads(model, x, y)[0] == value
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=None), value, rtol=1e-12)


@pytest.mark.parametrize(("loss", "head"), NETWORK_HEADS)
def test_network_objective_matches_torch(loss, head):
    model = _network(loss, head, seed=4)
    x, y = _data(loss, seed=5)
    value, grads = _objective_and_grads(model, x, y)
    ref, ref_grads = _torch_network(model, x, y, loss, head)
    np.testing.assert_allclose(value, ref, rtol=1e-12)
    for g, r in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-12)


def test_l2_penalty_is_half_lambda_squared_kernels_and_spares_biases():
    """Guards against a penalty without the ½, one that includes biases or one that
    counts a layer twice: regularised minus plain objective is (λ/2)Σ‖W‖² and the
    gradient difference is λW on Dense kernels and 0 elsewhere."""
    plain, penalised = _network("mse", "linear", lam=0.0), _network("mse", "linear")
    x, y = _data("mse")
    v0, g0 = _objective_and_grads(plain, x, y)
    v1, g1 = _objective_and_grads(penalised, x, y)
    kernels = [lay.kernel for lay in penalised.layers if isinstance(lay, Dense)]
    expected = 0.5 * LAM * sum(float(np.sum(k.data ** 2)) for k in kernels)
    np.testing.assert_allclose(v1 - v0, expected, rtol=1e-12)
    for p, a, b in zip(penalised.params, g0, g1, strict=True):
        want = LAM * p.data if any(p is k for k in kernels) else 0.0
        np.testing.assert_allclose(b - a, want, rtol=1e-10, atol=1e-13)



def test_objective_of_a_softmax_over_another_axis_is_not_fused():
    """Guards against the fused logits path silently replacing softmax(axis=0) by a
    softmax over the last axis: the objective must be the loss of the model's output."""
    model = Sequential([Dense(3, activation={"name": "softmax", "axis": 0}, input_dim=3)],
                       dtype="float64", seed=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = _data("categorical_crossentropy")
    direct = ffnn.losses.get("categorical_crossentropy")(y, ffnn.Tensor(model.predict(x)))
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=None), direct.data, rtol=1e-10)

# ------------------------------------------------------------------------- counts
def _dense_stack(sizes, activation="sigmoid"):
    layers = [Dense(sizes[1], activation=activation, input_dim=sizes[0])]
    layers += [Dense(m, activation=activation) for m in sizes[2:]]
    model = Sequential(layers, seed=0)
    model.build()
    return model


@pytest.mark.parametrize("sizes", [(2, 2, 3, 2), (4, 7, 5, 1), (10, 1), (3, 8, 8, 8, 2)])
def test_dense_stack_count_params(sizes):
    expected = sum((m + 1) * n for m, n in itertools.pairwise(sizes))
    model = _dense_stack(sizes)
    assert model.count_params() == expected == sum(p.data.size for p in model.params)


def test_higham_network_has_23_parameters():
    assert _dense_stack((2, 2, 3, 2)).count_params() == 23


@pytest.mark.parametrize(
    ("layer", "n_in", "expected"),
    [
        (Maxout(3, pieces=4), 5, 3 * 4 * (5 + 1)),
        (RBF(6), 4, 24),
        (RBF(6, trainable_gamma=True), 4, 30),
        (PReLU(), 7, 7),
        (Dense(3, use_bias=False), 5, 15),
        (Dense(3), 5, 18),
        (Dropout(0.2), 5, 0),
        (Activation("tanh"), 5, 0),
    ],
    ids=lambda v: repr(v) if not isinstance(v, int) else str(v),
)
def test_layer_count_params(layer, n_in, expected):
    assert build(layer, n_in).count_params() == expected


# ------------------------------------------------------------ configs and registry
def _all_layers():
    return [
        Dense(4, activation="relu", name="d"),
        Dense(4, activation={"name": "leaky_relu", "gamma": 0.3}, input_dim=3, use_bias=False,
              kernel_initializer="he_normal", kernel_regularizer=ffnn.regularizers.l2(0.01)),
        Dense(4, activation="gelu", bias_initializer=UNIFORM),
        Activation("leaky_relu", gamma=0.2),
        Activation("softmax"),
        Dropout(0.3, name="drop"),
        Maxout(3, pieces=3, bias_initializer=UNIFORM,
               kernel_regularizer=ffnn.regularizers.l1(0.1)),
        RBF(4, gamma=0.5, trainable_gamma=True),
        RBF(2, centers_initializer={"name": "normal", "stddev": 0.5}),
        PReLU(alpha_initializer=0.1),
        MapMinMax(x_min=[-1.0, 0.0, 2.0], x_max=[1.0, 0.0, 5.0]),
        MapStd(mean=[0.5, -1.0, 2.0], std=[2.0, 0.0, 0.25], invert=True, y_std=2.0),
        RemoveConstantRows(keep=[0, 2], n_inputs=3),
    ]


@pytest.mark.parametrize("layer", _all_layers(), ids=repr)
def test_config_round_trip(layer):
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = LAYERS.lookup(type(layer).__name__).from_config(json.loads(json.dumps(config)))
    assert type(clone) is type(layer) and not clone.built
    assert clone.get_config() == config
    build(layer, 3, seed=13)
    build(clone, 3, seed=13)
    for (n1, p1), (n2, p2) in zip(layer.named_params.items(), clone.named_params.items(),
                                  strict=True):
        assert n1 == n2
        np.testing.assert_array_equal(p1.data, p2.data)
    x = np.random.default_rng(14).standard_normal((5, 3))
    np.testing.assert_array_equal(layer(x).data, clone(x).data)
    np.testing.assert_array_equal(layer(x, training=True).data, clone(x, training=True).data)


def test_every_registered_layer_is_in_the_tables():
    """Guards the recipe 'a layer is its file, its registry entry and its tests': a
    registered layer missing from _all_layers() escapes the config, parameter-count and
    Jacobian checks below, so it fails here."""
    assert {type(layer).__name__.lower() for layer in _all_layers()} == set(LAYERS.names())


@pytest.mark.parametrize("layer", _all_layers(), ids=repr)
def test_parameter_count_is_what_build_allocates(layer):
    """Layer.parameter_count (what model files check before building) is exact."""
    expected = layer.parameter_count(3)
    assert build(layer, 3).count_params() == expected


@pytest.mark.parametrize("layer", _all_layers(), ids=repr)
def test_linearize_gives_per_sample_gradients(layer):
    """Layer.linearize's rule equals, sample by sample, the tape's gradient of ⟨gₙ, outₙ⟩
    with respect to the parameters and the input."""
    build(layer, 3, seed=5)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3))
    out, rule = layer.linearize(x)
    g = rng.standard_normal(out.shape)
    grads, dx = rule(g, True)
    params = list(layer.named_params.values())
    assert len(grads) == len(params)
    for n in range(len(x)):
        xn = ffnn.Tensor(x[n : n + 1], requires_grad=True)
        for p in params:
            p.grad = None
        (layer(xn) * g[n : n + 1]).sum().backward()
        for got, p in zip(grads, params, strict=True):
            np.testing.assert_allclose(got[n], p.grad.reshape(-1), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dx[n], xn.grad[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out, layer(x).data, rtol=1e-12)


def test_layers_registry():
    for cls in (Dense, Activation, Dropout, Maxout, RBF, PReLU):
        assert ffnn.layers.get(cls.__name__) is cls
        assert ffnn.layers.get(cls.__name__.lower()) is cls
    with pytest.raises(ValueError, match="conv2d") as err:
        ffnn.layers.get("conv2d")
    for name in LAYERS.names():
        assert name in str(err.value)


# ------------------------------------------------------------------ validation
def test_output_dim_is_deprecated_in_favour_of_units():
    with pytest.warns(DeprecationWarning, match="units"):
        layer = Dense(output_dim=64)
    assert layer.units == 64
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="output_dim=4"):
        Dense(3, output_dim=4)


@pytest.mark.parametrize(
    ("factory", "shown"),
    [
        (lambda: Dense(0), "0"),
        (lambda: Dense(-3), "-3"),
        (lambda: Dense(2.5), "2.5"),
        (lambda: Dense(True), "True"),
        (lambda: Dense(4, input_dim=0), "0"),
        (lambda: Maxout(0), "0"),
        (lambda: Maxout(2, pieces=0), "0"),
        (lambda: RBF(0), "0"),
        (lambda: RBF(3, gamma=0.0), "0.0"),
        (lambda: RBF(3, gamma=-1.5), "-1.5"),
        (lambda: Dropout(1.0), "1.0"),
        (lambda: Dense(4, activation="relux"), "relux"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_value(factory, shown):
    with pytest.raises(ValueError, match=shown.replace(".", r"\.")):
        factory()


def test_rbf_rejects_infinite_gamma():
    with pytest.raises(ValueError, match="inf"):
        RBF(3, gamma=float("inf"))


def test_dense_needs_units():
    with pytest.raises(ValueError, match="units"):
        Dense()


def test_wrong_feature_count_against_input_dim():
    with pytest.raises(ValueError, match=r"input_dim=4.*5 features"):
        build(Dense(3, input_dim=4), 5)
    model = Sequential([Dense(3, input_dim=4)], seed=0)
    with pytest.raises(ValueError, match="4"):
        model.build(5)


def test_wrong_feature_count_at_call_time_and_non_2d_shapes():
    layer = build(Dense(3), 4)
    with pytest.raises(ValueError, match="5 features"):
        layer(np.zeros((2, 5)))
    for cls in (lambda: Dense(3), lambda: Maxout(2), lambda: RBF(2), PReLU):
        with pytest.raises(ValueError, match=r"\(batch, features\)"):
            cls().build((None, 2, 3), np.random.default_rng(0), F64)


def test_unbuilt_layer_refuses_to_run():
    with pytest.raises(RuntimeError, match="not built"):
        Dense(3, name="late")(np.zeros((1, 2)))


# ------------------------------------------------------------------------ dtype
@pytest.mark.parametrize(
    "factory",
    [
        lambda: Dense(3, activation="relu"),
        lambda: Dense(3, activation="sigmoid"),
        lambda: Dense(3, activation="gelu"),
        lambda: Dense(3, activation="softmax"),
        lambda: Dense(3, activation={"name": "elu", "gamma": 0.5}),
        lambda: Activation("swish"),
        lambda: Dropout(0.5),
        lambda: Maxout(2, pieces=3),
        lambda: RBF(3, trainable_gamma=True),
        PReLU,
    ],
)
def test_float32_layers_give_float32_outputs_and_gradients(factory):
    layer = build(factory(), 4, seed=0, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in layer.params)
    x = ffnn.Tensor(np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32),
                    requires_grad=True)
    out = layer(x, training=True)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert x.grad is not None and x.grad.dtype == np.float32
    for p in layer.params:
        assert p.grad is not None and p.grad.dtype == np.float32
    assert math.isfinite(float(np.sum(out.data)))
