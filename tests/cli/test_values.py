"""Values read from CSV files by the ``ffnn`` command (issue 11 #6, #7, #14): overflows
named by file, line and column, metrics that do not overflow, missing-value markers
treated alike in every column. Every run turns warnings into errors."""

from __future__ import annotations

import csv
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from ffnn.cli import main


@pytest.fixture(autouse=True)
def _no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _write(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _assert_user_error(code: int, err: str, *phrases: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ffnn: error: ")
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])


def _classes(path: Path, n: int = 40) -> Path:
    rng = np.random.default_rng(1)
    labels = np.arange(n) % 2
    x = labels[:, None] * 2.0 + 0.3 * rng.standard_normal((n, 2))
    return _write(path, ["x1", "x2", "y"],
                  [[f"{a:.4f}", f"{b:.4f}", "ab"[k]] for (a, b), k in zip(x, labels, strict=True)])


def _regression(path: Path, scale: float, n: int = 40) -> Path:
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (n, 2))
    y = (3 * x[:, 0] - x[:, 1] + 0.01 * rng.standard_normal(n)) * scale
    return _write(path, ["x1", "x2", "y"], [[*r, repr(float(t))] for r, t in
                                            zip(x, y, strict=True)])


def _metrics(out: str) -> dict[str, float]:
    found = {}
    for line in out.splitlines():
        name, _, value = line.partition(": ")
        if name in ("mse", "mae", "r2", "loss", "accuracy"):
            found[name] = float(value)
    return found


@pytest.fixture
def classifier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    model = tmp_path / "m.safetensors"
    code, _, err = _run(capsys, "train", "-q", str(_classes(tmp_path / "d.csv")), "--target",
                        "y", "--hidden", "4", "--epochs", "3", "--out", str(model))
    assert code == 0, err
    return model


# --------------------------------------------------------------------- #6 overflow
@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize(("cell", "phrase"),
                         [("1e308", "1e308 overflows the model's float32 once standardised"),
                          ("1e400", "1e400 overflows float64")])
