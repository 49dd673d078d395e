"""Keras habits (issue 15 §3): a declared input size builds the model at once, second-order
optimisers compute in float64 unless told otherwise, sparse SciPy input, verbose=2."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import ffnn
from ffnn import Sequential
from ffnn.layers import Activation, Dense
from ffnn.optimizers import OPTIMIZERS, FullBatchOptimizer

FULL_BATCH = [n for n in OPTIMIZERS.names(aliases=False)
              if issubclass(OPTIMIZERS.lookup(n), FullBatchOptimizer)]
FIRST_ORDER = [n for n in OPTIMIZERS.names(aliases=False) if n not in FULL_BATCH]


# ------------------------------------------------------------- built at once
def test_the_notes_snippet_has_its_weights_before_fit() -> None:
    """Dense(64, input_dim=100): get_weights, count_params and summary before fit, with
    (M_l + 1)·M_{l+1} parameters per layer: 101·64 + 65·10 = 7114."""
    model = Sequential()
    model.add(Dense(64, input_dim=100))
    model.add(Activation("relu"))
    model.add(Dense(10))
    model.add(Activation("softmax"))
    assert [w.shape for w in model.get_weights()] == [(64, 100), (64,), (10, 64), (10,)]
    assert model.count_params() == 7114
    assert "Total params: 7,114" in model.summary()


def test_set_weights_before_fit_is_what_predict_uses() -> None:
    model = Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    weights = [np.arange(6.0).reshape(2, 3), np.ones(2), np.ones((1, 2)), np.zeros(1)]
    model.set_weights(weights)
    x = np.array([[1.0, 0.0, -1.0]])
    np.testing.assert_allclose(model.predict(x), [[(-2 + 1) + (-2 + 1)]])


def test_fit_seed_still_seeds_untouched_declared_models() -> None:
    """Declaring input_dim does not take the initial weights out of fit(seed=...)."""
    x, y = np.ones((4, 2)), np.ones(4)
    results = []
    for _ in range(2):
        model = Sequential([Dense(3, input_dim=2), Dense(1)])
        model.compile("sgd", "mse")
        model.fit(x, y, epochs=1, verbose=0, seed=5)
        results.append(model.get_weights()[0])
    np.testing.assert_array_equal(*results)


def test_input_shape_must_be_one_feature_count() -> None:
    with pytest.raises(ValueError, match="tuple of one integer"):
        Dense(2, input_shape=(3, 4))
    with pytest.raises(ValueError, match="input_dim=2 and input_shape=\\(3,\\)"):
        Dense(2, input_dim=2, input_shape=(3,))
    assert Sequential([Dense(2, input_shape=(5,))]).input_dim == 5


def test_undeclared_model_still_waits_for_data() -> None:
    model = Sequential([Dense(2), Dense(1)])
    assert model.get_weights() == [] and not model.built


def test_a_declared_model_saves_before_fit(tmp_path) -> None:
    model = Sequential([Dense(2, input_dim=3)], seed=0)
    model.save(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(ffnn.load(tmp_path / "m.safetensors").get_weights()[0],
                                  model.get_weights()[0])


# ---------------------------------------------------------------- the dtype
@pytest.mark.parametrize("name", FULL_BATCH)
def test_second_order_optimizers_use_float64(name: str) -> None:
    """Keyed on FullBatchOptimizer, so every second-order method (lm, br, lbfgs, ...)
    is covered; a built float32 model is converted in place, its values kept."""
    model = Sequential([Dense(3, activation="tanh", input_dim=2), Dense(1)], seed=0)
    before = model.get_weights()
    assert before[0].dtype == np.float32
    model.compile(name, "mse")
    assert model.dtype == np.float64
    after = model.get_weights()
    assert all(w.dtype == np.float64 for w in after)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a.astype(np.float64), b)
    assert model.layers[0].kernel.data.flags.f_contiguous  # the kernel layout is kept
    model.fit(np.ones((5, 2)), np.ones(5), epochs=1, verbose=0)
    assert model.predict(np.ones((1, 2))).dtype == np.float64


@pytest.mark.parametrize("name", FULL_BATCH[:1] + FIRST_ORDER[:1])
def test_a_given_dtype_is_kept(name: str) -> None:
    model = Sequential([Dense(1, input_dim=2)], dtype="float32")
    model.compile(name, "mse")
    assert model.dtype == np.float32 and model.get_weights()[0].dtype == np.float32
    implicit = Sequential([Dense(1, input_dim=2)])
    implicit.compile(FIRST_ORDER[0], "mse")
    assert implicit.dtype == np.float32


# ------------------------------------------------------------------- sparse
def _sparse_problem() -> tuple[sp.csr_matrix, np.ndarray]:
    X = sp.random(120, 15, density=0.1, random_state=0, format="csr")
    return X, (np.asarray(X.sum(axis=1)).ravel() > 0.7).astype(float)


@pytest.mark.parametrize("solver", ["adam", "lm"])
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_input_trains_exactly_as_its_dense_copy(solver: str, fmt: str) -> None:
    """fit, predict and evaluate accept SciPy sparse matrices (densified per batch) and
    give the dense run's numbers bit for bit; today's "dtype object" error is gone."""
    X, y = _sparse_problem()
    runs = []
    for data in (X.asformat(fmt), X.toarray()):
        model = Sequential([Dense(4, activation="relu", input_dim=15),
                            Dense(1, activation="sigmoid")], seed=0, dtype="float64")
        model.compile(solver, "mse" if solver == "lm" else "binary_crossentropy")
        history = model.fit(data, y, epochs=3, batch_size=16, verbose=0, seed=0,
                            validation_split=0.25)
        runs.append((history.history, model.predict(data, batch_size=7),
                     model.evaluate(data, y, verbose=0)))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]


def test_sparse_input_errors_name_the_problem() -> None:
    X, y = _sparse_problem()
    bad = X.copy()
    bad.data[3] = np.nan
    model = Sequential([Dense(1, input_dim=15)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"x \(its stored values\) contains 1 NaN"):
        model.fit(bad, y, verbose=0)
    with pytest.raises(ValueError, match="has 14 features but the model expects 15"):
        model.predict(X[:, :14])


def test_sparse_input_to_the_estimators() -> None:
    from ffnn.estimators import MLPClassifier

    X, y = _sparse_problem()
    a = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    b = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X.toarray(), y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X.toarray()))


# ------------------------------------------------------------------ verbose=2
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("name", ["sgd", "lm"])
def test_verbose_2_prints_one_line_per_epoch_even_on_a_terminal(
        name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """verbose=2 never draws a progress bar: one 'Epoch k/n - loss: ...' line each."""
    monkeypatch.setattr(sys, "stderr", _Terminal())
    model = Sequential([Dense(1, input_dim=2)], seed=0)
    model.compile(name, "mse")
    model.fit(np.ones((8, 2)), np.ones(8), epochs=3, batch_size=4, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert all("loss: " in line for line in lines)
    assert sys.stderr.getvalue() == ""  # type: ignore[attr-defined]
