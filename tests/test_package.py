"""The package's import surface."""

from __future__ import annotations

import subprocess
import sys


def test_import_ffnn_stays_light() -> None:
    """Guards against heavy imports at start-up: scikit-learn loads only with the
    estimators, scipy.optimize only with L-BFGS, matplotlib never by itself, and the
    library never imports torch (a test oracle only)."""
    code = (
        "import sys, ffnn\n"
        "heavy = ['sklearn', 'scipy.optimize', 'matplotlib', 'torch', 'pandas']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
        "ffnn.MLPClassifier\n"
        "print('sklearn' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.splitlines()
    assert out == ["", "True"]