def test_defect_06_a_value_that_overflows_the_dtype_is_named_by_place(
    command: str, cell: str, phrase: str, classifier: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """issue 11 #6: 1e308 in a float32 model's CSV gave a RuntimeWarning and "contains
    NaN or infinite value(s)". The message now says that the value overflows the dtype
    and names the file, line and column, with no warning."""
    data = _write(tmp_path / "new.csv", ["x1", "x2", "y"],
                  [["0.1", "0.2", "a"], ["0.3", cell, "b"], ["1", "2", "b"]])
    code, _, err = _run(capsys, command, str(classifier), str(data))
    _assert_user_error(code, err, f"{data}, line 3, column 'x2'", phrase)


def test_defect_06_a_network_that_overflows_on_a_row_is_named_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A value that fits the model's dtype once standardised can still make the network's
    output overflow (y = 3 x1 - x2 learnt on standardised columns; lbfgs trains in
    float64: 5e307 and -5e307 fit float64 once standardised, but their weighted sum does
    not): the row is named by its line instead of a RuntimeWarning and inf or NaN
    predictions."""
    data = _regression(tmp_path / "d.csv", 1.0)
    model = tmp_path / "m.safetensors"
    code, _, err = _run(capsys, "train", "-q", str(data), "--target", "y", "--task",
                        "regress", "--hidden", "none", "--solver", "lbfgs", "--epochs", "30",
                        "--out", str(model))
    assert code == 0, err
    new = _write(tmp_path / "new.csv", ["x1", "x2"], [["0.5", "0.5"], ["5e307", "-5e307"]])
    for command in ("predict", "evaluate"):
        if command == "evaluate":
            new = _write(tmp_path / "new.csv", ["x1", "x2", "y"],
                         [["0.5", "0.5", "1"], ["5e307", "-5e307", "1"]])
        code, _, err = _run(capsys, command, str(model), str(new))
        _assert_user_error(code, err, f"{new}, line 3: the network's output overflows float64")


# ---------------------------------------------------------------------- #7 metrics
def test_defect_07_huge_regression_targets_are_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """issue 11 #7: targets near the float64 limit passed the < 1e308 check and train
    printed `mse inf mae inf r2 nan` with RuntimeWarnings, exit 0. Targets whose squared
    errors cannot fit in float64 are refused before training, by place."""
    data = _regression(tmp_path / "huge.csv", 1e300)
    out = tmp_path / "m.safetensors"
    code, stdout, err = _run(capsys, "train", "-q", str(data), "--target", "y", "--task",
                             "regress", "--out", str(out))
    _assert_user_error(code, err, "line 2, column 'y'", "too large to regress", "below 1e+150")
    assert not out.exists() and "Training" not in stdout


def test_defect_07_large_targets_below_the_limit_get_finite_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Targets of about 1e149 (plain squares would overflow float64 beyond 1e154, and
    sums of them sooner): train and evaluate print finite metrics, the same R² as the
    same data in ordinary units, and no warning."""
    scores = []
    for scale in (1.0, 1e149):
        data = _regression(tmp_path / f"d{scale:g}.csv", scale)
        model = tmp_path / f"m{scale:g}.safetensors"
        code, _, err = _run(capsys, "train", "-q", str(data), "--target", "y", "--task",
                            "regress", "--solver", "lbfgs", "--epochs", "30",
                            "--out", str(model))
        assert code == 0, err
        code, out, err = _run(capsys, "evaluate", str(model), str(data))
        assert code == 0 and err == "", err
        found = _metrics(out)
        assert all(np.isfinite(v) for v in found.values()), out
        scores.append(found)
    assert scores[1]["r2"] == pytest.approx(scores[0]["r2"], abs=2e-4)
    assert scores[0]["r2"] > 0.99


# ---------------------------------------------------------------- #14 missing cells
MARKERS = ["", "NaN", "nan", "NAN", "NA", "na", "N/A", "#N/A", "<NA>", "null", "NULL", "None",
           "none", " NaN "]


@pytest.mark.parametrize("marker", MARKERS)
@pytest.mark.parametrize("column", ["x2", "text target", "numeric target"])
def test_defect_14_missing_markers_are_refused_in_every_column(
    marker: str, column: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """issue 11 #14: in a text target the cell `NaN` became a class ("3 classes: NaN,
    cat, dog") and `NA` in a feature was "not numeric". Empty, NaN, NA, N/A, null and
    None, in any case, are one thing in every column: a missing value, refused by
    place."""
    rows: list[list[str]] = [[str(i), str(i % 3), ["cat", "dog"][i % 2]] for i in range(12)]
    if column == "numeric target":
        rows = [[str(i), str(i % 3), str(i * 0.37)] for i in range(12)]
    j = 1 if column == "x2" else 2
    rows[4][j] = marker
    data = _write(tmp_path / "d.csv", ["x1", "x2", "y"], rows)
    # a feature's missing cell is filled unless --no-impute (tests/cli/test_tables.py)
    code, _, err = _run(capsys, "train", "-q", str(data), "--target", "y", "--no-impute",
                        "--out", str(tmp_path / "m.safetensors"))
    name = "x2" if column == "x2" else "y"
    expected = "--no-impute" if column == "x2" else "missing values are not supported"
    _assert_user_error(code, err, f"line 6, column {name!r}", expected)
    assert ("empty cell" if not marker.strip() else f"missing value {marker.strip()!r}") in err


def test_defect_14_evaluate_refuses_a_missing_target(
    classifier: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _write(tmp_path / "t.csv", ["x1", "x2", "y"], [["0", "0", "a"], ["2", "2", "null"]])
    code, _, err = _run(capsys, "evaluate", str(classifier), str(data))
    _assert_user_error(code, err, "line 3, column 'y'", "missing value 'null'")
    code, out, err = _run(capsys, "predict", str(classifier), str(data))
    assert code == 0, err  # predict ignores a target column, missing cells and all
    assert len(out.splitlines()) == 3


# ------------------------------------------------------------------- #5 divergence
def _linear3(path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (60, 3))
    return _write(path, ["a", "b", "c", "y"], [[*r, t] for r, t in zip(x, x @ [1, 2, 3],
                                                                        strict=True)])


def test_defect_05_a_run_diverging_at_once_saves_nothing_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """issue 11 #5: `--solver sgd --learning-rate 1e6` exited 0, printed `mse nan` and
    RuntimeWarnings and saved a model that predict/evaluate/info refused. With no finite
    epoch nothing is saved, and the run ends with one clear line and exit 2."""
    model = tmp_path / "m.safetensors"
    code, out, err = _run(capsys, "train", "-q", str(_linear3(tmp_path / "d.csv")), "--target",
                          "y", "--solver", "sgd", "--learning-rate", "1e6", "--out", str(model))
    _assert_user_error(code, err, "training diverged: the val_loss became nan in epoch 1",
                       "nothing was saved", "--learning-rate")
    assert not model.exists() and "nan" not in out


def test_defect_05_a_run_diverging_later_saves_its_best_finite_weights_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run that had finite epochs before diverging saves the best of them, says so in
    its one error line (exit 2), and the file works with predict, evaluate and info."""
    data = _linear3(tmp_path / "d.csv")
    model = tmp_path / "m.safetensors"
    code, _, err = _run(capsys, "train", "-q", str(data), "--target", "y", "--solver", "sgd",
                        "--learning-rate", "100", "--out", str(model))
    _assert_user_error(code, err, "training diverged", "in epoch 2",
                       "saved the weights of epoch 1 (val_loss", f"to {model}")
    for argv in (["predict", str(model), str(data)], ["evaluate", str(model), str(data)],
                 ["info", str(model)]):
        code, out, err = _run(capsys, *argv)
        assert code == 0 and err == "", err
    assert "diverged: the loss became inf in epoch 2; restored the weights of epoch 1" in out


@pytest.mark.parametrize("rate", ["1e6", "100"])
def test_defect_05_divergence_with_early_stopping_still_saves_finite_weights(
    rate: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --early-stopping (whose restore could leave non-finite weights when the
    first loss is already infinite, issue 11 #9) the file written is still loadable,
    or nothing is written; the exit status is 2 either way."""
    data = _linear3(tmp_path / "d.csv")
    model = tmp_path / "m.safetensors"
    code, _, err = _run(capsys, "train", "-q", str(data), "--target", "y", "--solver", "sgd",
                        "--learning-rate", rate, "--early-stopping", "--out", str(model))
    _assert_user_error(code, err, "training diverged")
    assert model.exists() == (rate == "100")
    if model.exists():
        assert "saved the weights of epoch" in err
        code, _, err = _run(capsys, "evaluate", str(model), str(data))
        assert code == 0, err
    else:
        assert "nothing was saved" in err


@pytest.mark.parametrize("solver", ["adam", "rmsprop", "adagrad", "nadam", "sgd"])
@pytest.mark.parametrize("rate", ["1e3", "1e5", "1e7"])
def test_defect_05_no_learning_rate_leaves_an_unloadable_file(
    solver: str, rate: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The invariant behind issue 11 #5: whatever the run does, a file it leaves loads
    with the default checks, weights and optimiser state alike (Adam at 1e7 once kept
    finite weights but saved NaN moments, which ffnn.load refuses), and the run exits 0
    only if it did not diverge."""
    model = tmp_path / "m.safetensors"
    code, _, err = _run(capsys, "train", "-q", str(_linear3(tmp_path / "d.csv")), "--target",
                        "y", "--solver", solver, "--learning-rate", rate, "--epochs", "5",
                        "--out", str(model))
    assert code in (0, 2), err
    if code == 2:
        _assert_user_error(code, err, "training diverged")
    if model.exists():
        import ffnn

        assert ffnn.load(model).built
    else:
        assert code == 2 and "nothing was saved" in err


def test_defect_07_scores_beyond_float64_are_refused_not_printed_as_inf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model file whose target scaler is valid (scale 1e300 < 1e308) predicts values
    whose squared errors exceed float64: evaluate refuses with one line naming the row,
    instead of printing `mse inf`; predict, which needs no squares, still works."""
    import ffnn

    data = _regression(tmp_path / "d.csv", 1.0)
    net = ffnn.Sequential([ffnn.Dense(1, input_dim=2)], seed=0)
    net.build()
    meta = {"format": 1, "task": "regress", "target": "y", "features": ["x1", "x2"],
            "loss": "mse", "scaler": {"mean": [0.0, 0.0], "scale": [1.0, 1.0]},
            "target_scaler": {"mean": [0.0], "scale": [1e300]}, "classes": None}
    model = tmp_path / "m.safetensors"
    ffnn.save(net, model, metadata={"ffnn_cli": meta})
    code, _, err = _run(capsys, "evaluate", str(model), str(data))
    _assert_user_error(code, err, "the errors of the predictions overflow float64",
                       f"{data}, line ")
    code, out, err = _run(capsys, "predict", str(model), str(data))
    assert code == 0 and err == "" and len(out.splitlines()) == 41
