"""Activations: values and gradients against PyTorch and finite differences; registry."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ffnn
from ffnn.nn import activations
from ffnn.nn.activations import ACTIVATIONS, ActivationFunction

KINKS = (-2.0, -1.0, 0.0, 1.0, 2.0)


def away_from_kinks(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 4.0):
    """Uniform points on [−scale, scale] at least 0.05 from every kink of the catalogue."""
    x = rng.uniform(-scale, scale, size=shape)
    for k in KINKS:
        close = np.abs(x - k) < 0.05
        x[close] = k + 0.1
    return x


def _hard_logistic_torch(x):
    return torch.clamp(0.25 * x + 0.5, 0.0, 1.0)


# (config, torch reference) — hard_logistic is compared with the notes' formula because
# F.hardsigmoid has slope 1/6.
CASES = [
    ({"name": "linear"}, lambda x: x),
    ({"name": "sigmoid"}, torch.sigmoid),
    ({"name": "tanh"}, torch.tanh),
    ({"name": "hard_logistic"}, _hard_logistic_torch),
    ({"name": "hard_tanh"}, TF.hardtanh),
    ({"name": "relu"}, TF.relu),
    ({"name": "leaky_relu"}, lambda x: TF.leaky_relu(x, 0.01)),
    ({"name": "leaky_relu", "gamma": 0.2}, lambda x: TF.leaky_relu(x, 0.2)),
    ({"name": "elu"}, TF.elu),
    ({"name": "elu", "gamma": 0.5}, lambda x: TF.elu(x, alpha=0.5)),
    ({"name": "softplus"}, TF.softplus),
    ({"name": "swish"}, TF.silu),
    ({"name": "swish", "beta": 2.5}, lambda x: x * torch.sigmoid(2.5 * x)),
    ({"name": "gelu"}, lambda x: TF.gelu(x, approximate="none")),
    ({"name": "gelu", "approximate": "tanh"}, lambda x: TF.gelu(x, approximate="tanh")),
    ({"name": "gelu", "mu": 0.5, "sigma": 2.0},
     lambda x: x * 0.5 * (1 + torch.erf((x - 0.5) / (2.0 * math.sqrt(2.0))))),
    ({"name": "gelu", "approximate": "tanh", "mu": -1.0, "sigma": 0.5},
     lambda x: x * 0.5 * (1 + torch.tanh(math.sqrt(2 / math.pi)
                                         * ((x + 1) / 0.5 + 0.044715 * ((x + 1) / 0.5) ** 3)))),
    ({"name": "abs"}, torch.abs),
    ({"name": "sign"}, torch.sign),
    ({"name": "step"}, lambda x: (x >= 0).double()),
    ({"name": "symmetric_step"}, lambda x: torch.where(x >= 0, 1.0, -1.0).double()),
    ({"name": "saturating_linear"}, lambda x: torch.clamp(x, 0.0, 1.0)),
    ({"name": "gaussian"}, lambda x: torch.exp(-x * x)),
    ({"name": "triangular"}, lambda x: TF.relu(1 - torch.abs(x))),
    ({"name": "softmax"}, lambda x: torch.softmax(x, dim=-1)),
    ({"name": "softmax", "axis": 0}, lambda x: torch.softmax(x, dim=0)),
]
IDS = ["-".join(str(v) for v in c.values()) for c, _ in CASES]
#: The reference of each activation with its default parameters (tests/nn/test_layers.py
#: checks Dense with every activation against these).
DEFAULT_REFERENCES = {c["name"]: ref for c, ref in CASES if len(c) == 1}


def test_every_registered_activation_has_a_row():
    """Guards the recipe 'an activation is its function and a row here': a registered
    activation without a row (with its default parameters) fails."""
    missing = set(ACTIVATIONS.names(aliases=False)) - set(DEFAULT_REFERENCES)
    assert not missing, f"no CASES row for {sorted(missing)}"


@pytest.mark.parametrize(("config", "reference"), CASES, ids=IDS)
def test_values_and_gradients_match_torch(config, reference, rng):
    x = away_from_kinks(rng, (6, 5))
    upstream = rng.standard_normal((6, 5))
    act = activations.get(config)
    xt = ffnn.Tensor(x, requires_grad=True)
    out = act(xt)
    out.backward(upstream)

    xr = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ref = reference(xr)
    if ref.requires_grad:
        (ref * torch.tensor(upstream)).sum().backward()
    ref_grad = np.zeros_like(x) if xr.grad is None else xr.grad.numpy()

    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    grad = np.zeros_like(x) if xt.grad is None else xt.grad
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("config", [c for c, _ in CASES], ids=IDS)
def test_gradients_match_finite_differences(config, rng):
    x = away_from_kinks(rng, (3, 4))
    ffnn.check_grads(activations.get(config), x)


@pytest.mark.parametrize("name", ACTIVATIONS.names(aliases=False))
def test_float32_stays_float32(name, rng):
    x = ffnn.Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    out = activations.get(name)(x)
    assert out.dtype == np.float32


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "elu", "softplus", "swish", "gelu",
                                  "softmax", "leaky_relu", "hard_logistic"])
def test_extreme_inputs_are_finite(name):
    """Guards against overflow in an unused branch (e.g. ELU's exp(1000)) poisoning the
    gradient with inf·0 = NaN, and against RuntimeWarnings (errors in this suite)."""
    x = ffnn.Tensor(np.array([[-1000.0, -50.0, 0.5, 50.0, 1000.0]]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = activations.get(name)(x)
        out.backward(np.ones_like(x.data))
    assert np.all(np.isfinite(out.data))
    assert np.all(np.isfinite(x.grad))


def test_elu_large_positive_gradient_is_one():
    x = ffnn.Tensor(np.array([1000.0, 3.0]), requires_grad=True)
    activations.get("elu")(x).backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_hard_logistic_is_the_notes_formula():
    x = np.array([-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0])
    out = activations.hard_logistic(ffnn.Tensor(x))
    np.testing.assert_allclose(out.data, [0, 0, 0.25, 0.5, 0.75, 1, 1])


def test_sign_has_zero_gradient():
    x = ffnn.Tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    out = activations.get("sign")(x)
    out.backward(np.ones(3))
    np.testing.assert_array_equal(out.data, [-1, 0, 1])
    np.testing.assert_array_equal(x.grad, [0, 0, 0])


def test_step_is_the_zero_one_threshold_not_sign():
    """Guards against ``step`` meaning the ±1 sign again (it was an alias of ``sign``
    before the McCulloch–Pitts 0/1 step existed): step(0) = 1, sign(0) = 0."""
    x = ffnn.Tensor(np.array([-2.0, -1e-300, 0.0, -0.0, 1e-300, 3.0]), requires_grad=True)
    out = activations.get("step")(x)
    out.backward(np.ones(6))
    np.testing.assert_array_equal(out.data, [0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(x.grad, np.zeros(6))
    np.testing.assert_array_equal(activations.get("sign")(x).data, [-1, -1, 0, 0, 1, 1])
    np.testing.assert_array_equal(activations.get("hardlims")(x).data, [-1, -1, 1, 1, 1, 1])


# MATLAB's transfer functions, written as in MATLAB's documentation (Algorithms sections of
# https://www.mathworks.com/help/deeplearning/ref/<name>.html), and ffnn's entry for each.
MATLAB = {
    "logsig": ("sigmoid", lambda n: 1 / (1 + np.exp(-n))),
    "tansig": ("tanh", lambda n: 2 / (1 + np.exp(-2 * n)) - 1),
    "purelin": ("linear", lambda n: n),
    "poslin": ("relu", lambda n: np.where(n >= 0, n, 0.0)),
    "satlin": ("saturating_linear",
               lambda n: np.where(n <= 0, 0.0, np.where(n <= 1, n, 1.0))),
    "satlins": ("hard_tanh", lambda n: np.where(n <= -1, -1.0, np.where(n <= 1, n, 1.0))),
    "hardlim": ("step", lambda n: np.where(n >= 0, 1.0, 0.0)),
    "hardlims": ("symmetric_step", lambda n: np.where(n >= 0, 1.0, -1.0)),
    "radbas": ("gaussian", lambda n: np.exp(-n * n)),
    "tribas": ("triangular", lambda n: np.where(np.abs(n) <= 1, 1 - np.abs(n), 0.0)),
}


@pytest.mark.parametrize("name", sorted(MATLAB))
def test_matlab_names_follow_matlab_formulas(name, rng):
    canonical, formula = MATLAB[name]
    assert ACTIVATIONS.canonical(name) == canonical
    n = np.concatenate([rng.uniform(-5, 5, 200), [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0],
                        [-40.0, 40.0]])
    out = activations.get(name)(ffnn.Tensor(n)).data
    # tansig and tanh agree to rounding ("mathematically equivalent", MATLAB's page says)
    np.testing.assert_allclose(out, formula(n), rtol=0, atol=4e-16)


@pytest.mark.parametrize("name", sorted(MATLAB))
def test_matlab_derivatives_match_finite_differences(name, rng):
    ffnn.check_grads(activations.get(name), away_from_kinks(rng, (5, 8)))


def test_each_matlab_name_is_registered_once_as_an_alias():
    """Every MATLAB name is an alias (not a second copy of a function) of one entry."""
    canonical = set(ACTIVATIONS.names(aliases=False))
    for name, (target, _) in MATLAB.items():
        assert name not in canonical
        assert ACTIVATIONS.lookup(name) is ACTIVATIONS.lookup(target)
    functions = [ACTIVATIONS.lookup(n) for n in canonical]
    assert len(set(map(id, functions))) == len(functions)


@pytest.mark.parametrize(
    ("name", "x", "grad"),
    [
        ("hard_logistic", [-2.0, 2.0], [0.25, 0.25]),
        ("hard_tanh", [-1.0, 1.0], [1.0, 1.0]),
        ("saturating_linear", [0.0, 1.0], [1.0, 1.0]),
        ("triangular", [-1.0, 0.0, 1.0], [0.0, 0.0, 0.0]),
        ("relu", [0.0], [0.0]),
        ("step", [0.0], [0.0]),
        ("abs", [0.0], [0.0]),
    ],
)
def test_derivative_at_kinks_is_what_the_docstring_states(name, x, grad):
    """Guards the docstrings' statements of the engine's value at each kink."""
    xt = ffnn.Tensor(np.array(x), requires_grad=True)
    activations.get(name)(xt).backward(np.ones(len(x)))
    np.testing.assert_array_equal(xt.grad, grad)


def test_gelu_defaults_are_bit_identical_to_the_standard_formula(rng):
    """Guards the standard GELU against any change from the μ, σ parameters."""
    from ffnn.autodiff import erf

    x = rng.standard_normal(1000) * 4
    for dtype in (np.float32, np.float64):
        xt = ffnn.Tensor(x.astype(dtype))
        expected = (xt * 0.5 * (erf(xt * (1 / math.sqrt(2))) + 1.0)).data
        for config in ("gelu", {"name": "gelu", "mu": 0.0, "sigma": 1.0}):
            np.testing.assert_array_equal(activations.get(config)(xt).data, expected)


def test_gelu_mu_sigma_is_x_times_the_normal_cdf(rng):
    from scipy.stats import norm

    x = rng.uniform(-6, 6, 300)
    out = activations.get({"name": "gelu", "mu": 1.5, "sigma": 0.7})(ffnn.Tensor(x)).data
    # 1 + erf(u/√2) cancels in the far left tail: absolute agreement there
    np.testing.assert_allclose(out, x * norm.cdf(x, loc=1.5, scale=0.7), rtol=1e-12,
                               atol=1e-14)


@pytest.mark.parametrize("params", [{"sigma": 0.0}, {"sigma": -1.0}, {"mu": math.inf}])
def test_gelu_rejects_bad_gaussians_when_bound(params):
    with pytest.raises(ValueError, match=r"gelu.*(sigma|mu)"):
        activations.get({"name": "gelu", **params})


# ------------------------------------------------------------------ registry and get
@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_every_name_resolves_and_round_trips(name, rng):
    act = activations.get(name)
    assert act.name == ACTIVATIONS.canonical(name)
    config = act.get_config()
    assert json.loads(json.dumps(config)) == config
    again = activations.get(config)
    assert again == act
    x = ffnn.Tensor(rng.standard_normal((2, 3)))
    np.testing.assert_array_equal(again(x).data, act(x).data)


def test_aliases_give_canonical_names():
    assert activations.get("logistic").name == "sigmoid"
    assert activations.get("STEP").name == "step"
    assert activations.get("hardlim").name == "step"


def test_get_accepts_objects_functions_and_none():
    act = ActivationFunction("leaky_relu", gamma=0.3)
    assert activations.get(act) is act
    assert activations.get(activations.relu).name == "relu"
    assert activations.get(None).name == "linear"
    assert activations.serialize({"name": "elu", "gamma": 2}) == {"name": "elu", "gamma": 2.0}


def test_parameters_are_kept_in_config():
    act = activations.get({"name": "leaky_relu", "gamma": 0.2})
    assert act.get_config() == {"name": "leaky_relu", "gamma": 0.2}
    x = ffnn.Tensor(np.array([-1.0, 1.0]))
    np.testing.assert_allclose(act(x).data, [-0.2, 1.0])


def test_plain_callable_is_wrapped_but_not_serialisable():
    def cube(x):
        return x * x * x

    act = activations.get(cube)
    assert act.name == "custom:cube" and act.is_custom
    np.testing.assert_allclose(act(ffnn.Tensor(np.array([2.0]))).data, [8.0])
    with pytest.raises(TypeError, match="cannot be serialised"):
        act.get_config()


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown activation 'rleu'") as info:
        activations.get("rleu")
    assert "relu" in str(info.value) and "leaky_relu" in str(info.value)


def test_wrong_parameter_name_is_explained():
    with pytest.raises(ValueError, match=r"unexpected parameter\(s\) 'alpha'; it takes: gamma"):
        activations.get({"name": "leaky_relu", "alpha": 0.2})
    with pytest.raises(ValueError, match="takes: no parameters"):
        activations.get({"name": "relu", "gamma": 0.2})


@pytest.mark.parametrize(
    ("config", "text"),
    [
        ({"name": "leaky_relu", "gamma": "big"}, "gamma must be float"),
        ({"name": "elu", "gamma": float("nan")}, "gamma must be float"),
        ({"name": "gelu", "approximate": "erf"}, "'none' or 'tanh'"),
        ({"name": "softmax", "axis": 1.5}, "axis must be int"),
        ({"gamma": 0.1}, "string 'name'"),
    ],
)
def test_bad_parameter_values_are_rejected(config, text):
    with pytest.raises(ValueError, match=text):
        activations.get(config)


def test_non_identifier_is_a_type_error():
    with pytest.raises(TypeError, match="cannot interpret 42 as an activation"):
        activations.get(42)
