"""The ``ffnn`` command: ``main(argv)`` driven in process, and ``python -m ffnn`` in a
subprocess. Every run is seeded and short (a few epochs on small data)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import ffnn
from ffnn.cli import main

# --------------------------------------------------------------------------- helpers


def _write(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _blobs(path: Path, n: int = 90, seed: int = 0) -> Path:
    """Three well-separated clusters with string class names, on different scales."""
    rng = np.random.default_rng(seed)
    names = ["red", "green", "blue"]
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    labels = np.arange(n) % 3
    x = centres[labels] + 0.5 * rng.standard_normal((n, 2))
    x[:, 1] *= 1000.0  # standardisation must cope with very different scales
    rows = [[f"{a:.6f}", f"{b:.3f}", names[k]] for (a, b), k in zip(x, labels, strict=True)]
    return _write(path, ["width", "height", "colour"], rows)


def _linear(path: Path, n: int = 120, seed: int = 0) -> Path:
    """y = 3 x1 − 2 x2 + 10 + small noise: a regression target."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 2))
    y = 3 * x[:, 0] - 2 * x[:, 1] + 10 + 0.01 * rng.standard_normal(n)
    return _write(path, ["x1", "x2", "y"], [[*r, t] for r, t in zip(x, y, strict=True)])


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _train(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = _run(capsys, "train", "-q", "--seed", "0", *argv)
    assert code == 0, err
    return out


def _metric(out: str, name: str) -> float:
    for line in out.splitlines():
        if line.startswith(f"{name}: "):
            return float(line.split()[-1])
    raise AssertionError(f"no {name!r} line in:\n{out}")


def _assert_user_error(code: int, err: str, *phrases: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ffnn: error: ")
    assert "Traceback" not in err
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])


@pytest.fixture
def blobs_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    data = _blobs(tmp_path / "blobs.csv")
    model = tmp_path / "blobs.safetensors"
    _train(capsys, str(data), "--target", "colour", "--hidden", "8", "--epochs", "40",
           "--learning-rate", "0.01", "--out", str(model))
    return data, model


# --------------------------------------------------------------------------- help


def test_main_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--help")
    assert code == 0
    for command in ("train", "evaluate", "predict", "info", "demo"):
        assert command in out
    assert "examples:" in out


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "info", "demo"])
def test_every_subcommand_has_help_with_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, command, "--help")
    assert code == 0
    assert "example" in out
    assert f"ffnn {command}" in out


def test_choices_come_from_the_registries(capsys: pytest.CaptureFixture[str]) -> None:
    """Every registered activation and optimiser name is offered, and nothing else."""
    _, out, _ = _run(capsys, "train", "--help")
    flat = " ".join(out.split())
    assert ", ".join(ffnn.activations.ACTIVATIONS.names()) in flat
    assert ", ".join(ffnn.optimizers.OPTIMIZERS.names()) in flat
    code, _, err = _run(capsys, "train", "--activation", "nonesuch")
    assert code == 2 and "invalid choice" in err


@pytest.mark.parametrize(
    ("option", "value"),
    [("--hidden", "64,x"), ("--hidden", "0"), ("--epochs", "0"), ("--validation", "1"),
     ("--learning-rate", "-1"), ("--solver", "newton")],
)
def test_bad_option_values_are_usage_errors(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "train", option, value)
    assert code == 2
    assert option.lstrip("-").split("-")[0] in err or "invalid choice" in err
    assert "Traceback" not in err


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys)
    assert code == 2 and "COMMAND" in err


# --------------------------------------------------------------------------- train


def test_train_on_the_default_digits_prints_test_accuracy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _train(capsys, "--epochs", "5", "--out", str(tmp_path / "digits.safetensors"))
    assert "digits" in out
    assert _metric(out, "test accuracy") >= 0.9
    for split in ("train", "validation", "test"):
        assert any(line.startswith(split) for line in out.splitlines())


def test_train_shows_one_line_per_epoch_when_not_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _blobs(tmp_path / "blobs.csv")
    code, out, _ = _run(capsys, "train", str(data), "--target", "colour", "--epochs", "3",
                        "--out", str(tmp_path / "m.safetensors"))
    assert code == 0
    epochs = [line for line in out.splitlines() if line.startswith("Epoch ")]
    assert [e.split(" - ")[0] for e in epochs] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert "val_loss" in epochs[-1]


