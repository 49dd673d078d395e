"""Every primitive: finite differences (float64) and PyTorch (values and gradients).

``SPECS`` is the spec table: one or more lines per primitive in
``ffnn.autodiff.PRIMITIVES``, each giving the input shapes (broadcasting pairs
included), the input domain, the parameters, and how to call the operation in ffnn and
in PyTorch. ``test_table_covers_registry`` fails when the registry grows a primitive
that the table lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

import ffnn
from ffnn.autodiff import PRIMITIVES, Primitive
from ffnn.autodiff.tensor import apply

Shape = tuple[int, ...]
F64 = np.float64
RTOL, ATOL = 1e-10, 1e-12  # ffnn vs PyTorch, both in float64


@dataclass(frozen=True)
class Spec:
    """One line of the table.

    ``domain`` is one name for all inputs or one per input: ``real`` (standard
    normal), ``positive`` (in [0.5, 2]), ``nonzero`` (|x| ≥ 0.2: away from the kinks of
    abs/relu/sign), ``clip`` (away from the bounds CLIP_LO, CLIP_HI), ``simplex``
    (probabilities along the last axis), ``distinct`` (all inputs jointly: entries at
    least 0.2 apart, so max/min/maximum never tie).
    """

    prim: str
    name: str
    shapes: tuple[Shape, ...]
    ours: Callable[..., Any]
    theirs: Callable[..., Any]
    domain: str | tuple[str, ...] = "real"


CLIP_LO, CLIP_HI = -0.5, 0.6
COND = np.array([[True, False, True], [False, False, True]])
LABELS = np.array([0, 3, 4, 3])
LABELS_2D = np.array([[1, 0, 4], [2, 2, 0]])
LABELS_7 = np.array([0, 3, 4, 3, 1, 2, 0])
MASK = np.array([[True, False, False, True], [False, True, True, False],
                 [True, True, False, False]])
REPEAT = np.array([0, 2, 0, 0])
PAIRS = (np.array([0, 0, 2, 0]), np.array([1, 1, 3, 1]))


def _dims(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _tidx(index: Any) -> Any:
    """The same index for a torch tensor (arrays become torch tensors)."""
    if isinstance(index, tuple):
        return tuple(_tidx(i) for i in index)
    return torch.as_tensor(index) if isinstance(index, np.ndarray) else index


BROADCAST_PAIRS: list[tuple[Shape, Shape]] = [
    ((2, 3), (2, 3)),
    ((2, 3), (1, 3)),
    ((4, 1), (3,)),
    ((), (2, 3)),
    ((2, 3), ()),
]


def _binary(prim: str, ours: Callable[..., Any], theirs: Callable[..., Any],
            domain: str | tuple[str, ...] = "real") -> list[Spec]:
    return [
        Spec(prim, f"{prim}-{a}x{b}", (a, b), ours, theirs, domain) for a, b in BROADCAST_PAIRS
    ]


def _reductions() -> list[Spec]:
    table = [
        ("sum", ffnn.sum, torch.sum, "real"),
        ("mean", ffnn.mean, torch.mean, "real"),
        ("max", ffnn.max, torch.amax, "distinct"),
        ("min", ffnn.min, torch.amin, "distinct"),
        ("logsumexp", ffnn.logsumexp, torch.logsumexp, "real"),
    ]
    specs = []
    for prim, ours, theirs, domain in table:
        for axis in (None, 0, 1, -1, (0, 2)):
            for keepdims in (False, True):
                specs.append(Spec(
                    prim, f"{prim}-axis{axis}-keepdims{keepdims}", ((2, 3, 4),),
                    lambda x, o=ours, a=axis, k=keepdims: o(x, axis=a, keepdims=k),
                    lambda x, t=theirs, a=axis, k=keepdims: t(x, dim=_dims(a, x.ndim), keepdim=k),
                    domain,
                ))
        specs.append(Spec(prim, f"{prim}-vector", ((5,),), ours,
                          lambda x, t=theirs: t(x, dim=0), domain))
    return specs


SPECS: list[Spec] = [
    *_binary("add", ffnn.add, torch.add),
    *_binary("subtract", ffnn.subtract, torch.sub),
    *_binary("multiply", ffnn.multiply, torch.mul),
    *_binary("divide", ffnn.divide, torch.div, ("real", "nonzero")),
    Spec("add", "add-operator", ((2, 3), (3,)), lambda a, b: a + b, lambda a, b: a + b),
    Spec("divide", "divide-operator-const", ((2, 3),), lambda a: 1.5 / a, lambda a: 1.5 / a,
         "nonzero"),
    Spec("negative", "negative", ((2, 3),), ffnn.negative, torch.neg),
    Spec("negative", "negative-operator", ((2, 3),), lambda a: -a, lambda a: -a),
    *_binary("power", ffnn.power, torch.pow, ("positive", "real")),
    Spec("power", "power-int3", ((2, 3),), lambda x: x**3, lambda x: x**3),
    Spec("power", "power-square", ((2, 3),), lambda x: x**2, lambda x: x**2),
    Spec("power", "power-half", ((2, 3),), lambda x: x**0.5, lambda x: x**0.5, "positive"),
    Spec("power", "power-neg1.5", ((2, 3),), lambda x: ffnn.power(x, -1.5),
         lambda x: torch.pow(x, -1.5), "positive"),
    Spec("power", "power-const-base", ((2, 3),), lambda x: 2.0**x, lambda x: 2.0**x),
    Spec("exp", "exp", ((2, 3),), ffnn.exp, torch.exp),
    Spec("log", "log", ((2, 3),), ffnn.log, torch.log, "positive"),
    Spec("sqrt", "sqrt", ((2, 3),), ffnn.sqrt, torch.sqrt, "positive"),
    Spec("abs", "abs", ((2, 3),), ffnn.abs, torch.abs, "nonzero"),
    Spec("sign", "sign", ((2, 3),), ffnn.sign, torch.sign, "nonzero"),
    Spec("tanh", "tanh", ((2, 3),), ffnn.tanh, torch.tanh),
    Spec("sigmoid", "sigmoid", ((2, 3),), ffnn.sigmoid, torch.sigmoid),
    Spec("softplus", "softplus", ((2, 3),), ffnn.softplus, TF.softplus),
    Spec("erf", "erf", ((2, 3),), ffnn.erf, torch.erf),
    Spec("relu", "relu", ((2, 3),), ffnn.relu, torch.relu, "nonzero"),
    *_binary("maximum", ffnn.maximum, torch.maximum, "distinct"),
    *_binary("minimum", ffnn.minimum, torch.minimum, "distinct"),
    Spec("where", "where-same", ((2, 3), (2, 3)), lambda a, b: ffnn.where(COND, a, b),
         lambda a, b: torch.where(torch.as_tensor(COND), a, b)),
    Spec("where", "where-broadcast", ((1, 3), (2, 1)), lambda a, b: ffnn.where(COND, a, b),
         lambda a, b: torch.where(torch.as_tensor(COND), a, b)),
    Spec("where", "where-scalar", ((2, 3), ()), lambda a, b: ffnn.where(COND, a, b),
         lambda a, b: torch.where(torch.as_tensor(COND), a, b)),
    Spec("clip", "clip-both", ((3, 4),), lambda x: ffnn.clip(x, CLIP_LO, CLIP_HI),
         lambda x: torch.clamp(x, CLIP_LO, CLIP_HI), "clip"),
    Spec("clip", "clip-min", ((3, 4),), lambda x: ffnn.clip(x, a_min=CLIP_LO),
         lambda x: torch.clamp(x, min=CLIP_LO), "clip"),
    Spec("clip", "clip-max-method", ((3, 4),), lambda x: x.clip(a_max=CLIP_HI),
         lambda x: torch.clamp(x, max=CLIP_HI), "clip"),
    Spec("astype", "astype", ((2, 3),), lambda x: ffnn.astype(x, np.float64) * x,
         lambda x: x.to(torch.float64) * x),
    *_reductions(),
    Spec("log_softmax", "log_softmax-last", ((3, 4),), ffnn.log_softmax,
         lambda x: torch.log_softmax(x, -1)),
    Spec("log_softmax", "log_softmax-axis0", ((3, 4),), lambda x: ffnn.log_softmax(x, axis=0),
         lambda x: torch.log_softmax(x, 0)),
    Spec("log_softmax", "log_softmax-3d", ((2, 3, 4),), lambda x: ffnn.log_softmax(x, axis=1),
         lambda x: torch.log_softmax(x, 1)),
    Spec("softmax", "softmax-last", ((3, 4),), ffnn.softmax, lambda x: torch.softmax(x, -1)),
    Spec("softmax", "softmax-axis0", ((3, 4),), lambda x: ffnn.softmax(x, axis=0),
         lambda x: torch.softmax(x, 0)),
    Spec("softmax", "softmax-3d", ((2, 3, 4),), lambda x: ffnn.softmax(x, axis=1),
         lambda x: torch.softmax(x, 1)),
    *[
        Spec("matmul", f"matmul-{a}x{b}", (a, b), ffnn.matmul, torch.matmul)
        for a, b in [
            ((3,), (3,)),
            ((2, 3), (3, 4)),
            ((2, 3), (3,)),
            ((3,), (3, 4)),
            ((2, 2, 3), (2, 3, 4)),
            ((2, 2, 3), (3, 4)),
            ((3, 4), (2, 4, 2)),
            ((3,), (2, 3, 4)),
            ((2, 3, 4), (4,)),
            ((2, 1, 2, 3), (3, 3, 2)),
        ]
    ],
    Spec("matmul", "matmul-operator", ((2, 3), (3, 4)), lambda a, b: a @ b, lambda a, b: a @ b),
    Spec("linear", "linear-bias", ((5, 3), (4, 3), (4,)), ffnn.linear, TF.linear),
    Spec("linear", "linear-nobias", ((5, 3), (4, 3)), ffnn.linear, TF.linear),
    Spec("linear", "linear-3d", ((2, 5, 3), (4, 3), (4,)), ffnn.linear, TF.linear),
    Spec("linear", "linear-3d-nobias", ((2, 5, 3), (4, 3)), ffnn.linear, TF.linear),
    Spec("linear", "linear-1d", ((3,), (4, 3), (4,)), ffnn.linear, TF.linear),
    Spec("dense", "dense-linear", ((5, 3), (4, 3), (4,)),
         lambda x, w, b: ffnn.dense(x, w, b, activation="linear"), TF.linear),
    Spec("dense", "dense-relu", ((5, 3), (4, 3), (4,)),
         lambda x, w, b: ffnn.dense(x, w, b, activation="relu"),
         lambda x, w, b: torch.relu(TF.linear(x, w, b)), "nonzero"),
    Spec("dense", "dense-sigmoid", ((5, 3), (4, 3), (4,)),
         lambda x, w, b: ffnn.dense(x, w, b, activation="sigmoid"),
         lambda x, w, b: torch.sigmoid(TF.linear(x, w, b))),
    # ≥ 16 rows: the bias gradient is the product 1ᵀδ instead of a row-by-row sum
    Spec("linear", "linear-many-rows", ((40, 3), (4, 3), (4,)), ffnn.linear, TF.linear),
    Spec("dense", "dense-relu-many-rows", ((40, 3), (6, 3), (6,)),
         lambda x, w, b: ffnn.dense(x, w, b, activation="relu"),
         lambda x, w, b: torch.relu(TF.linear(x, w, b)), "nonzero"),
    Spec("dense", "dense-relu-3d-many-rows", ((3, 7, 3), (6, 3), (6,)),
         lambda x, w, b: ffnn.dense(x, w, b, activation="relu"),
         lambda x, w, b: torch.relu(TF.linear(x, w, b)), "nonzero"),
    Spec("dense", "dense-tanh-nobias", ((5, 3), (4, 3)),
         lambda x, w: ffnn.dense(x, w, activation="tanh"),
         lambda x, w: torch.tanh(TF.linear(x, w))),
    Spec("squared_error", "squared-error", ((4, 3), (4, 3)),
         lambda p, t: ffnn.squared_error(p, t, 0.3),
         lambda p, t: 0.3 * ((p - t) ** 2).sum()),
    Spec("sum_squares", "sum-squares-3d", ((2, 3, 4),), ffnn.sum_squares,
         lambda x: (x**2).sum()),
    Spec("sum_squares", "sum-squares-scaled", ((5,),), lambda x: ffnn.sum_squares(x, 0.35),
         lambda x: 0.35 * (x**2).sum()),
    Spec("reshape", "reshape-2d", ((2, 3, 4),), lambda x: ffnn.reshape(x, (6, 4)),
         lambda x: torch.reshape(x, (6, 4))),
    Spec("reshape", "reshape-flat", ((2, 3, 4),), lambda x: ffnn.reshape(x, -1),
         lambda x: torch.reshape(x, (-1,))),
    Spec("reshape", "reshape-method", ((2, 3, 4),), lambda x: x.reshape(4, -1, 2),
         lambda x: x.reshape(4, -1, 2)),
    Spec("transpose", "transpose-T", ((3, 4),), lambda x: x.T, lambda x: x.T),
    Spec("transpose", "transpose-reverse", ((2, 3, 4),), ffnn.transpose,
         lambda x: x.permute(2, 1, 0)),
    Spec("transpose", "transpose-perm", ((2, 3, 4),), lambda x: ffnn.transpose(x, (1, 2, 0)),
         lambda x: x.permute(1, 2, 0)),
    Spec("transpose", "transpose-negative-axes", ((2, 3, 4),), lambda x: x.transpose(0, -1, 1),
         lambda x: x.permute(0, 2, 1)),
    *[
        Spec("getitem", f"getitem-{name}", ((3, 4),), lambda x, i=index: x[i],
             lambda x, i=index: x[_tidx(i)])
        for name, index in [
            ("slices", (slice(1, None), slice(None, None, 2))),
            ("int", 1),
            ("scalar", (2, -1)),
            ("ellipsis", (Ellipsis, 1)),
            ("newaxis", (None, slice(0, 2))),
            ("repeated-rows", REPEAT),
            ("repeated-pairs", PAIRS),
            ("mixed", (slice(None), np.array([1, 1, 3]))),
            ("mask", MASK),
            ("row-mask", np.array([True, False, True])),
        ]
    ],
    Spec("concatenate", "concatenate-axis0", ((2, 3), (1, 3), (3, 3)),
         lambda *xs: ffnn.concatenate(xs), lambda *xs: torch.cat(xs)),
    Spec("concatenate", "concatenate-last", ((2, 1), (2, 3)),
         lambda *xs: ffnn.concatenate(xs, axis=-1), lambda *xs: torch.cat(xs, -1)),
    Spec("stack", "stack-axis0", ((2, 3), (2, 3), (2, 3)),
         lambda *xs: ffnn.stack(xs), lambda *xs: torch.stack(xs)),
    Spec("stack", "stack-last", ((2, 3), (2, 3)),
         lambda *xs: ffnn.stack(xs, axis=-1), lambda *xs: torch.stack(xs, -1)),
    Spec("softmax_cross_entropy", "sce-probs", ((4, 5), (4, 5)), ffnn.softmax_cross_entropy,
         lambda z, y: TF.cross_entropy(z, y, reduction="none"), ("real", "simplex")),
    Spec("softmax_cross_entropy", "sce-probs-3d", ((2, 3, 5), (2, 3, 5)),
         ffnn.softmax_cross_entropy,
         lambda z, y: TF.cross_entropy(z.movedim(-1, 1), y.movedim(-1, 1), reduction="none"),
         ("real", "simplex")),
    *[
        Spec("softmax_cross_entropy", f"sce-probs-{red}{suffix}", (shape, shape),
             lambda z, y, r=red: ffnn.softmax_cross_entropy(z, y, reduction=r),
             lambda z, y, r=red: TF.cross_entropy(z.movedim(-1, 1), y.movedim(-1, 1),
                                                  reduction=r),
             ("real", "simplex"))
        for red in ("mean", "sum")
        # (4, 40): more classes than the transposed row-maximum path takes
        for suffix, shape in (("", (4, 5)), ("-3d", (2, 3, 5)), ("-wide", (4, 40)))
    ],
    *[
        Spec("softmax_cross_entropy", f"sce-labels-{red}{suffix}", (shape,),
             lambda z, r=red, lab=labels: ffnn.softmax_cross_entropy(z, lab, reduction=r),
             lambda z, r=red, lab=labels: TF.cross_entropy(z.movedim(-1, 1),
                                                           torch.as_tensor(lab), reduction=r))
        for red in ("mean", "sum")
        for suffix, shape, labels in (("", (4, 5), LABELS), ("-3d", (2, 3, 5), LABELS_2D))
    ],
    Spec("softmax_cross_entropy", "sce-labels", ((4, 5),),
         lambda z: ffnn.softmax_cross_entropy(z, LABELS),
         lambda z: TF.cross_entropy(z, torch.as_tensor(LABELS), reduction="none")),
    Spec("softmax_cross_entropy", "sce-labels-3d", ((2, 3, 5),),
         lambda z: ffnn.softmax_cross_entropy(z, LABELS_2D),
         lambda z: TF.cross_entropy(z.movedim(-1, 1), torch.as_tensor(LABELS_2D),
                                    reduction="none")),
]


# ------------------------------------------------------------------ inputs


def _away(x: np.ndarray, points: tuple[float, ...], gap: float = 0.2) -> np.ndarray:
    """Move entries closer than ``gap`` to any of ``points`` out to distance ``gap``."""
    x = np.array(x, dtype=F64)
    for p in points:
        d = x - p
        near = np.abs(d) < gap
        x[near] = p + np.copysign(gap + np.abs(d[near]), d[near])
    return x


def _sample(rng: np.random.Generator, shape: Shape, domain: str) -> np.ndarray:
    if domain == "real":
        return rng.standard_normal(shape)
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "nonzero":
        return _away(rng.standard_normal(shape), (0.0,))
    if domain == "clip":
        return _away(1.5 * rng.standard_normal(shape), (CLIP_LO, CLIP_HI))
    if domain == "simplex":
        e = np.exp(rng.standard_normal(shape))
        return e / e.sum(axis=-1, keepdims=True)  # type: ignore[no-any-return]
    raise ValueError(domain)


def make_inputs(spec: Spec, seed: int = 0) -> list[np.ndarray]:
    """Seeded float64 inputs for ``spec`` in its domain."""
    rng = np.random.default_rng(seed)
    if spec.domain == "distinct":
        sizes = [int(np.prod(s)) for s in spec.shapes]
        n = sum(sizes)
        values = (rng.permutation(n) - n / 2) * 0.3 + rng.uniform(-0.05, 0.05, n)
        cuts = np.cumsum(sizes)[:-1]
        return [v.reshape(s) for v, s in zip(np.split(values, cuts), spec.shapes, strict=True)]
    domains = spec.domain if isinstance(spec.domain, tuple) else (spec.domain,) * len(spec.shapes)
    return [_sample(rng, s, d) for s, d in zip(spec.shapes, domains, strict=True)]


def ours_vjp(f: Callable[..., Any], xs: list[np.ndarray], cotangent: np.ndarray | None = None,
             seed: int = 1) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(value, cotangent, input gradients) of ``f`` at ``xs`` with ffnn."""
    leaves = [ffnn.Tensor(x, requires_grad=True) for x in xs]
    out = f(*leaves)
    if cotangent is None:
        cotangent = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(cotangent)
    grads = [lf.grad if lf.grad is not None else np.zeros_like(lf.data) for lf in leaves]
    return out.data, cotangent, grads


