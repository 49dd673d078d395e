"""docs/matlab.md: its two worked translations run as written, and its name table names
only things that exist."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import ffnn
from ffnn.nn.activations import ACTIVATIONS
from ffnn.optim import OPTIMIZERS

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "matlab.md"
TEXT = GUIDE.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, re.S)


def test_the_guide_has_two_translations_each_beside_its_matlab() -> None:
    assert len(BLOCKS) == 2
    assert len(re.findall(r"```matlab\n", TEXT)) == 2


@pytest.mark.parametrize("index", [0, 1], ids=["fitnet", "patternnet"])
def test_translation_runs(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards against a guide that no longer matches the API: each block runs and its
    own assertions (test error, accuracy) hold."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(BLOCKS[index], f"{GUIDE}:block{index}", "exec"), namespace)
    net = namespace["net"]
    assert isinstance(net, ffnn.Sequential) and net.division is not None
    if index == 0:
        assert (tmp_path / "bodyfat_net.safetensors").exists()
        loaded = ffnn.load(tmp_path / "bodyfat_net.safetensors")
        x = namespace["x"]
        np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


def test_every_transfer_and_training_function_in_the_table_is_registered() -> None:
    table = TEXT.split("## Names")[1].split("\n## ")[0]
    for name in ("tansig", "logsig", "purelin", "poslin", "softmax", "hardlim", "radbas"):
        assert name in table and name in ACTIVATIONS
    for name in ("trainlm", "trainbr", "trainscg", "trainrp", "lm", "br", "scg", "rprop", "sgd"):
        assert f'"{name}"' in table and name in OPTIMIZERS
    for name in ("history", "train_state", "regression", "confusion"):
        assert f"ffnn.plot.{name}(" in table
