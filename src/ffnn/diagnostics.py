"""Public module ``ffnn.diagnostics``: training diagnostics (dead ReLUs, saturated units,
per-layer gradient norms) from :mod:`ffnn.training.diagnostics`, and the callback that logs them
each epoch."""

from .training.diagnostics import *  # noqa: F403
from .training.diagnostics import __all__ as _names
from .training.diagnostics_callback import DiagnosticsCallback

__all__ = [*_names, "DiagnosticsCallback"]
