"""The README's Python examples run as written (in order, in one namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path: Path, monkeypatch) -> None:
    """Guards against documentation that no longer matches the API."""
    monkeypatch.chdir(tmp_path)  # the examples write model files
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    rng = np.random.default_rng(0)
    namespace: dict[str, object] = {
        # the notes' snippet uses data it does not define
        "X_train": rng.standard_normal((64, 100)),
        "Y_train": np.eye(10)[rng.integers(0, 10, 64)],
        "X_test": rng.standard_normal((16, 100)),
        "Y_test": np.eye(10)[rng.integers(0, 10, 16)],
    }
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["accuracy"] > 0.9  # the digits example
    assert (tmp_path / "digits.safetensors").exists()