def theirs_vjp(f: Callable[..., Any], xs: list[np.ndarray],
               cotangent: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """(value, input gradients) of ``f`` at ``xs`` with PyTorch."""
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = f(*ts)
    grads = torch.autograd.grad(out, ts, torch.as_tensor(cotangent), allow_unused=True)
    return out.detach().numpy(), [
        np.zeros_like(x) if g is None else g.numpy() for g, x in zip(grads, xs, strict=True)
    ]


SPEC_PARAMS = [pytest.param(s, id=s.name) for s in SPECS]


# ------------------------------------------------------------------ the table


def test_table_covers_registry() -> None:
    """Guards against a primitive added to the registry without a line in this table."""
    assert {s.prim for s in SPECS} == set(PRIMITIVES)


def test_table_names_are_unique() -> None:
    names = [s.name for s in SPECS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_check_grads(spec: Spec) -> None:
    ffnn.check_grads(spec.ours, *make_inputs(spec))


@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_matches_torch(spec: Spec) -> None:
    xs = make_inputs(spec)
    value, u, grads = ours_vjp(spec.ours, xs)
    t_value, t_grads = theirs_vjp(spec.theirs, xs, u)
    assert value.dtype == F64
    assert value.shape == t_value.shape
    np.testing.assert_allclose(value, t_value, rtol=RTOL, atol=ATOL)
    for g, tg, x in zip(grads, t_grads, xs, strict=True):
        assert g.shape == x.shape
        assert g.dtype == F64
        np.testing.assert_allclose(g, tg, rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------- dedicated cases


def _torch_grads(f: Callable[..., Any], *xs: np.ndarray) -> list[np.ndarray]:
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    f(*ts).sum().backward()
    return [t.grad.numpy() for t in ts]  # type: ignore[union-attr]


def _ours_grads(f: Callable[..., Any], *xs: np.ndarray) -> list[np.ndarray]:
    leaves = [ffnn.Tensor(np.asarray(x, F64), requires_grad=True) for x in xs]
    f(*leaves).sum().backward()
    return [lf.grad for lf in leaves]  # type: ignore[misc]


@pytest.mark.parametrize(("ours", "theirs"), [(ffnn.maximum, torch.maximum),
                                              (ffnn.minimum, torch.minimum)])
def test_elementwise_ties_split_evenly(ours: Any, theirs: Any) -> None:
    a = np.array([1.0, 2.0, -3.0, 0.5])
    b = np.array([1.0, 1.0, -3.0, 0.7])
    ga, gb = _ours_grads(ours, a, b)
    ta, tb = _torch_grads(theirs, a, b)
    np.testing.assert_array_equal(ga, ta)
    np.testing.assert_array_equal(gb, tb)
    assert ga[0] == gb[0] == 0.5 and ga[2] == gb[2] == 0.5


@pytest.mark.parametrize(("ours", "theirs"), [(ffnn.max, torch.amax), (ffnn.min, torch.amin)])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_reduction_ties_split_evenly(ours: Any, theirs: Any, axis: Any) -> None:
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [3.0, -1.0, 3.0]])
    dims = tuple(range(2)) if axis is None else axis
    (g,) = _ours_grads(lambda t: ours(t, axis=axis), x)
    (tg,) = _torch_grads(lambda t: theirs(t, dim=dims), x)
    np.testing.assert_allclose(g, tg, rtol=1e-15)
    assert g.sum() == pytest.approx(ours(x, axis=axis).size)  # each output's 1 is shared


@pytest.mark.parametrize(("ours", "theirs"), [
    (ffnn.relu, torch.relu),
    (ffnn.abs, torch.abs),
    (ffnn.sign, torch.sign),
    (lambda x: ffnn.clip(x, -1.0, 1.0), lambda x: torch.clamp(x, -1.0, 1.0)),
])
def test_kinks_match_torch(ours: Any, theirs: Any) -> None:
    """At the kinks (0, clip bounds) the subgradient chosen is PyTorch's."""
    x = np.array([-1.0, 0.0, 1.0, 2.0, -2.0])
    (g,) = _ours_grads(ours, x)
    (tg,) = _torch_grads(theirs, x)
    np.testing.assert_array_equal(g, tg)


def test_sign_gradient_is_exactly_zero(rng: np.random.Generator) -> None:
    (g,) = _ours_grads(lambda t: ffnn.sign(t) * 3.0, rng.standard_normal((3, 4)))
    assert np.array_equal(g, np.zeros((3, 4)))


@pytest.mark.parametrize(("source", "target"), [(np.float32, np.float64),
                                                (np.float64, np.float32)])
def test_astype_converts_gradient_back(source: Any, target: Any) -> None:
    x = ffnn.Tensor(np.array([1.5, -2.0, 0.25], dtype=source), requires_grad=True)
    y = ffnn.astype(x, target)
    assert y.dtype == target
    (y * y).sum().backward()
    assert x.grad is not None and x.grad.dtype == source
    np.testing.assert_array_equal(x.grad, 2 * x.data)


def test_getitem_repeated_indices_accumulate() -> None:
    x = ffnn.Tensor(np.arange(6.0), requires_grad=True)
    x[np.array([1, 1, 1, 4, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 4, 0, 0, 1, 0])  # type: ignore[arg-type]


def test_linear_is_x_wt_plus_b(rng: np.random.Generator) -> None:
    """W has shape (units, inputs) as in the notes: z = W a + b per sample."""
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    z = ffnn.linear(x, w, b).numpy()
    np.testing.assert_allclose(z, x @ w.T + b, rtol=1e-14)
    np.testing.assert_allclose(z[2], w @ x[2] + b, rtol=1e-14)


def test_softmax_cross_entropy_gradient_is_p_minus_y(rng: np.random.Generator) -> None:
    z = rng.standard_normal((4, 5))
    (g,) = _ours_grads(lambda t: ffnn.softmax_cross_entropy(t, LABELS), z)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(g, p - np.eye(5)[LABELS], rtol=1e-12, atol=1e-15)


def test_softmax_cross_entropy_reductions_match_the_per_sample_values(
    rng: np.random.Generator,
) -> None:
    """mean/sum equal the mean/sum of the per-sample losses, also where a row holds ±inf
    (an inf loss stays inf, a nan stays nan) and for float32 logits far apart."""
    z = rng.standard_normal((6, 4)) * 300
    z[1, 1] = -np.inf  # the target class cannot occur: an infinite loss
    z[2, 0] = -np.inf  # another class cannot occur: a finite loss
    z[4] = -np.inf  # every logit −inf: nan, as logsumexp − z gives
    labels = np.array([0, 1, 2, 3, 0, 1])
    for dtype in (np.float32, np.float64):
        zt = z.astype(dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            per = ffnn.softmax_cross_entropy(zt, labels).data
            for red, fn in (("mean", np.mean), ("sum", np.sum)):
                for rows in (slice(0, 4), slice(None)):  # without and with the nan row
                    got = ffnn.softmax_cross_entropy(zt[rows], labels[rows], reduction=red)
                    assert got.dtype == dtype
                    np.testing.assert_allclose(got.data, fn(per[rows]), rtol=1e-6)
    assert np.isinf(per[1]) and np.isnan(per[4]) and np.isfinite(per[[0, 2, 3, 5]]).all()


def test_softmax_cross_entropy_with_an_infinite_logit_raises_no_warning() -> None:
    """A +inf logit on another class makes that sample's loss inf, without a
    floating-point warning in any reduction, as the per-sample form always did."""
    z = np.array([[np.inf, 0.0, 1.0], [1.0, 2.0, 3.0]])
    labels = np.array([1, 2])
    with np.errstate(all="raise"):
        per = ffnn.softmax_cross_entropy(z, labels).data
        total = ffnn.softmax_cross_entropy(z, labels, reduction="sum").item()
    assert np.isinf(per[0]) and np.isfinite(per[1]) and per[1] > 0
    assert np.isinf(total)


def test_softmax_cross_entropy_reduced_keeps_the_per_sample_dtype() -> None:
    z32, y64 = np.zeros((2, 3), np.float32), np.full((2, 3), 1 / 3)
    for red in ("none", "mean", "sum"):
        assert ffnn.softmax_cross_entropy(z32, y64, reduction=red).dtype == np.float64
        assert ffnn.softmax_cross_entropy(z32, y64.astype(np.float32),
                                          reduction=red).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("targets", ["labels", "probabilities"])
def test_softmax_cross_entropy_saved_forward_gives_the_recomputed_gradient(
    dtype: Any, reduction: str, targets: str, rng: np.random.Generator
) -> None:
    """The VJP reuses the forward's exp(z − m) and row sums (Primitive.saves): the
    gradient is bit for bit what recomputing them gives, the saved arrays are left
    unchanged, and a second backward over the retained graph gives the same again."""
    z = (rng.standard_normal((7, 5)) * 20).astype(dtype)
    y: Any = LABELS_7 if targets == "labels" else rng.dirichlet(np.ones(5), 7).astype(dtype)
    prim = PRIMITIVES["softmax_cross_entropy"]
    assert prim.saves
    params: dict[str, Any] = {"labels": y} if targets == "labels" else {"labels": None}
    args = (z,) if targets == "labels" else (z, y)
    if reduction != "none":
        params["scale"] = 1 / 7 if reduction == "mean" else 1.0
    saved: dict[str, Any] = {}
    out = prim.forward(*args, saved=saved, **params)
    assert set(saved) == {"e", "se", "sy"}
    frozen = {k: None if v is None else v.copy() for k, v in saved.items()}
    g = np.asarray(rng.standard_normal(out.shape), dtype=dtype)
    needs = (True,) * len(args)
    fresh = prim.vjp(g, out, *args, needs=needs, **params)  # recomputes
    reused = prim.vjp(g, out, *args, needs=needs, saved=saved, **params)
    for a, b in zip(fresh, reused, strict=True):
        if a is not None:
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    for k, v in frozen.items():
        np.testing.assert_array_equal(saved[k], v)
    t = ffnn.Tensor(z, requires_grad=True)
    loss = ffnn.softmax_cross_entropy(t, y, reduction=reduction)
    seed = np.ones(loss.shape, dtype)
    loss.backward(seed, retain_graph=True)
    first = t.grad.copy()
    t.grad = None
    loss.backward(seed)
    np.testing.assert_array_equal(t.grad, first)


def test_softmax_cross_entropy_saves_nothing_when_not_recorded(
    rng: np.random.Generator,
) -> None:
    z = rng.standard_normal((3, 5))
    calls: list[Any] = []
    prim = PRIMITIVES["softmax_cross_entropy"]
    original = prim.forward

    def spy(*args: Any, **params: Any) -> Any:
        calls.append(params.get("saved", "missing"))
        return original(*args, **params)

    prim.forward = spy
    try:
        with ffnn.no_grad():
            ffnn.softmax_cross_entropy(ffnn.Tensor(z, requires_grad=True), LABELS[:3])
        ffnn.softmax_cross_entropy(ffnn.Tensor(z), LABELS[:3])  # nothing needs a gradient
        ffnn.softmax_cross_entropy(ffnn.Tensor(z, requires_grad=True), LABELS[:3])
    finally:
        prim.forward = original
    assert calls[0] is None and calls[1] is None and isinstance(calls[2], dict)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_sum_squares_in_any_memory_layout(layout: str, rng: np.random.Generator) -> None:
    """The forward reads the array in its own order (no copy for Fortran-ordered
    kernels); the gradient 2·scale·g·x keeps that order."""
    base = rng.standard_normal((6, 10))
    x = {"C": base, "F": np.asfortranarray(base), "strided": base[:, ::2]}[layout]
    t = ffnn.Tensor(x, requires_grad=True)
    out = ffnn.sum_squares(t, 0.25)
    np.testing.assert_allclose(out.item(), 0.25 * np.sum(x * x), rtol=1e-13)
    out.backward()
    np.testing.assert_allclose(t.grad, 0.5 * x, rtol=1e-15)
    if layout == "F":
        assert t.grad.flags.f_contiguous
    assert ffnn.sum_squares(np.zeros((0, 3))).item() == 0.0


def test_softmax_cross_entropy_rejects_an_unknown_reduction() -> None:
    with pytest.raises(ValueError, match=r"unknown reduction 'avg'.*'none', 'mean', 'sum'"):
        ffnn.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1]), reduction="avg")


