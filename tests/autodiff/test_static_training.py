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
    assert all(entry[1] is None for entry in static._static.graphs.values())
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
    assert all(entry[1] is None for entry in model._static.graphs.values())
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
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        # nothing of the size of an array accumulates from step to step (the few bytes
        # per step are Python objects of the optimiser's bookkeeping, on both paths)
        assert (after - before) / 100 < 256



@pytest.mark.parametrize("loss", ["categorical_crossentropy", "mse"])
def test_the_traced_step_allocates_no_array_of_the_batch_size(loss: str) -> None:
    """At 2,048 rows a dynamic step allocates its activations and gradients anew (MBs);
    the traced step's kernels write into kept buffers, so its transient memory is what
    NumPy itself takes: the iterator buffer of a broadcast bias addition (8,192 elements
    at most) and small row vectors, whatever the batch size."""
    rng = np.random.default_rng(0)
    peaks = {}
    for rows in (256, 2048):
        x = rng.standard_normal((rows, 20)).astype(np.float32)
        y = (np.eye(5, dtype=np.float32)[rng.integers(0, 5, rows)] if loss != "mse"
             else rng.standard_normal((rows, 5)).astype(np.float32))
        for graph in ("static", "dynamic"):
            last = "softmax" if loss != "mse" else "linear"
            model = Sequential([Dense(64, "relu"), Dense(64, "tanh"), Dense(5, last)], seed=0)
            model.compile(optimizer="sgd", loss=loss, graph=graph)
            xa, ya, _ = model.validate_data(x, y)
            model.prepare_training()
            for _ in range(3):
                model.batch_step(xa, ya)
            tracemalloc.start()
            model.batch_step(xa, ya)
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(10):
                model.batch_step(xa, ya)
            peaks[rows, graph] = tracemalloc.get_traced_memory()[1] - before
            tracemalloc.stop()
    hidden = 2048 * 64 * 4  # one hidden activation at 2,048 rows: 512 KiB
    assert peaks[2048, "dynamic"] > 4 * hidden
    assert peaks[2048, "static"] < hidden / 4
    assert peaks[2048, "static"] < peaks[256, "static"] + 64 * 1024  # flat in the batch


def test_a_parameter_frozen_by_hand_is_no_longer_updated() -> None:
    """requires_grad=False on a weight after some traced steps: the step is traced again
    and leaves it alone, as the tape does."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 4))
    y = rng.standard_normal((16, 2))
    model = Sequential([Dense(3, "tanh"), Dense(2)], seed=0, dtype="float64")
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    frozen = model.layers[0].params[0]
    frozen.requires_grad = False
    before = frozen.data.copy()
    other = model.layers[1].params[0].data.copy()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.array_equal(frozen.data, before)
    assert not np.array_equal(model.layers[1].params[0].data, other)


def _twins(layers: Any) -> tuple[Sequential, Sequential]:
    models = []
    for graph in ("static", "dynamic"):
        model = Sequential(layers(), seed=0, dtype="float64")
        model.compile(optimizer="sgd", loss="mse", graph=graph)
        models.append(model)
    return models[0], models[1]


@pytest.mark.parametrize("change", ["adapt", "new regularizer", "regularizer in place"])
def test_a_layer_changed_between_fits_is_traced_again(change: str) -> None:
    """What a trace freezes besides shapes (a preprocessing layer's statistics, a
    penalty's strength) may change between two fit calls; the static path must follow
    the tape, bit for bit."""
    from ffnn.nn.layers.preprocessing import MapStd
    from ffnn.regularizers import L2

    rng = np.random.default_rng(5)
    x = rng.standard_normal((24, 3))
    y = np.tanh(x[:, :2])
    static, dynamic = _twins(lambda: [MapStd(), Dense(4, "tanh", kernel_regularizer=L2(0.01)),
                                      Dense(2)])
    for model in (static, dynamic):
        model.fit(x, y, epochs=1, batch_size=8, verbose=0, seed=0)
        if change == "adapt":
            model.layers[0].adapt(x * 3.0 + 1.0)
        elif change == "new regularizer":
            model.layers[1].kernel_regularizer = L2(0.5)
        else:
            model.layers[1].kernel_regularizer.lam = 0.5
        model.fit(x, y, epochs=1, batch_size=8, verbose=0, seed=0)
    for a, b in zip(static.params, dynamic.params, strict=True):
        assert np.array_equal(a.data, b.data)


def test_traced_graphs_check_their_inputs() -> None:
    """A StaticGraph called directly with another shape or dtype than it was traced
    for says so (the TracedFunction would trace again)."""
    f = ffnn.trace(lambda p, t: ffnn.autodiff.functions.squared_error(p, t, 0.5),
                   np.ones((16, 3)), np.zeros((16, 3)))
    g = f.graph
    assert g(np.ones((16, 3)), np.zeros((16, 3))) == 24.0
    with pytest.raises(ffnn.autodiff.TraceError, match=r"shape \(16, 3\) float64, got \(1, 3\)"):
        g(np.ones((1, 3)), np.zeros((1, 3)))
    with pytest.raises(ffnn.autodiff.TraceError, match="float32"):
        g(np.ones((16, 3), np.float32), np.zeros((16, 3)))
    assert f(np.ones((1, 3)), np.zeros((1, 3))) == 1.5  # a second signature
