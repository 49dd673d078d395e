"""Optimisers: hand-computed steps, agreement with torch.optim, clipping, state, registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import ffnn
from ffnn.optim import (
    OPTIMIZERS,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    CosineDecay,
    FullBatchOptimizer,
    Nadam,
    Optimizer,
    RMSprop,
    Rprop,
    StepDecay,
    get,
)

# ----------------------------------------------------------------- helpers

_RNG = np.random.default_rng(20240607)
_A = _RNG.normal(size=(3, 3))
_A = _A @ _A.T + np.eye(3)  # SPD: a quadratic in W
_C = _RNG.normal(size=(3, 4))
_D = _RNG.normal(size=4)
_INIT = [_RNG.normal(size=(3, 4)), _RNG.normal(size=4)]


def _grads(values: list[np.ndarray], k: int) -> list[np.ndarray]:
    """Deterministic gradients of a quadratic in W and a non-linear, drifting term in b."""
    w, b = values
    return [_A @ w - _C, np.tanh(3.0 * b) - _D + 0.05 * k]


def _run_ffnn(
    opt: Optimizer,
    init: list[np.ndarray],
    steps: int,
    skip: frozenset[tuple[int, int]] = frozenset(),
    params: list[ffnn.Tensor] | None = None,
) -> list[ffnn.Tensor]:
    """Take ``steps`` steps; ``(k, i)`` in ``skip`` leaves parameter i's grad None at step k."""
    if params is None:
        params = [ffnn.Tensor(a.copy(), requires_grad=True) for a in init]
        opt.build(params)
    for k in range(steps):
        for i, (p, g) in enumerate(zip(params, _grads([p.data for p in params], k), strict=True)):
            p.grad = None if (k, i) in skip else g.astype(p.data.dtype)
        opt.step()
    return params


def _run_torch(
    make: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    init: list[np.ndarray],
    steps: int,
    skip: frozenset[tuple[int, int]] = frozenset(),
    decoupled: float = 0.0,
) -> list[np.ndarray]:
    """The same run in PyTorch; ``decoupled`` = lr·wd applied as p *= 1 - lr·wd first."""
    params = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = make(params)
    previous = torch.get_default_dtype()  # NAdam keeps its μ product in the default dtype
    torch.set_default_dtype(torch.float64)
    try:
        _torch_steps(opt, params, steps, skip, decoupled)
    finally:
        torch.set_default_dtype(previous)
    return [p.detach().numpy() for p in params]


def _torch_steps(opt: Any, params: list[torch.Tensor], steps: int,
                 skip: frozenset[tuple[int, int]], decoupled: float) -> None:
    for k in range(steps):
        grads = _grads([p.detach().numpy().copy() for p in params], k)
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            p.grad = None if (k, i) in skip else torch.from_numpy(g)
        if decoupled:
            with torch.no_grad():
                for p in params:
                    if p.grad is not None:
                        p.mul_(1.0 - decoupled)
        opt.step()


