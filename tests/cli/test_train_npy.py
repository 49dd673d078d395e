"""``ffnn train big.npy``: a table streamed in chunks, statistics in one pass.

The column statistics merged chunk by chunk must equal NumPy's on the whole table; the
chunked scores must equal the scores computed at once; bad files get errors naming
the problem (and the row).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ffnn
from ffnn.cli import main
from ffnn.cli import streaming as cli_data
from ffnn.cli.streaming import ColumnStats, Scaler


@given(st.integers(1, 60), st.integers(1, 25), st.integers(0, 2**16))
def test_streamed_statistics_equal_numpy(n: int, chunk: int, seed: int) -> None:
    x = np.random.default_rng(seed).normal(3.0, 2.0, size=(n, 3))
    stats = ColumnStats.of(x[:chunk])
    for start in range(chunk, n, chunk):
        stats = stats.merge(ColumnStats.of(x[start : start + chunk]))
    scaler = stats.scaler(["a", "b", "c"])
    ref = Scaler.fit(x)
    np.testing.assert_allclose(scaler.mean, ref.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scaler.scale, ref.scale, rtol=1e-10, atol=1e-12)


def _table(tmp_path: Path, classify: bool) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(900, 3))
    t = (x[:, 0] + x[:, 1] > 0).astype(float) if classify else np.sin(x[:, 0]) + x[:, 2]
    path = tmp_path / ("c.npy" if classify else "r.npy")
    np.save(path, np.column_stack([t, x]))  # the target first: --target 0
    return path


@pytest.mark.parametrize("classify", [False, True])
def test_train_npy_streams_and_scores_in_chunks(tmp_path: Path, classify: bool,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Chunks of 200 rows: the model file records the streamed scaler, and the scores
    of the 720 training rows, combined from 4 chunks, equal those computed at once."""
    from ffnn.cli.model import Spec, scores

    monkeypatch.setattr(cli_data, "CHUNK_ROWS", 200)
    monkeypatch.setattr("ffnn.cli.train.CHUNK_ROWS", 200)
    path = _table(tmp_path, classify)
    out = tmp_path / "m.safetensors"
    assert main(["train", str(path), "--target", "0", "--epochs", "3", "-q",
                 "--out", str(out)]) == 0
    assert ("classify" in capsys.readouterr().out) == classify
    model = ffnn.load(str(out))
    spec = Spec.from_metadata(model.metadata, model, str(out))
    table = np.load(path)
    np.testing.assert_allclose(spec.scaler.mean, table[:, 1:].mean(0), rtol=1e-12)
    np.testing.assert_allclose(spec.scaler.scale, table[:, 1:].std(0), rtol=1e-10)
    rows = table[:720]
    y = rows[:, 0].astype(np.int64) if classify else rows[:, 0]
    whole = scores(model, spec, spec.scaler.transform(rows[:, 1:]).astype(np.float32), y)
    recorded = spec.training["metrics"]["train"]
    for key, value in whole.items():
        assert recorded[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key


def test_bad_npy_tables_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = np.ones((10, 3))
    x[7, 1] = np.nan
    np.save(tmp_path / "nan.npy", x)
    np.save(tmp_path / "flat.npy", np.ones(5))
    out = str(tmp_path / "m.safetensors")
    assert main(["train", str(tmp_path / "nan.npy"), "--out", out]) == 2
    assert "row 7: NaN or infinite value" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "flat.npy"), "--out", out]) == 2
    assert "2-D array of rows" in capsys.readouterr().err
    np.save(tmp_path / "ok.npy", np.ones((10, 3)))
    assert main(["train", str(tmp_path / "ok.npy"), "--target", "5", "--out", out]) == 2
    assert "outside the file's 3 columns" in capsys.readouterr().err


def test_train_csv_stream_reads_chunks_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """``--stream``: the CSV is read in chunks of 200 rows; the scaler is the statistics
    of all rows and the target keeps its name; a text cell is named by line and column."""
    from ffnn.cli.model import Spec

    monkeypatch.setattr(cli_data, "CHUNK_ROWS", 200)
    table = np.load(_table(tmp_path, classify=False))
    lines = ["t,a,b,c"] + [",".join(f"{v!r}" for v in row) for row in table.tolist()]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "m.safetensors"
    assert main(["train", str(tmp_path / "d.csv"), "--target", "t", "--stream", "--epochs",
                 "2", "-q", "--out", str(out)]) == 0
    model = ffnn.load(str(out))
    spec = Spec.from_metadata(model.metadata, model, str(out))
    assert spec.target == "t" and spec.features == ["a", "b", "c"]
    np.testing.assert_allclose(spec.scaler.mean, table[:, 1:].mean(0), rtol=1e-12)
    np.testing.assert_allclose(spec.scaler.scale, table[:, 1:].std(0), rtol=1e-10)
    lines[450] = "1.0,oops,2.0,3.0"
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["train", str(tmp_path / "bad.csv"), "--target", "t", "--stream",
                 "--out", str(out)]) == 2
    assert "line 451, column 'a': 'oops' is not a number" in capsys.readouterr().err
