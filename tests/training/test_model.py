"""Sequential: the Keras-style API, input validation, the fused output path."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import ffnn
from ffnn import Activation, Dense, Sequential


def _blobs(rng: np.random.Generator, n: int = 120, k: int = 3, d: int = 4):
    centers = rng.normal(0, 3, (k, d))
    labels = rng.integers(0, k, n)
    x = centers[labels] + rng.normal(0, 0.5, (n, d))
    return x, labels


def _classifier(k: int = 3, d: int = 4, **kw) -> Sequential:
    model = Sequential(
        [Dense(8, activation="tanh", input_dim=d), Dense(k, activation="softmax")], seed=0, **kw
    )
    return model


def test_notes_keras_snippet_runs_as_written(rng: np.random.Generator) -> None:
    """The notes' snippet: Dense(64, input_dim=100), relu, Dense(10), softmax, sgd."""
    x_train = rng.standard_normal((256, 100)).astype(np.float32)
    w = rng.standard_normal((100, 10))
    y_train = np.eye(10)[np.argmax(x_train @ w, axis=1)]
    model = Sequential()
    model.add(Dense(64, input_dim=100))
    model.add(Activation("relu"))
    model.add(Dense(10))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0, seed=0)
    loss, acc = model.evaluate(x_train, y_train, batch_size=32)
    assert len(history.history["loss"]) == 5
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert 0.0 <= acc <= 1.0 and np.isfinite(loss)
    assert model.count_params() == (100 + 1) * 64 + (64 + 1) * 10


def test_notes_old_spellings_warn_and_work(rng: np.random.Generator) -> None:
    x = rng.standard_normal((40, 100))
    y = np.eye(10)[rng.integers(0, 10, 40)]
    model = Sequential()
    with pytest.warns(DeprecationWarning, match="units"):
        model.add(Dense(output_dim=64, input_dim=100))
    model.add(Activation("relu"))
    model.add(Dense(10))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    with pytest.warns(DeprecationWarning, match="epochs"):
        history = model.fit(x, y, nb_epoch=3, batch_size=32, verbose=0, seed=0)
    assert len(history.history["loss"]) == 3


def test_summary_counts_parameters() -> None:
    """Σ (M_l + 1)·M_{l+1}: the Higham 2-2-3-2 network has 23 parameters."""
    model = Sequential(
        [Dense(2, "sigmoid", input_dim=2), Dense(3, "sigmoid"), Dense(2, "sigmoid")], seed=0
    )
    text = model.summary()
    assert model.count_params() == 23
    assert "Total params: 23" in text
    assert "(None, 3)" in text and "dense_1 (Dense)" in text


def test_fused_and_unfused_training_agree(rng: np.random.Generator) -> None:
    """The logits path (softmax + cross-entropy) trains like the probability path.

    A softmax given as a plain callable is not recognised, so it takes the unfused path.
    """
    x, labels = _blobs(rng)
    y = np.eye(3)[labels]
    models = []
    for act in ("softmax", lambda z: ffnn.softmax(z)):
        model = Sequential(
            [Dense(8, activation="tanh", input_dim=4), Dense(3, activation=act)],
            seed=0,
            dtype="float64",
        )
        model.compile(ffnn.optimizers.SGD(learning_rate=0.5), "categorical_crossentropy")
        history = model.fit(x, y, epochs=5, batch_size=None, shuffle=False, verbose=0)
        models.append((model, history.history["loss"]))
    (fused, fused_loss), (plain, plain_loss) = models
    np.testing.assert_allclose(fused_loss, plain_loss, rtol=1e-9)
    for p, q in zip(fused.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fused.predict(x), plain.predict(x), rtol=1e-9)