T = torch.optim
# id, ffnn optimiser, torch optimiser, lr·wd for a decoupled decay torch lacks
CASES: list[tuple[str, Callable[[], Optimizer], Callable[[Any], Any], float]] = [
    ("sgd-defaults", lambda: SGD(), lambda ps: T.SGD(ps, lr=0.01), 0.0),
    ("sgd", lambda: SGD(learning_rate=0.1), lambda ps: T.SGD(ps, lr=0.1), 0.0),
    (
        "sgd-momentum",
        lambda: SGD(learning_rate=0.05, momentum=0.9),
        lambda ps: T.SGD(ps, lr=0.05, momentum=0.9),
        0.0,
    ),
    (
        "sgd-nesterov",
        lambda: SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
        lambda ps: T.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
        0.0,
    ),
    (
        "sgd-dampening",
        lambda: SGD(learning_rate=0.05, momentum=0.8, dampening=0.3),
        lambda ps: T.SGD(ps, lr=0.05, momentum=0.8, dampening=0.3),
        0.0,
    ),
    (
        "sgd-momentum-wd",
        lambda: SGD(learning_rate=0.05, momentum=0.9, weight_decay=0.2),
        lambda ps: T.SGD(ps, lr=0.05, momentum=0.9),
        0.05 * 0.2,
    ),
    ("adam-defaults", lambda: Adam(), lambda ps: T.Adam(ps), 0.0),
    (
        "adam",
        lambda: Adam(learning_rate=0.05, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
        lambda ps: T.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6),
        0.0,
    ),
    (
        "adam-amsgrad",
        lambda: Adam(learning_rate=0.05, amsgrad=True),
        lambda ps: T.Adam(ps, lr=0.05, amsgrad=True),
        0.0,
    ),
    (
        "adam-wd",
        lambda: Adam(learning_rate=0.05, weight_decay=0.1),
        lambda ps: T.Adam(ps, lr=0.05),
        0.05 * 0.1,
    ),
    ("adamw-defaults", lambda: AdamW(), lambda ps: T.AdamW(ps), 0.0),
    (
        "adamw",
        lambda: AdamW(learning_rate=0.05, weight_decay=0.2, amsgrad=True),
        lambda ps: T.AdamW(ps, lr=0.05, weight_decay=0.2, amsgrad=True),
        0.0,
    ),
    (
        "rmsprop",
        lambda: RMSprop(learning_rate=0.01),
        lambda ps: T.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-7),
        0.0,
    ),
    (
        "rmsprop-torch-defaults",
        lambda: RMSprop(learning_rate=0.01, rho=0.99, epsilon=1e-8),
        lambda ps: T.RMSprop(ps),
        0.0,
    ),
    (
        "rmsprop-centered",
        lambda: RMSprop(learning_rate=0.01, centered=True),
        lambda ps: T.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-7, centered=True),
        0.0,
    ),
    (
        "rmsprop-momentum",
        lambda: RMSprop(learning_rate=0.01, momentum=0.7),
        lambda ps: T.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-7, momentum=0.7),
        0.0,
    ),
    (
        "rmsprop-all",
        lambda: RMSprop(learning_rate=0.01, momentum=0.7, centered=True, weight_decay=0.3),
        lambda ps: T.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-7, momentum=0.7, centered=True),
        0.01 * 0.3,
    ),
    ("nadam-defaults", lambda: Nadam(), lambda ps: T.NAdam(ps), 0.0),
    (
        "nadam",
        lambda: Nadam(learning_rate=0.05, beta_1=0.8, beta_2=0.99, epsilon=1e-6,
                      momentum_decay=0.01),
        lambda ps: T.NAdam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-6, momentum_decay=0.01),
        0.0,
    ),
    (
        "nadam-wd",
        lambda: Nadam(learning_rate=0.05, weight_decay=0.1),
        lambda ps: T.NAdam(ps, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
        0.0,
    ),
    ("adagrad-defaults", lambda: Adagrad(), lambda ps: T.Adagrad(ps), 0.0),
    (
        "adagrad",
        lambda: Adagrad(learning_rate=0.3, initial_accumulator_value=0.1, epsilon=1e-6),
        lambda ps: T.Adagrad(ps, lr=0.3, initial_accumulator_value=0.1, eps=1e-6),
        0.0,
    ),
    (
        "adagrad-wd",
        lambda: Adagrad(learning_rate=0.3, weight_decay=0.1),
        lambda ps: T.Adagrad(ps, lr=0.3),
        0.3 * 0.1,
    ),
    ("rprop-defaults", lambda: Rprop(), lambda ps: T.Rprop(ps), 0.0),
    (
        "rprop",
        lambda: Rprop(learning_rate=0.07, eta_minus=0.3, eta_plus=1.5, min_step=1e-3,
                      max_step=0.2),
        lambda ps: T.Rprop(ps, lr=0.07, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)),
        0.0,
    ),
]
_IDS = [c[0] for c in CASES]


# ------------------------------------------------------------ vs PyTorch


