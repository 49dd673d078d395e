"""Issue 11, numbers out of range in the Python API: values too large for the model's
dtype (#6), NumPy integers and seeds (#12), stops on a non-finite loss (#9)."""

from __future__ import annotations

import inspect
import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ffnn
from ffnn import Dense, Sequential
from ffnn._validation import cast_float
from ffnn.callbacks import EarlyStopping, TerminateOnNaN
from ffnn.nn.initializers import INITIALIZERS
from ffnn.nn.layers import LAYERS
from ffnn.nn.losses import LOSSES
from ffnn.nn.regularizers import REGULARIZERS
from ffnn.optim import OPTIMIZERS, SCHEDULES


def _model(dtype: str = "float32", **kw: Any) -> Sequential:
    model = Sequential([Dense(4, "tanh", input_dim=3), Dense(2)], seed=0, dtype=dtype, **kw)
    model.compile("sgd", "mse")
    model.build()
    return model


# ------------------------------------------------------------------ defect 6


def _overflow_calls(model: Sequential) -> dict[str, Any]:
    big = np.full((2, 3), 1.0)
    big[1, 2] = 1e300
    y = np.zeros((2, 2))
    y_big = y.copy()
    y_big[0, 1] = -1e300
    return {
        "predict": (lambda: model.predict(big), r"x holds the value 1e\+300 at index \(1, 2\)"),
        "evaluate y": (lambda: model.evaluate(np.ones((2, 3)), y_big),
                       r"y holds the value -1e\+300 at index \(0, 1\)"),
        "fit x": (lambda: model.fit(big, y, verbose=0), r"x holds the value 1e\+300"),
        "fit sample_weight": (
            lambda: model.fit(np.ones((2, 3)), y, sample_weight=[1.0, 1e300], verbose=0),
            r"sample_weight holds the value 1e\+300 at index \(1,\)"),
        "validation_data": (
            lambda: model.fit(np.ones((2, 3)), y, validation_data=(big, y), verbose=0),
            r"validation x holds the value 1e\+300"),
        "model(x)": (lambda: model(big), r"x holds the value 1e\+300 at index \(1, 2\)"),
        "set_weights": (
            lambda: model.set_weights([np.full((4, 3), 1e300), *model.get_weights()[1:]]),
            r"set_weights array 0 holds the value 1e\+300 at index \(0, 0\)"),
    }


@pytest.mark.parametrize("call", ["predict", "evaluate y", "fit x", "fit sample_weight",
                                  "validation_data", "model(x)", "set_weights"])
def test_defect_06_finite_value_too_large_for_float32_is_named(call: str) -> None:
    """issue 11 #6: a finite value beyond float32's range gave a RuntimeWarning and then
    "contains NaN or infinite value(s)"; now one ValueError says it overflows float32,
    names the argument and the index, and no warning is emitted."""
    model = _model()
    before = model.get_weights()
    fn, pattern = _overflow_calls(model)[call]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=pattern + r".*overflows float32"):
            fn()
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # nothing was changed


def test_defect_06_float64_model_takes_the_same_values() -> None:
    """The limit is the model's dtype: a float64 model accepts 1e300."""
    model = _model("float64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = model.predict(np.full((1, 3), 1e300))
    assert out.dtype == np.float64 and out.shape == (1, 2)


def test_defect_06_nan_is_still_reported_as_nan() -> None:
    x = np.ones((2, 3))
    x[0, 1] = np.nan
    with pytest.raises(ValueError, match=r"x contains 1 NaN or infinite value\(s\).*\(0, 1\)"):
        _model().predict(x)


def test_defect_06_integer_beyond_float64_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="x holds an integer too large for float64"):
        _model().predict([[10**400, 1, 1]])


# ----------------------------------------------------------------- defect 12


def test_defect_12_numpy_integer_seed_can_be_saved(tmp_path: Path) -> None:
    """issue 11 #12: Sequential(seed=np.int64(0)) could not be saved ("int64 is not JSON
    serializable"), so a ModelCheckpoint run aborted after its first epoch."""
    model = Sequential([Dense(np.int64(3), input_dim=np.int32(2)), Dense(np.uint8(1))],
                       seed=np.int64(7))
    model.compile("adam", "mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(8, 2)), rng.normal(size=(8, 1)), epochs=np.int64(2),
              batch_size=np.int16(4), seed=np.uint32(3), verbose=0)
    model.save(tmp_path / "m.safetensors")
    loaded = ffnn.load(tmp_path / "m.safetensors")
    assert loaded.seed == 7 and type(loaded.seed) is int


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0", np.float64(2.0), [1], np.bool_(True),
                                  np.random.default_rng(0)])
