"""ffnn.fitnet, ffnn.patternnet, ffnn.feedforwardnet: MATLAB's defaults, the division
and stopping they bring to fit, processing in the model, real data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn import Dense
from ffnn.layers import MapMinMax, RemoveConstantRows
from ffnn.optim import LevenbergMarquardt, ScaledConjugateGradient


def _iris() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True)


def test_fitnet_has_matlabs_defaults() -> None:
    net = ffnn.fitnet()
    kinds = [type(layer) for layer in net.layers]
    assert kinds == [RemoveConstantRows, MapMinMax, Dense, Dense, MapMinMax]
    assert net.layers[1].y_min == -1.0 and net.layers[1].y_max == 1.0
    assert net.layers[-1].invert and not net.layers[1].invert
    assert net.layers[2].units == 10 and net.layers[2].activation.name == "tanh"
    assert net.layers[3].activation.name == "linear"
    assert isinstance(net.optimizer, LevenbergMarquardt) and net.optimizer.name == "lm"
    assert (net.optimizer.goal, net.optimizer.min_grad, net.optimizer.mu) == (0.0, 1e-7, 1e-3)
    assert net.loss.name == "mse" and net.dtype == np.float64
    p = net.train_param
    assert (p.epochs, p.max_fail, p.divide, p.ratios) == (1000, 6, "random", (0.70, 0.15, 0.15))


def test_patternnet_has_matlabs_defaults() -> None:
    net = ffnn.patternnet(20)
    assert [type(layer) for layer in net.layers] == [RemoveConstantRows, MapMinMax, Dense, Dense]
    assert net.layers[-1].activation.name == "softmax"
    assert isinstance(net.optimizer, ScaledConjugateGradient)
    assert (net.optimizer.sigma, net.optimizer.lambda_, net.optimizer.min_grad) == (
        5e-5, 5e-7, 1e-6)
    assert net.loss.name == "categorical_crossentropy"


def test_feedforwardnet_options_reach_layers_optimizer_and_train_param() -> None:
    net = ffnn.feedforwardnet([6, 4], "trainbr", transfer="logsig", mu=0.1, min_grad=1e-9,
                              max_fail=None, divide="block", ratios=(0.8, 0.2, 0.0),
                              input_processing=["mapstd"], output_processing=[])
    assert [lay.units for lay in net.layers if isinstance(lay, Dense)] == [6, 4, 1]
    assert net.layers[1].activation.name == "sigmoid"
    assert net.optimizer.name == "br" and net.optimizer.mu == 0.1
    assert net.optimizer.min_grad == 1e-9
    assert (net.train_param.max_fail, net.train_param.divide) == (None, "block")
    adam = ffnn.feedforwardnet(3, "adam", learning_rate=0.1)
    assert adam.optimizer.current_learning_rate == 0.1  # no goal/min_grad for adam
    assert adam.train_param.goal == 0.0 and net.train_param.goal is None


def test_goal_stops_a_first_order_training_function_through_a_callback() -> None:
    """traingd & co honour trainParam.goal too: a callback on the epoch's loss."""
    x = np.linspace(-1, 1, 40)[:, None]
    net = ffnn.fitnet(5, "trainrp", seed=0, goal=0.05, learning_rate=0.07)
    history = net.fit(x, x**2, batch_size=None, verbose=0, seed=0)
    assert "goal" in net.stop_reason
    assert history.history["loss"][-1] <= 0.05 < history.history["loss"][-2]


@pytest.mark.parametrize(("kwargs", "match"), [({"hidden": 0}, "hidden"),
                                               ({"hidden": [3, "a"]}, "hidden"),
                                               ({"input_processing": ["mapx"]}, "mapx"),
                                               ({"train_fcn": "trainxx"}, "trainxx"),
                                               ({"divide": "dividerand"}, "divide")])
