"""Initialisers: shapes, dtypes, seeded reproducibility, variances, registry."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ffnn.nn import initializers
from ffnn.nn.initializers import INITIALIZERS, compute_fans

RANDOM = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
          "lecun_normal", "normal", "uniform", "orthogonal"]


@pytest.mark.parametrize("name", INITIALIZERS.names())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_dtype_and_contiguity(name, dtype):
    out = initializers.get(name)((5, 3), np.random.default_rng(0), dtype)
    assert out.shape == (5, 3) and out.dtype == dtype and out.flags.c_contiguous
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("name", INITIALIZERS.names())
def test_default_dtype_is_float32(name):
    assert initializers.get(name)((4, 2), np.random.default_rng(0)).dtype == np.float32


@pytest.mark.parametrize("name", RANDOM)
def test_seeded_reproducibility(name):
    init = initializers.get(name)
    a = init((6, 4), np.random.default_rng(7))
    b = init((6, 4), np.random.default_rng(7))
    c = init((6, 4), np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    wide = init((6, 4), np.random.default_rng(7), np.float64)
    np.testing.assert_array_equal(a, wide.astype(np.float32))


def test_fans_follow_the_units_by_inputs_convention():
    assert compute_fans((8, 3)) == (3, 8)  # W is (units, inputs)
    assert compute_fans((4, 5, 6)) == (6, 20)
    assert compute_fans((7,)) == (7, 7)
    assert compute_fans(()) == (1, 1)


VARIANCES = [
    ("glorot_uniform", lambda fi, fo: 2 / (fi + fo)),
    ("glorot_normal", lambda fi, fo: 2 / (fi + fo)),
    ("he_uniform", lambda fi, fo: 2 / fi),
    ("he_normal", lambda fi, fo: 2 / fi),
    ("lecun_uniform", lambda fi, fo: 1 / fi),
    ("lecun_normal", lambda fi, fo: 1 / fi),
]


@pytest.mark.parametrize(("name", "formula"), VARIANCES, ids=[v[0] for v in VARIANCES])
@pytest.mark.parametrize("shape", [(300, 700), (5000,)], ids=["matrix", "vector"])
def test_variance_matches_formula(name, formula, shape):
    w = initializers.get(name)(shape, np.random.default_rng(3), np.float64)
    fan_in, fan_out = compute_fans(shape)
    var = formula(fan_in, fan_out)
    n = w.size
    # Standard error of the sample variance is ≤ var·√(2/n) for these distributions.
    assert abs(w.var() - var) < 5 * var * math.sqrt(2 / n)
    assert abs(w.mean()) < 5 * math.sqrt(var / n)
    if name.endswith("uniform"):
        assert np.abs(w).max() <= math.sqrt(3 * var)
    else:  # not truncated: values beyond 2σ occur at the normal rate (≈ 4.55 %)
        share = np.mean(np.abs(w) > 2 * math.sqrt(var))
        assert 0.035 < share < 0.056


def test_normal_and_uniform_parameters():
    rng = np.random.default_rng(4)
    w = initializers.get({"name": "normal", "mean": 1.0, "stddev": 0.5})((400, 500), rng,
                                                                           np.float64)
    assert w.mean() == pytest.approx(1.0, abs=0.005)
    assert w.std() == pytest.approx(0.5, rel=0.01)
    u = initializers.get({"name": "uniform", "minval": -1, "maxval": 3})((400, 500), rng)
    assert u.min() >= -1 and u.max() <= 3
    assert u.mean() == pytest.approx(1.0, abs=0.02)
    assert initializers.get("normal").get_config() == {"name": "normal", "mean": 0.0,
                                                       "stddev": 0.05}


def test_constants():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(initializers.get("zeros")((2, 3), rng), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.get("ones")((3,), None), np.ones(3))
    bias = initializers.get({"name": "constant", "value": 0.1})((4,), None, np.float64)
    np.testing.assert_array_equal(bias, np.full(4, 0.1))


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (2, 3, 4)])
def test_orthogonal(shape):
    w = initializers.get({"name": "orthogonal", "gain": 2.0})(shape, np.random.default_rng(1),
                                                              np.float64)
    m = w.reshape(-1, shape[-1])
    small = min(m.shape)
    gram = m @ m.T if m.shape[0] == small else m.T @ m
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)


def test_orthogonal_needs_a_matrix():
    with pytest.raises(ValueError, match="at least 2 axes"):
        initializers.get("orthogonal")((4,), np.random.default_rng(0))


# -------------------------------------------------------------------------- errors
def test_needs_a_generator():
    with pytest.raises(TypeError, match=r"numpy.random.default_rng\(seed\)"):
        initializers.get("he_normal")((2, 2), 42)
    with pytest.raises(TypeError, match="got NoneType"):
        initializers.get("glorot_uniform")((2, 2), None)


@pytest.mark.parametrize("shape", [(2, -1), (2.5, 3), "ab", None])
def test_bad_shapes(shape):
    with pytest.raises(ValueError, match="shape must be a tuple of non-negative integers"):
        initializers.get("zeros")(shape, None)


def test_bad_dtype():
    with pytest.raises(TypeError, match="float32 or float64, got dtype int64"):
        initializers.get("zeros")((2,), None, np.int64)


def test_integer_shape_and_empty_shape():
    assert initializers.get("he_uniform")(4, np.random.default_rng(0)).shape == (4,)
    assert initializers.get("he_uniform")((0, 3), np.random.default_rng(0)).shape == (0, 3)


# ------------------------------------------------------------------------- registry
@pytest.mark.parametrize("name", INITIALIZERS.names())
def test_every_name_round_trips(name):
    init = initializers.get(name)
    config = init.get_config()
    assert config["name"] == name
    assert json.loads(json.dumps(config)) == config
    again = initializers.get(config)
    assert again == init
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(again((3, 2), np.random.default_rng(0)), init((3, 2), rng))


def test_get_errors():
    with pytest.raises(ValueError, match=r"unknown initializer 'xavier'.*glorot_uniform"):
        initializers.get("xavier")
    with pytest.raises(ValueError, match=r"unexpected parameter.*'std'.*takes: mean, stddev"):
        initializers.get({"name": "normal", "std": 1.0})
    with pytest.raises(ValueError, match="value must be float"):
        initializers.get({"name": "constant", "value": "0.1"})
    with pytest.raises(TypeError, match="cannot interpret None"):
        initializers.get(None)


def test_callable_is_wrapped():
    def halves(shape, rng, dtype):
        return np.full(shape, 0.5, dtype=dtype)

    init = initializers.get(halves)
    assert initializers.get(init) is init
    out = init((2, 2), np.random.default_rng(0), np.float64)
    np.testing.assert_array_equal(out, np.full((2, 2), 0.5))
    assert init.name == "custom:halves"
    with pytest.raises(TypeError, match="cannot be serialised"):
        init.get_config()
    with pytest.raises(ValueError, match=r"returned shape \(3,\), expected \(2,\)"):
        initializers.get(lambda s, r, d: np.zeros(3))((2,), None)