@pytest.mark.parametrize("where", ["Sequential", "fit", "build", "Dropout.reseed"])
def test_defect_12_bad_seed_is_refused_at_once(seed: Any, where: str) -> None:
    """issue 11 #12: seed=-1 or 1.5 was accepted and failed later with NumPy errors that
    do not mention the seed; now the call itself refuses it, naming ``seed``."""
    with pytest.raises((TypeError, ValueError), match="seed must be"):
        if where == "Sequential":
            Sequential([Dense(1, input_dim=2)], seed=seed)
        elif where == "build":
            Sequential([Dense(1, input_dim=2)], seed=3).build(2, seed=seed)
        elif where == "Dropout.reseed":
            ffnn.layers.Dropout(0.5).reseed(seed)
        else:
            model = Sequential([Dense(1, input_dim=2)])
            model.compile("sgd", "mse")
            model.fit(np.ones((2, 2)), np.ones((2, 1)), seed=seed, verbose=0)


def _numpy_kwargs(factory: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every int, float and bool default of ``factory`` as the NumPy scalar of its value."""
    out: dict[str, Any] = {}
    for p in inspect.signature(factory).parameters.values():
        d = p.default
        if p.name in skip or d is inspect.Parameter.empty:
            continue
        if isinstance(d, bool):
            out[p.name] = np.bool_(d)
        elif isinstance(d, int):
            out[p.name] = np.int64(d)
        elif isinstance(d, float):
            out[p.name] = np.float32(d) if float(np.float32(d)) == d else np.float64(d)
    return out


def _plain(value: Any) -> bool:
    """Whether a config holds only JSON's own Python types."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (bool, int, float, str)


def _registry_factories() -> list[tuple[str, Any, dict[str, Any]]]:
    cases: list[tuple[str, Any, dict[str, Any]]] = []
    required = {"dense": {"units": np.int64(3)}, "maxout": {"units": np.int32(2)},
                "rbf": {"units": np.uint16(2)}, "dropout": {"rate": np.float32(0.5)},
                "step_decay": {"initial_learning_rate": np.float32(0.5),
                               "step_size": np.int64(3)},
                "exponential_decay": {"initial_learning_rate": np.float64(0.1),
                                      "decay_steps": np.int8(3), "decay_rate": np.float32(0.5)},
                "cosine_decay": {"initial_learning_rate": np.float64(0.1),
                                 "decay_steps": np.uint64(3)}}
    for family, registry in (("layer", LAYERS), ("optimizer", OPTIMIZERS),
                             ("schedule", SCHEDULES), ("initializer", INITIALIZERS),
                             ("regularizer", REGULARIZERS), ("loss", LOSSES)):
        for name in registry.names(aliases=False):
            cls = registry.lookup(name)
            kwargs = {**_numpy_kwargs(cls.__init__), **required.get(name, {})}
            cases.append((f"{family}:{name}", cls, kwargs))
    return cases


@pytest.mark.parametrize(("label", "cls", "kwargs"), _registry_factories(),
                         ids=[c[0] for c in _registry_factories()])
def test_defect_12_numpy_scalars_give_plain_json_configs(label: str, cls: Any,
                                                          kwargs: dict[str, Any]) -> None:
    """issue 11 #12, for every registered class: NumPy integers (floats, bools) are
    accepted wherever Python's are, and the config that model files store holds plain
    Python values (json.dumps works)."""
    obj = cls(**kwargs)
    config = obj.get_config()
    json.dumps(config)
    assert _plain(config), config


def test_defect_12_numpy_integers_in_callbacks_and_fit() -> None:
    model = _model()
    x, y = np.ones((6, 3)), np.zeros((6, 2))
    hist = model.fit(x, y, epochs=np.int64(3), batch_size=np.int8(2), initial_epoch=np.int64(1),
                     validation_split=np.float32(0.5), verbose=np.int64(0),
                     callbacks=[EarlyStopping("loss", patience=np.int64(5))])
    assert hist.epoch == [1, 2] and all(type(e) is int for e in hist.epoch)
    assert len(hist.history["val_loss"]) == 2


# ------------------------------------------------------------------ defect 9


def _diverging() -> tuple[Sequential, list[np.ndarray], Any]:
    """A model whose first epoch already has an infinite loss: its float32 output
    overflows (x Wᵀ = 2 · 3e38 > 3.4e38) for inputs that are each in range."""
    model = Sequential([Dense(2, input_dim=2, kernel_initializer="ones")], seed=1, dtype="float32")
    model.compile(ffnn.optimizers.SGD(learning_rate=0.1), "mse")
    model.build()
    x = np.full((4, 2), 3e38)
    y = np.zeros((4, 2))
    return model, model.get_weights(), (x, y)


@pytest.mark.parametrize("restore", [True, False])
def test_defect_09_early_stopping_on_infinite_first_epoch_restores_initial(
        restore: bool) -> None:
    """issue 11 #9: with the first epoch's loss already infinite,
    EarlyStopping(restore_best_weights=True) stopped but left NaN weights. Now every
    stop on a non-finite value leaves finite weights (the initial ones when no epoch
    was finite) and the stop reason says so."""
    model, initial, (x, y) = _diverging()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the engine's overflow warning
        hist = model.fit(x, y, epochs=5, batch_size=4, verbose=0, shuffle=False,
                         callbacks=[EarlyStopping("loss", restore_best_weights=restore)])
    assert not math.isfinite(hist.history["loss"][0])
    for a, b in zip(initial, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert hist.stop_reason is not None and "initial weights" in hist.stop_reason


def test_defect_09_early_stopping_restores_the_last_finite_epoch() -> None:
    """A stop on NaN after finite epochs restores the best epoch (restore_best_weights)
    or the last finite one, and says which epoch."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 2)), rng.normal(size=(16, 1))
    for restore, word in ((True, "best"), (False, "last finite")):
        model = Sequential([Dense(1, input_dim=2)], seed=0)
        model.compile(ffnn.optimizers.SGD(learning_rate=0.05), "mse")

        class Poison(ffnn.callbacks.Callback):
            def __init__(self) -> None:
                self.kept: list[list[np.ndarray]] = []

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                self.kept.append(self.model.get_weights())
                if epoch == 2:
                    logs["loss"] = math.nan
                    for p in self.model.params:
                        p.data[...] = np.nan

        poison = Poison()
        hist = model.fit(x, y, epochs=6, batch_size=16, shuffle=False, verbose=0,
                         callbacks=[poison, EarlyStopping("loss", patience=10,
                                                            restore_best_weights=restore)])
        assert all(np.isfinite(w).all() for w in model.get_weights())
        for a, b in zip(poison.kept[1], model.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)  # epoch 2 (index 1): best and last finite
        assert hist.stop_reason is not None and word in hist.stop_reason
        assert "epoch 2" in hist.stop_reason


def test_defect_09_terminate_on_nan_restores_initial_and_says_so() -> None:
    model, initial, (x, y) = _diverging()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the engine's overflow warning
        hist = model.fit(x, y, epochs=3, batch_size=4, verbose=0,
                         callbacks=[TerminateOnNaN()])
    for a, b in zip(initial, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert hist.stop_reason is not None and "epoch 1" in hist.stop_reason
    assert "initial weights" in hist.stop_reason


@pytest.mark.parametrize("name", OPTIMIZERS.names(aliases=False))
def test_defect_09_every_optimizer_stops_on_an_infinite_first_epoch_with_finite_weights(
        name: str) -> None:
    """issue 11 #9 for every registered optimiser: when the first epoch's loss is already
    infinite, training stops (the full-batch ones by themselves, the first-order ones
    through EarlyStopping) with the initial weights, and the stop reason says so."""
    model, initial, (x, y) = _diverging()
    model.compile(name, "mse")
    full_batch = isinstance(model.optimizer, ffnn.optim.FullBatchOptimizer)
    callbacks = [] if full_batch else [EarlyStopping("loss")]
    with warnings.catch_warnings():
        # full-batch optimisers detect the overflow themselves; first-order updates of
        # an infinite gradient may warn (NumPy's overflow in the update)
        warnings.simplefilter("error" if full_batch else "ignore", RuntimeWarning)
        hist = model.fit(x, y, epochs=4, batch_size=4, verbose=0, callbacks=callbacks)
    assert len(hist.epoch) == 1 and not math.isfinite(hist.history["loss"][0])
    for a, b in zip(initial, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert hist.stop_reason is not None and "initial weights" in hist.stop_reason
    assert "not finite" in hist.stop_reason or "non-finite" in hist.stop_reason or \
        "became inf" in hist.stop_reason


@pytest.mark.parametrize(("layer", "where"), [
    (Dense(2, input_dim=2, activation={"name": "leaky_relu", "gamma": 1e300}),
     "activation.gamma"),
    (Dense(2, input_dim=2, kernel_regularizer={"name": "l2", "lam": 1e39}),
     "kernel_regularizer.lam"),
    (ffnn.layers.RBF(2, gamma=1e200), "gamma"),
    (ffnn.layers.PReLU(alpha_initializer=-1e300), "alpha_initializer"),
])
def test_defect_06_layer_options_too_large_for_the_dtype(layer: Any, where: str) -> None:
    """issue 11 #6, the same kind in configs: a layer option that overflows float32
    (it would become inf inside the layer, with a RuntimeWarning) is refused when the
    model is built, naming the layer and the option; float64 takes it."""
    first = layer if isinstance(layer, Dense) else Dense(2, input_dim=2)
    rest = [] if layer is first else [layer]
    model = Sequential([first, *rest])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=rf"option {where} = .* overflows float32"):
            model.build()
    assert not model.built
    Sequential([first, *rest], dtype="float64").build()


@pytest.mark.parametrize("labels", [[0, 1e300], [0, 2**70], np.array([0, 2**64 - 1],
                                                                     dtype=np.uint64)])
def test_defect_06_sparse_labels_too_large_for_an_integer(labels: Any) -> None:
    """A class label beyond the integers gave "invalid value encountered in cast"; it is
    refused naming the label and its index."""
    model = Sequential([Dense(3, "softmax", input_dim=2)], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"y holds the label .* at index \(1,\), too large"):
            model.fit(np.ones((2, 2)), labels, verbose=0)


@pytest.mark.parametrize("optimizer", [
    {"name": "sgd", "learning_rate": 1e39},
    {"name": "adam", "epsilon": 1e300},
    {"name": "sgd", "learning_rate": {"name": "step_decay", "initial_learning_rate": 1e39,
                                      "step_size": 2}},
])
def test_defect_06_optimizer_options_too_large_for_the_dtype(optimizer: dict[str, Any]) -> None:
    """The learning rate (or a schedule's) and other options are used in the
    parameters' dtype: one beyond float32's range is refused when the optimiser is
    attached to a float32 model (a float64 model takes it)."""
    model = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"overflows the parameters' dtype float32"):
            model.compile(optimizer, "mae")
    assert model.optimizer.name == "sgd" and model.loss.name == "mse"  # compile undone
    _model("float64").compile(optimizer, "mse")


def test_defect_12_model_name_must_be_a_string() -> None:
    """A name that is not a string was accepted and saved, and the file then refused."""
    with pytest.raises(TypeError, match="model name must be a string"):
        Sequential(name=5)


_F32_MAX = float(np.finfo(np.float32).max)


@given(st.lists(st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-2 * _F32_MAX, max_value=2 * _F32_MAX),
    st.sampled_from([_F32_MAX, -_F32_MAX, np.nextafter(_F32_MAX, np.inf), 3.4028235e38,
                     3.4028236e38])), min_size=1, max_size=12))
def test_defect_06_cast_float_property(values: list[float]) -> None:
    """cast_float refuses exactly the arrays holding a finite value beyond float32's
    range (naming the first one), and otherwise equals NumPy's cast, without a warning.
    (Values that round to float32's largest finite value are in range.)"""
    arr = np.array(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = arr.astype(np.float32)
    overflows = np.isfinite(arr) & ~np.isfinite(expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if overflows.any():
            with pytest.raises(ValueError, match="overflows float32"):
                cast_float("v", arr, np.float32)
        else:
            np.testing.assert_array_equal(cast_float("v", arr, np.float32), expected)
