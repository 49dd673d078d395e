"""Losses: values and gradients against PyTorch and finite differences, stability of the
logits forms, fused = unfused, weights, helpful errors and the registry."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ffnn
from ffnn.nn import activations, losses
from ffnn.nn.losses import LOSSES

N, K = 7, 4


def _problem(name: str, rng: np.random.Generator, from_logits: bool = False):
    """(y_true, y_pred as ndarray) suited to the loss, away from kinks and clipping."""
    if name in ("binary_crossentropy",):
        y = rng.integers(0, 2, (N, K)).astype(np.float64)
        y[0] = rng.uniform(0, 1, K)  # soft targets too
        pred = rng.standard_normal((N, K)) * 2 if from_logits else rng.uniform(0.05, 0.95, (N, K))
        return y, pred
    if name == "categorical_crossentropy":
        y = np.eye(K)[rng.integers(0, K, N)]
        y[0] = rng.dirichlet(np.ones(K))
        pred = rng.standard_normal((N, K)) * 2 if from_logits else rng.dirichlet(np.ones(K), N)
        return y, pred
    if name == "sparse_categorical_crossentropy":
        y = rng.integers(0, K, N)
        pred = rng.standard_normal((N, K)) * 2 if from_logits else rng.dirichlet(np.ones(K), N)
        return y, pred
    if name == "hinge":
        y = rng.choice([-1.0, 1.0], (N, K))
        pred = rng.standard_normal((N, K)) * 2
        pred[np.abs(1 - y * pred) < 0.05] += 0.2
        return y, pred
    y = rng.standard_normal((N, K))
    pred = y + rng.choice([-1, 1], (N, K)) * rng.uniform(0.1, 1.0, (N, K))
    return y, pred


def _torch_per_sample(name: str, y: np.ndarray, p: torch.Tensor, from_logits: bool):
    yt = torch.tensor(y)
    if name == "mse":
        return ((p - yt) ** 2).mean(1)
    if name == "sse":
        return ((p - yt) ** 2).sum(1)
    if name == "quadratic":
        return 0.5 * ((p - yt) ** 2).sum(1)
    if name == "mae":
        return TF.l1_loss(p, yt, reduction="none").mean(1)
    if name == "binary_crossentropy":
        f = TF.binary_cross_entropy_with_logits if from_logits else TF.binary_cross_entropy
        return f(p, yt, reduction="none").mean(1)
    if name == "categorical_crossentropy":
        if from_logits:
            return TF.cross_entropy(p, yt, reduction="none")
        return -(yt * torch.log(p / p.sum(1, keepdim=True))).sum(1)
    if name == "sparse_categorical_crossentropy":
        labels = torch.tensor(y, dtype=torch.long)
        if from_logits:
            return TF.cross_entropy(p, labels, reduction="none")
        # rows normalised first, as Keras (and this library) do
        return TF.nll_loss(torch.log(p / p.sum(1, keepdim=True)), labels, reduction="none")
    if name == "hinge":
        return torch.clamp(1 - yt * p, min=0).mean(1)
    if name == "huber":
        return TF.huber_loss(p, yt, reduction="none", delta=1.0).mean(1)
    raise AssertionError(name)


CASES = [(n, False) for n in LOSSES.names(aliases=False)] + [
    ("binary_crossentropy", True),
    ("categorical_crossentropy", True),
    ("sparse_categorical_crossentropy", True),
]
IDS = [f"{n}{'-logits' if lg else ''}" for n, lg in CASES]


def _loss(name, from_logits):
    return losses.get({"name": name, "from_logits": True} if from_logits else name)


@pytest.mark.parametrize(("name", "from_logits"), CASES, ids=IDS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_value_and_gradient_match_torch(name, from_logits, weighted, rng):
    y, pred = _problem(name, rng, from_logits)
    w = rng.uniform(0.1, 2.0, N) if weighted else None
    p = ffnn.Tensor(pred, requires_grad=True)
    value = _loss(name, from_logits)(y, p, sample_weight=w)
    value.backward()

    pr = torch.tensor(pred, requires_grad=True)
    per = _torch_per_sample(name, y, pr, from_logits)
    sum_reduced = name == "sse"
    if w is None:
        ref = per.sum() if sum_reduced else per.mean()
    else:
        wt = torch.tensor(w)
        ref = (per * wt).sum() if sum_reduced else (per * wt).sum() / wt.sum()
    ref.backward()
    assert value.shape == ()
    np.testing.assert_allclose(value.item(), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(p.grad, pr.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("name", "from_logits"), CASES, ids=IDS)
def test_gradient_matches_finite_differences(name, from_logits, rng):
    y, pred = _problem(name, rng, from_logits)
    w = rng.uniform(0.1, 2.0, N)
    loss = _loss(name, from_logits)
    ffnn.check_grads(lambda p: loss(y, p), pred)
    ffnn.check_grads(lambda p: loss(y, p, sample_weight=w), pred)


@pytest.mark.parametrize(("name", "from_logits"), CASES, ids=IDS)
def test_unit_weights_reproduce_the_unweighted_loss(name, from_logits, rng):
    y, pred = _problem(name, rng, from_logits)
    loss = _loss(name, from_logits)
    a = loss(y, ffnn.Tensor(pred)).item()
    b = loss(y, ffnn.Tensor(pred), sample_weight=np.ones((N, 1))).item()
    assert a == pytest.approx(b, rel=1e-12)


def test_sse_mse_quadratic_normalisations(rng):
    y, pred = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    sq = float(np.sum((y - pred) ** 2))
    p = ffnn.Tensor(pred)
    assert losses.get("sse")(y, p).item() == pytest.approx(sq, rel=1e-12)
    assert losses.get("mse")(y, p).item() == pytest.approx(sq / 15, rel=1e-12)
    assert losses.get("quadratic")(y, p).item() == pytest.approx(sq / 10, rel=1e-12)
    for name, c in [("sse", 1.0), ("mse", 1 / 15), ("quadratic", 1 / 10)]:
        assert losses.get(name).least_squares_factor(5, 3) == pytest.approx(c)
    for name in ("mae", "binary_crossentropy", "hinge", "categorical_crossentropy"):
        assert losses.get(name).least_squares_factor(5, 3) is None


# ---------------------------------------------------------------------- stability
def test_binary_crossentropy_from_logits_is_stable_at_1000():
    z = ffnn.Tensor(np.array([[1000.0, -1000.0, 1000.0, -1000.0]]), requires_grad=True)
    y = np.array([[1.0, 0.0, 0.0, 1.0]])
    loss = losses.get({"name": "binary_crossentropy", "from_logits": True})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = loss(y, z)
        value.backward()
    assert value.item() == pytest.approx(2000.0 / 4)
    np.testing.assert_allclose(z.grad, [[0.0, 0.0, 0.25, -0.25]])


def test_categorical_crossentropy_from_logits_is_stable_at_1000():
    z = ffnn.Tensor(np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]]),
                    requires_grad=True)
    y = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = losses.CategoricalCrossentropy(from_logits=True)(y, z)
        value.backward()
        sparse = losses.SparseCategoricalCrossentropy(from_logits=True)(np.array([0, 0]), z)
    assert value.item() == pytest.approx(1000.0)  # (0 + 2000) / 2
    assert sparse.item() == pytest.approx(1000.0)
    np.testing.assert_allclose(z.grad, [[0.0, 0.0, 0.0], [-0.5, 0.5, 0.0]], atol=1e-12)


def test_probability_losses_clip_instead_of_returning_inf():
    p = ffnn.Tensor(np.array([[0.0, 1.0]]), requires_grad=True)
    value = losses.get("binary_crossentropy")(np.array([[1.0, 0.0]]), p)
    assert value.item() == pytest.approx(-np.log(1e-7), rel=1e-6)


# ------------------------------------------------------------------ fused = unfused
@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_logits_path_equals_activation_then_loss(name, dtype, rng):
    y, _ = _problem(name, rng)
    z_data = (rng.standard_normal((N, K)) * 2).astype(dtype)
    loss = losses.get(name)
    assert loss.fuses_with in ("sigmoid", "softmax") and not loss.from_logits
    fused_loss = loss.with_logits()
    assert fused_loss.from_logits and fused_loss.name == loss.name

    z1 = ffnn.Tensor(z_data, requires_grad=True)
    unfused = loss(y, activations.get(loss.fuses_with)(z1))
    unfused.backward()
    z2 = ffnn.Tensor(z_data, requires_grad=True)
    fused = fused_loss(y, z2)
    fused.backward()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert fused.dtype == dtype
    assert fused.item() == pytest.approx(unfused.item(), rel=tol)
    np.testing.assert_allclose(z2.grad, z1.grad, rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("name", ["mse", "sse", "quadratic", "mae", "hinge"])
def test_losses_without_logits_form(name):
    loss = losses.get(name)
    assert loss.fuses_with is None
    with pytest.raises(ValueError, match="no logits form"):
        loss.with_logits()


# -------------------------------------------------------------------- target checks
def test_column_targets_are_not_broadcast_to_a_matrix(rng):
    """Regression: y of shape (N,) against outputs (N, 1) must not broadcast to (N, N)."""
    y, pred = rng.standard_normal(6), rng.standard_normal((6, 1))
    value = losses.get("mse")(y, ffnn.Tensor(pred)).item()
    assert value == pytest.approx(float(np.mean((y - pred[:, 0]) ** 2)), rel=1e-12)


def test_integer_labels_to_categorical_suggest_sparse():
    with pytest.raises(ValueError, match="use 'sparse_categorical_crossentropy'"):
        losses.get("categorical_crossentropy")(np.array([0, 2, 1]), ffnn.Tensor(np.ones((3, 3))))


def test_one_hot_to_sparse_suggests_categorical():
    with pytest.raises(ValueError, match="use 'categorical_crossentropy'"):
        losses.get("sparse_categorical_crossentropy")(np.eye(3), ffnn.Tensor(np.ones((3, 3))))


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"target shape \(4, 2\) does not match the output "
                                         r"shape \(4, 3\)"):
        losses.get("mse")(np.zeros((4, 2)), ffnn.Tensor(np.zeros((4, 3))))


def test_nan_targets_are_rejected():
    y = np.array([[0.0], [np.nan]])
    with pytest.raises(ValueError, match="NaN or infinite"):
        losses.get("mse")(y, ffnn.Tensor(np.zeros((2, 1))))


def test_sparse_labels_out_of_range_are_named():
    with pytest.raises(ValueError, match=r"\[0, 2\] for 3 outputs.*\[-1, 5\]"):
        losses.get({"name": "sparse_categorical_crossentropy", "from_logits": True})(
            np.array([0, 5, -1, 2]), ffnn.Tensor(np.zeros((4, 3))))


def test_sparse_accepts_column_and_integral_float_labels(rng):
    z = ffnn.Tensor(rng.standard_normal((3, 4)))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    a = loss(np.array([0, 3, 1]), z).item()
    assert loss(np.array([[0], [3], [1]]), z).item() == a
    assert loss(np.array([0.0, 3.0, 1.0]), z).item() == a
    with pytest.raises(ValueError, match="labels must be integers"):
        loss(np.array([0.5, 3.0, 1.0]), z)


def test_binary_crossentropy_rejects_minus_one_labels():
    with pytest.raises(ValueError, match="for labels in \\{-1, 1\\} use 'hinge'"):
        losses.get("binary_crossentropy")(np.array([[-1.0], [1.0]]), ffnn.Tensor(np.ones((2, 1))))


def test_hinge_converts_zero_one_labels(rng):
    pred = ffnn.Tensor(rng.standard_normal((5, 2)))
    y01 = rng.integers(0, 2, (5, 2)).astype(np.float64)
    loss = losses.get("hinge")
    assert loss(y01, pred).item() == loss(2 * y01 - 1, pred).item()


def test_validate_checks_before_training():
    loss = losses.get("categorical_crossentropy")
    loss.validate(np.eye(3), (3, 3))
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        loss.validate(np.array([0, 1, 2]), (3, 3))


@pytest.mark.parametrize(("weights", "text"), [
    (np.ones(3), r"shape \(4,\)"),
    (np.array([1.0, -1.0, 1.0, 1.0]), "non-negative"),
])
def test_bad_sample_weights(weights, text):
    with pytest.raises(ValueError, match=text):
        losses.get("mse")(np.zeros((4, 1)), ffnn.Tensor(np.ones((4, 1))), sample_weight=weights)


@pytest.mark.parametrize("name", ["mse", "binary_crossentropy", "sse"])
def test_all_zero_batch_weights_give_zero_loss_and_gradient(name):
    """Guards against a mini-batch whose weights are all zero crashing training: it
    contributes nothing (the whole-data check that weights are not all zero is fit's)."""
    p = ffnn.Tensor(np.full((4, 1), 0.3), requires_grad=True)
    loss = losses.get(name)(np.ones((4, 1)), p, sample_weight=np.zeros(4))
    loss.backward()
    assert float(loss.data) == 0.0
    np.testing.assert_array_equal(p.grad, 0.0)


# ------------------------------------------------------------------------- registry
@pytest.mark.parametrize("name", LOSSES.names())
def test_every_name_resolves_and_round_trips(name):
    loss = losses.get(name)
    assert loss.name == LOSSES.canonical(name)
    config = loss.get_config()
    assert json.loads(json.dumps(config)) == config
    assert losses.get(config) == loss


def test_config_with_from_logits():
    loss = losses.get({"name": "categorical_crossentropy", "from_logits": True})
    assert isinstance(loss, losses.CategoricalCrossentropy) and loss.from_logits
    assert loss.get_config() == {"name": "categorical_crossentropy", "from_logits": True}
    assert losses.get(loss) is loss


def test_unknown_name_and_parameters():
    with pytest.raises(ValueError, match=r"unknown loss 'mes'.*mse") as info:
        losses.get("mes")
    assert "sparse_categorical_crossentropy" in str(info.value)
    with pytest.raises(ValueError, match=r"unexpected parameter.*'from_logits'.*no parameters"):
        losses.get({"name": "mse", "from_logits": True})
    with pytest.raises(ValueError, match="from_logits must be bool"):
        losses.get({"name": "binary_crossentropy", "from_logits": "yes"})
    with pytest.raises(TypeError, match="cannot interpret None as a loss"):
        losses.get(None)


def test_callable_is_wrapped(rng):
    def cubic(y_true, y_pred):
        r = y_pred - y_true
        return ffnn.mean(ffnn.abs(r * r * r), axis=1)

    loss = losses.get(cubic)
    assert loss.name == "custom:cubic"
    y, pred = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    expected = float(np.mean(np.abs(pred - y) ** 3))
    assert loss(y, ffnn.Tensor(pred)).item() == pytest.approx(expected)
    w = np.array([1.0, 0.0, 0.0, 0.0])
    first = float(np.mean(np.abs(pred[0] - y[0]) ** 3))
    assert loss(y, ffnn.Tensor(pred), sample_weight=w).item() == pytest.approx(first)
    with pytest.raises(TypeError, match="cannot be serialised"):
        loss.get_config()
