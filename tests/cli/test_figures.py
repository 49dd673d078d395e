"""``ffnn train --plots DIR`` and ``ffnn report``: the figures hold the run's data, the
HTML page is self-contained and escapes what it takes from files."""

from __future__ import annotations

import base64
import csv
import re
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from ffnn.cli import main
from ffnn.cli.data import encode_labels, read_csv, regression_targets
from ffnn.cli.figures import run_figures
from ffnn.cli.use import _load, feature_matrix

matplotlib.use("Agg")

PNG = b"\x89PNG\r\n\x1a\n"


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _classes(path: Path, names: tuple[str, str] = ("cat", "dog")) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2))
    labels = [names[int(a > 0)] for a in x[:, 0]]
    return _write(path, ["a", "b", "kind"], [[*r, k] for r, k in zip(x, labels, strict=True)])


def _line(path: Path) -> Path:
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(80, 2))
    y = 300.0 * x[:, 0] - 20.0 * x[:, 1] + 1000.0
    return _write(path, ["x1", "x2", "y"], [[*r, t] for r, t in zip(x, y, strict=True)])


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_plots_writes_the_figures_of_the_run_and_lists_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _classes(tmp_path / "d.csv")
    folder = tmp_path / "figs"
    code, out, err = _run(capsys, "train", str(data), "--target", "kind", "--epochs", "4",
                          "-q", "--out", str(tmp_path / "m.safetensors"),
                          "--plots", str(folder))
    assert code == 0, err
    names = {"history.png", "confusion_train.png", "confusion_validation.png"}
    assert {p.name for p in folder.iterdir()} == names
    for name in names:
        assert (folder / name).read_bytes().startswith(PNG)
        assert name in out


def test_lm_runs_also_get_the_train_state(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = _line(tmp_path / "d.csv")
    folder = tmp_path / "figs"
    code, _, err = _run(capsys, "train", str(data), "--target", "y", "--solver", "lm",
                        "--hidden", "4", "--epochs", "5", "-q",
                        "--out", str(tmp_path / "m.safetensors"), "--plots", str(folder))
    assert code == 0, err
    assert {p.name for p in folder.iterdir()} == {"history.png", "train_state.png",
                                                  "regression.png"}


def test_figures_draw_the_history_and_the_predictions_in_the_targets_units(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _line(tmp_path / "d.csv")
    model_path = tmp_path / "m.safetensors"
    code, _, err = _run(capsys, "train", str(data), "--target", "y", "--hidden", "4",
                        "--epochs", "3", "-q", "--out", str(model_path))
    assert code == 0, err
    model, spec = _load(str(model_path))
    table = read_csv(str(data))
    x = feature_matrix(table, spec, {"y"}, model.dtype)
    y = regression_targets(table, "y")
    figures = run_figures(model, spec, {"all": (x, y)})
    try:
        history_ax = figures.items["history"].axes[0]
        train_line = history_ax.get_lines()[0]
        np.testing.assert_allclose(train_line.get_ydata(), model.history.history["loss"])
        (panel,) = figures.items["regression"].axes
        targets, outputs = panel.collections[0].get_offsets().T
        np.testing.assert_allclose(targets, y)  # raw units, not standardised
        expected = spec.target_scaler.inverse(model.predict(x).astype(np.float64))[:, 0]
        np.testing.assert_allclose(outputs, expected)
    finally:
        figures.close()


def test_confusion_counts_are_the_models_predictions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _classes(tmp_path / "d.csv")
    model_path = tmp_path / "m.safetensors"
    assert _run(capsys, "train", str(data), "--target", "kind", "--epochs", "3", "-q",
                "--out", str(model_path))[0] == 0
    model, spec = _load(str(model_path))
    table = read_csv(str(data))
    x = feature_matrix(table, spec, {"kind"}, model.dtype)
    y = encode_labels(table, "kind", spec.classes)
    figures = run_figures(model, spec, {"all": (x, y)})
    try:
        axis = figures.items["confusion_all"].axes[0]
        counts = np.array([[int(t.get_text()) for t in axis.texts[i * 2:i * 2 + 2]]
                           for i in range(2)])
        pred = model.predict(x).argmax(axis=1)
        expected = np.array([[np.sum((y == i) & (pred == j)) for j in range(2)]
                             for i in range(2)])
        np.testing.assert_array_equal(counts, expected)
        assert [t.get_text() for t in axis.get_xticklabels()] == spec.classes
    finally:
        figures.close()


def test_plots_folder_is_checked_before_training(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    data = _classes(tmp_path / "d.csv")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = tmp_path / "m.safetensors"
    code, stdout, err = _run(capsys, "train", str(data), "--target", "kind", "-q",
                             "--out", str(out), "--plots", str(blocker))
    assert code == 2
    assert "not a folder" in err and err.count("\n") == 1
    assert "Training" not in stdout and not out.exists()
    assert blocker.read_text() == "not a folder"


def test_missing_matplotlib_names_the_extra(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    data = _classes(tmp_path / "d.csv")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = _run(capsys, "train", str(data), "--target", "kind", "-q",
                        "--out", str(tmp_path / "m.safetensors"), "--plots", str(tmp_path))
    assert code == 2 and "pip install ffnn[plot]" in err
    code, _, err = _run(capsys, "report", str(tmp_path / "m.safetensors"), str(data))
    assert code == 2 and "pip install ffnn[plot]" in err


def test_report_is_one_self_contained_escaped_page(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    hostile = ("<script>alert(1)</script>", 'dog"><img src=x onerror=alert(2)>')
    data = _classes(tmp_path / "d.csv", names=hostile)
    model_path = tmp_path / "m.safetensors"
    assert _run(capsys, "train", str(data), "--target", "kind", "--epochs", "3", "-q",
                "--out", str(model_path))[0] == 0
    page_path = tmp_path / "report.html"
    code, out, err = _run(capsys, "report", str(model_path), str(data), "--out", str(page_path))
    assert code == 0, err
    assert str(page_path) in out
    page = page_path.read_text(encoding="utf-8")
    # nothing is fetched: no scripts, style sheets, frames or remote addresses
    for tag in ("<script", "<link", "<iframe", "<object", "<embed", "http://", "https://"):
        assert tag not in page.lower()
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 2  # the loss per epoch and the confusion matrix
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    # the metrics are evaluate's
    code, evaluated, _ = _run(capsys, "evaluate", str(model_path), str(data))
    accuracy = float(re.search(r"accuracy: ([0-9.]+)", evaluated).group(1))
    assert f"<td>accuracy</td><td>{accuracy:.4g}</td>" in page


def test_report_refuses_to_overwrite_its_inputs(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = _classes(tmp_path / "d.csv")
    model_path = tmp_path / "m.safetensors"
    assert _run(capsys, "train", str(data), "--target", "kind", "--epochs", "2", "-q",
                "--out", str(model_path))[0] == 0
    before = model_path.read_bytes(), data.read_bytes()
    for target in (model_path, data):
        code, _, err = _run(capsys, "report", str(model_path), str(data), "--out", str(target))
        assert code == 2 and "refusing to overwrite" in err
    assert (model_path.read_bytes(), data.read_bytes()) == before
