"""Progress output for ``fit``: a tqdm bar per epoch, one line per epoch, or nothing.

``verbose=1`` draws a progress bar on a terminal; when standard error is not a
terminal (a log file, CI) it falls back to one line per epoch so that no carriage
returns end up in the output. ``verbose=2`` always prints one line per epoch to
standard output; ``verbose=0`` is silent.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["Progress", "format_logs"]


def format_logs(logs: dict[str, float]) -> str:
    """``loss: 0.1234 - accuracy: 0.9500`` in the order of the logs."""
    return " - ".join(f"{k}: {v:.4g}" for k, v in logs.items())


class Progress:
    """Reports training progress according to ``verbose``."""

    def __init__(self, verbose: int, epochs: int, steps: int) -> None:
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        self.epochs = epochs
        self.steps = steps
        is_tty = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        self.mode = "bar" if verbose == 1 and is_tty else ("line" if verbose else "off")
        self._bar: Any = None

    def epoch_begin(self, epoch: int) -> None:
        """Open this epoch's bar."""
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=self.steps,
                desc=f"Epoch {epoch + 1}/{self.epochs}",
                unit="batch",
                leave=True,
                dynamic_ncols=True,
                mininterval=0.1,
            )

    def batch_end(self, loss: float) -> None:
        """Advance the bar by one batch."""
        bar = self._bar
        if bar is not None:
            bar.update(1)
            if bar.n == bar.total or bar.n % 10 == 0:
                bar.set_postfix_str(f"loss: {loss:.4g}", refresh=False)

    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """Close the bar with the epoch's metrics, or print the epoch line."""
        text = format_logs(logs)
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.close()
            self._bar = None
        elif self.mode == "line":
            sys.stdout.write(f"Epoch {epoch + 1}/{self.epochs} - {text}\n")
            sys.stdout.flush()

    def close(self) -> None:
        """Close an open bar (training interrupted)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