@pytest.mark.parametrize(("ours", "theirs", "decoupled"), [c[1:] for c in CASES], ids=_IDS)
def test_matches_torch_over_10_steps(ours: Any, theirs: Any, decoupled: float) -> None:
    got = _run_ffnn(ours(), _INIT, 10)
    want = _run_torch(theirs, _INIT, 10, decoupled=decoupled)
    for g, w, a in zip(got, want, _INIT, strict=True):
        assert not np.allclose(w, a)  # the run moved the parameters
        np.testing.assert_allclose(g.data, w, rtol=1e-11, atol=1e-13)


_SKIP = frozenset({(0, 1), (1, 1), (2, 1), (6, 0)})


@pytest.mark.parametrize(
    ("ours", "theirs", "decoupled"),
    [c[1:] for c in CASES
     if c[0] in ("sgd-dampening", "adam-amsgrad", "adamw", "rmsprop-all", "rprop")],
    ids=["sgd-dampening", "adam-amsgrad", "adamw", "rmsprop-all", "rprop"],
)
def test_matches_torch_when_some_grads_are_none(ours: Any, theirs: Any, decoupled: float) -> None:
    """Guards per-parameter step counts: bias correction and the first momentum step
    count a parameter's own updates, as PyTorch does, not the optimiser's iterations."""
    got = _run_ffnn(ours(), _INIT, 10, skip=_SKIP)
    want = _run_torch(theirs, _INIT, 10, skip=_SKIP, decoupled=decoupled)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g.data, w, rtol=1e-11, atol=1e-13)


def test_schedule_matches_torch_step_lr() -> None:
    got = _run_ffnn(
        SGD(learning_rate=StepDecay(0.1, step_size=3, gamma=0.5), momentum=0.9), _INIT, 10
    )
    params = [torch.tensor(a.copy(), requires_grad=True) for a in _INIT]
    opt = T.SGD(params, lr=0.1, momentum=0.9)
    sched = T.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    for k in range(10):
        for p, g in zip(
            params, _grads([p.detach().numpy().copy() for p in params], k), strict=True
        ):
            p.grad = torch.from_numpy(g)
        opt.step()
        sched.step()
    for g, p in zip(got, params, strict=True):
        np.testing.assert_allclose(g.data, p.detach().numpy(), rtol=1e-11, atol=1e-13)


# ------------------------------------------------------ hand-computed steps


def _param(values: list[float], grad: list[float], dtype: Any = np.float64) -> ffnn.Tensor:
    p = ffnn.Tensor(np.array(values, dtype=dtype), requires_grad=True)
    p.grad = np.array(grad, dtype=dtype)
    return p


def test_sgd_hand_step() -> None:
    p = _param([1.0, -2.0], [0.5, -1.0])
    SGD([p], 0.1).step()
    np.testing.assert_allclose(p.data, [0.95, -1.9], rtol=1e-15)


def test_sgd_momentum_hand_steps() -> None:
    p = _param([1.0, -2.0], [0.5, -1.0])
    opt = SGD([p], 0.1, momentum=0.9)
    opt.step()  # v = g = [0.5, -1]
    np.testing.assert_allclose(p.data, [0.95, -1.9], rtol=1e-15)
    opt.step()  # v = 0.9 v + g = [0.95, -1.9]
    np.testing.assert_allclose(p.data, [0.855, -1.71], rtol=1e-15)


def test_sgd_nesterov_hand_step() -> None:
    p = _param([1.0, -2.0], [0.5, -1.0])
    SGD([p], 0.1, momentum=0.9, nesterov=True).step()  # p -= 0.1 (g + 0.9 g)
    np.testing.assert_allclose(p.data, [0.905, -1.81], rtol=1e-15)


def test_sgd_decoupled_weight_decay_hand_step() -> None:
    p = _param([1.0, -2.0], [0.5, -1.0])
    SGD([p], 0.1, weight_decay=0.5).step()  # p = 0.95 p - 0.1 g
    np.testing.assert_allclose(p.data, [0.90, -1.80], rtol=1e-15)


