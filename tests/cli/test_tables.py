"""Real tables on the command line: text feature columns one-hot encoded, missing cells
filled by scikit-learn's rules, the rules stored as JSON and checked on load."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder

import ffnn
from ffnn.cli import main
from ffnn.cli.data import MISSING_MARKERS, is_missing, read_csv
from ffnn.cli.tables import Columns


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _houses(path: Path, n: int = 120, seed: int = 0) -> Path:
    """price = 100·rooms + a town premium + noise; some cells missing or marked NA."""
    rng = np.random.default_rng(seed)
    towns = np.array(["Ayr", "Bath", "Cork"])
    premium = {"Ayr": 0.0, "Bath": 300.0, "Cork": -200.0}
    rows = []
    for i in range(n):
        rooms = int(rng.integers(1, 7))
        town = str(towns[i % 3])
        area = float(rng.uniform(40, 200))
        price = 100.0 * rooms + premium[town] + 0.5 * area + rng.normal(0, 5)
        cells: list[object] = [rooms, town, f"{area:.1f}", f"{price:.2f}"]
        if i % 17 == 3:
            cells[0] = ["", "NA", "nan", "None", "null", "N/A"][i % 6]
        if i % 19 == 5:
            cells[1] = ["", "NaN", "NULL"][i % 3]
        rows.append(cells)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["rooms", "town", "area", "price"])
        writer.writerows(rows)
    return path


def test_missing_markers_are_one_set_in_any_case() -> None:
    for marker in ["", " ", "NaN", "nan", "NAN", "NA", "na", "N/A", "null", "NULL", "None",
                   "none"]:
        assert is_missing(marker), marker
    for value in ["0", "nano", "Nancy", "-", "n", "nul"]:
        assert not is_missing(value), value
    assert {"", "nan", "na", "n/a", "null", "none"} <= MISSING_MARKERS


def test_rules_match_scikit_learns_imputer_and_encoder(tmp_path: Path) -> None:
    table = read_csv(str(_houses(tmp_path / "h.csv")))
    rows = np.arange(0, 120, 2)  # the rules are learned on these rows only
    columns = Columns.fit(table, ["rooms", "town", "area"], rows)
    assert [c.kind for c in columns.columns] == ["number", "category", "number"]

    def raw(name: str) -> np.ndarray:
        cells = np.array(table.column(name), dtype=object)
        return np.array([np.nan if is_missing(c) else c for c in cells], dtype=object)

    for name in ("rooms", "area"):
        imputer = SimpleImputer(strategy="median").fit(
            raw(name)[rows].astype(float).reshape(-1, 1))
        column = next(c for c in columns.columns if c.name == name)
        assert column.fill == pytest.approx(imputer.statistics_[0], rel=0, abs=0)
    town = raw("town")
    known = town[rows][[isinstance(t, str) for t in town[rows]]].reshape(-1, 1)
    mode = SimpleImputer(strategy="most_frequent").fit(known).statistics_[0]
    filled = np.array([mode if not isinstance(t, str) else t for t in town]).reshape(-1, 1)
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(known)
    done = columns.transform(table)
    np.testing.assert_array_equal(done.x[:, 1:4], encoder.transform(filled))
    assert columns.input_names == ["rooms", "town=Ayr", "town=Bath", "town=Cork", "area"]
    assert set(done.imputed) == {"rooms", "town"} and not done.unknown


def test_most_frequent_ties_go_to_the_first_sorted_category(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("c,y\nzeta,1\nalpha,2\nzeta,3\nalpha,4\n,5\n")
    columns = Columns.fit(read_csv(str(path)), ["c"])
    assert columns.columns[0].fill == "alpha"


def test_mixed_table_trains_predicts_evaluates_and_counts_unknown_categories(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _houses(tmp_path / "houses.csv")
    model = tmp_path / "houses.safetensors"
    code, out, err = _run(capsys, "train", "-q", str(data), "--target", "price", "--hidden",
                          "8", "--solver", "lm", "--epochs", "40", "--out", str(model))
    assert code == 0, err
    assert "Training a 5-8-1 network" in out
    assert "filled missing cells: rooms" in out
    assert float(out.split(" r2 ")[1].split()[0]) > 0.95  # the train r2
    new = tmp_path / "new.csv"
    new.write_text("rooms,town,area\n3,Ayr,100\n3,Dundee,100\nNA,Bath,100\n3,,100\n")
    code, out, err = _run(capsys, "predict", str(model), str(new))
    assert code == 0
    assert "ignored unknown categories (their inputs are all 0): town 1" in err
    assert "filled missing cells: rooms 1, town 1" in err
    predictions = [float(r[-1]) for r in list(csv.reader(io.StringIO(out)))[1:]]
    assert len(predictions) == 4
    assert predictions[0] == pytest.approx(100 * 3 + 50, abs=40)
    code, out, _ = _run(capsys, "predict", str(model), str(new), "--out",
                        str(tmp_path / "p.csv"))
    assert code == 0 and "town 1" in out
    code, out, err = _run(capsys, "evaluate", str(model), str(data))
    assert code == 0, err
    assert "filled missing cells" in out


def test_no_impute_refuses_missing_cells_with_their_place(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _houses(tmp_path / "houses.csv")
    model = tmp_path / "m.safetensors"
    code, _, err = _run(capsys, "train", "-q", str(data), "--target", "price", "--no-impute",
                        "--out", str(model))
    assert code == 2 and "missing value" in err and "line 5" in err and "'rooms'" in err
    assert not model.exists()
    clean = tmp_path / "clean.csv"
    clean.write_text("a,town,y\n" + "".join(f"{i},{'xy'[i % 2]},{i * 2}\n" for i in range(30)))
    assert _run(capsys, "train", "-q", str(clean), "--target", "y", "--no-impute",
                "--epochs", "2", "--out", str(model))[0] == 0
    new = tmp_path / "new.csv"
    new.write_text("a,town\n1,x\nNA,y\n")
    code, _, err = _run(capsys, "predict", str(model), str(new))
    assert code == 2 and "line 3" in err and "missing value 'NA'" in err


def test_info_shows_the_preprocessing(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    data = _houses(tmp_path / "houses.csv")
    model = tmp_path / "m.safetensors"
    assert _run(capsys, "train", "-q", str(data), "--target", "price", "--epochs", "2",
                "--out", str(model))[0] == 0
    code, out, _ = _run(capsys, "info", str(model))
    assert code == 0
    assert "3 (rooms, town, area) → 5 inputs" in out
    assert "town: category, one-hot over 3 (Ayr, Bath, Cork)" in out
    assert "rooms: number, standardised; missing → median" in out


def _tamper(model: Path, change: object) -> Path:
    loaded = ffnn.load(str(model))
    meta = json.loads(json.dumps(loaded.metadata))
    change(meta["ffnn_cli"]["columns"])  # type: ignore[operator]
    out = model.with_name("tampered.safetensors")
    ffnn.save(loaded, str(out), metadata=meta)
    return out


@pytest.mark.parametrize("change", [
    lambda c: c["columns"][1].update(categories=["Ayr", "Ayr", "Cork"]),
    lambda c: c["columns"][1].update(categories=["Ayr", "Bath"]),
    lambda c: c["columns"][1].update(fill="Paris"),
    lambda c: c["columns"][0].update(fill=float("nan")),
    lambda c: c["columns"][0].update(fill="3"),
    lambda c: c["columns"][0].update(kind="date"),
    lambda c: c["columns"].reverse(),
    lambda c: c.update(impute="yes"),
    lambda c: c["columns"][0].update(extra=1),
])
def test_tampered_column_rules_are_refused_on_load(
        change: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _houses(tmp_path / "houses.csv")
    model = tmp_path / "m.safetensors"
    assert _run(capsys, "train", "-q", str(data), "--target", "price", "--epochs", "1",
                "--out", str(model))[0] == 0
    bad = _tamper(model, change)
    code, _, err = _run(capsys, "predict", str(bad), str(data))
    assert code == 2 and "invalid 'ffnn train' metadata" in err and err.count("\n") == 1


def test_onnx_export_imputes_numbers_and_refuses_text_columns(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    numbers = tmp_path / "n.csv"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    lines = ["a,b,y"] + [f"{p:.4f},{q:.4f},{2 * p - q:.4f}" for p, q in x]
    lines[4] = "NA," + lines[4].split(",", 1)[1]
    numbers.write_text("\n".join(lines) + "\n")
    model, onnx_path = tmp_path / "n.safetensors", tmp_path / "n.onnx"
    assert _run(capsys, "train", "-q", str(numbers), "--target", "y", "--epochs", "3",
                "--out", str(model))[0] == 0
    assert _run(capsys, "export", str(model), str(onnx_path))[0] == 0
    new = tmp_path / "new.csv"
    new.write_text("a,b\nNA,0.5\n0.25,-1\n")
    code, predicted, _ = _run(capsys, "predict", str(model), str(new))
    expected = [float(r[-1]) for r in list(csv.reader(io.StringIO(predicted)))[1:]]
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (values,) = session.run(None, {"X": np.array([[np.nan, 0.5], [0.25, -1.0]])})
    np.testing.assert_allclose(values[:, 0], expected, rtol=1e-6)

    data = _houses(tmp_path / "houses.csv")
    assert _run(capsys, "train", "-q", str(data), "--target", "price", "--epochs", "1",
                "--out", str(model))[0] == 0
    code, _, err = _run(capsys, "export", str(model), str(onnx_path))
    assert code == 2 and "text column(s) town" in err
