"""graph draws the notes' computation graph: values, local derivatives, adjoints.

The tests read the drawn texts (vertex labels and edge labels), not pixels, and the
engine's public graph view (Tensor.retain_grad, ffnn.graph_nodes) behind them.
"""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import Tensor
from ffnn.plot.graph import graph_vertices


def f(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """The notes' f(x; w, b) = 1/(exp(−(wx+b))+1)."""
    return 1 / (ffnn.exp(-(w * x + b)) + 1)


# the notes' table at x = 1, w = 0, b = 0: h1 = wx, h2 = h1 + b, h3 = −h2,
# h4 = exp(h3), h5 = h4 + 1, h6 = 1/h5, with their values and adjoints ∂f/∂hᵢ
VALUES = [0.0, 0.0, 0.0, 1.0, 2.0, 0.5]
ADJOINTS = [0.25, 0.25, -0.25, -0.25, -0.25, 1.0]


def _texts(fig, gid):
    return [t.get_text() for t in fig.axes[0].texts if t.get_gid() == gid]


def test_the_notes_example_from_a_function() -> None:
    fig = ffnn.plot.graph(f, 1.0, 0.0, 0.0)
    vertices = _texts(fig, "vertex")
    ops = [t for t in vertices if t.startswith("h")]
    assert [t.split("\n")[0] for t in ops] == [
        "h1 = multiply", "h2 = add", "h3 = negative", "h4 = exp", "h5 = add", "h6 = divide"]
    assert [float(t.split("\n")[1][2:]) for t in ops] == VALUES
    assert [float(t.split("\n")[2][4:]) for t in ops] == ADJOINTS
    inputs = {t.split("\n")[0]: t for t in vertices if t[0] in "xwb"}
    assert inputs["w"] == "w\n= 0\nadj 0.25"  # ∂f/∂w = 0.25
    assert inputs["b"] == "b\n= 0\nadj 0.25"
    assert inputs["x"] == "x\n= 1\nadj 0"
    # edges: ∂h1/∂w = x = 1, ∂h1/∂x = w = 0, ∂h2/∂h1 = ∂h2/∂b = 1, ∂h3/∂h2 = −1,
    # ∂h4/∂h3 = exp(h3) = 1, ∂h5/∂h4 = 1 (and 1 to the constant), ∂h6/∂h5 = −1/h5²
    edges = [float(t) for t in _texts(fig, "edge")]
    assert edges == [1.0, 0.0, 1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 0.5, -0.25]


def test_a_loss_tensor_with_retained_adjoints() -> None:
    w = Tensor(np.array(0.0), requires_grad=True)
    b = Tensor(np.array(0.0), requires_grad=True)
    h1 = (w * 1.0).retain_grad()
    out = 1 / (ffnn.exp(-(h1 + b)) + 1)
    out.backward(retain_graph=True)
    vs = graph_vertices(out)
    assert [v.primitive for v in vs] == ["input", "constant", "multiply", "input", "add",
                                         "negative", "exp", "constant", "add", "constant",
                                         "divide"]
    assert float(vs[2].adjoint) == 0.25 and vs[4].adjoint is None  # only h1 was retained
    assert float(w.grad) == 0.25
    fig = ffnn.plot.graph(out)
    assert "h1 = multiply\n= 0\nadj 0.25" in _texts(fig, "vertex")


def test_a_traced_static_graph() -> None:
    x, w, b = np.array(1.0), np.array(0.0), np.array(0.0)
    traced = ffnn.trace(ffnn.value_and_grad(f, argnums=(1, 2)), x, w, b)
    traced(x, w, b)
    vs = graph_vertices(traced)
    ops = [v for v in vs if v.primitive not in ("input", "constant")]
    assert [float(v.value) for v in ops] == VALUES
    assert [float(v.adjoint) for v in ops] == ADJOINTS
    assert [float(d) for d in ops[-1].local] == [0.5, -0.25]  # ∂(1/h5)/∂h5 = −1/h5²
    assert {v.name: float(v.adjoint) for v in vs if v.primitive == "input"
            and v.adjoint is not None} == {"x1": 0.25, "x2": 0.25}
    fig = ffnn.plot.graph(traced)
    assert "h6 = divide\n= 0.5\nadj 1" in _texts(fig, "vertex")


def test_tensor_vertices_show_shapes_and_an_ax_is_used() -> None:
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    fig0, ax = plt.subplots()
    fig = ffnn.plot.graph(lambda x, w: ffnn.tanh(x @ w).sum(),
                          rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), ax=ax)
    assert fig is fig0
    texts = _texts(fig, "vertex")
    assert "h1 = matmul\n= array(2, 4)" in texts[2]


def test_bad_input_is_refused() -> None:
    with pytest.raises(TypeError, match="a function with its arguments"):
        ffnn.plot.graph(3.0)
    with pytest.raises(TypeError, match="must return a Tensor"):
        ffnn.plot.graph(lambda x: 1.0, 2.0)
    t = ffnn.exp(Tensor(np.ones(2), requires_grad=True)).sum()
    t.backward()
    with pytest.raises(ValueError, match="retain_graph=True"):
        ffnn.plot.graph(t)
