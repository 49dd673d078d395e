"""Learning-rate schedules: formulas, PyTorch's schedulers, registry and configs."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

import ffnn
from ffnn.optim import SCHEDULES, SGD, CosineDecay, ExponentialDecay, StepDecay, schedules


def _torch_lrs(make: Callable[[torch.optim.Optimizer], object], lr: float, n: int) -> list[float]:
    """The learning rate PyTorch uses at each of ``n`` steps, stepping the scheduler per step."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    sched = make(opt)
    lrs = []
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()  # type: ignore[attr-defined]
    return lrs


def test_step_decay_formula() -> None:
    s = StepDecay(0.1, step_size=3, gamma=0.5)
    assert [s(t) for t in range(7)] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])


def test_step_decay_matches_torch_step_lr() -> None:
    s = StepDecay(0.3, step_size=4, gamma=0.7)
    want = _torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 4, gamma=0.7), 0.3, 30)
    np.testing.assert_allclose([s(t) for t in range(30)], want, rtol=1e-14)


def test_exponential_decay_formula() -> None:
    s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(0) == 0.1
    assert s(10) == pytest.approx(0.05, rel=1e-15)
    assert s(5) == pytest.approx(0.1 * 0.5**0.5, rel=1e-15)
    st = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [st(t) for t in (0, 9, 10, 19, 20)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_exponential_decay_matches_torch_exponential_lr() -> None:
    s = ExponentialDecay(0.2, decay_steps=1, decay_rate=0.9)
    want = _torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 0.2, 30)
    np.testing.assert_allclose([s(t) for t in range(30)], want, rtol=1e-13)


def test_cosine_decay_formula() -> None:
    s = CosineDecay(0.1, decay_steps=4, alpha=0.2)
    want = [0.1 * (0.8 * 0.5 * (1 + math.cos(math.pi * min(t, 4) / 4)) + 0.2) for t in range(7)]
    assert [s(t) for t in range(7)] == pytest.approx(want, rel=1e-15)
    assert s(2) == pytest.approx(0.1 * (0.8 * 0.5 + 0.2))  # halfway: cos = 0
    assert s(4) == s(100) == pytest.approx(0.02)  # floor alpha·η₀ after decay_steps


def test_cosine_decay_matches_torch_cosine_annealing() -> None:
    s = CosineDecay(0.1, decay_steps=20, alpha=0.1)
    want = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=0.01), 0.1, 21
    )
    np.testing.assert_allclose([s(t) for t in range(21)], want, rtol=1e-10, atol=1e-15)


def test_optimizer_evaluates_schedule_at_its_iteration_count() -> None:
    p = ffnn.Tensor(np.zeros(1), requires_grad=True)
    opt = SGD([p], learning_rate=StepDecay(1.0, step_size=2, gamma=0.1))
    used = []
    for _ in range(5):
        used.append(opt.current_learning_rate)
        p.grad = np.ones(1)
        opt.step()
    assert used == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01])
    np.testing.assert_allclose(p.data, [-2.21], rtol=1e-14)


def test_registry_and_get() -> None:
    assert SCHEDULES.names() == ["cosine_decay", "exponential_decay", "step_decay"]
    s = schedules.get("step_decay", initial_learning_rate=0.1, step_size=5)
    assert isinstance(s, StepDecay) and s.gamma == 0.1
    c = schedules.get({"name": "cosine_decay", "initial_learning_rate": 0.1, "decay_steps": 9})
    assert isinstance(c, CosineDecay) and c.decay_steps == 9
    assert schedules.get(c) is c
    with pytest.raises(ValueError, match="cosine_decay, exponential_decay, step_decay"):
        schedules.get("warmup")
    with pytest.raises(ValueError, match=r"unknown step_decay option.*'decay_rate'"):
        schedules.get("step_decay", initial_learning_rate=0.1, step_size=5, decay_rate=0.5)
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        schedules.get(0.1)
    updated = schedules.get({"name": "cosine_decay", "initial_learning_rate": 0.1,
                             "decay_steps": 9}, decay_steps=4)
    assert isinstance(updated, CosineDecay) and updated.decay_steps == 4
    with pytest.raises(ValueError, match="config needs a 'name' key"):
        schedules.get({"initial_learning_rate": 0.1})
    with pytest.raises(TypeError, match=r"\['decay_steps'\] cannot be applied to an existing"):
        schedules.get(c, decay_steps=3)


@pytest.mark.parametrize(
    "schedule",
    [StepDecay(0.1, 3, 0.5), ExponentialDecay(0.1, 10, 0.9, staircase=True), CosineDecay(0.1, 7)],
    ids=lambda s: s.name,
)
def test_config_json_round_trip(schedule: schedules.LearningRateSchedule) -> None:
    config = json.loads(json.dumps(schedule.get_config()))
    assert config["name"] == schedule.name
    again = schedules.get(config)
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
    assert [again(t) for t in range(12)] == [schedule(t) for t in range(12)]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: StepDecay(0.1, 0), ValueError, "step_size"),
        (lambda: StepDecay(0.1, 2.5), ValueError, "step_size"),
        (lambda: StepDecay(0.1, 2, gamma=-0.5), ValueError, "gamma"),
        (lambda: StepDecay(-0.1, 2), ValueError, "initial_learning_rate"),
        (lambda: ExponentialDecay(0.1, 10, 0.0), ValueError, "decay_rate"),
        (lambda: ExponentialDecay(0.1, 10, 0.5, staircase=1), TypeError, "staircase"),
        (lambda: CosineDecay(0.1, 10, alpha=1.5), ValueError, "alpha"),
        (lambda: CosineDecay("0.1", 10), TypeError, "initial_learning_rate"),
        (lambda: CosineDecay(0.1, 10)(-1), ValueError, "step"),
    ],
)
def test_validation(make: Callable[[], object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()