def test_softmax_cross_entropy_mean_of_no_samples_is_nan() -> None:
    with np.errstate(invalid="ignore"):
        out = ffnn.softmax_cross_entropy(np.zeros((0, 3)), np.zeros((0, 3)), reduction="mean")
    assert out.shape == () and np.isnan(out.item())
    assert ffnn.softmax_cross_entropy(np.zeros((0, 3)), np.zeros((0, 3)), reduction="sum") \
        .item() == 0.0


def test_dense_relu_on_arrays_past_the_constant_cache() -> None:
    """The vectorised ReLU compares against cached zeros up to a size limit; beyond it
    the plain path gives the same result, and the cached constants stay read-only."""
    from ffnn.autodiff import fused

    rng = np.random.default_rng(3)
    big = rng.standard_normal((fused._CACHE_LIMIT // 4 + 1, 4)).astype(np.float32)
    w = np.eye(4, dtype=np.float32)
    out = ffnn.dense(big, w, activation="relu").data
    np.testing.assert_array_equal(out, np.maximum(big, 0))
    small = big[:100]
    np.testing.assert_array_equal(ffnn.dense(small, w, activation="relu").data,
                                  np.maximum(small, 0))
    zeros = fused._constant_vector(0.0, 10, np.float32)
    assert zeros is not None and not zeros.flags.writeable and not zeros.any()
    assert fused._constant_vector(1.0, fused._CACHE_LIMIT + 1, np.float32) is None


# ----------------------------------------------------------------- stability

INF_CASES = [
    # (name, function of x, x, exact value, cotangent, exact gradient)
    ("sigmoid", ffnn.sigmoid, [1000.0, -1000.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]),
    ("sigmoid-1e4", ffnn.sigmoid, [1e4, -1e4], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]),
    ("softplus", ffnn.softplus, [1000.0, -1000.0], [1000.0, 0.0], [1.0, 1.0], [1.0, 0.0]),
    ("logsumexp-equal-big", ffnn.logsumexp, [1000.0, 1000.0], 1000.0 + np.log(2), 1.0,
     [0.5, 0.5]),
    ("logsumexp-equal-small", ffnn.logsumexp, [-1000.0, -1000.0], -1000.0 + np.log(2), 1.0,
     [0.5, 0.5]),
    ("logsumexp-apart", ffnn.logsumexp, [1000.0, -1000.0], 1000.0, 1.0, [1.0, 0.0]),
    ("log_softmax-apart", ffnn.log_softmax, [1000.0, -1000.0], [0.0, -2000.0], [0.3, 0.7],
     [-0.7, 0.7]),
    ("log_softmax-equal", ffnn.log_softmax, [1000.0, 1000.0], [-np.log(2), -np.log(2)],
     [1.0, 0.0], [0.5, -0.5]),
    ("softmax-apart", ffnn.softmax, [1000.0, -1000.0], [1.0, 0.0], [1.0, 0.0], [0.0, 0.0]),
    ("softmax-equal", ffnn.softmax, [-1000.0, -1000.0], [0.5, 0.5], [1.0, 0.0], [0.25, -0.25]),
    ("sce-label-right", lambda z: ffnn.softmax_cross_entropy(z, np.array(0)), [1000.0, -1000.0],
     0.0, 1.0, [0.0, 0.0]),
    ("sce-label-wrong", lambda z: ffnn.softmax_cross_entropy(z, np.array(1)), [1000.0, -1000.0],
     2000.0, 1.0, [1.0, -1.0]),
    ("sce-label-tie", lambda z: ffnn.softmax_cross_entropy(z, np.array(0)), [1000.0, 1000.0],
     np.log(2), 1.0, [-0.5, 0.5]),
    ("sce-probs", lambda z: ffnn.softmax_cross_entropy(z, np.array([0.5, 0.5], z.dtype)),
     [1000.0, -1000.0], 1000.0, 1.0, [0.5, -0.5]),
    # the reduced forms, on rows whose maxima lie 2000 apart
    ("sce-labels-mean", lambda z: ffnn.softmax_cross_entropy(
        ffnn.reshape(z, (2, 2)), np.array([1, 0]), reduction="mean"),
     [1000.0, -1000.0, -1000.0, 1000.0], 2000.0, 1.0, [0.5, -0.5, -0.5, 0.5]),
    ("sce-probs-sum", lambda z: ffnn.softmax_cross_entropy(
        ffnn.reshape(z, (2, 2)), np.array([[0.5, 0.5], [1.0, 0.0]], z.dtype), reduction="sum"),
     [1000.0, -1000.0, -1000.0, 1000.0], 3000.0, 1.0, [0.5, -0.5, -1.0, 1.0]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("f", "x", "value", "cot", "grad"),
                         [pytest.param(*c[1:], id=c[0]) for c in INF_CASES])
def test_stable_at_large_magnitudes(f: Any, x: Any, value: Any, cot: Any, grad: Any,
                                    dtype: Any) -> None:
    """Guards against overflow to inf/nan in the stable primitives at |x| = 1000."""
    t = ffnn.Tensor(np.array(x, dtype=dtype), requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        out = f(t)
        out.backward(np.array(cot, dtype=dtype))
    assert out.dtype == dtype and t.grad is not None and t.grad.dtype == dtype
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(t.grad))
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.data, value, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(t.grad, grad, rtol=rtol, atol=rtol)


# ------------------------------------------------------------ property tests

BINARY = {
    "add": (ffnn.add, torch.add, "real"),
    "subtract": (ffnn.subtract, torch.sub, "real"),
    "multiply": (ffnn.multiply, torch.mul, "real"),
    "divide": (ffnn.divide, torch.div, ("real", "nonzero")),
    "power": (ffnn.power, torch.pow, ("positive", "real")),
    "maximum": (ffnn.maximum, torch.maximum, "distinct"),
    "minimum": (ffnn.minimum, torch.minimum, "distinct"),
    "where": (lambda a, b: ffnn.where(a > 0, a, b),
              lambda a, b: torch.where(a > 0, a, b), "nonzero"),
}


@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    name=st.sampled_from(sorted(BINARY)),
    seed=st.integers(0, 2**16),
)
def test_gradient_shape_follows_broadcasting(shapes: Any, name: str, seed: int) -> None:
    ours, theirs, domain = BINARY[name]
    spec = Spec(name, name, tuple(shapes.input_shapes), ours, theirs, domain)
    xs = make_inputs(spec, seed)
    value, u, grads = ours_vjp(ours, xs, seed=seed)
    assert value.shape == shapes.result_shape
    t_value, t_grads = theirs_vjp(theirs, xs, u)
    np.testing.assert_allclose(value, t_value, rtol=RTOL, atol=ATOL)
    for g, tg, x in zip(grads, t_grads, xs, strict=True):
        assert g.shape == x.shape
        np.testing.assert_allclose(g, tg, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("spec", SPEC_PARAMS)
@settings(max_examples=5)
@given(a=st.floats(-3, 3), b=st.floats(-3, 3))
def test_vjp_is_linear_in_cotangent(spec: Spec, a: float, b: float) -> None:
    xs = make_inputs(spec)
    _, g1, v1 = ours_vjp(spec.ours, xs, seed=1)
    _, g2, v2 = ours_vjp(spec.ours, xs, seed=2)
    _, _, v3 = ours_vjp(spec.ours, xs, a * g1 + b * g2)
    for r3, r1, r2 in zip(v3, v1, v2, strict=True):
        expected = a * r1 + b * r2
        scale = 1.0 + np.abs(a * r1).max(initial=0) + np.abs(b * r2).max(initial=0)
        np.testing.assert_allclose(r3, expected, rtol=0, atol=1e-12 * scale)


@given(arrays(F64, array_shapes(min_dims=0, max_dims=3, max_side=4),
              elements=st.floats(-10, 10)))
def test_reused_node_gradients_are_summed(x: np.ndarray) -> None:
    """y = x·x + x uses x three times: ∂Σy/∂x = 2x + 1."""
    (g,) = _ours_grads(lambda t: t * t + t, x)
    np.testing.assert_allclose(g, 2 * x + 1, rtol=1e-15, atol=0)


UNARY = [s for s in SPECS if len(s.shapes) == 1]


@given(spec=st.sampled_from(UNARY))
def test_function_applied_twice_doubles_gradient(spec: Spec) -> None:
    """f(x) + f(x) builds two graphs from one leaf: the gradient is 2·∂f."""
    xs = make_inputs(spec)
    _, u, (g1,) = ours_vjp(spec.ours, xs)
    _, _, (g2,) = ours_vjp(lambda t: spec.ours(t) + spec.ours(t), xs, u)
    np.testing.assert_allclose(g2, 2 * g1, rtol=1e-15, atol=0)


def test_intermediate_reused_in_branches(rng: np.random.Generator) -> None:
    """h = exp(x) feeds three consumers; the gradients from all three arrive at x."""
    x = rng.standard_normal(5)

    def f(t: Any) -> Any:
        h = ffnn.exp(t)
        return h * h + ffnn.sum(h) * t + ffnn.sigmoid(h)

    (g,) = _ours_grads(f, x)
    (tg,) = _torch_grads(lambda t: (lambda h: h * h + h.sum() * t + torch.sigmoid(h))(
        torch.exp(t)), x)
    np.testing.assert_allclose(g, tg, rtol=1e-12)


@pytest.mark.parametrize("spec", [p for p in SPEC_PARAMS if p.values[0].prim != "astype"])
def test_float32_stays_float32(spec: Spec) -> None:
    """Guards against silent upcasts: float32 in gives float32 values and float32
    gradients at every input of the primitive (seen by an identity probe placed before
    it, i.e. before the engine casts the gradient to the leaf's dtype)."""
    seen: list[np.dtype[Any]] = []

    def probe_vjp(g: np.ndarray, out: np.ndarray, x: np.ndarray, *, needs: Any) -> Any:
        seen.append(g.dtype)
        return (g,)

    probe = Primitive("probe", lambda x: x, probe_vjp)  # not registered
    xs = [x.astype(np.float32) for x in make_inputs(spec)]
    leaves = [ffnn.Tensor(x, requires_grad=True) for x in xs]
    out = spec.ours(*[apply(probe, leaf) for leaf in leaves])
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert seen == [np.dtype(np.float32)] * len(xs)


# ----------------------------------------------------------- static graphs (ffnn.trace)
def _same_bits(a: Any, b: Any) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def _array_indexed(spec: Spec) -> bool:
    """A getitem line whose index holds an array (its defaults carry the index)."""
    index = (spec.ours.__defaults__ or (None,))[0]
    items = index if isinstance(index, tuple) else (index,)
    return spec.prim == "getitem" and any(isinstance(i, np.ndarray) for i in items)


def _scalarised(spec: Spec, cot: np.ndarray) -> Any:
    def f(*xs: Any) -> Any:
        return (spec.ours(*xs) * cot).sum()

    return f


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec", SPEC_PARAMS)
def test_every_primitive_replays_bit_identically(spec: Spec, dtype: Any) -> None:
    xs = [x.astype(dtype) for x in make_inputs(spec)]
    out = spec.ours(*[ffnn.Tensor(x) for x in xs])
    cot = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)
    f = _scalarised(spec, cot)
    nums = tuple(range(len(xs)))
    dynamic = ffnn.value_and_grad(f, argnums=nums)
    if spec.prim == "where" or _array_indexed(spec) or spec.name.startswith("sce-labels"):
        # an array parameter (a mask, an index array, closure labels) that is not an
        # argument would be replayed as a constant: refused
        with pytest.raises(ffnn.TraceError, match="not an argument of the traced function"):
            ffnn.trace(dynamic, *xs)
        return
    traced = ffnn.trace(ffnn.value_and_grad(f, argnums=nums), *xs)
    forward = ffnn.trace(spec.ours, *xs)
    for seed in (0, 7):  # the traced inputs, then fresh ones of the same signature
        ys = [y.astype(dtype) for y in make_inputs(spec, seed)]
        v_dyn, g_dyn = dynamic(*ys)
        v_st, g_st = traced(*ys)
        assert v_st == v_dyn or (np.isnan(v_st) and np.isnan(v_dyn))
        for a, b in zip(g_st, g_dyn, strict=True):
            _same_bits(a, b)
        _same_bits(forward(*ys), spec.ours(*[ffnn.Tensor(y) for y in ys]).data)
    assert len(traced.graphs) == 1 and len(forward.graphs) == 1