def test_classifier_round_trip_train_evaluate_predict_info(
    blobs_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, model = blobs_model
    code, out, err = _run(capsys, "evaluate", str(model), str(data))
    assert code == 0, err
    assert _metric(out, "accuracy") >= 0.95
    assert _metric(out, "loss") < 0.3

    code, out, err = _run(capsys, "predict", str(model), str(data))
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["width", "height", "colour", "colour_predicted"]
    assert len(rows) == 91
    assert np.mean([r[2] == r[3] for r in rows[1:]]) >= 0.95

    code, out, err = _run(capsys, "info", str(model))
    assert code == 0, err
    assert "Total params: 51" in out  # (2 + 1)·8 + (8 + 1)·3
    assert "classify 'colour' into 3 classes: blue, green, red" in out
    assert "width, height" in out and "epochs:      40 of 40" in out


def test_predict_without_the_target_column_names_the_prediction_after_it(
    blobs_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The prediction is the last column, named after the target, one row per input row."""
    _, model = blobs_model
    new = _write(tmp_path / "new.csv", ["height", "width"], [[0, 4], [4000, 0], [0, 0]])
    out_csv = tmp_path / "pred.csv"
    code, out, err = _run(capsys, "predict", str(model), str(new), "--out", str(out_csv))
    assert code == 0, err
    assert "3 predictions" in out
    rows = list(csv.reader(io.StringIO(out_csv.read_text())))
    assert rows == [["height", "width", "colour"], ["0", "4", "green"], ["4000", "0", "blue"],
                    ["0", "0", "red"]]


def test_regression_is_inferred_and_scored_in_the_targets_units(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _linear(tmp_path / "lin.csv")
    model = tmp_path / "lin.safetensors"
    out = _train(capsys, str(data), "--target", "y", "--epochs", "60", "--hidden", "16",
                 "--learning-rate", "0.01", "--out", str(model))
    assert "regress 'y'" in out
    code, out, err = _run(capsys, "evaluate", str(model), str(data))
    assert code == 0, err
    assert _metric(out, "r2") > 0.98
    assert _metric(out, "mse") < 0.3  # the target's variance is about 4.3
    new = _write(tmp_path / "new.csv", ["x1", "x2"], [[0.5, -0.5]])
    code, out, err = _run(capsys, "predict", str(model), str(new))
    assert code == 0, err
    assert abs(float(out.splitlines()[1].split(",")[-1]) - 12.5) < 0.5


def test_lm_classifier_trains_on_one_hot_targets_with_mse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _blobs(tmp_path / "blobs.csv", n=60)
    model = tmp_path / "lm.safetensors"
    _train(capsys, str(data), "--target", "colour", "--hidden", "4", "--solver", "lm",
           "--epochs", "15", "--out", str(model))
    code, out, err = _run(capsys, "evaluate", str(model), str(data))
    assert code == 0, err
    assert _metric(out, "accuracy") >= 0.95
    assert ffnn.io.load(model).metadata["ffnn_cli"]["loss"] == "mse"
    _, out, _ = _run(capsys, "info", str(model))
    assert "mse on one-hot targets" in out


def test_scaler_and_names_are_stored_as_plain_metadata(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --validation 0 the stored means and scales are those of the whole file."""
    data = _linear(tmp_path / "lin.csv", n=40)
    model = tmp_path / "m.safetensors"
    _train(capsys, str(data), "--target", "y", "--epochs", "1", "--validation", "0",
           "--out", str(model))
    meta = ffnn.io.load(model).metadata["ffnn_cli"]
    x = np.loadtxt(data, delimiter=",", skiprows=1)
    np.testing.assert_allclose(meta["scaler"]["mean"], x[:, :2].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(meta["scaler"]["scale"], x[:, :2].std(axis=0), rtol=1e-12)
    assert (meta["task"], meta["target"], meta["features"]) == ("regress", "y", ["x1", "x2"])
    assert meta["training"]["epochs"] == 1 and meta["training"]["rows"] == {"train": 40}


def test_training_is_reproducible_with_a_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _blobs(tmp_path / "blobs.csv")
    weights = []
    for k in range(2):
        path = tmp_path / f"m{k}.safetensors"
        _train(capsys, str(data), "--target", "colour", "--epochs", "3", "--out", str(path))
        weights.append(ffnn.io.load(path).get_weights())
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_stops_before_the_epoch_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _blobs(tmp_path / "blobs.csv")
    model = tmp_path / "m.safetensors"
    _train(capsys, str(data), "--target", "colour", "--epochs", "500", "--early-stopping",
           "--patience", "3", "--learning-rate", "0.05", "--out", str(model))
    training = ffnn.io.load(model).metadata["ffnn_cli"]["training"]
    assert training["early_stopping"] is True
    assert training["epochs"] < 500


# --------------------------------------------------------------------------- task inference


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["a", "b"] * 5, "classify"),
        (["0", "1", "2"] * 4, "classify"),
        (["1.0", "2.0"] * 5, "classify"),
        ([str(k) for k in range(12)], "regress"),  # as many values as rows
        ([str(k % 25) for k in range(100)], "regress"),  # more than 20 distinct integers
        (["0.5", "1.5"] * 5, "regress"),  # not integers
    ],
)
def test_task_inference_rule(values: list[str], task: str, tmp_path: Path) -> None:
    from ffnn.cli.data import infer_task, read_csv

    path = _write(tmp_path / "t.csv", ["x", "t"], [[i, v] for i, v in enumerate(values)])
    assert infer_task(read_csv(str(path)), "t") == task


