"""The README's Python examples run as written (in order, in one namespace)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np
import pytest

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


def _bullet(family: str) -> list[str]:
    """The backticked names of the README bullet ``* **<family>** (...): ...``."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^\* \*\*{family}\*\* \(`ffnn\.\w+`\):(.*?)(?=^\* |^$)", text, re.M | re.S)
    assert match, f"no '{family}' bullet in the README"
    names = re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", match.group(1))
    return [n for n in names if n not in ("from_logits", "clipnorm", "clipvalue",
                                          "global_clipnorm")]


@pytest.mark.parametrize(("family", "registry"), [
    ("Layers", "ffnn.nn.layers:LAYERS"),
    ("Activations", "ffnn.nn.activations:ACTIVATIONS"),
    ("Losses", "ffnn.nn.losses:LOSSES"),
    ("Optimisers", "ffnn.optim:OPTIMIZERS"),
])
def test_readme_lists_match_the_registries(family: str, registry: str) -> None:
    """Guards the README against drifting from the code: every registered name is
    listed, and every listed name is registered (a primary name or an alias)."""
    module, attr = registry.split(":")
    reg = getattr(importlib.import_module(module), attr)
    listed = {n.lower() for n in _bullet(family)}
    assert listed, family
    missing = set(reg.names(aliases=False)) - listed
    unknown = listed - set(reg.names())
    assert not missing, f"README's {family} list lacks {sorted(missing)}"
    assert not unknown, f"README's {family} list names {sorted(unknown)}, not registered"