def test_bad_arguments_are_named(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ffnn.feedforwardnet(**kwargs)


def _curve(rng: np.random.Generator, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    x = np.column_stack([rng.uniform(0, 100, n), np.full(n, 4.0), rng.uniform(-5, 5, n)])
    y = 2000.0 + 800.0 * np.sin(x[:, :1] / 15.0) + 30.0 * x[:, 2:]
    return x, y


def test_fitnet_workflow_divides_stops_and_predicts_in_original_units(
        rng: np.random.Generator, tmp_path: Path) -> None:
    """MATLAB's `net = fitnet(10); net = train(net, x, t); y = net(x)`: 70/15/15 at
    random, the validation rows stop training, the test curve is recorded, and the
    model (also once saved) takes raw inputs and answers in the targets' units."""
    x, y = _curve(rng)
    net = ffnn.fitnet(10, seed=0)
    history = net.fit(x, y, verbose=0, seed=1)
    assert (len(net.division.train), len(net.division.val), len(net.division.test)) == (
        210, 45, 45)
    assert 1 < len(history.epoch) < 1000 and net.stop_reason
    assert {"loss", "val_loss", "test_loss", "mu"} <= set(history.history)
    test = net.division.test
    rmse = np.sqrt(np.mean((net.predict(x[test]) - y[test]) ** 2))
    assert rmse < 0.02 * np.ptp(y)
    net.save(tmp_path / "fitnet.safetensors")
    np.testing.assert_array_equal(ffnn.load(tmp_path / "fitnet.safetensors").predict(x),
                                  net.predict(x))


def test_goal_stops_fitnet() -> None:
    x = np.linspace(-1, 1, 40)[:, None]
    net = ffnn.fitnet(5, seed=0, goal=1e-3)
    net.fit(x, x**2, verbose=0, seed=0)
    assert "goal" in net.stop_reason


def test_patternnet_classifies_iris_and_sizes_its_output_from_the_targets() -> None:
    x, labels = _iris()
    net = ffnn.patternnet(10, seed=0)
    net.fit(x, np.eye(3)[labels], verbose=0, seed=0)
    assert net.layers[-1].units == 3
    test = net.division.test
    assert np.mean(net.predict(x[test]).argmax(1) == labels[test]) >= 0.9
    sparse = ffnn.patternnet(10, seed=0, loss="sparse_categorical_crossentropy")
    sparse.fit(x, labels, verbose=0, seed=0)
    assert sparse.layers[-1].units == 3


def test_given_validation_data_replaces_the_division(rng: np.random.Generator) -> None:
    x, y = _curve(rng, 60)
    net = ffnn.fitnet(4, seed=0, epochs=3)
    net.fit(x[:40], y[:40], validation_data=(x[40:], y[40:]), verbose=0)
    assert net.division is None and len(net.history.epoch) == 3


def test_a_checkpointed_fitnet_resumes_bit_identically_with_its_seed(
        rng: np.random.Generator, tmp_path: Path) -> None:
    """The division is drawn from fit's seed, so a resumed run given the same seed
    trains on the same rows and ends with the same weights (SCG's state included)."""
    from ffnn.callbacks import Callback, ModelCheckpoint

    class StopAfter(Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if epoch == 3:
                self.model.stop_training = True

    x, y = _curve(rng, 80)
    straight = ffnn.fitnet(5, "trainscg", seed=0, epochs=10, max_fail=None)
    straight.fit(x, y, verbose=0, seed=4)
    path = tmp_path / "ckpt.safetensors"
    first = ffnn.fitnet(5, "trainscg", seed=0, epochs=10, max_fail=None)
    first.fit(x, y, verbose=0, seed=4, callbacks=[ModelCheckpoint(path), StopAfter()])
    resumed = ffnn.fitnet(5, "trainscg", seed=0, epochs=10, max_fail=None)
    resumed.fit(x, y, verbose=0, seed=4, resume_from=path)
    assert np.array_equal(resumed.division.train, straight.division.train)
    for a, b in zip(resumed.get_weights(), straight.get_weights(), strict=True):
        assert np.array_equal(a, b)
    assert resumed.history.history == straight.history.history


def test_the_network_figure_draws_a_fitnet(rng: np.random.Generator) -> None:
    """MATLAB's view(net): the processing layers hold no units, the input column shows
    the features removeconstantrows keeps."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    x, y = _curve(rng, 60)
    net = ffnn.fitnet(4, seed=0, epochs=2)
    net.fit(x, y, verbose=0, seed=0)
    fig = ffnn.plot.network(net)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[0] == "input\n(2)" and texts[-1].endswith("(1)")
