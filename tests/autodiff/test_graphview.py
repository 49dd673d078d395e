"""The public view of the dynamic tape: Tensor.retain_grad and ffnn.graph_nodes."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import Tensor


def test_retain_grad_keeps_an_intermediate_adjoint() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = ffnn.exp(x)
    assert h.retain_grad() is h
    y = (h * h).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(h.grad, 2 * np.exp([1.0, 2.0]))  # ∂y/∂h = 2h
    y.backward()  # accumulates like a leaf's
    np.testing.assert_allclose(h.grad, 4 * np.exp([1.0, 2.0]))
    other = ffnn.exp(x)
    (other * 2).sum().backward()
    assert other.grad is None  # not retained: dropped as before


def test_retain_grad_copies_a_shared_adjoint() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    h = (x * 1.0).retain_grad()
    y = h + 0.0
    y.backward(np.full(3, 2.0))
    h.grad[0] = 99.0
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


def test_graph_nodes_of_the_notes_example() -> None:
    x = Tensor(np.array(1.0))
    w = Tensor(np.array(0.0), requires_grad=True)
    b = Tensor(np.array(0.0), requires_grad=True)
    out = 1 / (ffnn.exp(-(w * x + b)) + 1)
    nodes = ffnn.graph_nodes(out)
    assert [n.primitive for n in nodes] == ["input", "input", "multiply", "input", "add",
                                            "negative", "exp", "constant", "add", "constant",
                                            "divide"]
    assert nodes[0].tensor is w and nodes[1].tensor is x and nodes[3].tensor is b
    assert [n.parents for n in nodes if n.parents] == [(0, 1), (2, 3), (4,), (5,), (6, 7),
                                                         (9, 8)]
    local = [tuple(float(d) for d in n.local) for n in nodes if n.parents]
    # ∂h1/∂w = x, ∂h1/∂x = w, 1, 1, −1, exp(h3), 1, 1, ∂(1/h5)/∂1 = 1/h5, −1/h5²
    assert local == [(1.0, 0.0), (1.0, 1.0), (-1.0,), (1.0,), (1.0, 1.0), (0.5, -0.25)]
    assert float(nodes[-1].value) == 0.5 and nodes[-1].adjoint is None
    out.backward()
    assert float(nodes[0].adjoint) == 0.25  # ∂f/∂w
    with pytest.raises(ValueError, match="retain_graph=True"):
        ffnn.graph_nodes(out)
    with pytest.raises(TypeError, match="needs a Tensor"):
        ffnn.graph_nodes(np.ones(2))  # type: ignore[arg-type]


def test_graph_nodes_of_a_leaf_and_of_tensors() -> None:
    leaf = Tensor(np.ones(2), requires_grad=True)
    assert [n.primitive for n in ffnn.graph_nodes(leaf)] == ["input"]
    m = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    s = ffnn.sum(m * m, axis=1)
    nodes = ffnn.graph_nodes(s)
    assert nodes[1].parents == (0, 0)  # m * m: one edge per operand, each ∂(ab)/∂a = b
    for d in nodes[1].local:
        np.testing.assert_array_equal(d, m.data)
    np.testing.assert_array_equal(nodes[2].local[0], np.ones((2, 3)))