def test_evaluate_returns_loss_or_list_and_sum_losses_are_exact(rng: np.random.Generator) -> None:
    x = rng.standard_normal((50, 3))
    y = rng.standard_normal((50, 2))
    model = Sequential([Dense(2, input_dim=3)], seed=1, dtype="float64")
    model.compile("sgd", "sse")
    pred = model.predict(x)
    expected = float(np.sum((pred - y) ** 2))
    assert model.evaluate(x, y, batch_size=7) == pytest.approx(expected, rel=1e-12)
    model.compile("sgd", "mse", metrics=["mae", "r2"])
    loss, mae, _r2 = model.evaluate(x, y, batch_size=7)
    assert loss == pytest.approx(np.mean((pred - y) ** 2), rel=1e-12)
    assert mae == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-12)
    logs = model.evaluate(x, y, return_dict=True)
    assert set(logs) == {"loss", "mae", "r2"}


def test_predict_in_batches_equals_full(rng: np.random.Generator) -> None:
    x = rng.standard_normal((33, 4))
    model = _classifier()
    full = model.predict(x)
    np.testing.assert_array_equal(full, model.predict(x, batch_size=5))
    np.testing.assert_allclose(full.sum(axis=1), 1.0, rtol=1e-6)
    assert full.dtype == np.float32


def test_inputs_accept_lists_and_pandas(rng: np.random.Generator) -> None:
    x, labels = _blobs(rng, n=30)
    df = pd.DataFrame(x, columns=list("abcd"))
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(df, pd.Series(labels), epochs=2, verbose=0, seed=0)
    model.fit(x.tolist(), labels.tolist(), epochs=1, verbose=0, seed=0)
    np.testing.assert_array_equal(model.predict(df), model.predict(x))


def test_nan_inputs_are_rejected_with_count_and_position(rng: np.random.Generator) -> None:
    x, labels = _blobs(rng, n=20)
    x[3, 2] = np.nan
    x[7, 0] = np.inf
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"2 NaN or infinite.*\(3, 2\)"):
        model.fit(x, labels, verbose=0)


def test_feature_count_mismatch_names_both_numbers(rng: np.random.Generator) -> None:
    model = _classifier(d=4)
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="5 features but the model expects 4"):
        model.fit(rng.standard_normal((10, 5)), np.zeros(10, int), verbose=0)
    with pytest.raises(ValueError, match="5 features but the model expects 4"):
        model.predict(rng.standard_normal((10, 5)))


def test_integer_labels_with_categorical_loss_suggest_sparse(rng: np.random.Generator) -> None:
    x, labels = _blobs(rng, n=20)
    model = _classifier()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(x, labels, verbose=0)


def test_target_shape_mismatch_names_both_shapes(rng: np.random.Generator) -> None:
    model = _classifier()
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"\(20, 2\).*\(n_samples, 3\)"):
        model.fit(rng.standard_normal((20, 4)), np.zeros((20, 2)), verbose=0)
    with pytest.raises(ValueError, match="19 samples but x has 20"):
        model.fit(rng.standard_normal((20, 4)), np.zeros((19, 3)), verbose=0)


@pytest.mark.parametrize(
    ("kind", "bad", "match"),
    [
        ("optimizer", "adamx", "valid optimizer names are: adagrad, adam"),
        ("loss", "msee", "valid loss names"),
        ("metric", "accuracyy", "valid metric names"),
    ],
)
def test_unknown_names_list_the_valid_ones(kind: str, bad: str, match: str) -> None:
    model = _classifier()
    args = {"optimizer": "sgd", "loss": "mse", "metrics": None}
    args[kind if kind != "metric" else "metrics"] = bad if kind != "metric" else [bad]
    with pytest.raises(ValueError, match=match):
        model.compile(**args)


def test_unknown_activation_lists_valid_names() -> None:
    with pytest.raises(ValueError, match=r"valid activation names are: .*relu"):
        Dense(3, activation="rellu")


def test_fit_before_compile_is_a_clear_error(rng: np.random.Generator) -> None:
    model = _classifier()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(rng.standard_normal((5, 4)), np.zeros(5), verbose=0)


