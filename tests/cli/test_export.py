"""``ffnn export MODEL.safetensors MODEL.onnx``: the ONNX model computes what
``ffnn predict`` prints, from the raw CSV columns; user errors are one line, status 2."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import ffnn
from ffnn.cli import main


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
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
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("ffnn: error: "), err
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])


def _session(path: Path) -> ort.InferenceSession:
    onnx.checker.check_model(str(path), full_check=True)
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _columns(path: Path, names: list[str]) -> np.ndarray:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return np.array([[float(r[n]) for n in names] for r in rows])


@pytest.fixture
def blobs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """Three clusters with class names, the second feature 1000 times wider, and a
    model trained on them by ``ffnn train``."""
    rng = np.random.default_rng(0)
    labels = np.arange(90) % 3
    x = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])[labels] + 0.5 * rng.standard_normal((90, 2))
    x[:, 1] *= 1000.0
    names = np.array(["red", "green", "blue"])[labels]
    data = _write(tmp_path / "blobs.csv", ["width", "height", "colour"],
                  [[f"{a:.6f}", f"{b:.3f}", c] for (a, b), c in zip(x, names, strict=True)])
    model = tmp_path / "blobs.safetensors"
    code, _, err = _run(capsys, "train", "-q", str(data), "--target", "colour", "--hidden",
                        "8", "--epochs", "30", "--learning-rate", "0.01", "--out", str(model))
    assert code == 0, err
    return data, model


def test_classifier_export_matches_predict(blobs: tuple[Path, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The ONNX model takes the raw CSV columns and returns ffnn predict's class names."""
    data, model = blobs
    onnx_path = tmp_path / "blobs.onnx"
    code, out, err = _run(capsys, "export", str(model), str(onnx_path))
    assert code == 0, err
    assert out.strip() == (f"wrote {onnx_path} (ONNX opset 21): input X (float64, batch × 2); "
                           "output(s) label (string, batch), probabilities (float32, batch × 3)")
    code, predicted, err = _run(capsys, "predict", str(model), str(data))
    assert code == 0, err
    expected = [row[-1] for row in csv.reader(io.StringIO(predicted))][1:]
    label, probabilities = _session(onnx_path).run(
        None, {"X": _columns(data, ["width", "height"])})
    assert label.tolist() == expected
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    assert np.mean(label == np.array(["red", "green", "blue"])[np.arange(90) % 3]) > 0.9


def test_regressor_export_returns_the_targets_units(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A regression model's ONNX output is in the target's units, as ffnn predict's."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (100, 2))
    y = 300.0 * x[:, 0] - 20.0 * x[:, 1] + 5000.0
    data = _write(tmp_path / "lin.csv", ["x1", "x2", "y"],
                  [[*r, t] for r, t in zip(x, y, strict=True)])
    model, onnx_path = tmp_path / "lin.safetensors", tmp_path / "lin.onnx"
    code, _, err = _run(capsys, "train", "-q", str(data), "--target", "y", "--task", "regress",
                        "--hidden", "8", "--epochs", "30", "--out", str(model))
    assert code == 0, err
    code, out, err = _run(capsys, "export", str(model), str(onnx_path))
    assert code == 0 and "output(s) variable (float64, batch × 1)" in out, err
    code, predicted, err = _run(capsys, "predict", str(model), str(data))
    assert code == 0, err
    expected = np.array([float(r[-1]) for r in list(csv.reader(io.StringIO(predicted)))[1:]])
    (values,) = _session(onnx_path).run(None, {"X": _columns(data, ["x1", "x2"])})
    np.testing.assert_allclose(values[:, 0], expected, rtol=1e-6)  # predict prints 7 digits
    assert abs(values.mean() - 5000.0) < 100.0


def test_plain_model_file_exports_the_network(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A file saved by ffnn.save (no 'ffnn train' metadata) exports the bare network."""
    model = ffnn.Sequential([ffnn.Dense(3, "relu", input_dim=2), ffnn.Dense(1)], seed=0)
    model.build()
    ffnn.save(model, tmp_path / "net.safetensors")
    code, out, err = _run(capsys, "export", str(tmp_path / "net.safetensors"),
                          str(tmp_path / "net.onnx"))
    assert code == 0 and "input X (float32, batch × 2); output(s) output (float32," in out, err
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    (y,) = _session(tmp_path / "net.onnx").run(None, {"X": x})
    np.testing.assert_allclose(y, model.predict(x), rtol=1e-5, atol=1e-6)


def test_refuses_to_overwrite_the_model(blobs: tuple[Path, Path],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Guards against destroying the model file, however its path is spelled."""
    _, model = blobs
    before = model.read_bytes()
    same = model.parent / "." / model.name
    code, _, err = _run(capsys, "export", str(model), str(same))
    _assert_user_error(code, err, "refusing to overwrite the model file")
    assert model.read_bytes() == before


def test_bad_input_is_one_line(blobs: tuple[Path, Path], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """A missing model, a non-model file and a directory as output: status 2, one line."""
    data, model = blobs
    code, _, err = _run(capsys, "export", str(tmp_path / "none.safetensors"), "x.onnx")
    _assert_user_error(code, err, "no such file")
    code, _, err = _run(capsys, "export", str(data), str(tmp_path / "x.onnx"))
    _assert_user_error(code, err, "cannot load model file")
    code, _, err = _run(capsys, "export", str(model), str(tmp_path))
    _assert_user_error(code, err, "is a directory")
    assert not (tmp_path / "x.onnx").exists()


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    """``ffnn export --help`` and the main help show the command."""
    code, out, _ = _run(capsys, "export", "--help")
    assert code == 0 and "ffnn export iris.safetensors iris.onnx" in out
    code, out, _ = _run(capsys, "--help")
    assert code == 0 and "ffnn export" in out


def test_missing_onnx_is_a_user_error(blobs: tuple[Path, Path], tmp_path: Path) -> None:
    """Without the onnx package: one line naming the extra, status 2, no traceback."""
    _, model = blobs
    code = ("import sys\n"
            "sys.modules['onnx'] = None\n"
            "from ffnn.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    result = subprocess.run([sys.executable, "-c", code, "export", str(model),
                             str(tmp_path / "m.onnx")], capture_output=True, text=True,
                            timeout=120, check=False)
    _assert_user_error(result.returncode, result.stderr, "pip install ffnn[onnx]")
