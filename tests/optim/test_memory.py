"""Issue 11 #16 and #17: memory is estimated before it is allocated.

Levenberg–Marquardt and Bayesian regularisation choose a form and chunk size that fit
in the memory available, and refuse with the sizes needed and available when none
fits; building and training refuse a model too large for memory before allocating it.
The memory available is set with ``FFNN_MEMORY_LIMIT`` (no test allocates much: the
refusals are checked with tracemalloc, which sees NumPy's allocations).
"""

from __future__ import annotations

import itertools
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ffnn import Dense, Sequential
from ffnn.cli import main
from ffnn.optim import LevenbergMarquardt
from ffnn.optim.memory import (
    MEMORY_LIMIT_ENV,
    InsufficientMemoryError,
    available_memory,
    format_bytes,
    plan_lm,
)
from ffnn.training.problem import Problem

GiB = 2**30
MiB = 2**20


def _params(sizes: list[int]) -> int:
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))


# ------------------------------------------------------- the estimate itself


def test_available_memory_reads_the_override_and_the_system(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "512M")
    assert available_memory() == 512 * MiB
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1.5GiB")
    assert available_memory() == int(1.5 * GiB)
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "12345")
    assert available_memory() == 12345
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(ValueError, match=f"{MEMORY_LIMIT_ENV}='lots' is not a size"):
        available_memory()
    monkeypatch.delenv(MEMORY_LIMIT_ENV)
    free = available_memory()
    assert free is None or free > 0


def test_format_bytes() -> None:
    assert format_bytes(17) == "17 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(11.9 * GiB) == "11.9 GiB"


def test_plan_by_hand() -> None:
    """Primal: 3·P²·8 + chunk·K·P·(2s + 8); dual: m·P·(2s + 16) + 3·m²·8."""
    p, n, k = 1000, 20, 2
    m = n * k
    dual = plan_lm(n, k, p, 4, available=10**12)
    assert not dual.primal and dual.bytes == m * p * 24 + 3 * m * m * 8
    primal = plan_lm(n, k, p, 8, form="primal", chunk_size=5, available=10**12)
    assert primal.primal and primal.chunk == 5
    assert primal.bytes == 3 * p * p * 8 + 5 * k * p * 24


def test_defect_16_the_issues_sizes_are_refused_with_sizes_and_alternatives() -> None:
    """issue 11 #16: a 10-3000-3000-1 network on 353 rows asked for an 11.9 GiB
    Jacobian (float64) on a 24 GiB machine; neither form fits, and the refusal says
    what each needs, what is available and what to do instead."""
    p = _params([10, 3000, 3000, 1])
    with pytest.raises(InsufficientMemoryError) as info:
        plan_lm(353, 1, p, 4, available=24 * GiB)
    message = str(info.value)
    assert "J of 23.8 GiB" in message  # the float64 copy of the 353 × 9,039,001 Jacobian
    assert "but only 24.0 GiB is available" in message
    for hint in ("fewer parameters", "chunk_size", "first-order optimiser"):
        assert hint in message
    assert "\n" not in message


def test_defect_16_forced_primal_with_51k_parameters_is_refused() -> None:
    """issue 11 #16: form="primal" with 51k parameters asked for a 19.4 GiB JᵀJ."""
    with pytest.raises(InsufficientMemoryError, match=r"JᵀJ of 19\.4 GiB.*form='primal'"):
        plan_lm(353, 1, 51_000, 4, form="primal", available=24 * GiB)
    assert not plan_lm(353, 1, 51_000, 4, available=24 * GiB).primal  # auto: the dual fits


def test_defect_16_forced_dual_on_60k_rows_is_refused() -> None:
    """issue 11 #16: a forced dual form on 60k rows (JJᵀ of 26.8 GiB in float64)."""
    with pytest.raises(InsufficientMemoryError, match=r"JJᵀ of 26\.8 GiB.*form='dual'"):
        plan_lm(60_000, 1, 100, 4, form="dual", available=24 * GiB)
    assert plan_lm(60_000, 1, 100, 4, available=24 * GiB).primal


def test_defect_16_auto_falls_back_to_the_other_form_and_smaller_chunks() -> None:
    """P = 600 > m = 500 prefers the dual form; when it does not fit, the primal form
    with fewer rows per chunk does."""
    p, n = 600, 500
    dual = plan_lm(n, 1, p, 8, available=10**12)
    assert not dual.primal
    squeezed = plan_lm(n, 1, p, 8, available=int(dual.bytes) - 1)
    assert squeezed.primal and squeezed.chunk < n and squeezed.bytes < dual.bytes
    default = plan_lm(n, 1, p, 8, form="primal", available=10**12)
    assert default.chunk == n  # 2²¹ // 600 = 3495 rows, capped at N
    tight = plan_lm(n, 1, p, 8, form="primal", available=3 * p * p * 8 + 100 * p * 24)
    assert tight.primal and tight.chunk == 100
    with pytest.raises(InsufficientMemoryError, match=r"form='primal'"):
        plan_lm(n, 1, p, 8, form="primal", chunk_size=200, available=3 * p * p * 8 + 100 * p * 24)


