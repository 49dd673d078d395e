"""``ffnn train --class-weight balanced`` (issue 15 §1)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import ffnn
from ffnn.cli import main


def _imbalanced(path: Path) -> Path:
    """80 rows of class "common" and 10 of "rare", overlapping."""
    rng = np.random.default_rng(0)
    labels = np.array(["common"] * 80 + ["rare"] * 10)
    x = rng.standard_normal((90, 2)) + (labels == "rare")[:, None] * 1.0
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["a", "b", "kind"])
        writer.writerows([[f"{u:.6f}", f"{v:.6f}", k] for (u, v), k in zip(x, labels,
                                                                            strict=True)])
    return path


def _recall_of_rare(model: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> float:
    assert main(["predict", str(model), str(data)]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))[1:]
    rare = [r for r in rows if r[2] == "rare"]
    return float(np.mean([r[3] == "rare" for r in rare]))


def test_balanced_class_weight_raises_the_rare_class_recall(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _imbalanced(tmp_path / "imbalanced.csv")
    recalls = {}
    for flag in ([], ["--class-weight", "balanced"]):
        out = tmp_path / f"m{len(flag)}.safetensors"
        code = main(["train", "-q", str(data), "--target", "kind", "--epochs", "60",
                     "--validation", "0", "--learning-rate", "0.01", "--out", str(out),
                     *flag])
        assert code == 0, capsys.readouterr().err
        capsys.readouterr()
        recalls[bool(flag)] = _recall_of_rare(out, data, capsys)
        assert ffnn.load(out).built
    assert recalls[True] > recalls[False] + 0.2


def test_class_weight_on_a_regression_target_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "numbers.csv"
    data.write_text("a,b\n" + "".join(f"{i},{0.5 * i}\n" for i in range(20)))
    code = main(["train", "-q", str(data), "--target", "b", "--epochs", "1",
                 "--class-weight", "balanced", "--out", str(tmp_path / "m.safetensors")])
    err = capsys.readouterr().err
    assert code == 2 and "--class-weight needs a classification target" in err
