"""ffnn.trace: static graphs replayed without the tape, bit-identical to it.

Every primitive of the spec table (the test lives beside the table, in test_ops.py)
and whole networks with every layer
type, in float32 and float64: the traced replay gives the same bits as the dynamic
tape (values and gradients), on the traced inputs and on fresh ones of the same
signature. The notes' h1…h6 table of adjoints is read off a traced graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn import Tensor
from ffnn.autodiff import PRIMITIVES
from ffnn.autodiff.static import _OUT_KERNELS

DTYPES = [np.float32, np.float64]


def _same(a: Any, b: Any) -> None:
    """Bit-identical: same dtype, shape and bytes (NaN-safe)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def test_the_notes_adjoint_table() -> None:
    """f(x; w, b) = 1/(exp(−(wx+b))+1) at x=1, w=0, b=0: h1…h6 and their adjoints."""

    def f(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        return 1 / (ffnn.exp(-(w * x + b)) + 1)

    x, w, b = np.array(1.0), np.array(0.0), np.array(0.0)
    g = ffnn.trace(ffnn.value_and_grad(f, argnums=(1, 2)), x, w, b)
    value, (dw, db) = g(x, w, b)
    assert value == 0.5 and dw == 0.25 and db == 0.25
    assert [n.primitive for n in g.nodes] == ["multiply", "add", "negative", "exp", "add",
                                               "divide"]
    # h1 = wx, h2 = h1 + b, h3 = −h2, h4 = exp(h3), h5 = h4 + 1, h6 = 1/h5
    assert [float(g.value(n)) for n in g.nodes] == [0.0, 0.0, 0.0, 1.0, 2.0, 0.5]
    # h̄6 = 1, h̄5 = −1/h5² = −0.25, h̄4 = h̄5, h̄3 = h̄4·exp(h3), h̄2 = −h̄3, h̄1 = h̄2
    assert [float(g.adjoint(n)) for n in g.nodes] == [0.25, 0.25, -0.25, -0.25, -0.25, 1.0]
    assert g.nodes[0].inputs == ("x1", "x0") and g.nodes[5].inputs == ("const", "n4")


def test_inspection_nodes_flops_bytes_and_dot() -> None:
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)

    def f(x: Tensor) -> Tensor:
        return ffnn.tanh(x @ w).sum()

    x = rng.standard_normal((5, 3)).astype(np.float32)
    g = ffnn.trace(f, x)
    prims = [(n.primitive, n.shape, n.dtype) for n in g.nodes]
    assert prims == [("matmul", (5, 4), np.float32), ("tanh", (5, 4), np.float32),
                     ("sum", (), np.float32)]
    assert g.nodes[0].input_shapes == ((5, 3), (3, 4))
    assert g.nodes[0].inputs == ("x0", "c0")
    assert g.flops == 2 * 5 * 4 * 3 + 20 + 20
    assert g.buffer_bytes == (20 + 20 + 1) * 4
    dot = g.to_dot()
    assert dot.startswith("digraph") and "x0 -> n0;" in dot and "c0 -> n0;" in dot
    assert "n1 -> n2;" in dot and 'label="tanh' in dot
    with pytest.raises(ValueError, match="value_and_grad"):
        g.adjoint(0)
    with pytest.raises(IndexError, match="3 nodes"):
        g.value(3)


@pytest.mark.parametrize(
    "body, what",
    [
        (lambda x: x if x.sum() > 0 else -x, "comparison >"),
        (lambda x: x if bool(x.sum()) else -x, r"bool\(\)"),
        (lambda x: x * float(x.sum()), r"float\(\)"),
        (lambda x: x * x.sum().item(), r"item\(\)"),
    ],
)
def test_data_dependent_control_flow_is_refused_at_trace_time(body: Any, what: str) -> None:
    x = np.ones(3)
    with pytest.raises(ffnn.TraceError, match=what) as info:
        ffnn.trace(body, x)
    assert "dynamic path" in str(info.value)
    # outside a trace the same calls work as before
    assert isinstance(body(Tensor(x)), Tensor)


def test_new_signature_traces_again_and_is_cached() -> None:
    calls = []

    def f(x: Tensor, scale: float) -> Tensor:
        calls.append(x.shape)
        return (x * scale).sum()

    t = ffnn.trace(f, np.ones(3), 2.0)
    assert float(t(np.full(3, 2.0), 2.0)) == 12.0
    assert float(t(np.ones(4), 2.0)) == 8.0  # new shape
    assert float(t(np.ones(4, dtype=np.float32), 2.0)) == 8.0  # new dtype
    assert float(t(np.ones(4), 3.0)) == 12.0  # new static value
    assert float(t(np.full(4, 2.0), 3.0)) == 24.0  # cached
    assert len(t.graphs) == 4 and len(calls) == 4
    with pytest.raises(TypeError, match="argument 1 is a dict"):
        t(np.ones(3), {})


