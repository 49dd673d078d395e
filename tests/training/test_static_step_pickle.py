"""A model that trained through traced steps pickles and deep-copies (scikit-learn's
clone and joblib need it); the copy traces again and keeps training identically."""

from __future__ import annotations

import copy
import pickle

import numpy as np

from ffnn import Dense, Sequential


def test_trained_static_model_pickles_and_copies_and_trains_on() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 3)), rng.normal(size=(32, 1))
    model = Sequential([Dense(4, "tanh", input_dim=3), Dense(1)], seed=0, dtype="float64")
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    assert model._static is not None and model._static.graphs  # it did trace
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        twin.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        assert twin._static is not None and twin._static.graphs
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
