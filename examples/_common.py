"""What every example shares: its command line and where its figure goes.

Each example is a script: ``python examples/<name>.py [--quick] [--out DIR]``. It prints
its key numbers as ``name: value`` lines and writes one PNG to ``DIR`` (by default the
repository's ``docs/images``, where the README's gallery reads them).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # examples write files; they never open windows

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def parse_args(description: str) -> argparse.Namespace:
    """``--quick`` (a run of a few seconds) and ``--out DIR``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true",
                        help="a short run (seconds) with the same figure and numbers")
    parser.add_argument("--out", type=Path, default=IMAGES,
                        help=f"directory for the figure (default: {IMAGES})")
    return parser.parse_args()


def report(name: str, value: Any) -> None:
    """Print one key number as ``name: value`` (what tests/examples reads)."""
    if isinstance(value, float):
        value = f"{value:.6g}"
    print(f"{name}: {value}")


def save(fig: Any, out: Path, name: str) -> Path:
    """Write ``fig`` as ``out/name.png`` at a modest size and report the path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=80)
    report("figure", path)
    return path