# ------------------------------------------------------- LM and BR in training


def _regression(n: int = 60, d: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d))
    return x, np.tanh(x @ rng.normal(size=(d, 1)))


def _lm_model(hidden: int, d: int = 5, **options: Any) -> Sequential:
    model = Sequential([Dense(hidden, "tanh", input_dim=d), Dense(1)], seed=0, dtype="float64")
    model.compile(LevenbergMarquardt(**options), "mse")
    model.build()
    return model


@pytest.mark.parametrize("solver", ["lm", "br"])
def test_defect_16_lm_refuses_before_allocating(monkeypatch: pytest.MonkeyPatch,
                                                solver: str) -> None:
    """issue 11 #16: LM and BR used to allocate their Jacobian first and think later;
    now, with 1 MiB available, fit refuses with the sizes before any large allocation
    (tracemalloc's peak stays below half a MiB; the run would need more than 10 MiB)."""
    x, y = _regression(n=200)
    model = Sequential([Dense(300, "tanh", input_dim=5), Dense(1)], seed=0, dtype="float64")
    model.compile(solver, "mse")
    model.build()
    needed = plan_lm(200, 1, model.count_params(), 8, available=10**12).bytes
    monkeypatch.setenv(MEMORY_LIMIT_ENV, str(MiB))
    tracemalloc.start()
    try:
        with pytest.raises(InsufficientMemoryError, match=r"needs .* but only 1\.0 MiB"):
            model.fit(x, y, epochs=1, verbose=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert needed > 10 * MiB and peak < MiB / 2


def test_defect_16_the_step_itself_plans_before_allocating(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The LM step (not only fit's pre-flight check) plans before it allocates, so
    memory that shrank since fit started is refused at the next epoch."""
    x, y = _regression()
    model = _lm_model(20)
    model.prepare_training()
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1K")
    with pytest.raises(InsufficientMemoryError, match="Levenberg–Marquardt"):
        model.optimizer.step_problem(Problem(model, x, y))


def test_defect_16_squeezed_memory_gives_the_same_training(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """When the preferred form does not fit, "auto" trains with the other one and a
    default chunk that does not fit shrinks: the run asked for explicitly (up to BLAS
    rounding, which differs between runs in the last bits)."""
    x, y = _regression(n=60)
    p = _params([5, 9, 1])  # 64 parameters > 60 residuals: dual preferred
    dual = plan_lm(60, 1, p, 8, available=10**12)
    assert not dual.primal
    limit = 3 * p * p * 8 + 7 * p * 24 + 100  # the primal form with chunks of 7 rows
    assert limit < dual.bytes
    reference = _lm_model(9, form="primal", chunk_size=7)
    reference.fit(x, y, epochs=3, verbose=0)
    squeezed = _lm_model(9)
    from ffnn.optim import lm as lm_module

    plans: list[Any] = []

    def limited(*args: Any, **kwargs: Any) -> Any:
        plans.append(plan_lm(*args, **{**kwargs, "available": limit}))
        return plans[-1]

    monkeypatch.setattr(lm_module, "plan_lm", limited)
    squeezed.fit(x, y, epochs=3, verbose=0)
    assert {(plan.primal, plan.chunk) for plan in plans} == {(True, 7)}
    for a, b in zip(reference.get_weights(), squeezed.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# ------------------------------------------------ defect 17: building, training


def test_defect_17_build_refuses_weights_beyond_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """issue 11 #17: a layer too large for memory is refused before its weights are
    drawn (tracemalloc: no large allocation), naming the network and the sizes."""
    model = Sequential([Dense(2000, "relu", input_dim=2000), Dense(1)], seed=0)
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "8M")
    tracemalloc.start()
    try:
        with pytest.raises(InsufficientMemoryError,
                           match=r"building the 2000-2000-1 network \(4,004,001 parameters, "
                                 r"float32\) needs about .* but only 8\.0 MiB"):
            model.build()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MiB and not model.built


def test_defect_17_fit_refuses_a_full_batch_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Training counts one batch's activations: a full batch of 20,000 rows through 500
    units does not fit in 40 MiB, batches of 32 do."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20_000, 4)), rng.normal(size=(20_000, 1))
    model = Sequential([Dense(500, "relu", input_dim=4), Dense(1)], seed=0)
    model.compile("sgd", "mse")
    model.build()
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "40M")
    with pytest.raises(InsufficientMemoryError, match=r"batches of 20000 rows.*batch_size"):
        model.fit(x, y, epochs=1, batch_size=None, verbose=0)
    model.fit(x[:256], y[:256], epochs=1, batch_size=32, verbose=0)


def test_defect_17_command_line_refuses_in_one_line(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """issue 11 #17: ``ffnn train --hidden 3000,3000`` fails with one line and exit
    status 2 before training, instead of MemoryError mid-run (or the machine going
    down); no model file is written."""
    rng = np.random.default_rng(0)
    rows = ["a,b,c,y", *(f"{a:.3f},{b:.3f},{c:.3f},{a + b:.3f}"
                          for a, b, c in rng.normal(size=(40, 3)))]
    data = tmp_path / "d.csv"
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "m.safetensors"
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "16M")
    code = main(["train", str(data), "--target", "y", "--hidden", "3000,3000",
                 "--solver", "lm", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not out.exists()
    assert len(err.splitlines()) == 1 and "needs" in err and "16.0 MiB" in err


def test_defect_16_model_jacobian_refuses_before_allocating(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same kind in the public API: model.jacobian(x) allocates N·K × P numbers; it
    is refused with the sizes when they do not fit."""
    model = Sequential([Dense(500, "tanh", input_dim=4), Dense(3)], seed=0)
    model.build()
    x = np.ones((1000, 4))
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "4M")
    with pytest.raises(InsufficientMemoryError,
                       match=r"the 3000 × 4,?003 Jacobian needs about .* 4\.0 MiB"):
        model.jacobian(x)
    assert model.jacobian(x[:2]).shape == (6, 4003)


def test_available_memory_respects_an_address_space_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``ulimit -v`` (RLIMIT_AS) lowers what is available to what it leaves."""
    import resource

    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("needs /proc/self/status")
    used = next(int(line.split()[1]) * 1024 for line in status.read_text().splitlines()
                if line.startswith("VmSize:"))
    real = resource.getrlimit
    limit = used + 100 * MiB  # about 100 MiB left (the process grows a little meanwhile)
    monkeypatch.setattr(resource, "getrlimit", lambda which: (
        (limit, resource.RLIM_INFINITY) if which == resource.RLIMIT_AS else real(which)))
    capped = available_memory()
    assert capped is not None and capped <= 100 * MiB


def _peak_cases() -> list[tuple[str, str, int, int, Any]]:
    from ffnn.optim import OPTIMIZERS, FullBatchOptimizer

    cases = []
    for dtype in ("float32", "float64"):
        for name in OPTIMIZERS.names(aliases=False):
            if issubclass(OPTIMIZERS.lookup(name), FullBatchOptimizer) and name != "lbfgs":
                sizes = [(200, 30, None), (60, 90, None)]  # primal, then dual form
            else:
                sizes = [(1000, 100, 32), (1000, 100, None)]
            cases += [(dtype, name, n, h, bs) for n, h, bs in sizes]
    return cases


@pytest.mark.parametrize(("dtype", "name", "n", "hidden", "batch_size"), _peak_cases())
def test_defect_17_the_estimate_bounds_what_training_allocates(
        dtype: str, name: str, n: int, hidden: int, batch_size: int | None) -> None:
    """The pre-flight estimate is an upper bound of what a run allocates (tracemalloc's
    peak, NumPy included), for every registered optimiser: refusing on it never lets
    an allocation through that it did not count. (64 KiB cover Python's own objects.)"""
    import scipy.linalg
    import scipy.optimize  # noqa: F401

    from ffnn.training.model_checks import check_memory

    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(dtype)
    y = rng.normal(size=(n, 3)).astype(dtype)
    model = Sequential([Dense(hidden, "tanh", input_dim=4), Dense(hidden // 3, "relu"),
                        Dense(3)], seed=0, dtype=dtype)
    model.compile(name, "mse")
    estimate = check_memory(model, 4, n, batch_size)
    tracemalloc.start()
    try:
        model.fit(x, y, epochs=2, batch_size=batch_size, verbose=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= estimate + 64 * 1024, (peak, estimate)


def test_defect_17_predict_refuses_activations_beyond_memory(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """predict (and evaluate) on all samples at once: 20,000 rows through 2,000 units
    need about 300 MiB of activations; with 64 MiB available the call is refused with
    the advice to pass batch_size, which then works."""
    model = Sequential([Dense(2000, "relu", input_dim=4), Dense(1)], seed=0)
    model.build()
    x = np.ones((20_000, 4), dtype=np.float32)
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "64M")
    tracemalloc.start()
    try:
        with pytest.raises(InsufficientMemoryError, match=r"forward pass of 20000 samples.*"
                                                          r"batch_size"):
            model.predict(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MiB
    assert model.predict(x, batch_size=1000).shape == (20_000, 1)


def test_small_requests_skip_reading_the_system(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below ALWAYS_FITS (and without FFNN_MEMORY_LIMIT) nothing is read: a small
    network's validation pass each epoch does not pay for /proc reads."""
    from ffnn.optim import memory

    calls: list[int] = []
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    monkeypatch.setattr(memory, "available_memory", lambda: calls.append(1) or 0)
    memory.check_fits(memory.ALWAYS_FITS - 1, "a small request", "nothing")
    assert calls == []
    with pytest.raises(InsufficientMemoryError, match=r"a large request needs about 16\.0 MiB"):
        memory.check_fits(memory.ALWAYS_FITS, "a large request", "less")
    assert calls == [1]
    calls.clear()
    assert memory.plan_lm(10, 2, 23, 8).primal is False  # the 2-2-3-2 network, 10 points
    assert calls == []