def test_get_set_weights_round_trip_in_place(rng: np.random.Generator) -> None:
    model = _classifier()
    model.build()
    ids = [id(p.data) for p in model.params]
    weights = model.get_weights()
    new = [w + 1.0 for w in weights]
    model.set_weights(new)
    assert [id(p.data) for p in model.params] == ids  # optimisers keep their references
    for p, w in zip(model.params, new, strict=True):
        np.testing.assert_array_equal(p.data, w)
    with pytest.raises(ValueError, match="shape"):
        model.set_weights([np.zeros((1, 1))] * len(weights))
    with pytest.raises(ValueError, match="arrays"):
        model.set_weights(weights[:-1])


def test_same_seed_same_training(rng: np.random.Generator) -> None:
    x, labels = _blobs(rng)
    runs = []
    for _ in range(2):
        model = Sequential([Dense(8, "relu", input_dim=4), Dropout_(0.2), Dense(3, "softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, labels, epochs=3, batch_size=16, verbose=0, seed=7)
        runs.append(model.get_weights())
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def Dropout_(rate: float) -> ffnn.Dropout:
    return ffnn.Dropout(rate)


def test_batch_size_none_is_full_batch_gradient_descent(rng: np.random.Generator) -> None:
    """One epoch with batch_size=None is exactly one step of gradient descent."""
    x = rng.standard_normal((16, 3))
    y = rng.standard_normal((16, 1))
    model = Sequential([Dense(1, input_dim=3)], seed=0, dtype="float64")
    model.compile(ffnn.optimizers.SGD(learning_rate=0.1), "mse")
    model.build()
    w, b = model.get_weights()
    resid = x @ w.T + b - y
    grad_w = 2 * resid.T @ x / 16
    grad_b = 2 * resid.sum(axis=0) / 16
    model.fit(x, y, epochs=1, batch_size=None, verbose=0, shuffle=False)
    w1, b1 = model.get_weights()
    np.testing.assert_allclose(w1, w - 0.1 * grad_w, rtol=1e-12)
    np.testing.assert_allclose(b1, b - 0.1 * grad_b, rtol=1e-12)


def test_sample_weight_zero_drops_samples(rng: np.random.Generator) -> None:
    x = rng.standard_normal((20, 3))
    y = rng.standard_normal((20, 1))
    sw = np.r_[np.ones(10), np.zeros(10)]
    a = Sequential([Dense(1, input_dim=3)], seed=0, dtype="float64")
    a.compile(ffnn.optimizers.SGD(learning_rate=0.1), "mse")
    a.fit(x, y, sample_weight=sw, epochs=3, batch_size=None, verbose=0, shuffle=False)
    b = Sequential([Dense(1, input_dim=3)], seed=0, dtype="float64")
    b.compile(ffnn.optimizers.SGD(learning_rate=0.1), "mse")
    b.fit(x[:10], y[:10], epochs=3, batch_size=None, verbose=0, shuffle=False)
    for p, q in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-12)


def test_validation_split_holds_out_the_last_samples(rng: np.random.Generator) -> None:
    x, labels = _blobs(rng, n=50)
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, labels, epochs=2, validation_split=0.2, verbose=0, seed=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    val_loss = model.evaluate(x[40:], labels[40:])
    assert history.history["val_loss"][-1] == pytest.approx(val_loss[0], rel=1e-6)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x[:3], labels[:3], validation_split=0.1, verbose=0)


def test_verbose_two_prints_one_line_per_epoch(rng, capsys) -> None:
    x, labels = _blobs(rng, n=30)
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, labels, epochs=3, verbose=2, seed=0)
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("Epoch 1/3 - loss: ")
    assert "accuracy" in lines[0]
    assert "\r" not in out.out + out.err


def test_verbose_one_without_terminal_has_no_carriage_returns(rng, capsys) -> None:
    x, labels = _blobs(rng, n=30)
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, labels, epochs=2, verbose=1, seed=0)
    out = capsys.readouterr()
    assert "\r" not in out.out + out.err
    assert out.out.count("Epoch") == 2
    model.fit(x, labels, epochs=2, verbose=0, seed=0)
    assert capsys.readouterr().out == ""


def test_training_does_not_warn(rng: np.random.Generator) -> None:
    x, labels = _blobs(rng)
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, labels, epochs=2, verbose=0, seed=0)


