"""compile(graph="static"): training through traced steps gives the tape's weights bit
for bit (float64, same data, seed and batch order), for every first-order optimiser,
every layer type and every loss; models that cannot be traced take the tape."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn import RBF, Activation, Dense, Dropout, Maxout, PReLU, Sequential

FIRST_ORDER = ["sgd", "adam", "adamw", "nadam", "rmsprop", "adagrad",
               {"name": "sgd", "momentum": 0.9, "nesterov": True}]


def _data(n: int = 70) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 4)), rng.integers(0, 3, n)


def _train(graph: str, layers: Any, optimizer: Any = "sgd",
           loss: str = "sparse_categorical_crossentropy", y: Any = None,
           sample_weight: Any = None, metrics: Any = None) -> Sequential:
    x, labels = _data()
    model = Sequential(layers(), seed=0, dtype="float64")
    model.compile(optimizer=optimizer, loss=loss, graph=graph, metrics=metrics)
    model.fit(x, labels if y is None else y, epochs=3, batch_size=16, verbose=0, seed=1,
              sample_weight=sample_weight)
    return model


def _same_weights(a: Sequential, b: Sequential) -> None:
    for p, q in zip(a.get_weights(), b.get_weights(), strict=True):
        assert p.dtype == q.dtype and p.tobytes() == q.tobytes()


def _mlp() -> list[Any]:
    return [Dense(8, "tanh"), Dense(3, "softmax")]


@pytest.mark.parametrize("optimizer", FIRST_ORDER, ids=str)
def test_every_first_order_optimizer_gives_the_tapes_weights(optimizer: Any) -> None:
    static = _train("static", _mlp, optimizer)
    assert static._static is not None and static._static.reason is None
    assert len(static._static.graphs) == 2  # batches of 16 and the last one of 6
    _same_weights(static, _train("dynamic", _mlp, optimizer))


LAYERS = {
    "dense-relu": lambda: [Dense(8, "relu"), Dense(3, "softmax")],
    "activation": lambda: [Dense(8), Activation("sigmoid"), Dense(3), Activation("softmax")],
    "maxout": lambda: [Maxout(5, pieces=2), Dense(3, "softmax")],
    "rbf": lambda: [RBF(6), Dense(3, "softmax")],
    "l2-penalty": lambda: [Dense(8, "tanh", kernel_regularizer="l2"), Dense(3, "softmax")],
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_traceable_layer_gives_the_tapes_weights(name: str) -> None:
    static = _train("static", LAYERS[name], "adam")
    assert static._static is not None and static._static.reason is None
    _same_weights(static, _train("dynamic", LAYERS[name], "adam"))


@pytest.mark.parametrize("loss", ["mse", "sse", "mae", "categorical_crossentropy",
                                  "binary_crossentropy", "hinge"])
def test_losses_and_sample_weights_give_the_tapes_weights(loss: str) -> None:
    _, labels = _data()
    y = np.eye(3)[labels] if loss != "hinge" else 2 * np.eye(3)[labels] - 1
    last = "softmax" if loss == "categorical_crossentropy" else (
        "sigmoid" if loss == "binary_crossentropy" else "linear")
    layers = lambda: [Dense(8, "tanh"), Dense(3, last)]  # noqa: E731
    static = _train("static", layers, "sgd", loss, y, metrics=["mse"])
    assert static._static.reason is None
    _same_weights(static, _train("dynamic", layers, "sgd", loss, y, metrics=["mse"]))
    # sample weights: the losses rescale them in NumPy, which the second trace detects,
    # so these steps take the tape (same weights all the same)
    w = np.linspace(0.5, 2.0, len(labels))
    static = _train("static", layers, "sgd", loss, y, w)
    assert "computes an array in Python" in static._static.reason
    _same_weights(static, _train("dynamic", layers, "sgd", loss, y, w))


@pytest.mark.parametrize("layers, reason", [
    (lambda: [Dense(8), Dropout(0.5), Dense(3, "softmax")], "random in training mode"),
    (lambda: [Dense(8), PReLU(), Dense(3, "softmax")], "condition= is an array"),
])
def test_untraceable_steps_take_the_tape_and_say_why(layers: Any, reason: str) -> None:
    static = _train("static", layers)
    assert reason in static._static.reason
    assert all(g is None for g in static._static.graphs.values())
    _same_weights(static, _train("dynamic", layers))


def test_full_batch_optimizers_and_the_dynamic_mode_never_trace() -> None:
    x, y = _data(20)
    model = Sequential(_mlp(), seed=0, dtype="float64")
    model.compile(optimizer="lbfgs", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=None, verbose=0)
    assert model._static.graphs == {}
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", graph="dynamic")
    assert model._static is None
    with pytest.raises(ValueError, match=r"graph must be one of \('static', 'dynamic'\)"):
        model.compile(graph="eager")


def test_a_python_array_from_the_data_is_detected_not_frozen() -> None:
    """A custom loss that builds an array from the targets in NumPy: the two traces
    differ, so the step takes the tape (a replay would reuse the first batch's array)."""

    def loss(y_true: Any, y_pred: Any) -> Any:
        target = ffnn.Tensor(np.asarray(y_true) * 1.0)  # made in Python from the data
        return ((y_pred - target) ** 2).mean()

    x, labels = _data()
    y = np.eye(3)[labels]
    model = Sequential([Dense(3)], seed=0, dtype="float64")
    model.compile(optimizer="sgd", loss=loss)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=1)
    assert "computes an array in Python" in model._static.reason
    assert all(g is None for g in model._static.graphs.values())
    ref = Sequential([Dense(3)], seed=0, dtype="float64")
    ref.compile(optimizer="sgd", loss=loss, graph="dynamic")
    ref.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=1)
    _same_weights(model, ref)


def test_train_step_takes_the_traced_step() -> None:
    x, y = _data(16)
    a = Sequential(_mlp(), seed=0, dtype="float64")
    a.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    b = Sequential(_mlp(), seed=0, dtype="float64")
    b.compile(optimizer="adam", loss="sparse_categorical_crossentropy", graph="dynamic")
    for _ in range(3):
        assert a.train_step(x, y) == b.train_step(x, y)
    assert len(a._static.graphs) == 1
    _same_weights(a, b)


def test_steady_state_allocations_per_step() -> None:
    """tracemalloc over 100 traced steps after warm-up: nothing accumulates."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 20)).astype(np.float32)
    y = rng.integers(0, 5, 32)
    peaks = {}
    for graph in ("static", "dynamic"):
        model = Sequential([Dense(64, "relu"), Dense(5, "softmax")], seed=0)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", graph=graph)
        xa, ya, _ = model.validate_data(x, y)
        model.prepare_training()
        for _ in range(5):
            model.batch_step(xa, ya)
        tracemalloc.start()
        model.batch_step(xa, ya)
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(100):
            model.batch_step(xa, ya)
        after, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        # nothing of the size of an array accumulates from step to step (the few bytes
        # per step are Python objects of the optimiser's bookkeeping, on both paths)
        assert (after - before) / 100 < 256
        peaks[graph] = peak - before
    # a step's transient memory: the forward writes into kept buffers, but the VJP rules
    # still allocate their results, so the static step is not allocation-free (yet)
    assert peaks["static"] < 3 * peaks["dynamic"]
