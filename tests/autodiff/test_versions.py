"""Issue 11, defect 18: backward through a graph whose saved inputs changed in place.

Every in-place change made through ffnn bumps the tensor's version (optimiser steps,
``set_weights``, checkpoint restores, the full-batch solvers' ``set_flat``); a node
keeps its inputs' versions and backward refuses, naming the tensor, when one moved.
Writing to ``.data`` directly stays the escape hatch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ffnn
from ffnn import Tensor
from ffnn.io import load_checkpoint, save_checkpoint
from ffnn.training.problem import Problem

MESSAGE = (r"leaf tensor 'dense_1/kernel' of shape \(1, 3\) float32, an input of the 'dense' "
           r"node, was modified in place")


def _model() -> ffnn.Sequential:
    model = ffnn.Sequential([ffnn.Dense(3, activation="tanh"), ffnn.Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    model.build(2)
    return model


def _loss(model: ffnn.Sequential) -> Tensor:
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    return ((model(x) - 1.0) ** 2).mean()


def test_the_issue_reproduction_backward_step_backward_raises() -> None:
    model = _model()
    loss = _loss(model)
    loss.backward(retain_graph=True)
    first = [p.grad.copy() for p in model.params]
    model.optimizer.step()
    with pytest.raises(RuntimeError, match=MESSAGE):
        loss.backward()
    # the refused call changed no gradient
    for p, g in zip(model.params, first, strict=True):
        np.testing.assert_array_equal(p.grad, g)


@pytest.mark.parametrize("name", ["sgd", "adam", "rmsprop", "adagrad", "nadam"])
def test_every_first_order_step_bumps_the_version(name: str) -> None:
    model = _model()
    model.compile(optimizer=name, loss="mse")
    loss = _loss(model)
    loss.backward(retain_graph=True)
    before = [p.version for p in model.params]
    model.optimizer.step()
    assert [p.version for p in model.params] == [v + 1 for v in before]
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_set_weights_bumps_and_backward_refuses() -> None:
    model = _model()
    loss = _loss(model)
    model.set_weights(model.get_weights())
    with pytest.raises(RuntimeError, match=MESSAGE):
        loss.backward()


def test_checkpoint_restore_bumps(tmp_path: Path) -> None:
    model = _model()
    path = tmp_path / "ckpt.ffnn"
    save_checkpoint(model, path, epoch=1)
    loss = _loss(model)
    load_checkpoint(path).restore(model)
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_full_batch_set_flat_bumps() -> None:
    model = _model()
    x = np.ones((4, 2), dtype=np.float32)
    problem = Problem(model, x, np.ones((4, 1), dtype=np.float32))
    loss = _loss(model)
    problem.set_flat(problem.get_flat())
    assert all(p.version == 1 for p in model.params)
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_an_intermediate_is_named_by_its_node() -> None:
    w = Tensor(np.ones(3), requires_grad=True)
    h = ffnn.exp(w)
    y = (h * h).sum()
    h.mark_modified()
    with pytest.raises(RuntimeError, match=r"the output of a 'exp' node of shape \(3,\) "
                                           r"float64, an input of the 'multiply' node"):
        y.backward()


def test_data_writes_are_the_escape_hatch_and_a_fresh_forward_works() -> None:
    model = _model()
    loss = _loss(model)
    loss.backward(retain_graph=True)
    model.params[0].data[...] = 0.5  # direct write: not tracked, as in PyTorch
    loss.backward()  # allowed (the documented escape hatch)
    model.optimizer.step()
    fresh = _loss(model)  # a new forward after the step: fine
    fresh.backward()
    assert all(p.grad is not None for p in model.params)


def test_rebinding_operators_leave_recorded_graphs_valid() -> None:
    """``t += 1`` on a Tensor rebinds the name to a new tensor (no in-place change)."""
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (w * w).sum()
    v = w
    v += 1.0
    assert v is not w and w.version == 0
    y.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])


def test_versions_start_at_zero_and_graphs_free_their_record() -> None:
    w = Tensor(np.ones(2), requires_grad=True)
    assert w.version == 0 and ffnn.exp(w).version == 0
    y = ffnn.exp(w).sum()
    y.backward()
    w.mark_modified()
    assert w.version == 1
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()