def test_replay_creates_no_tensor() -> None:
    """Every primitive application reports to the engine's tracer hook: none in a replay."""
    mode = ffnn.autodiff.mode._MODE
    created = []

    class Spy:
        def record(self, prim: Any, *rest: Any) -> None:
            created.append(prim.name)

    def f(x: Tensor, y: Tensor) -> Tensor:
        return ffnn.mean((ffnn.sigmoid(x) - y) ** 2)

    x, y = np.random.default_rng(0).standard_normal((2, 4, 3))
    t = ffnn.trace(ffnn.value_and_grad(f, 0), x, y)
    mode.tracer = Spy()
    try:
        ffnn.sigmoid(Tensor(x))  # the spy sees the tape
        assert created == ["sigmoid"]
        t(x, y)
    finally:
        mode.tracer = None
    assert created == ["sigmoid"]


def test_captured_tensor_is_read_at_each_call_and_checked() -> None:
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)

    def f(x: Tensor) -> Tensor:
        return (x * w).sum()

    t = ffnn.trace(ffnn.value_and_grad(f), np.ones(2))
    w.data = np.array([3.0, 4.0])
    value, _ = t(np.ones(2))
    assert value == 7.0
    np.testing.assert_array_equal(t.captured_grads()[0], [1.0, 1.0])
    w.data = np.zeros(3)
    with pytest.raises(ffnn.TraceError, match=r"changed from shape \(2,\)"):
        t(np.ones(2))


def test_output_buffers_are_reused_and_results_copied() -> None:
    def f(x: Tensor) -> Tensor:
        return ffnn.exp(x) + 1.0

    x = np.zeros((2, 2))
    shared = ffnn.trace(f, x, copy=False)
    a = shared(x)
    b = shared(np.ones((2, 2)))
    assert a is b  # the graph's buffer, overwritten in place
    np.testing.assert_array_equal(a, np.e + 1.0)
    fresh = ffnn.trace(f, x)
    c = fresh(x)
    d = fresh(np.ones((2, 2)))
    assert c is not d and c[0, 0] == 2.0


def test_out_kernels_name_real_primitives() -> None:
    assert set(_OUT_KERNELS) <= set(PRIMITIVES)


def test_returns_a_tuple_of_outputs_and_validates() -> None:
    def f(x: Tensor) -> Any:
        return x * 2, (x + 1, ffnn.exp(x))

    t = ffnn.trace(f, np.zeros(2))
    a, (b, c) = t(np.ones(2))
    np.testing.assert_array_equal(a, [2.0, 2.0])
    np.testing.assert_array_equal(b, [2.0, 2.0])
    np.testing.assert_array_equal(c, np.exp([1.0, 1.0]))
    with pytest.raises(TypeError, match="must return Tensors"):
        ffnn.trace(lambda x: 3.0, np.zeros(2))
    with pytest.raises(ValueError, match="scalar"):
        ffnn.trace(ffnn.value_and_grad(lambda x: x * 2), np.zeros(2))
    with pytest.raises(ValueError, match="argnums 3 is out of range"):
        ffnn.trace(ffnn.value_and_grad(lambda x: x.sum(), argnums=3), np.zeros(2))


LAYERS = [
    lambda: [ffnn.Dense(5, activation="tanh"), ffnn.Dense(3)],
    lambda: [ffnn.Dense(4), ffnn.Activation("sigmoid"), ffnn.Dense(3, activation="relu")],
    lambda: [ffnn.Maxout(4, pieces=3), ffnn.Dense(3)],
    lambda: [ffnn.RBF(4), ffnn.Dense(3)],
    lambda: [ffnn.Dense(4), ffnn.Dropout(0.5), ffnn.Dense(3)],
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", LAYERS, ids=["dense", "activation", "maxout", "rbf",
                                               "dropout"])
def test_whole_networks_replay_bit_identically(make: Any, dtype: Any) -> None:
    rng = np.random.default_rng(0)
    model = ffnn.Sequential(make(), dtype=dtype, seed=0)
    model.build(3)
    x = rng.standard_normal((6, 3)).astype(dtype)
    y = rng.integers(0, 3, 6)
    params = model.params
    assert params

    def loss(x: Tensor, y: np.ndarray) -> Tensor:
        return ffnn.softmax_cross_entropy(model(x), y, reduction="mean")

    traced = ffnn.trace(ffnn.value_and_grad(loss), x, y)
    for seed in (0, 1):
        xs = np.random.default_rng(seed).standard_normal((6, 3)).astype(dtype)
        for p in params:
            p.grad = None
        ys = np.random.default_rng(seed).integers(0, 3, 6)  # labels are an input too
        v_dyn, g_dyn = ffnn.value_and_grad(loss)(xs, ys)
        v_st, g_st = traced(xs, ys)
        assert v_st == v_dyn
        _same(g_st, g_dyn)
        by_id = {id(t): g for t, g in zip(traced.graph.captured, traced.captured_grads(),
                                          strict=True)}
        for p in params:
            _same(by_id[id(p)], p.grad)


def test_a_mask_computed_in_python_is_refused_not_baked_in() -> None:
    """PReLU builds where(x.data > 0, ...): the mask would be a constant of the graph."""
    model = ffnn.Sequential([ffnn.Dense(4), ffnn.PReLU(), ffnn.Dense(3)], seed=0)
    model.build(3)
    with pytest.raises(ffnn.TraceError, match="where: its condition= is an array that is not"):
        ffnn.trace(lambda x: model(x).sum(), np.ones((2, 3), dtype=np.float32))