def test_adam_hand_steps() -> None:
    p = _param([1.0, -2.0], [0.5, -1.0])
    opt = Adam([p], 0.1, epsilon=0.0)
    opt.step()  # m̂ = g, v̂ = g², so p -= 0.1 sign(g)
    np.testing.assert_allclose(p.data, [0.9, -1.9], rtol=1e-15)
    p.grad = np.array([1.0, 0.0])
    opt.step()
    m = np.array([0.9 * 0.05 + 0.1 * 1.0, 0.9 * -0.1 + 0.1 * 0.0])
    v = np.array([0.999 * 0.00025 + 0.001 * 1.0, 0.999 * 0.001 + 0.001 * 0.0])
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.999**2)
    np.testing.assert_allclose(p.data, [0.9, -1.9] - 0.1 * m_hat / np.sqrt(v_hat), rtol=1e-14)
    np.testing.assert_allclose(p.data, [0.8034818, -1.8329942], rtol=1e-7)


def test_adamw_hand_step() -> None:
    p = _param([1.0, -2.0], [0.5, -1.0])
    AdamW([p], 0.1, weight_decay=0.1, epsilon=0.0).step()  # p = 0.99 p - 0.1 sign(g)
    np.testing.assert_allclose(p.data, [0.89, -1.88], rtol=1e-15)


def test_rmsprop_hand_step() -> None:
    p = _param([1.0, -2.0], [0.5, -1.0])
    RMSprop([p], 0.01, epsilon=0.0).step()  # s = 0.1 g², so g/√s = sign(g)/√0.1
    np.testing.assert_allclose(p.data, [1 - 0.0316227766, -2 + 0.0316227766], rtol=1e-10)


def test_rmsprop_centered_hand_step() -> None:
    p = _param([1.0, -2.0], [0.5, -1.0])
    # s = [0.025, 0.1], ḡ = [0.05, -0.1], s - ḡ² = [0.0225, 0.09], √ = [0.15, 0.3]
    RMSprop([p], 0.01, epsilon=0.0, centered=True).step()
    np.testing.assert_allclose(p.data, [1 - 0.01 / 0.3, -2 + 0.01 / 0.3], rtol=1e-14)


def test_adagrad_hand_steps() -> None:
    p = _param([1.0, -2.0], [0.5, -1.0])
    opt = Adagrad([p], 0.1, epsilon=0.0)
    opt.step()  # s = g², p -= 0.1 sign(g)
    np.testing.assert_allclose(p.data, [0.9, -1.9], rtol=1e-15)
    p.grad = np.array([1.0, 0.0])
    opt.step()  # s = [1.25, 1.0]
    np.testing.assert_allclose(p.data, [0.9 - 0.0894427191, -1.9], rtol=1e-10)


def test_adagrad_initial_accumulator_hand_step() -> None:
    p = _param([1.0, -2.0], [0.5, -1.0])
    Adagrad([p], 0.1, initial_accumulator_value=0.1, epsilon=0.0).step()  # s = [0.35, 1.1]
    np.testing.assert_allclose(p.data, [1 - 0.0845154255, -2 + 0.0953462589], rtol=1e-10)


# ---------------------------------------------------------------- clipping


def test_clipvalue_clips_elementwise_and_leaves_grad_alone() -> None:
    p = _param([0.0, 0.0, 0.0], [0.5, -1.0, 0.1])
    grad = p.grad
    SGD([p], 1.0, clipvalue=0.3).step()
    np.testing.assert_array_equal(p.data, [-0.3, 0.3, -0.1])
    assert p.grad is grad
    np.testing.assert_array_equal(p.grad, [0.5, -1.0, 0.1])


def test_clipnorm_rescales_each_tensor_separately() -> None:
    big = _param([0.0, 0.0], [3.0, 4.0])  # norm 5 -> rescaled to norm 1
    small = _param([0.0, 0.0], [0.3, 0.4])  # norm 0.5 -> untouched
    SGD([big, small], 1.0, clipnorm=1.0).step()
    np.testing.assert_allclose(big.data, [-0.6, -0.8], rtol=1e-15)
    np.testing.assert_array_equal(small.data, [-0.3, -0.4])
    np.testing.assert_array_equal(big.grad, [3.0, 4.0])