def test_fit_seed_fixes_dropout_masks(rng: np.random.Generator) -> None:
    """Guards against fit(seed=...) leaving dropout masks to the build-time generator."""
    x, labels = _blobs(rng)
    histories = {}
    for seed in (1, 1, 2):
        model = Sequential([Dense(16, "relu", input_dim=4), ffnn.Dropout(0.5),
                            Dense(3, "softmax")], seed=0)
        model.compile("sgd", "sparse_categorical_crossentropy")
        h = model.fit(x, labels, epochs=3, batch_size=None, shuffle=False, verbose=0, seed=seed)
        histories.setdefault(seed, []).append(h.history["loss"])
    assert histories[1][0] == histories[1][1]
    assert histories[1][0] != histories[2][0]


def test_zero_weight_batches_do_not_crash_fit(rng: np.random.Generator) -> None:
    """Guards against fit failing when a shuffled mini-batch has only zero weights."""
    x = rng.standard_normal((40, 3))
    y = (x[:, :1] > 0).astype(float)
    sw = np.ones(40)
    sw[:8] = 0.0
    model = Sequential([Dense(1, "sigmoid", input_dim=3)], seed=0)
    model.compile("adam", "binary_crossentropy")
    history = model.fit(x, y, batch_size=8, shuffle=False, sample_weight=sw, epochs=2,
                        validation_split=0.2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    with pytest.raises(ValueError, match="not all zero"):
        model.fit(x, y, sample_weight=np.zeros(40), verbose=0)


def test_failed_compile_leaves_the_model_as_it_was(rng: np.random.Generator) -> None:
    """Guards against a rejected compile replacing the optimiser (and its state)."""
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = (model.optimizer, model.loss, model.metrics)
    with pytest.raises(ValueError, match="least-squares"):
        model.compile("lm", "binary_crossentropy")
    with pytest.raises(ValueError, match="metric"):
        model.compile("sgd", "mse", metrics=["bogus"])
    assert (model.optimizer, model.loss, model.metrics) == before


def test_metrics_may_be_given_as_one_string() -> None:
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics="accuracy")
    assert [name for name, _ in model.metrics] == ["accuracy"]


def test_set_weights_checks_everything_before_copying() -> None:
    """Guards against a half-applied set_weights and silently accepted NaN weights."""
    model = _classifier()
    model.build()
    before = model.get_weights()
    bad_dtype = [np.full_like(before[0], 7.0), np.array(["x"] * before[1].size)]
    with pytest.raises(ValueError, match="dtype"):
        model.set_weights(bad_dtype + before[2:])
    nan = [w.copy() for w in before]
    nan[2][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.set_weights(nan)
    for a, b in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"batch_size": 2.5}, "batch_size"),
    ({"batch_size": "8"}, "batch_size"),
    ({"validation_split": "a"}, "validation_split"),
])
def test_bad_fit_arguments_name_the_argument(rng, kwargs, match) -> None:
    x, labels = _blobs(rng, n=20)
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=match):
        model.fit(x, labels, verbose=0, **kwargs)


def test_empty_model_is_a_clear_error(rng) -> None:
    model = Sequential()
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="no layers"):
        model.fit(rng.standard_normal((4, 2)), np.zeros(4), verbose=0)


def test_weighted_epoch_loss_weights_batches_by_their_weight(rng) -> None:
    """Guards against averaging weighted batch means by batch size: with a zero
    learning rate the epoch loss must equal the whole-set weighted loss."""
    x = rng.standard_normal((40, 3))
    y = rng.standard_normal((40, 1))
    sw = rng.uniform(0, 2, 40)
    model = Sequential([Dense(1, input_dim=3)], seed=0, dtype="float64")
    model.compile(ffnn.optimizers.SGD(learning_rate=0.0), "mse")
    history = model.fit(x, y, sample_weight=sw, batch_size=8, epochs=1, verbose=0, seed=0)
    expected = model.evaluate(x, y, sample_weight=sw)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-12)
