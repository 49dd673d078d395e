"""What the ``ffnn`` command writes (issue 11 #1-#4): outputs are checked before any
work, never one of the inputs, never a device, and written atomically."""

from __future__ import annotations

import csv
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ffnn
from ffnn.cli import main


def _write(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _blobs(path: Path, n: int = 60) -> Path:
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 2
    x = labels[:, None] * 3.0 + 0.3 * rng.standard_normal((n, 2))
    rows = [[f"{a:.5f}", f"{b:.5f}", "ab"[k]] for (a, b), k in zip(x, labels, strict=True)]
    return _write(path, ["x1", "x2", "y"], rows)


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


def _train_args(data: Path, out: str) -> list[str]:
    return ["train", "-q", str(data), "--target", "y", "--hidden", "4", "--epochs", "2",
            "--out", out]


@pytest.fixture
def trained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    data = _blobs(tmp_path / "d.csv")
    model = tmp_path / "m.safetensors"
    code, _, err = _run(capsys, *_train_args(data, str(model)))
    assert code == 0, err
    return data, model


# ------------------------------------------------------------------ #1 targets
@pytest.mark.parametrize("command", ["train", "predict", "export"])
@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_defect_01_every_cli_output_refuses_non_regular_files(
    command: str, kind: str, trained: tuple[Path, Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """issue 11 #1: `--out /dev/null` replaced the device node; a FIFO or directory as
    output must be one error line, before training, and be left as it was."""
    data, model = trained
    target = tmp_path / "target"
    os.mkfifo(target) if kind == "fifo" else target.mkdir()
    argv = {"train": _train_args(data, str(target)),
            "predict": ["predict", str(model), str(data), "--out", str(target)],
            "export": ["export", str(model), str(target)]}[command]
    code, out, err = _run(capsys, *argv)
    _assert_user_error(code, err, "not a regular file" if kind == "fifo" else "directory")
    assert "Training" not in out
    assert stat.S_ISFIFO(os.lstat(target).st_mode) if kind == "fifo" else target.is_dir()


def test_defect_01_cli_writes_through_a_symbolic_link(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The documented symlink policy on the command line: the linked file is replaced."""
    data, _ = trained
    real = tmp_path / "real.safetensors"
    real.write_bytes(b"old")
    link = tmp_path / "link.safetensors"
    link.symlink_to(real)
    code, _, err = _run(capsys, *_train_args(data, str(link)))
    assert code == 0, err
    assert link.is_symlink() and isinstance(ffnn.load(real), ffnn.Sequential)


# ------------------------------------------------------------ #2 before training
@pytest.mark.parametrize(("out", "phrase"), [("", "empty"),
                                             ("missing/m.safetensors", "does not exist")])
def test_defect_02_out_is_checked_before_training(
    out: str, phrase: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """issue 11 #2: `--out ''` failed only after the whole run."""
    monkeypatch.chdir(tmp_path)
    data = _blobs(tmp_path / "d.csv")
    code, out_text, err = _run(capsys, *_train_args(data, out))
    _assert_user_error(code, err, "--out", phrase)
    assert "Training" not in out_text


def test_defect_02_an_unwritable_folder_is_found_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unwritable folder is found by trying to create a file there (the test runs as
    root, for whom permission bits do not apply, so the refusal is simulated)."""
    data = _blobs(tmp_path / "d.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    real_open = os.open

    def refuse(path: Any, flags: int, *args: Any) -> int:
        if flags & os.O_CREAT and os.path.dirname(os.fspath(path)) == str(locked):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refuse)
    for argv in (_train_args(data, str(locked / "m.safetensors")),
                 ["predict", "no-model.safetensors", str(data), "--out",
                  str(locked / "p.csv")]):
        code, out, err = _run(capsys, *argv)
        _assert_user_error(code, err, "cannot create a file in", "Permission denied")
        assert "Training" not in out
    assert os.listdir(locked) == []


# ------------------------------------------------------------ #3 input as output
def test_defect_03_train_refuses_to_overwrite_its_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue 11 #3: `ffnn train d.csv --out d.csv` replaced the data with model bytes;
    the same file through another spelling, a symbolic or a hard link is refused too."""
    monkeypatch.chdir(tmp_path)
    data = _blobs(tmp_path / "d.csv")
    before = data.read_bytes()
    os.link(data, tmp_path / "hard.csv")
    (tmp_path / "soft.csv").symlink_to(data)
    for out in ("d.csv", "./d.csv", str(data), "hard.csv", "soft.csv"):
        code, _, err = _run(capsys, *_train_args(Path("d.csv"), out))
        _assert_user_error(code, err, "refusing to overwrite the data file")
    assert data.read_bytes() == before


def test_defect_03_predict_refuses_to_overwrite_its_model_or_data(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, model = trained
    saved = model.read_bytes(), data.read_bytes()
    os.link(model, tmp_path / "hard.safetensors")
    for out, role in ((model, "model"), (tmp_path / "hard.safetensors", "model"),
                      (data, "data")):
        code, _, err = _run(capsys, "predict", str(model), str(data), "--out", str(out))
        _assert_user_error(code, err, f"refusing to overwrite the {role} file")
    assert (model.read_bytes(), data.read_bytes()) == saved


def test_defect_03_export_refuses_a_hard_link_to_its_model(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, model = trained
    os.link(model, tmp_path / "m.onnx")
    code, _, err = _run(capsys, "export", str(model), str(tmp_path / "m.onnx"))
    _assert_user_error(code, err, "refusing to overwrite the model file")
    assert isinstance(ffnn.load(model), ffnn.Sequential)


# ------------------------------------------------------------------ #4 atomic CSV
def test_defect_04_predictions_are_written_atomically(
    trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """issue 11 #4: two `predict --out same.csv` at once gave a corrupt file, written in
    place. Predictions now go to a temporary file renamed over the target: a failure
    at the last step leaves the previous file whole and no temporary file behind, and
    the file holds exactly what standard output would."""
    data, model = trained
    out = tmp_path / "p.csv"
    code, stdout, err = _run(capsys, "predict", str(model), str(data))
    assert code == 0, err
    out.write_text("previous predictions\n")
    real_replace = os.replace
    calls: list[tuple[str, str]] = []

    def fail(src: Any, dst: Any) -> None:
        calls.append((os.fspath(src), os.fspath(dst)))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    code, _, err = _run(capsys, "predict", str(model), str(data), "--out", str(out))
    _assert_user_error(code, err, "No space left on device")
    assert out.read_text() == "previous predictions\n"
    assert calls and calls[0][1] == str(out) and calls[0][0] != str(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["d.csv", "m.safetensors", "p.csv"])
    monkeypatch.setattr(os, "replace", real_replace)
    code, _, err = _run(capsys, "predict", str(model), str(data), "--out", str(out))
    assert code == 0, err
    assert out.read_text() == stdout


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_csv_input_that_is_a_device_is_refused(device: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The same kind of defect on the reading side: /dev/zero as DATA.csv was read
    forever (the model reader already refused non-regular files)."""
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    code, _, err = _run(capsys, "train", device, "--target", "y",
                          "--out", str(tmp_path / "m.safetensors"))
    _assert_user_error(code, err, f"{device} is a device or socket, not a CSV file")