# --------------------------------------------------------------------------- bad input


BAD_CSVS = {
    "empty": ("", ["is empty"]),
    "header only": ("a,b,y\n", ["no data rows"]),
    "no header": ("1,2,0\n3,4,1\n", ["no header row"]),
    "infinite feature": ("a,b,y\n1,2,0\n3,inf,1\n5,6,0\n", ["line 3", "infinite"]),
    # --no-impute: missing cells are refused, as before ffnn filled them
    "empty cell": ("a,b,y\n1,2,0\n3,,1\n5,6,0\n", ["line 3", "column 'b'", "empty cell"]),
    "nan cell": ("a,b,y\n1,2,0\n3,4,1\nnan,6,0\n", ["line 4", "column 'a'", "missing value 'nan'"]),
    "ragged row": ("a,b,y\n1,2,0\n3,4\n", ["line 3", "2 cells"]),
    "duplicate column": ("a,a,y\n1,2,0\n", ["'a' twice"]),
    "too few rows": ("a,b,y\n1,2,0\n3,4,1\n", ["too few rows", "--validation"]),
    "one class": ("a,b,y\n1,2,u\n3,4,u\n5,6,u\n", ["single class"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CSVS))
def test_bad_csv_files_get_one_clear_line_and_exit_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, phrases = BAD_CSVS[case]
    path = tmp_path / "bad.csv"
    path.write_text(text)
    code, _, err = _run(capsys, "train", str(path), "--target", "y", "--no-impute",
                        "--out", str(tmp_path / "m.safetensors"))
    _assert_user_error(code, err, *phrases)
    assert not (tmp_path / "m.safetensors").exists()


def test_missing_file_and_unknown_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    code, _, err = _run(capsys, "train", str(tmp_path / "nope.csv"), "--target", "y")
    _assert_user_error(code, err, "nope.csv", "no such file")
    data = _linear(tmp_path / "lin.csv")
    code, _, err = _run(capsys, "train", str(data), "--target", "z")
    _assert_user_error(code, err, "no target column 'z'", "x1, x2, y")
    code, _, err = _run(capsys, "train", str(data))
    _assert_user_error(code, err, "--target is required", "x1, x2, y")


@pytest.mark.parametrize(
    ("options", "phrase"),
    [
        (["--solver", "lm", "--learning-rate", "0.1"], "does not apply to solver 'lm'"),
        (["--early-stopping", "--validation", "0"], "needs --validation > 0"),
        (["--task", "regress"], "not numeric"),
        (["--out", "no/such/folder/m.safetensors"], "does not exist"),
    ],
)
def test_inconsistent_training_options(
    options: list[str], phrase: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    data = _blobs(tmp_path / "blobs.csv")
    code, _, err = _run(capsys, "train", str(data), "--target", "colour", *options)
    _assert_user_error(code, err, phrase)


def test_default_data_rejects_a_target(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "train", "--target", "y")
    _assert_user_error(code, err, "need a DATA.csv")


@pytest.mark.parametrize("command", ["info", "evaluate", "predict"])
def test_corrupt_or_missing_model_files(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _linear(tmp_path / "lin.csv")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    extra = [str(data)] if command != "info" else []
    code, _, err = _run(capsys, command, str(bad), *extra)
    _assert_user_error(code, err, "bad.safetensors", "cannot load model file")
    code, _, err = _run(capsys, command, str(tmp_path / "none.safetensors"), *extra)
    _assert_user_error(code, err, "no such file")


def test_csv_columns_must_match_the_models_features(
    blobs_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, model = blobs_model
    missing = _write(tmp_path / "missing.csv", ["width"], [[1]])
    code, _, err = _run(capsys, "predict", str(model), str(missing))
    _assert_user_error(code, err, "lacks the model's feature column(s) height")
    extra = _write(tmp_path / "extra.csv", ["width", "height", "depth"], [[1, 2, 3]])
    code, _, err = _run(capsys, "predict", str(model), str(extra))
    _assert_user_error(code, err, "not trained on: depth")
    unknown = _write(tmp_path / "unknown.csv", ["width", "height", "colour"], [[1, 2, "pink"]])
    code, _, err = _run(capsys, "evaluate", str(model), str(unknown))
    _assert_user_error(code, err, "class 'pink'", "line 2")


def test_models_without_or_with_bad_cli_metadata(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model saved from Python has no scaler: info still works, predict explains why not;
    metadata whose feature list does not fit the network is rejected, not trusted."""
    data = _linear(tmp_path / "lin.csv")
    model = ffnn.Sequential([ffnn.Dense(1, input_dim=2)], seed=0)
    model.build()
    plain = tmp_path / "plain.safetensors"
    ffnn.io.save(model, plain)
    code, out, _ = _run(capsys, "info", str(plain))
    assert code == 0 and "Total params: 3" in out and "no 'ffnn train' metadata" in out
    code, _, err = _run(capsys, "predict", str(plain), str(data))
    _assert_user_error(code, err, "no 'ffnn train' metadata")
    meta = {"ffnn_cli": {"format": 1, "task": "regress", "target": "y", "features": ["x1"],
                         "loss": "mse", "scaler": {"mean": [0.0], "scale": [1.0]},
                         "target_scaler": {"mean": [0.0], "scale": [1.0]}}}
    tampered = tmp_path / "tampered.safetensors"
    ffnn.io.save(model, tampered, metadata=meta)
    code, _, err = _run(capsys, "evaluate", str(tampered), str(data))
    _assert_user_error(code, err, "invalid 'ffnn train' metadata", "2 feature names")


# --------------------------------------------------------------------------- subprocess


def test_python_m_ffnn_demo_runs_the_classic_examples() -> None:
    result = subprocess.run([sys.executable, "-m", "ffnn", "demo"], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "10 of 10 points classified correctly" in result.stdout
    assert "perceptron" in result.stdout and "solved in" in result.stdout


def test_python_m_ffnn_reports_user_errors_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ffnn", "train", str(tmp_path / "missing.csv"), "--target", "y"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"ffnn: error: {tmp_path / 'missing.csv'}: no such file"
    ]
    assert result.stdout == ""


# --------------------------------------------------------------------------- regressions


def _clusters(path: Path, spellings: list[list[str]], n: int = 60) -> Path:
    """Well-separated clusters, one per class; class k's rows cycle through the
    spellings ``spellings[k]`` (the first row of each class uses the first spelling)."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]])[: len(spellings)]
    rows: list[list[object]] = []
    for i in range(n):
        k = i % len(spellings)
        a, b = centres[k] + 0.3 * rng.standard_normal(2)
        names = spellings[k]
        rows.append([f"{a:.6f}", f"{b:.6f}", names[(i // len(spellings)) % len(names)]])
    return _write(path, ["a", "b", "y"], rows)


def test_numeric_class_labels_round_trip_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Guards against class labels being normalised through float: integers above 2**53
    merging into one class (12345678901234567890 and ...891 both shown as
    12345678901234567168), '007' coming back as '7'. Labels equal by value ('7', '7.0')
    are one class named by the first spelling, which info and predict print verbatim."""
    big, bigger = "12345678901234567890", "12345678901234567891"
    data = _clusters(tmp_path / "ids.csv", [["007", "7", "7.0"], [big], [bigger]])
    model = tmp_path / "ids.safetensors"
    out = _train(capsys, str(data), "--target", "y", "--hidden", "8", "--epochs", "60",
                 "--learning-rate", "0.05", "--validation", "0", "--out", str(model))
    assert "(3 classes)" in out
    assert ffnn.io.load(model).metadata["ffnn_cli"]["classes"] == ["007", big, bigger]
    code, out, err = _run(capsys, "info", str(model))
    assert code == 0, err
    assert f"into 3 classes: 007, {big}, {bigger}" in out
    code, out, err = _run(capsys, "evaluate", str(model), str(data))  # '7' and '7.0' are 007
    assert code == 0, err
    assert _metric(out, "accuracy") == 1.0
    code, out, err = _run(capsys, "predict", str(model), str(data))
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))[1:]
    expected = {"007": "007", "7": "007", "7.0": "007", big: big, bigger: bigger}
    assert [r[3] for r in rows] == [expected[r[2]] for r in rows]


def test_non_integer_class_labels_are_compared_by_exact_value(tmp_path: Path) -> None:
    """Guards against '0.1' and '0.10' being two classes (they are one number), and
    against float rounding: labels differing beyond float64 precision stay distinct."""
    from ffnn.cli.data import class_names, encode_labels, infer_task, read_csv

    labels = ["0.10", "0.5", "0.1", "1e-1", "0.5000", "0.30000000000000000001", "0.3"]
    path = _write(tmp_path / "f.csv", ["x", "y"], [[i, v] for i, v in enumerate(labels)])
    table = read_csv(str(path))
    classes = class_names(table, "y")
    assert classes == ["0.10", "0.3", "0.30000000000000000001", "0.5"]
    assert encode_labels(table, "y", classes).tolist() == [0, 3, 0, 0, 3, 2, 1]
    # Integers beyond 2**53 are counted exactly when inferring the task.
    ids = [str(2**60 + k) for k in range(12)]
    path = _write(tmp_path / "i.csv", ["x", "y"], [[i, v] for i, v in enumerate(ids)])
    assert infer_task(read_csv(str(path)), "y") == "regress"  # 12 distinct values, 12 rows


@pytest.mark.parametrize(
    ("key", "value"),
    [("scaler", {"mean": [10**400, 0.0], "scale": [1.0, 1.0]}),
     ("scaler", {"mean": [0.0, 0.0], "scale": [1.0, -(10**400)]}),
     ("scaler", {"mean": [0.0, 1.5e308], "scale": [1.0, 1.0]}),
     ("target_scaler", {"mean": [0.0], "scale": [10**400]})],
)
def test_out_of_range_scaler_numbers_in_a_model_file_are_user_errors(
    key: str, value: dict[str, list[float]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Guards against a traceback (OverflowError from float64 conversion) when a model
    file's scaler holds a valid-JSON number too large for float64, e.g. a 400-digit
    integer: it must be one 'ffnn: error:' line and exit 2 from predict and evaluate."""
    data = _linear(tmp_path / "lin.csv")
    model = ffnn.Sequential([ffnn.Dense(1, input_dim=2)], seed=0)
    model.build()
    meta: dict[str, object] = {
        "format": 1, "task": "regress", "target": "y", "features": ["x1", "x2"],
        "loss": "mse", "scaler": {"mean": [0.0, 0.0], "scale": [1.0, 1.0]},
        "target_scaler": {"mean": [0.0], "scale": [1.0]},
    }
    meta[key] = value
    hostile = tmp_path / "hostile.safetensors"
    ffnn.io.save(model, hostile, metadata={"ffnn_cli": meta})
    for command in ("predict", "evaluate"):
        code, _, err = _run(capsys, command, str(hostile), str(data))
        _assert_user_error(code, err, "invalid 'ffnn train' metadata", "scaler",
                           "finite numbers below 1e+308")
    code, _, err = _run(capsys, "info", str(hostile))
    assert code == 0 and "Traceback" not in err


@pytest.mark.parametrize(
    ("exc", "phrase"),
    [(OverflowError("int too large to convert to float"), "int too large"),
     (ZeroDivisionError(), "ZeroDivisionError"),
     (MemoryError(), "out of memory")],
)
def test_arithmetic_and_memory_errors_are_reported_without_a_traceback(
    exc: BaseException, phrase: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Guards against ArithmeticError and MemoryError (raised by hostile model files,
    e.g. huge numbers or huge declared arrays) escaping main as a traceback with exit 1:
    they must be one 'ffnn: error:' line and exit 2."""
    import ffnn.cli.use

    def boom(args: object) -> int:
        raise exc

    monkeypatch.setattr(ffnn.cli.use, "run_info", boom)
    code, _, err = _run(capsys, "info", str(tmp_path / "m.safetensors"))
    _assert_user_error(code, err, phrase)


def test_features_near_the_float64_limit_are_scaled_without_overflow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Guards against x.std() overflowing to inf for a feature of about 1e200: scale=inf
    was saved (silently zeroing the feature) and the CLI then refused its own model.
    The moments must be finite and right, and the model usable."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 2)) * [1e200, 1.0]
    x[:, 0] += 3e200
    path = _write(tmp_path / "big.csv", ["a", "b", "y"],
                  [[repr(float(a)), repr(float(b)), "xy"[i % 2]] for i, (a, b) in enumerate(x)])
    model = tmp_path / "big.safetensors"
    _train(capsys, str(path), "--target", "y", "--epochs", "1", "--validation", "0",
           "--out", str(model))
    scaler = ffnn.io.load(model).metadata["ffnn_cli"]["scaler"]
    np.testing.assert_allclose(scaler["mean"][0] / 1e200, (x[:, 0] / 1e200).mean(), rtol=1e-12)
    np.testing.assert_allclose(scaler["scale"][0] / 1e200, (x[:, 0] / 1e200).std(), rtol=1e-12)
    code, out, err = _run(capsys, "predict", str(model), str(path))
    assert code == 0, err
    assert len(out.splitlines()) == 41


@pytest.mark.parametrize(
    ("column", "phrase"),
    [("a", "feature column 'a' cannot be standardised"),
     ("y", "column 'y': target value -1.7e+308 is too large to regress")],
)
def test_columns_too_large_to_standardise_are_refused_at_training_time(
    column: str, phrase: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Guards against ffnn train saving a scaler the CLI then refuses (an infinite or
    >= 1e308 mean or scale): train must fail before saving, naming the column (a
    target that large is refused earlier still, see issue 11 #7)."""
    huge = [1.7e308 if i % 2 else -1.7e308 for i in range(20)]
    rows: list[list[object]] = [[h, i, i] for i, h in enumerate(huge)]
    if column == "y":
        rows = [[i, i % 3, h] for i, h in enumerate(huge)]
    path = _write(tmp_path / "huge.csv", ["a", "b", "y"], rows)
    model = tmp_path / "huge.safetensors"
    code, _, err = _run(capsys, "train", "-q", str(path), "--target", "y", "--task",
                        "regress", "--epochs", "1", "--out", str(model))
    _assert_user_error(code, err, phrase)
    assert not model.exists()


@pytest.mark.parametrize("seed", ["-1", "4294967296", "1.5"])
@pytest.mark.parametrize(("command", "validation"),
                         [("train", "0"), ("train", "0.2"), ("demo", "")])
def test_seed_out_of_range_is_a_usage_error_naming_seed(
    command: str, seed: str, validation: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Guards against --seed -1 or 2**32 reaching NumPy/scikit-learn, whose messages do
    not name --seed (and differed with and without a validation split)."""
    data = _blobs(tmp_path / "blobs.csv", n=30)
    extra = [str(data), "--target", "colour", "--validation", validation,
             "--out", str(tmp_path / "m.safetensors")] if command == "train" else []
    code, _, err = _run(capsys, command, *extra, "--seed", seed)
    assert code == 2
    assert "argument --seed" in err and "0 to 4294967295" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("validation", ["0", "0.2"])
def test_largest_seed_is_accepted(
    validation: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The upper end of the documented --seed range works with and without a split."""
    data = _blobs(tmp_path / "blobs.csv", n=30)
    code, _, err = _run(capsys, "train", "-q", str(data), "--target", "colour", "--epochs",
                        "1", "--validation", validation, "--seed", "4294967295",
                        "--out", str(tmp_path / "m.safetensors"))
    assert code == 0, err
