"""issue 11 #15: what the ``ffnn`` command prints from a file never reaches the terminal
as control characters; the data it writes keep them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ffnn
from ffnn.cli import main
from ffnn.cli.text import printable

HOSTILE = ["\x1b]0;owned\x07", "\x1b[2J\x1b[H", "\u202eevil", "line\nbreak", "tab\there",
           "\x9b31m", "bell\x07"]
RAW = ("\x1b", "\x07", "\u202e", "\x9b")


def _hostile_model(path: Path) -> Path:
    """A model whose names, class names and metadata carry escape sequences."""
    model = ffnn.Sequential([ffnn.Dense(3, input_dim=2, activation="softmax",
                                        name="dense\x1b[1A\x1b[2K")], name="net\x1b]2;x\x07")
    model.build()
    meta = {
        "format": 1, "task": "classify", "target": "y\x1b[31m",
        "features": ["f\x1b[2J", "g\u202e"], "loss": "sparse_categorical_crossentropy",
        "classes": HOSTILE[:3], "scaler": {"mean": [0.0, 0.0], "scale": [1.0, 1.0]},
        "target_scaler": None,
        "training": {"data": "d.csv\x1b]0;t\x07", "solver": "adam\u202e", "stop_reason": "\x07"},
    }
    ffnn.save(model, path, metadata={"ffnn_cli": meta, "extra\x1b": "\x1b[5m"})
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("text", HOSTILE)
def test_printable_escapes_every_control_character(text: str) -> None:
    shown = printable(text)
    assert shown.isprintable() and "\n" not in shown
    assert shown.encode().decode("unicode_escape") == text or "\u202e" in text


def test_printable_keeps_ordinary_text_and_chosen_newlines() -> None:
    assert printable("naïve café, 中文, emoji 🙂") == "naïve café, 中文, emoji 🙂"
    assert printable("a\nb", keep_newlines=True) == "a\nb"
    assert printable("a\nb") == "a\\nb"


def test_defect_15_info_escapes_everything_it_prints_from_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """issue 11 #15: `ffnn info` printed raw escape sequences from class names or
    metadata of an untrusted file (retitle the window, clear the screen, overwrite
    lines). Model and layer names, class, feature and target names and the training
    summary all come out escaped, and visible."""
    path = _hostile_model(tmp_path / "m.safetensors")
    code, out, err = _run(capsys, "info", str(path))
    assert code == 0, err
    for raw in RAW:
        assert raw not in out + err
    for shown in ("\\x1b]0;owned\\x07", "\\u202eevil", "net\\x1b]2;x\\x07", "f\\x1b[2J",
                  "y\\x1b[31m", "dense\\x1b[1A", "adam\\u202e"):
        assert shown in out, shown


def test_defect_15_info_escapes_raw_metadata_it_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = ffnn.Sequential([ffnn.Dense(1, input_dim=2)])
    model.build()
    ffnn.save(model, tmp_path / "m.safetensors",
              metadata={"ffnn_cli": {"format": "\x1b[2J"}, "k\x1b": "\u202e"})
    code, out, err = _run(capsys, "info", str(tmp_path / "m.safetensors"))
    assert code == 0, err
    assert not any(raw in out for raw in RAW)
    assert "\\x1b[2J" in out or "\\u001b[2J" in out


def test_defect_15_errors_quoting_file_content_are_one_escaped_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Error messages quote column names, cells and class names from files: they are
    escaped, and a newline in a quoted header cannot split the error over two lines."""
    model = _hostile_model(tmp_path / "m.safetensors")
    data = tmp_path / "d.csv"
    with open(data, "w", newline="") as fh:
        csv.writer(fh).writerows([["f\x1b[2J", "g\u202e", "bad\nname\x1b[1A"], [1, 2, 3]])
    code, _, err = _run(capsys, "predict", str(model), str(data))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert not any(raw in err for raw in RAW) and "bad\\nname\\x1b[1A" in err
    with open(data, "w", newline="") as fh:
        csv.writer(fh).writerows([["f\x1b[2J", "g\u202e", "y\x1b[31m"], [1, 2, "\x1b]0;x\x07"]])
    code, _, err = _run(capsys, "evaluate", str(model), str(data))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert not any(raw in err for raw in RAW) and "is not one the model knows" in err


def test_defect_15_predictions_keep_their_data_but_a_terminal_sees_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prediction CSV is data: written to a file or a pipe, class names are kept
    byte for byte; printed on a terminal, they are escaped like everything else."""
    model = _hostile_model(tmp_path / "m.safetensors")
    data = tmp_path / "d.csv"
    data.write_text("f\x1b[2J,g\u202e\n" + "\n".join(
        f"{a:.3f},{b:.3f}" for a, b in np.random.default_rng(0).normal(size=(5, 2))) + "\n")
    out_file = tmp_path / "p.csv"
    code, _, err = _run(capsys, "predict", str(model), str(data), "--out", str(out_file))
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out_file.read_text())))
    assert rows[0] == ["f\x1b[2J", "g\u202e", "y\x1b[31m"]
    assert {r[2] for r in rows[1:]} <= set(HOSTILE[:3])
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    code, out, err = _run(capsys, "predict", str(model), str(data))
    assert code == 0, err
    assert not any(raw in out for raw in RAW) and "y\\x1b[31m" in out


_TRAINED: list[bytes] = []


def _trained_file() -> bytes:
    """A model file written by ffnn train (a classifier with its CLI record), once."""
    if not _TRAINED:
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            data = Path(d) / "d.csv"
            rng = np.random.default_rng(0)
            data.write_text("a,b,y\n" + "\n".join(
                f"{x:.3f},{z:.3f},{'cat' if x > 0 else 'dog'}"
                for x, z in rng.normal(size=(20, 2))) + "\n")
            assert main(["train", "-q", str(data), "--target", "y", "--hidden", "2",
                         "--epochs", "1", "--out", str(Path(d) / "m.safetensors")]) == 0
            _TRAINED.append((Path(d) / "m.safetensors").read_bytes())
    return _TRAINED[0]


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                          st.sampled_from(b'\x1b\x07\n\x9b"\\{}[],:0123456789abcdefnu')),
                min_size=1, max_size=6),
       st.sampled_from(["info", "predict"]))
def test_mutated_model_files_through_the_cli_give_escaped_output_or_one_error_line(
    edits: list[tuple[float, int]], command: str
) -> None:
    """issue 11 #15 and done-when, on the command line: a model file with random byte
    edits (escape and JSON characters among them) makes `info` and `predict` print
    only escaped text, or fail with one printable error line and exit 2."""
    import contextlib
    import tempfile
    import warnings

    raw = bytearray(_trained_file())
    for where, value in edits:
        raw[int(where * len(raw))] = value
    with tempfile.TemporaryDirectory() as d:
        model, data = Path(d) / "m.safetensors", Path(d) / "x.csv"
        model.write_bytes(bytes(raw))
        data.write_text("a,b\n0.5,-0.5\n")
        out, err = io.StringIO(), io.StringIO()
        argv = ["info", str(model)] if command == "info" else ["predict", str(model),
                                                               str(data)]
        with warnings.catch_warnings(), contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            warnings.simplefilter("error")
            code = main(argv)
    if code == 2:
        lines = err.getvalue().splitlines()
        assert len(lines) == 1 and lines[0].isprintable(), err.getvalue()
    else:
        assert code == 0 and err.getvalue() == ""
        if command == "info":
            assert all(line.isprintable() for line in out.getvalue().splitlines())
