"""ffnn.plot as a package: lazy, light, headless; figures go where they are asked."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

import ffnn


def _run(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, check=True, timeout=120)
    return out.stdout.splitlines()


def test_ffnn_plot_is_lazy_and_imports_no_matplotlib():
    """Guards against ffnn.plot (or import ffnn) loading matplotlib or scikit-learn."""
    out = _run("""
        import sys, ffnn
        print('plot' in vars(ffnn), 'matplotlib' in sys.modules)
        import ffnn.plot
        print(sorted(m for m in ('matplotlib', 'sklearn') if m in sys.modules))
        print(callable(ffnn.plot.history))
    """)
    assert out == ["False False", "[]", "True"]


def test_without_matplotlib_a_plot_names_the_extra_to_install():
    """Guards the error a user without the plot extra sees."""
    out = _run("""
        import sys
        sys.modules['matplotlib'] = None  # import matplotlib now raises ImportError
        import ffnn
        try:
            ffnn.plot.history({'loss': [1.0, 0.5]})
        except ImportError as exc:
            print(type(exc).__name__, '|', exc)
    """)
    assert out == ["ImportError | ffnn.plot draws with matplotlib, which is not installed: "
                   "pip install ffnn[plot]"]


# (function, its arguments after the Higham model's data, number of panels)
CALLS = {
    "history": (lambda m, x, y: (m,), 1),
    "train_state": (lambda m, x, y: (m,), 3),
    "regression": (lambda m, x, y: (m, x, y), 1),
    "confusion": (lambda m, x, y: (m, x, y), 1),
    "decision_boundary": (lambda m, x, y: (m, x, y), 1),
    "activations": (lambda m, x, y: (["relu", "tanh"],), 2),
    "network": (lambda m, x, y: (m,), 1),
    "graph": (lambda m, x, y: (lambda a, b: a * b + 1.0, 1.0, 2.0), 1),
    "diagnostics": (lambda m, x, y: ({"saturated/dense": [0.0, 0.5],
                                      "grad_norm/dense": [1.0, 0.5]},), 2),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_figure_draws_on_the_given_axes_and_never_shows(higham_model, name,
                                                               monkeypatch):
    def refuse_show(*args, **kwargs):
        raise AssertionError("a plot function called show()")

    monkeypatch.setattr(plt, "show", refuse_show)
    monkeypatch.setattr(Figure, "show", refuse_show)
    x, y = ffnn.datasets.higham_points()
    arguments, panels = CALLS[name]
    fn, args = getattr(ffnn.plot, name), arguments(higham_model, x, y)
    fig, axes = plt.subplots(1, panels, squeeze=False)
    given = list(axes[0])
    assert fn(*args, ax=given if panels > 1 else given[0]) is fig
    assert all(ax.has_data() for ax in given)
    new = fn(*args)
    assert isinstance(new, Figure) and new is not fig


def test_every_public_figure_is_covered():
    """Guards against a new plot function that the contract test above skips."""
    figures = {n for n in ffnn.plot.__all__ if n not in (
        "GALLERY", "activation_curves", "regression_line", "validation_failures")}
    assert figures == set(CALLS)


def test_a_wrong_number_of_axes_is_refused(higham_model):
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="a sequence of 3 matplotlib Axes"):
        ffnn.plot.train_state(higham_model, ax=ax)
    with pytest.raises(ValueError, match="an Axes or a sequence of 1"):
        ffnn.plot.history(higham_model, ax="left")


def test_figures_render_headless(higham_model, tmp_path):
    x, y = ffnn.datasets.higham_points()
    path = tmp_path / "boundary.png"
    ffnn.plot.decision_boundary(higham_model, x, y).savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.isfinite(np.asarray(plt.imread(path))).all()