@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_global_clipnorm_matches_torch_clip_grad_norm(
    rng: np.random.Generator, max_norm: float
) -> None:
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    params = [_param(list(np.zeros(g.size)), list(g.ravel())) for g in grads]
    SGD(params, 1.0, global_clipnorm=max_norm).step()
    ts = [torch.zeros(g.size, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(ts, grads, strict=True):
        t.grad = torch.from_numpy(g.ravel().copy())
    torch.nn.utils.clip_grad_norm_(ts, max_norm)
    for p, t, g in zip(params, ts, grads, strict=True):
        np.testing.assert_allclose(p.data, -t.grad.numpy(), rtol=1e-14)
        np.testing.assert_array_equal(p.grad, g.ravel())  # the caller's grad is untouched
    if max_norm > 100:
        np.testing.assert_array_equal(params[0].data, -grads[0].ravel())


def test_only_one_clipping_option() -> None:
    with pytest.raises(ValueError, match="clipnorm"):
        SGD(clipnorm=1.0, clipvalue=0.5)


# ------------------------------------------------------ dtype, None, in place

_ALL = [SGD, Adam, AdamW, RMSprop, Adagrad]
_RICH: dict[type[Optimizer], dict[str, Any]] = {
    SGD: {"momentum": 0.9, "nesterov": True},
    Adam: {"amsgrad": True},
    AdamW: {},
    RMSprop: {"momentum": 0.5, "centered": True},
    Adagrad: {"initial_accumulator_value": 0.1},
}


@pytest.mark.parametrize("cls", _ALL, ids=lambda c: c.name)
def test_float32_stays_float32_in_place(cls: type[Optimizer]) -> None:
    opt = cls(learning_rate=0.01, weight_decay=0.1, clipnorm=1.0, **_RICH[cls])
    params = [ffnn.Tensor(a.astype(np.float32), requires_grad=True) for a in _INIT]
    arrays = [p.data for p in params]
    opt.build(params)
    _run_ffnn(opt, _INIT, 5, params=params)
    for p, a in zip(params, arrays, strict=True):
        assert p.data is a
        assert p.data.dtype == np.float32
    for entry in opt.state_dict()["state"].values():
        assert all(s.dtype == np.float32 for s in entry.values())
    ref = _run_ffnn(cls(learning_rate=0.01, weight_decay=0.1, clipnorm=1.0, **_RICH[cls]), _INIT, 5)
    for p, r in zip(params, ref, strict=True):
        np.testing.assert_allclose(p.data, r.data, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", _ALL, ids=lambda c: c.name)
def test_parameters_without_grad_are_untouched(cls: type[Optimizer]) -> None:
    a, b = _param([1.0, 2.0], [0.1, 0.2]), ffnn.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    opt = cls([a, b], 0.1, weight_decay=0.5, global_clipnorm=0.1, **_RICH[cls])
    opt.step()
    opt.step()
    np.testing.assert_array_equal(b.data, [3.0, 4.0])
    assert b.grad is None
    assert not np.array_equal(a.data, [1.0, 2.0])
    assert opt.state_dict()["steps"] == [2, 0]


def test_zero_grad_sets_none() -> None:
    a, b = _param([1.0], [1.0]), _param([2.0], [2.0])
    opt = SGD([a, b])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_grad_shape_mismatch_is_an_error() -> None:
    p = _param([1.0, 2.0], [1.0, 2.0])
    p.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"shape \(2,\).*grad has shape \(3,\)"):
        SGD([p]).step()


# ----------------------------------------------------------- closure, lr


def test_step_with_closure_through_the_engine(rng: np.random.Generator) -> None:
    """A closure re-evaluates the loss with the engine; step returns its float value."""
    x = rng.normal(size=(20, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    w = ffnn.Tensor(np.zeros(3), requires_grad=True)
    opt = Adam([w], 0.1)
    calls = []

    def closure() -> ffnn.Tensor:
        opt.zero_grad()
        r = ffnn.matmul(ffnn.Tensor(x), w) - ffnn.Tensor(y)
        loss = (r * r).mean()
        loss.backward()
        calls.append(loss.item())
        return loss

    losses = [opt.step(closure) for _ in range(200)]
    assert all(isinstance(v, float) for v in losses)
    assert losses == calls
    assert losses[-1] < 1e-3 * losses[0]
    assert SGD([w]).step() is None


def test_learning_rate_settable_and_schedules() -> None:
    p = _param([0.0], [1.0])
    opt = SGD([p], 0.1)
    opt.step()
    opt.learning_rate = 0.5  # what ReduceLROnPlateau does
    assert opt.current_learning_rate == 0.5
    opt.step()
    np.testing.assert_allclose(p.data, [-0.6], rtol=1e-15)
    opt.learning_rate = CosineDecay(1.0, decay_steps=4)
    assert opt.iterations == 2
    assert opt.current_learning_rate == pytest.approx(0.5)  # cos(π/2) → (1 + 0)/2
    opt.step()
    np.testing.assert_allclose(p.data, [-1.1], rtol=1e-14)
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1.0
    with pytest.raises(TypeError, match="learning_rate"):
        opt.learning_rate = True  # type: ignore[assignment]


# ------------------------------------------------------------ state dict

_STATEFUL: list[Callable[[], Optimizer]] = [
    lambda: SGD(
        learning_rate=StepDecay(0.05, 3, 0.5), momentum=0.9, dampening=0.1, weight_decay=0.01
    ),
    lambda: Adam(learning_rate=CosineDecay(0.05, 20), amsgrad=True, clipnorm=1.0),
    lambda: AdamW(learning_rate=0.02, global_clipnorm=2.0),
    lambda: RMSprop(learning_rate=0.01, momentum=0.5, centered=True, clipvalue=0.5),
    lambda: Adagrad(learning_rate=0.1, initial_accumulator_value=0.2, weight_decay=0.05),
    lambda: Nadam(learning_rate=0.05, momentum_decay=0.01, clipnorm=1.0),
    lambda: Rprop(learning_rate=0.05, max_step=1.0),
]


@pytest.mark.parametrize("make", _STATEFUL, ids=lambda f: f().name)
def test_state_dict_round_trip_is_bit_identical(make: Callable[[], Optimizer]) -> None:
    opt = make()
    params = _run_ffnn(opt, _INIT, 5, skip=frozenset({(0, 1)}))
    saved = opt.state_dict()
    copies = [ffnn.Tensor(p.data.copy(), requires_grad=True) for p in params]
    json.dumps(saved["config"])  # JSON-serialisable hyper-parameters
    _run_ffnn(opt, _INIT, 5, params=params)

    fresh = type(opt)(copies)  # default hyper-parameters, overwritten by the load
    fresh.load_state_dict(saved)
    assert fresh.get_config() == opt.get_config()
    assert fresh.iterations == 5
    _run_ffnn(fresh, _INIT, 5, params=copies)
    for p, c in zip(params, copies, strict=True):
        np.testing.assert_array_equal(p.data, c.data)
    assert fresh.state_dict()["steps"] == opt.state_dict()["steps"] == [10, 9]


def test_state_dict_is_a_snapshot() -> None:
    p = _param([1.0, 2.0], [1.0, 1.0])
    opt = Adam([p])
    opt.step()
    saved = opt.state_dict()
    m = saved["state"][0]["m"].copy()
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["m"], m)


def test_load_state_dict_validates() -> None:
    p = _param([1.0, 2.0], [1.0, 1.0])
    opt = Adam([p])
    opt.step()
    saved = opt.state_dict()
    with pytest.raises(ValueError, match=r"parameter 0: state 'm' has shape \(2,\).*\(3,\)"):
        Adam([_param([1.0, 2.0, 3.0], [1.0, 1.0, 1.0])]).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"dtype float64.*dtype float32"):
        Adam([_param([1.0, 2.0], [1.0, 1.0], np.float32)]).load_state_dict(saved)
    with pytest.raises(ValueError, match="'adam', not 'sgd'"):
        SGD([p]).load_state_dict(saved)
    with pytest.raises(ValueError, match="expected"):
        Adam([p], amsgrad=True).load_state_dict(
            {**saved, "config": {**saved["config"], "amsgrad": True}}
        )
    with pytest.raises(ValueError, match="2 parameters"):
        Adam([p, _param([1.0], [1.0])]).load_state_dict(saved)
    with pytest.raises(RuntimeError, match="build"):
        Adam().load_state_dict(saved)


def test_build_again_resets_state() -> None:
    p = _param([1.0, 2.0], [1.0, 1.0])
    opt = SGD([p], momentum=0.9)
    opt.step()
    q = _param([5.0], [1.0])
    opt.build([q])
    assert opt.iterations == 0 and opt.params == (q,)
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["momentum"], [0.0])


# ------------------------------------------------------ registry and config


def test_every_first_order_optimizer_is_checked_against_torch() -> None:
    """Guards the recipe 'an optimiser is its file, its registry entry and its tests':
    a first-order optimiser registered without a PyTorch parity case fails here."""
    covered = {type(make()).name for _, make, _, _ in CASES}
    first_order = {n for n in OPTIMIZERS.names(aliases=False)
                   if issubclass(OPTIMIZERS.lookup(n), Optimizer)}
    assert first_order <= covered, f"no torch parity case for {sorted(first_order - covered)}"
    assert {type(make()).name for make in _STATEFUL} >= first_order - {"adamw"}


def test_registry_names() -> None:
    for name in OPTIMIZERS.names(aliases=False):
        assert OPTIMIZERS.lookup(name).name == name
    assert OPTIMIZERS.lookup("trainlm") is OPTIMIZERS.lookup("lm")  # MATLAB's names
    assert OPTIMIZERS.lookup("trainbr") is OPTIMIZERS.lookup("br")
    assert OPTIMIZERS.lookup("trainscg") is OPTIMIZERS.lookup("scg")
    assert OPTIMIZERS.lookup("trainrp") is OPTIMIZERS.lookup("rprop")


def test_get_by_name_dict_and_instance() -> None:
    sgd = get("sgd")
    assert isinstance(sgd, SGD) and sgd.learning_rate == 0.01 and not sgd.built
    assert get("SGD") is not sgd
    adam = get("adam", learning_rate=0.01)
    assert isinstance(adam, Adam) and adam.learning_rate == 0.01 and adam.beta_1 == 0.9
    assert get("adamw").weight_decay == 0.01
    cfg = get({"name": "rmsprop", "learning_rate": 0.01, "centered": True})
    assert isinstance(cfg, RMSprop) and cfg.centered and cfg.learning_rate == 0.01
    assert get({"name": "adam"}, learning_rate=0.5).learning_rate == 0.5
    assert get(adam) is adam


def test_get_errors() -> None:
    with pytest.raises(ValueError, match=", ".join(OPTIMIZERS.names())):  # every valid name
        get("adadelta")
    with pytest.raises(ValueError, match=r"unknown adam option.*'betas'"):
        get("adam", betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="'name'"):
        get({"learning_rate": 0.1})
    with pytest.raises(TypeError, match="existing optimizer"):
        get(Adam(), learning_rate=0.1)
    with pytest.raises(TypeError, match="got int"):
        get(3)


@pytest.mark.parametrize("make", _STATEFUL, ids=lambda f: f().name)
def test_config_json_round_trip(make: Callable[[], Optimizer]) -> None:
    opt = make()
    config = json.loads(json.dumps(opt.get_config()))
    again = get(config)
    assert type(again) is type(opt)
    assert again.get_config() == opt.get_config()
    with pytest.raises(ValueError, match="does not match"):
        type(opt).from_config({**config, "name": "lbfgs"})


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"learning_rate": -0.1}, ValueError, "learning_rate"),
        ({"learning_rate": float("nan")}, ValueError, "learning_rate"),
        ({"learning_rate": "fast"}, TypeError, "learning_rate"),
        ({"momentum": 1.0}, ValueError, "momentum"),
        ({"nesterov": True}, ValueError, "nesterov"),
        ({"momentum": 0.9, "nesterov": 1}, TypeError, "nesterov"),
        ({"weight_decay": -1.0}, ValueError, "weight_decay"),
        ({"clipnorm": 0.0}, ValueError, "clipnorm"),
    ],
)
def test_sgd_validation(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        SGD(**kwargs)


def test_family_validation() -> None:
    with pytest.raises(ValueError, match="beta_2"):
        Adam(beta_2=1.0)
    with pytest.raises(ValueError, match="rho"):
        RMSprop(rho=-0.1)
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        Adagrad(initial_accumulator_value=-1.0)


def test_build_validation() -> None:
    p = _param([1.0], [1.0])
    with pytest.raises(ValueError, match="empty"):
        SGD([])
    with pytest.raises(TypeError, match=r"parameter 1 must be an ffnn.Tensor"):
        SGD([p, np.zeros(2)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="more than once"):
        SGD([p, p])
    with pytest.raises(ValueError, match="leaf"):
        SGD([p * 2.0])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        SGD(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="iterable of Tensors"):
        SGD(p)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="build"):
        SGD().step()


def test_state_dict_with_string_indices_loads() -> None:
    """Guards loading a state_dict whose index keys became strings (e.g. via JSON/safetensors
    flattening)."""
    p = _param([1.0, 2.0], [1.0, -1.0])
    opt = RMSprop([p], 0.1, momentum=0.5)
    opt.step()
    saved = opt.state_dict()
    saved = {**saved, "state": {str(k): v for k, v in saved["state"].items()}}
    q = _param([1.0, 2.0], [1.0, -1.0])
    q.data[...] = p.data
    fresh = RMSprop([q])
    fresh.load_state_dict(saved)
    opt.step()
    fresh.step()
    np.testing.assert_array_equal(p.data, q.data)


def test_closure_returning_none_and_first_order_flags() -> None:
    p = _param([1.0], [1.0])
    assert SGD([p]).step(lambda: None) is None
    for name in OPTIMIZERS.names(aliases=False):  # exactly one family each
        cls = OPTIMIZERS.lookup(name)
        assert issubclass(cls, Optimizer) != issubclass(cls, FullBatchOptimizer), name
    assert issubclass(OPTIMIZERS.lookup("lm"), FullBatchOptimizer)


@pytest.mark.parametrize(
    ("key", "value"),
    [("steps", [-3]), ("steps", [2.5]), ("steps", [True]), ("steps", [10**30]),
     ("steps", [2**62]), ("steps", ["2"]), ("steps", "2"), ("iterations", -5),
     ("iterations", 2.7), ("iterations", True), ("iterations", 10**30)],
)
def test_load_state_dict_refuses_bad_counts(key: str, value: Any) -> None:
    """Guards against load_state_dict accepting a negative, fractional, boolean or absurdly
    large step or iteration count, which only failed later, inside the next step, with
    "math domain error" (Adam's bias correction); the optimiser must stay untouched."""
    p = _param([1.0, 2.0], [1.0, -1.0])
    opt = Adam([p], 0.1)
    opt.step()
    saved = {**opt.state_dict(), key: value}
    fresh = Adam([_param([1.0, 2.0], [1.0, -1.0])])
    with pytest.raises(ValueError, match=r"count") as info:
        fresh.load_state_dict(saved)
    bad = value[0] if isinstance(value, list) else value
    assert f"got {bad!r}" in str(info.value)
    assert fresh.iterations == 0 and fresh.state_dict()["steps"] == [0]
    fresh.load_state_dict({**saved, "steps": [np.int64(1)], "iterations": np.int64(1)})
    fresh.step()  # NumPy integers are fine, and the next step works
    assert fresh.state_dict()["steps"] == [2] and fresh.iterations == 2
