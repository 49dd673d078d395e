"""Per-sample Jacobians (``model.jacobian``) and the flat parameter vector."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ffnn import RBF, Activation, Dense, Dropout, Maxout, PReLU, Sequential, Tensor
from ffnn.nn.layers import Layer
from ffnn.training.problem import Problem, output_jacobian
from ffnn.utils import flatten_params, unflatten_params

ARCHITECTURES = {
    "mixed": lambda: [Dense(4, activation="tanh", input_dim=3), PReLU(alpha_initializer=0.3),
                      Maxout(3, pieces=2), RBF(5, trainable_gamma=True),
                      Dense(2, activation="softmax")],
    "dense": lambda: [Dense(5, activation="sigmoid", input_dim=3), Activation("elu"),
                      Dense(4, activation="swish", use_bias=False), Dropout(0.5),
                      Dense(3, activation="softplus"), Dense(2)],
    "rbf": lambda: [RBF(6, gamma=0.5), Dense(1)],
    "gelu": lambda: [Dense(3, activation="gelu", input_dim=3), PReLU(),
                     Dense(2, activation="tanh")],
}


def _model(arch: str, seed: int = 0) -> Sequential:
    model = Sequential(ARCHITECTURES[arch](), seed=seed, dtype="float64")
    model.build(3)
    if arch == "mixed":  # PReLU slopes and inputs of both signs
        model.layers[1].alpha.data[:] = np.array([0.3, -0.2, 0.7, 0.1])
    return model


_TORCH_ACT = {
    "linear": lambda z: z, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "elu": torch.nn.functional.elu,
    "softplus": torch.nn.functional.softplus, "swish": lambda z: z * torch.sigmoid(z),
    "gelu": torch.nn.functional.gelu, "softmax": lambda z: torch.softmax(z, dim=-1),
}


def _torch_layer(layer: Layer, x: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
    if isinstance(layer, Dense):
        z = x @ p["kernel"].T + (p.get("bias", 0.0))
        return _TORCH_ACT[layer.activation.name](z)
    if isinstance(layer, Maxout):
        z = x @ p["kernel"].T + p["bias"]
        return z.reshape(-1, layer.units, layer.pieces).max(dim=-1).values
    if isinstance(layer, RBF):
        c = p["centers"]
        sq = (x * x).sum(1, keepdim=True) - 2.0 * x @ c.T + (c * c).sum(1)
        gamma = torch.exp(p["log_gamma"]) if "log_gamma" in p else layer.gamma
        return torch.exp(-sq.clamp(min=0.0) * gamma)
    if isinstance(layer, PReLU):
        return torch.where(x > 0, x, x * p["alpha"])
    if isinstance(layer, Activation):
        return _TORCH_ACT[layer.activation.name](x)
    return x  # Dropout at inference


def _torch_jacobian(model: Sequential, x: np.ndarray) -> np.ndarray:
    shapes = [(layer, name, p.data.shape) for layer in model.layers
              for name, p in layer.named_params.items()]

    def net(theta: torch.Tensor) -> torch.Tensor:
        params: dict[int, dict[str, torch.Tensor]] = {}
        start = 0
        for layer, name, shape in shapes:
            size = int(np.prod(shape))
            params.setdefault(id(layer), {})[name] = theta[start:start + size].reshape(shape)
            start += size
        a = torch.as_tensor(x)
        for layer in model.layers:
            a = _torch_layer(layer, a, params.get(id(layer), {}))
        return a

    theta = torch.as_tensor(flatten_params(model))
    jac = torch.func.jacrev(net)(theta)
    return jac.reshape(-1, theta.shape[0]).numpy()


def _fd_jacobian(model: Sequential, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    theta = flatten_params(model)
    cols = []
    for j in range(theta.size):
        outs = []
        for s in (eps, -eps):
            t = theta.copy()
            t[j] += s
            model.set_weights(unflatten_params(t, model))
            outs.append(model.predict(x).reshape(-1))
        cols.append((outs[0] - outs[1]) / (2 * eps))
    model.set_weights(unflatten_params(theta, model))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_jacobian_matches_torch_jacrev(arch: str, rng: np.random.Generator) -> None:
    model = _model(arch)
    x = rng.normal(size=(7, 3))
    jac = model.jacobian(x)
    assert jac.shape == (7 * model.output_shape[-1], model.count_params())
    np.testing.assert_allclose(jac, _torch_jacobian(model, x), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_jacobian_matches_finite_differences(arch: str, rng: np.random.Generator) -> None:
    model = _model(arch, seed=1)
    x = rng.normal(size=(5, 3))
    np.testing.assert_allclose(model.jacobian(x), _fd_jacobian(model, x), rtol=1e-5, atol=1e-7)


def test_residual_jacobian_is_minus_output_jacobian(rng: np.random.Generator) -> None:
    """r = y − ŷ, so ∂r/∂θ = −∂ŷ/∂θ; rows are sample-major."""
    model = _model("dense")
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    np.testing.assert_array_equal(model.jacobian(x, y), -model.jacobian(x))
    one = model.jacobian(x[2:3])
    np.testing.assert_allclose(model.jacobian(x)[4:6], one, rtol=1e-12, atol=1e-14)


def test_float32_model_gives_float32_jacobian(rng: np.random.Generator) -> None:
    model = Sequential([Dense(3, activation="tanh", input_dim=2), Dense(1)], seed=0)
    jac = model.jacobian(rng.normal(size=(6, 2)))
    assert jac.dtype == np.float32 and jac.shape == (6, 13)


def test_one_backward_pass_per_output_column(rng: np.random.Generator,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards against per-sample loops: the number of engine backward passes depends on
    the number of outputs (and layers), never on the number of samples."""
    calls = []
    original = Tensor.backward

    def counting(self: Tensor, *args: object, **kwargs: object) -> None:
        calls.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Tensor, "backward", counting)
    model = _model("dense")
    counts = []
    for n in (3, 60):
        calls.clear()
        output_jacobian(model, rng.normal(size=(n, 3)))
        counts.append(len(calls))
    assert counts[0] == counts[1] <= 2 * 5  # K = 2 columns, at most 5 nonlinear tapes


