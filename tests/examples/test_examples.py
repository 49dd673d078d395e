"""Every example runs in its quick mode and prints the numbers its demonstration is about."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
# The figures each example writes.
FIGURES = {
    "activation_gallery": ["activations", "transfer_functions"],
    "computation_graph": ["computation_graph"],
    "digits": ["digits"],
    "dead_relu": ["dead_relu"],
    "early_stopping": ["early_stopping"],
    "higham": ["higham", "higham_network"],
    "universal_approximation": ["universal_approximation"],
    "vanishing_gradients": ["vanishing_gradients"],
    "xor": ["xor"],
}


def run(name: str, out: Path) -> dict[str, str]:
    """Run ``examples/<name>.py --quick`` and return its ``key: value`` lines."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--quick",
                           "--out", str(out)], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    values = dict(re.findall(r"^([\w.]+): (.*)$", done.stdout, re.M))
    for figure in FIGURES[name]:
        path = out / f"{figure}.png"
        assert path.read_bytes()[:4] == b"\x89PNG"
        assert path.stat().st_size < 200_000  # modest images keep the repository small
    return values


def test_every_example_is_tested_and_run_by_make_examples():
    """Guards against an example that no test runs or that `make examples` skips."""
    assert set(SCRIPTS) == set(FIGURES)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "examples/*.py" in makefile or all(f"examples/{s}.py" in makefile for s in SCRIPTS)


def test_readme_gallery_shows_every_figure():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for figures in FIGURES.values():
        for figure in figures:
            assert f"docs/images/{figure}.png" in readme
            assert (ROOT / "docs" / "images" / f"{figure}.png").exists()


def test_xor(tmp_path):
    v = run("xor", tmp_path)
    assert v["perceptron_converged"] == "False"
    assert int(v["perceptron_misclassified"]) >= 1  # no line separates XOR
    assert int(v["network_misclassified"]) == 0
    assert float(v["network_cost"]) < 1e-4


def test_higham(tmp_path):
    v = run("higham", tmp_path)
    assert int(v["sgd_steps"]) == 6_000
    assert float(v["sgd_cost"]) > 0.1  # still on SGD's plateau after 6,000 steps
    assert int(v["lm_correct"]) == 10
    assert float(v["lm_cost"]) <= float(v["lm_goal"]) == 7e-4
    assert int(v["lm_epochs"]) <= 60  # "tens of epochs"


def test_universal_approximation(tmp_path):
    v = run("universal_approximation", tmp_path)
    errors = [float(v[f"sup_error_{m}"]) for m in (1, 2, 4, 8, 16)]
    assert all(b <= a * 1.05 for a, b in itertools.pairwise(errors))
    assert errors[-1] < errors[0] / 10 and errors[-1] < 0.05


def test_vanishing_gradients(tmp_path):
    v = run("vanishing_gradients", tmp_path)
    sigmoid = float(v["sigmoid_first_to_last_ratio"])
    relu = float(v["relu_first_to_last_ratio"])
    assert sigmoid < 1e-3  # ~¼ per layer over 9 layers
    assert relu > 1e-2
    assert sigmoid < relu / 1000
    assert float(v["relu_final_loss"]) < float(v["sigmoid_final_loss"])


def test_dead_relu(tmp_path):
    v = run("dead_relu", tmp_path)
    assert float(v["dead_share_0.01"]) < 0.1
    assert float(v["dead_share_3"]) > 0.5
    assert float(v["dead_share_3"]) > float(v["dead_share_0.1"]) + 0.4
    assert float(v["accuracy_0.1"]) > 0.8 > float(v["accuracy_3"])


def test_early_stopping(tmp_path):
    v = run("early_stopping", tmp_path)
    assert int(v["algorithm_4_1_stop_epoch"]) <= int(v["patient_stop_epoch"]) <= 30
    assert int(v["patient_best_epoch"]) <= int(v["patient_stop_epoch"])
    assert float(v["restored_val_error"]) >= float(v["lowest_val_error"])
    assert float(v["restored_val_error"]) < 0.3


def test_digits(tmp_path):
    v = run("digits", tmp_path)
    assert int(v["epochs"]) == 10
    assert float(v["test_accuracy"]) > 0.9


def test_activation_gallery(tmp_path):
    v = run("activation_gallery", tmp_path)
    assert int(v["activations"]) == 10
    assert float(v["largest_derivative_gap"]) < 1e-6


def test_computation_graph(tmp_path):
    v = run("computation_graph", tmp_path)
    adjoints = [float(v[f"h{i}_adjoint"]) for i in range(1, 7)]
    assert adjoints == [0.25, 0.25, -0.25, -0.25, -0.25, 1.0]  # the notes' table
    assert float(v["f"]) == 0.5
    assert float(v["df_dw"]) == 0.25 and float(v["df_db"]) == 0.25
    assert v["tape_agrees"] == "True"