def test_dropout_in_training_mode_is_rejected(rng: np.random.Generator) -> None:
    model = Sequential([Dense(3, input_dim=2), Dropout(0.2), Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(5, 1))
    model.jacobian(x)  # inference: dropout is the identity
    with pytest.raises(ValueError, match="Dropout"):
        Problem(model, x.astype(np.float32), y.astype(np.float32))
    with pytest.raises(ValueError, match="Dropout"):
        output_jacobian(model, x, training=True)


def test_unknown_parametric_layer_is_rejected(rng: np.random.Generator) -> None:
    class Scale(Layer):
        def build(self, input_shape, rng, dtype=np.float32):  # type: ignore[no-untyped-def]
            self._params = {}
            self.s = self.add_param("s", np.ones(input_shape[-1], dtype=dtype))
            super().build(input_shape, rng, dtype)

        def call(self, x: Tensor, training: bool = False) -> Tensor:
            return x * self.s

    model = Sequential([Dense(2, input_dim=2), Scale()], seed=0)
    with pytest.raises(ValueError, match="Scale"):
        model.jacobian(rng.normal(size=(3, 2)))


def test_flatten_unflatten_round_trip() -> None:
    model = _model("mixed")
    theta = flatten_params(model)
    assert theta.shape == (model.count_params(),)
    assert theta[:12].reshape(4, 3).tolist() == model.layers[0].kernel.data.tolist()
    arrays = unflatten_params(theta * 2, model.params)
    for a, p in zip(arrays, model.params, strict=False):
        np.testing.assert_array_equal(a, 2 * p.data)
    with pytest.raises(ValueError, match="expected"):
        unflatten_params(theta[:-1], model)
    with pytest.raises(TypeError):
        flatten_params(3.0)


def test_rbf_jacobian_is_accurate_far_from_the_origin() -> None:
    """Guards against the ‖x‖² − 2xᵀc + ‖c‖² expansion, which cancels in float32 when the
    data sit far from the origin (Jacobian columns were off by up to 90%)."""
    rng = np.random.default_rng(0)
    x = 1000.0 + 0.3 * rng.standard_normal((6, 2))
    centers = 1000.0 + rng.uniform(-0.5, 0.5, (3, 2))
    jacs = []
    for dtype in ("float32", "float64"):
        model = Sequential([RBF(3, gamma=2.0, trainable_gamma=True), Dense(1)], seed=0,
                           dtype=dtype)
        model.build(2)
        weights = model.get_weights()
        weights[0] = centers.astype(dtype)
        model.set_weights(weights)
        jacs.append(model.jacobian(x.astype(dtype)))
    np.testing.assert_allclose(jacs[0], jacs[1], rtol=2e-3, atol=1e-4)
